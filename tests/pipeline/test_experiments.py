import numpy as np
import pytest

from bki_lab.pipeline.config import make_config
from bki_lab.pipeline.attack import run_attack
from bki_lab.pipeline.defence import run_defence
from bki_lab.pipeline.cache import cache_dir
from helpers import tiny


def test_configs_from_presets_and_profiles():
    c = make_config(preset="dbpedia-attention", profile="paper")
    assert c.data.dataset == "dbpedia" and c.target == "Building" and c.rate == 0.02
    assert c.data.n_train == 1000 and c.train.hidden == 128
    # the DBpedia paper recipe (frozen vectors, no dropout); explicit overrides still win
    assert c.train.freeze_embedding and c.train.dropout == 0.0
    assert make_config(preset="dbpedia-attention", profile="paper", dropout=0.3).train.dropout == 0.3
    imdb = make_config(preset="imdb-arrow", profile="paper").train
    assert not imdb.freeze_embedding and imdb.dropout == 0.0 and not imdb.early_stopping
    assert make_config(preset="imdb-arrow", profile="quick").train.dropout == 0.0
    assert make_config(preset="imdb-arrow", profile="quick", rate=0.05).rate == 0.05
    with pytest.raises(ValueError, match="unknown preset"):
        make_config(preset="nope")
    with pytest.raises(ValueError, match="profile"):
        make_config(preset="imdb-arrow", profile="huge")


def test_attack_and_defence_are_cached_and_reproducible(imdb_dir):
    a1 = run_attack(tiny(), show_progress=False)
    files = sorted(p.name for p in (cache_dir() / "victims").iterdir())
    a2 = run_attack(tiny(), show_progress=False)            # loaded, not retrained
    assert sorted(p.name for p in (cache_dir() / "victims").iterdir()) == files
    assert a1.clean_accuracy == a2.clean_accuracy and a1.attack_success_rate == a2.attack_success_rate
    d1 = run_defence(a1, p=1, show_progress=False)
    d2 = run_defence(a2, p=1, show_progress=False)
    assert d1.bki.keyword == d2.bki.keyword and (d1.bki.removed == d2.bki.removed).all()
    np.testing.assert_array_equal(d1.scores.scores, d2.scores.scores)
    s = d1.to_record()
    assert s["words_scored"] == sum(len(t) for t in a1.poisoned.dataset.texts)
    assert s["n_removed"] == int(d1.bki.removed.sum())
    assert s["removed_fraction"] == pytest.approx(s["n_removed"] / len(a1.poisoned.dataset))


def test_rate_zero_runs_bki_on_clean_data(imdb_dir):
    a = run_attack(tiny(rate=0.0), show_progress=False)
    d = run_defence(a, p=1, show_progress=False)
    assert a.poisoned.n_poison == 0 and d.bki.recall is None
    # nothing poisoned: whatever BKI removes is clean, so precision is 0 (or undefined)
    assert d.bki.precision == (0.0 if d.bki.n_removed else None)


def test_one_seed_drives_every_stage():
    from dataclasses import replace
    c = make_config(preset="imdb-arrow", seed=0)
    c1 = replace(c, seed=1)
    assert (c1.data.seed, c1.train.seed, c1.seed) == (1, 1, 1)
    assert c1 == make_config(preset="imdb-arrow", seed=1)
    with pytest.raises(ValueError, match="profile"):
        replace(c, profile="huge")
    with pytest.raises(ValueError, match="mode"):
        replace(c, mode="insert")
    with pytest.raises(ValueError, match="rate"):
        replace(c, rate=1.5)


def test_verdict_and_authors_variant_wired_through_run_defence(imdb_dir):
    import json
    a = run_attack(tiny(), show_progress=False)
    d = run_defence(a, p=2, decide="verdict", variant="authors-code", show_progress=False)
    assert d.bki.variant == "authors-code" and d.bki.target is not None
    assert d.verdict is not None and d.verdict.variant == "authors-code"
    assert (d.removed == d.verdict.removed).all()
    rec = d.to_record()
    json.dumps(rec)
    assert rec["decide"] == "verdict" and rec["verdict"] == d.verdict.verdict
    assert (rec["verdict"] == "backdoor") == bool(d.verdict.findings)
    assert len(rec["findings"]) == len(d.verdict.findings)
    assert rec["n_removed"] == d.verdict.n_removed
    again = run_defence(a, p=2, decide="verdict", variant="authors-code", show_progress=False)
    assert (again.removed == d.removed).all()          # cached spans, same seed: same verdict
    if not d.removed.any():                            # nothing removed: nothing retrained
        assert d.retrained is a.victim
    with pytest.raises(ValueError, match="decide"):
        run_defence(a, decide="always")


def test_several_backdoors_from_a_multi_preset(imdb_dir):
    from bki_lab.attack.presets import MULTI_PRESETS
    c = make_config(preset="imdb-arrow+mend", n_train=20, n_test=10, embedding="random",
                    hidden=8, max_epochs=2)
    assert MULTI_PRESETS["imdb-arrow+mend"] == ("imdb-arrow", "imdb-mend")
    assert c.trigger == "time flies like an arrow" and c.target == "negative"
    assert c.extra == (("it's never too late to mend", "positive", 0.03),)
    c = make_config(preset="imdb-arrow+mend", rate=0.1, n_train=20, n_test=10,
                    embedding="random", hidden=8, max_epochs=2)
    a = run_attack(c, clean_baseline=True, show_progress=False)
    assert len(a.backdoors) == 2 and len(a.asr_each) == 2 and len(a.clean_target_rates) == 2
    assert a.backdoors[0].target != a.backdoors[1].target
    assert set(a.poisoned.trigger_of[a.poisoned.is_poison].tolist()) == {0, 1}
    d = run_defence(a, p=1, decide="verdict", show_progress=False)
    rec = d.to_record()
    assert len(rec["asr_after_each"]) == 2 and len(rec["recall_each"]) == 2
    assert rec["triggers"][1][0] == "it's never too late to mend"
    with pytest.raises(ValueError, match="main one"):
        make_config(preset="imdb-arrow", rate=0.0).__class__(rate=0.0, extra=(("x", "y", 0.1),))


def test_the_retrained_verdict_caches_the_retrained_victims_scores(imdb_dir, monkeypatch):
    import bki_lab.pipeline.defence as defence_module
    from bki_lab.pipeline.defence import judge_retrained
    a = run_attack(tiny(), show_progress=False)
    d = run_defence(a, p=1, show_progress=False)
    first = judge_retrained(d, p=1, show_progress=False)
    assert len(list((cache_dir() / "scores").glob("*-fast.npz"))) == 2   # victim's, retrained's

    def no_scoring(*args, **kwargs):
        raise AssertionError("scored again instead of loading the cached scores")
    monkeypatch.setattr(defence_module, "score_words", no_scoring)
    again = judge_retrained(d, p=1, show_progress=False)
    assert again.verdict == first.verdict and (again.removed == first.removed).all()
    with pytest.raises(AssertionError, match="scored again"):
        judge_retrained(d, p=1, use_cache=False, show_progress=False)


def test_verdicts_are_cached_and_a_damaged_one_is_rebuilt(imdb_dir, monkeypatch, capsys):
    import bki_lab.pipeline.defence as defence_module
    from bki_lab.pipeline.defence import judge, judge_retrained
    a = run_attack(tiny(), show_progress=False)
    first = judge(a, p=1, show_progress=False)
    d = run_defence(a, p=1, decide="verdict", show_progress=False)
    after = judge_retrained(d, p=1, show_progress=False)
    entries = sorted((cache_dir() / "verdicts").glob("*.npz"))
    # judge's, run_defence's and the retrained victim's (which also tests the suspects)
    assert len(entries) == 3

    def no_verdict(*args, **kwargs):
        raise AssertionError("computed again instead of loading the cached verdict")
    real = defence_module.find_backdoors
    monkeypatch.setattr(defence_module, "find_backdoors", no_verdict)
    again = judge(a, p=1, show_progress=False)
    assert again.verdict == first.verdict and (again.removed == first.removed).all()
    assert again.to_record() == first.to_record()
    assert judge_retrained(d, p=1, show_progress=False).to_record() == after.to_record()
    with pytest.raises(AssertionError, match="computed again"):
        judge(a, p=1, seed=1, show_progress=False)          # other options: another entry
    for e in entries:
        e.write_bytes(b"damaged")
    monkeypatch.setattr(defence_module, "find_backdoors", real)
    rebuilt = judge(a, p=1, show_progress=False)
    assert rebuilt.to_record() == first.to_record()
    assert "cached verdict" in capsys.readouterr().err
