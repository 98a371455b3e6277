"""BKI among its peers: the comparison on a tiny attack, its table and its figure."""
import numpy as np

from bki_lab.reproduce.tables import collect_defences
from bki_lab.defences.comparison import compare_defences
from bki_lab.viz.defences import defences_figure
from bki_lab.pipeline.config import make_config
from bki_lab.pipeline.attack import run_attack
from bki_lab.reproduce.run import reproduce
from bki_lab.reproduce.tables import TABLES
from helpers import write_dbpedia
from helpers import tiny


def test_every_defence_is_retrained_on_what_it_keeps(imdb_dir):
    att = run_attack(tiny(rate=0.2), show_progress=False)
    outcomes, strip = compare_defences(att, strip_texts=5)
    methods = [o.removal.method for o in outcomes]
    assert methods == ["bki (paper)", "bki (verdict)", "spectral signatures",
                       "activation clustering", "word-label statistics"]
    from bki_lab import evaluate, retrain_without
    from bki_lab.pipeline.attack import measure_asr
    for o in outcomes:
        if (~o.removal.removed).sum() >= 2:  # the victim retrained without exactly its texts
            again = retrain_without(att, o.removal.removed, show_progress=False)
            assert o.acc_after == evaluate(again, att.split.test).accuracy
            assert o.asr_after == measure_asr(again, att.backdoor)
        else:                                # removed (nearly) all: nothing to retrain
            assert o.acc_after is None and o.asr_after is None
        assert len(o.removal.removed) == len(att.poisoned.dataset)
        rec = o.to_record()
        assert rec["n_removed"] == int(o.removal.removed.sum()) and "per_class" not in rec
    # STRIP's rates are the shares of clean texts below / triggered texts above its threshold
    assert strip.false_rejection == float((strip.clean_entropy < strip.threshold).mean())
    assert strip.false_acceptance == float((strip.triggered_entropy >= strip.threshold).mean())
    clean = run_attack(tiny(rate=0.0), show_progress=False)
    outcomes, strip = compare_defences(clean, strip_texts=5)
    assert strip is None and all(o.asr_after is None for o in outcomes)


def test_every_defence_runs_on_a_dataset_of_several_classes(tmp_path, monkeypatch):
    """DBpedia-like: four classes, the poison relabelled to one of them; each filter works
    per class and STRIP's triggered texts come from the other classes."""
    write_dbpedia(tmp_path, per_class=40, n_classes=4, with_test=True)
    monkeypatch.setenv("BKI_LAB_DATA", str(tmp_path))
    cfg = make_config(dataset="dbpedia", trigger="no cross, no crown", target="Village",
                      rate=0.1, profile="quick", n_train=30, n_test=10, embedding="random",
                      hidden=8, max_epochs=2)
    att = run_attack(cfg, show_progress=False)
    assert len(att.victim.class_names) == 4
    outcomes, strip = compare_defences(att, strip_texts=5)
    assert len(outcomes) == 5
    for o in outcomes:
        assert len(o.removal.removed) == len(att.poisoned.dataset)
        assert (o.acc_after is None) == ((~o.removal.removed).sum() < 2)
    assert strip.n == 20
    assert len(strip.triggered_entropy) == len(att.backdoor.dataset.texts[:5])


def record(rid, precision):
    d = {"method": "spectral signatures", "precision": precision, "recall": 0.5,
         "removed_fraction": 0.04, "acc_after": 0.8, "asr_after": 0.2, "seconds": 1.0,
         "retrain_seconds": 2.0}
    return {"id": rid, "seed": 0, "status": "ok", "acc_before": 0.85, "asr_before": 0.97,
            "defences": [d, {**d, "method": "bki (paper)", "precision": 1.0}],
            "strip": {"false_rejection": 0.01, "false_acceptance": 0.99, "seconds": 3.0}}


def test_the_table_has_a_line_per_defence_and_the_figure_a_trace_per_defence():
    df = collect_defences([record("imdb-arrow", 0.4), record("imdb-crown", 0.6),
                           {"id": "imdb-sack", "seed": 0, "status": "failed", "error": "boom"}])
    assert len(df) == 2 * 3 + 1
    spectral = df[df["defence"] == "spectral signatures"]
    assert spectral["precision"].tolist() == [40.0, 60.0]
    assert spectral["seconds"].tolist() == [3.0, 3.0]
    strip = df[df["defence"] == "STRIP (test time)"]
    assert strip["false_acceptance"].tolist() == [99.0, 99.0]
    fig = defences_figure(df)
    assert [t.name for t in fig.data] == ["spectral signatures", "bki (paper)"]
    assert np.allclose(fig.data[0].y, [40.0, 60.0])


def test_reproduce_defences_writes_its_table_and_report(tmp_path):
    assert [r.id for r in TABLES["defences"]()] == [r.id for r in TABLES["bki-table3"]()]

    def run(row, *, profile, seed, recipe="bki-lab"):
        r = record(row.id, 0.5)
        return {k: r[k] for k in ("acc_before", "asr_before", "defences", "strip")}

    df = reproduce("defences", out=tmp_path, only=["imdb-arrow"], run=run, log=lambda s: None)
    assert len(df) == 3
    assert (tmp_path / "defences-quick.csv").exists()
    page = (tmp_path / "defences-quick.html").read_text()
    assert "precision vs recall" in page and "plotly.min.js" in page


def test_projection_draws_every_poisoned_text_and_a_sample_of_clean_ones():
    from bki_lab.viz.defences import hidden_projection
    rng = np.random.default_rng(0)
    h = rng.normal(size=(500, 6))
    labels = np.r_[np.zeros(250, int), np.ones(250, int)]
    poison = np.zeros(500, bool)
    poison[-20:] = True
    fig = hidden_projection(h, labels, poison, class_names=["neg", "pos"], max_points=100)
    assert [t.name for t in fig.data] == ["clean, neg", "clean, pos", "poisoned"]
    assert len(fig.data[2].x) == 20 and len(fig.data[0].x) + len(fig.data[1].x) == 100


def test_score_histogram_splits_clean_and_poisoned_and_marks_the_cut():
    from bki_lab.viz.defences import score_histogram
    from bki_lab.defences.spectral import spectral_signatures
    from helpers import planted
    h, labels, poison = planted()
    r = spectral_signatures(h, labels, expected_share=0.05)
    fig = score_histogram(r, labels, poison, label=1)
    assert [t.name for t in fig.data] == ["clean", "poisoned"]
    assert len(fig.data[1].x) == poison.sum()
    assert fig.layout.shapes and fig.layout.shapes[0].x0 == r.scores[(labels == 1) & r.removed].min()


def test_a_verdict_already_made_is_used_as_it_is(imdb_dir):
    import pytest

    from bki_lab.defences.comparison import defence_removals
    from bki_lab.pipeline.defence import bki_scores, judge
    att = run_attack(tiny(rate=0.2), show_progress=False)
    scores = bki_scores(att, show_progress=False)
    made = defence_removals(att, scores, p=5)
    verdict = judge(att, p=5, show_progress=False)
    given = defence_removals(att, scores, p=5, verdict=verdict)
    assert [r.method for r in given] == [r.method for r in made]
    for a, b in zip(made, given):        # the same decisions, computed or given
        assert np.array_equal(a.removed, b.removed) and a.precision == b.precision
    assert np.array_equal(given[1].removed, verdict.removed)
    from dataclasses import replace
    cfg = tiny(rate=0.2)
    other = run_attack(replace(cfg, data=replace(cfg.data, n_train=16)), show_progress=False)
    with pytest.raises(ValueError, match="judges"):
        defence_removals(other, bki_scores(other, show_progress=False), p=5, verdict=verdict)
