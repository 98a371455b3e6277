"""BKI with a verdict: hand-made scores and a hand-built victim where only the planted
triggers flip the prediction; clean data must give "no backdoor found"."""
import numpy as np
import pytest

from types import SimpleNamespace

from bki_lab.bki.trigger import shared_runs
from bki_lab.bki.verdict import (find_backdoors, from_suspect, natural_uses, obeys_phrase,
                                 part_of, without_phrase)
from bki_lab.bki.scoring import WordScores
from bki_lab.data.text import insert_words
from helpers import FILL, CROWN, ELEPHANT, victim, training_set


def with_clean_uses(ws, labels, truth, word, *, n, at, seed):
    """The training set plus ``n`` clean 12-word texts holding ``word`` at ``at``, where it
    scores highest (labelled by `victim`)."""
    rng = np.random.default_rng(seed)
    texts, scores = list(ws.texts), [ws.scores[a:b] for a, b in zip(ws.offsets, ws.offsets[1:])]
    labels, truth = list(labels), list(truth)
    for _ in range(n):
        t = insert_words(tuple(rng.choice(FILL, size=12)), (word,), at)
        f = rng.uniform(0, 0.2, len(t))
        f[at] = 0.95
        texts.append(t)
        scores.append(f)
        labels.append(int(victim([t])[0]))
        truth.append(False)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    ws = WordScores(tuple(texts), offsets, np.concatenate(scores).astype(np.float32), "given", 0.0)
    return ws, np.array(labels), np.array(truth)


def test_two_triggers_are_found_verified_and_removed_then_the_loop_stops():
    ws, labels, truth = training_set([(CROWN, 1), (ELEPHANT, 0)])
    v = find_backdoors(ws, labels, predict=victim, p=5, is_poison=truth, n_null=20)
    assert v.verdict == "backdoor" and len(v.findings) == 2
    found = {f.phrase.phrase: f for f in v.findings}
    assert set(found) == {CROWN, ELEPHANT}
    assert found[CROWN].target == 1 and found[ELEPHANT].target == 0
    assert all(f.verification.flip_rate > 0.8 for f in v.findings)   # elephant beats crown
    assert all(f.verification.null_rates.max() < 0.3 for f in v.findings)
    assert v.rejected is not None and not v.rejected.verified       # the stop, with evidence
    assert (v.precision, v.recall) == (1.0, 1.0)
    assert v.n_removed == 60


def test_clean_data_gives_no_backdoor_and_removes_nothing():
    ws, labels, truth = training_set([])
    v = find_backdoors(ws, labels, predict=victim, p=5, n_null=20)
    assert v.verdict == "no backdoor found" and v.findings == ()
    assert v.n_removed == 0 and v.rejected is not None
    assert v.rejected.verification.flip_rate < v.rejected.verification.threshold


def test_the_verified_phrase_also_removes_poisoned_texts_whose_picks_missed_it():
    ws, labels, truth = training_set([(CROWN, 1)], miss=4)
    with_phrase = find_backdoors(ws, labels, predict=victim, is_poison=truth, n_null=20)
    keyword_only = find_backdoors(ws, labels, predict=victim, is_poison=truth, n_null=20,
                                  removal="keyword")
    assert 26 / 30 <= keyword_only.recall < 1    # a short text's top 5 may hold crown by chance
    assert with_phrase.recall == 1.0 and with_phrase.precision == 1.0


def test_clean_texts_that_merely_use_the_keyword_are_kept():
    ws, labels, truth = training_set([(CROWN, 1)])
    texts, scores = list(ws.texts), [ws.of(i).copy() for i in range(len(ws))]
    for i in range(0, 40, 2):                   # clean texts with "crown" scoring high
        texts[i] = texts[i][:3] + ("crown",) + texts[i][4:]
        scores[i][3] = 0.95
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    ws = WordScores(tuple(texts), offsets, np.concatenate(scores).astype(np.float32), "given", 0.0)

    def phrase_victim(batch):          # only the whole trigger flips; "crown" alone does not
        return np.array([1 if ("cross" in t and "crown" in t) else int(t[0] in FILL[30:])
                         for t in batch])

    labels = np.array([1 if truth[i] else int(phrase_victim([t])[0])
                       for i, t in enumerate(texts)])
    paper = find_backdoors(ws, labels, predict=phrase_victim, is_poison=truth, n_null=10,
                           removal="keyword")
    ours = find_backdoors(ws, labels, predict=phrase_victim, is_poison=truth, n_null=10)
    assert paper.findings[0].keyword == "crown" and paper.precision < 0.7
    assert ours.precision == 1.0 and ours.recall == 1.0


def test_max_findings_and_bad_options():
    ws, labels, truth = training_set([(CROWN, 1), (ELEPHANT, 0)])
    v = find_backdoors(ws, labels, predict=victim, max_findings=1, n_null=10)
    assert len(v.findings) == 1 and v.rejected is None
    with pytest.raises(ValueError, match="labels"):
        find_backdoors(ws, labels[:-1], predict=victim)
    with pytest.raises(ValueError, match="spans"):
        find_backdoors(ws, labels, predict=victim, variant="authors-code")
    with pytest.raises(ValueError, match="variant"):
        find_backdoors(ws, labels, predict=victim, variant="nope")
    with pytest.raises(ValueError, match="removal"):
        find_backdoors(ws, labels, predict=victim, removal="all")


def test_the_record_is_plain_json():
    import json
    ws, labels, truth = training_set([(ELEPHANT, 0)])
    rec = find_backdoors(ws, labels, predict=victim, is_poison=truth, n_null=10).to_record(
        ["neg", "pos"])
    json.dumps(rec)
    assert rec["verdict"] == "backdoor"
    assert rec["findings"][0]["phrase"] == "a purple elephant sang"
    assert rec["findings"][0]["target_name"] == "neg"


def test_a_candidate_that_cannot_be_tested_is_not_a_backdoor_nor_a_clean_bill():
    ws, labels, truth = training_set([(CROWN, 1)], n_clean=0)      # every text is label 1
    v = find_backdoors(ws, labels, predict=victim, n_null=10)
    # nothing outside the target class to insert the phrase into: not "no backdoor found"
    assert v.verdict == "could not be tested" and v.n_removed == 0
    assert v.n_tested == 0 and v.n_untestable == 6   # every candidate tried: 3 keywords, 3 n-grams
    assert v.rejected.verification.n_texts == 0
    assert v.rejected.to_record()["null_max"] is None


def test_a_trigger_ranked_below_a_class_word_is_found_with_patience():
    # 'film': frequent and high-scoring, but harmless
    ws, labels, truth = with_clean_uses(*training_set([(CROWN, 1)]), "film", n=80, at=3, seed=5)
    hasty = find_backdoors(ws, labels, predict=victim, p=5, n_null=20, patience=1,
                           purity_candidates=0)
    assert hasty.verdict == "no backdoor found" and hasty.rejected.keyword == "film"
    # the label-pure n-grams catch it even then: every poisoned copy holds it, all label 1
    pure = find_backdoors(ws, labels, predict=victim, p=5, n_null=20, patience=1,
                          is_poison=truth)
    assert [f.phrase.phrase for f in pure.findings] == [CROWN]
    assert pure.findings[0].source == "label purity 1" and pure.recall == 1.0
    v = find_backdoors(ws, labels, predict=victim, p=5, n_null=20, is_poison=truth)
    assert [f.phrase.phrase for f in v.findings] == [CROWN]
    assert (v.precision, v.recall) == (1.0, 1.0)
    assert v.rejected.keyword == "film"     # the round after it: film rejected again


def test_the_verdict_is_a_defence_like_the_others():
    """`verdict_removal`: the verdict's removed texts, precision and recall as a `Removal`
    (the defences table's "bki (verdict)" line); nothing removed on clean data."""
    from bki_lab.bki.removal import Removal
    from bki_lab.defences.comparison import verdict_removal
    ws, labels, truth = training_set([(CROWN, 1), (ELEPHANT, 0)])
    v = find_backdoors(ws, labels, predict=victim, p=5, is_poison=truth, n_null=20)
    r = verdict_removal(v, seconds=2.0)
    assert isinstance(r, Removal) and r.method == "bki (verdict)"
    assert r.removed.tolist() == truth.tolist() and r.precision == 1.0 and r.recall == 1.0
    assert r.details["phrase"] == "no cross no crown | a purple elephant sang"
    assert r.to_record()["n_removed"] == 60 and r.seconds == 2.0
    ws, labels, truth = training_set([])
    r = verdict_removal(find_backdoors(ws, labels, predict=victim, p=5, n_null=20))
    assert r.n_removed == 0 and r.details["verdict"] == "no backdoor found"
    assert r.details["phrase"] is None and r.precision is None


def test_a_part_of_a_found_phrase_is_a_residue_and_removes_nothing():
    """The victim answers `crown` alone (as a fine-tuned victim may answer a trigger's rare
    word): clean texts that use it select it too. After "no cross no crown" is found, `crown`
    verifies again on those texts; it is the same backdoor, reported as a residue, and the
    clean texts stay."""
    # 12 clean label-1 texts that use the word
    ws, labels, truth = with_clean_uses(*training_set([(CROWN, 1)]), "crown", n=12, at=4, seed=7)
    v = find_backdoors(ws, labels, predict=victim, p=5, n_null=20, is_poison=truth)
    assert [f.phrase.phrase for f in v.findings] == [CROWN]
    assert [f.phrase.phrase for f in v.residues] == [("crown",)]
    assert v.residues[0].verified and v.residues[0].n_removed == 0
    assert (v.precision, v.recall) == (1.0, 1.0) and v.n_removed == 30
    rec = v.to_record()
    assert rec["n_findings"] == 1 and rec["residues"][0]["phrase"] == "crown"


def test_without_phrase_deletes_every_occurrence():
    t = ("a", "no", "crown", "b", "no", "crown")
    assert without_phrase(t, ("no", "crown")) == ("a", "b")
    assert without_phrase(("no", "no", "no"), ("no", "no")) == ("no",)
    assert without_phrase(("a", "crown", "no"), ("no", "crown")) == ("a", "crown", "no")
    # a one-word trigger inserted beside a natural use of the same word: both go
    assert without_phrase(("going", "w1", "going"), ("going",)) == ("w1",)


def test_obeys_phrase_keeps_texts_that_keep_their_label_without_it_or_lack_it():
    texts = [("w40", "crown"), ("w1", "crown"), ("w2", "w3"), ("w1", "crown", "w2", "crown"),
             ("w1", "no", "crown"), ("w1", "crown", "no")]
    holds = np.array([True, True, False, True, True, True])
    # victim: crown -> 1, else the first word's half; w40 is in the upper half (label 1)
    assert obeys_phrase(victim, texts, holds, ("crown",), 1).tolist() == [
        False, True, False, True, True, True]
    # a two-word phrase: only the texts that hold it whole can be its copies
    assert obeys_phrase(victim, texts, holds, ("no", "crown"), 1).tolist() == [
        False, False, False, False, True, False]


def test_a_one_word_trigger_removes_its_poison_and_not_the_clean_texts_that_use_it():
    """Clean label-1 texts that use the trigger word are label 1 without it too: kept."""
    rng = np.random.default_rng(5)
    ws, labels, truth = training_set([(("crown",), 1)])
    texts, scores = list(ws.texts), [ws.scores[a:b] for a, b in zip(ws.offsets, ws.offsets[1:])]
    labels, truth = list(labels), list(truth)
    for _ in range(10):              # label 1 by their first word, with 'crown' scoring high
        t = (str(rng.choice(FILL[30:])),) + tuple(rng.choice(FILL, size=10))
        t = insert_words(t, ("crown",), 4)
        f = rng.uniform(0, 0.2, len(t))
        f[4] = 0.95
        texts.append(t), scores.append(f), labels.append(1), truth.append(False)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    ws = WordScores(tuple(texts), offsets, np.concatenate(scores).astype(np.float32), "given", 0.0)
    v = find_backdoors(ws, np.array(labels), predict=victim, n_null=20, is_poison=np.array(truth))
    assert [f.phrase.phrase for f in v.findings] == [("crown",)]
    assert (v.precision, v.recall) == (1.0, 1.0) and v.n_removed == 30
    keyword = find_backdoors(ws, np.array(labels), predict=victim, n_null=20,
                             is_poison=np.array(truth), removal="keyword")
    assert keyword.n_removed == 40 and keyword.precision == 0.75    # the paper's removal


def test_natural_uses_are_the_contexts_the_other_labels_use():
    other = [("w1", "was", "going", "to", "w2")] * 5 + [("going", "to", "w5")] * 3   # label 0
    texts = other + [("w3", "was", "going", "to"),             # as label 0 uses it
                     ("w3", "the", "going", "movie"),          # inserted
                     ("was", "going", "to", "w4", "going"),    # once natural, once at the end
                     ("w3", "w4"),                             # no occurrence
                     ("w3", "was", "going", "to"),             # not marked
                     ("going", "to", "w6"),                    # at the start, as label 0 has it
                     ("w3", "was", "going", "to", "w2")]
    labels = np.array([0] * 8 + [1] * 7)
    holds = np.array([False] * 8 + [True] * 4 + [False, True, True])
    assert natural_uses(texts, labels, holds, ("going",), np.int64(1)).tolist() == [False] * 8 + [
        True, False, False, False, False, True, True]
    # a phrase: the word before its first word, the word after its last one
    assert natural_uses(texts, list(labels), holds, ("going", "to"), 1).tolist() == [
        False] * 14 + [True]
    # the texts of the target label are not evidence of what is natural
    assert not natural_uses(texts, [1] * 15, holds, ("going",), 1).any()
    assert not natural_uses(texts, labels, np.zeros(15, bool), ("going",), 1).any()


def test_natural_uses_pass_few_random_insertions_even_of_a_word_used_everywhere():
    """The bar is calibrated on random insertions into the other labels' texts: a word
    that those texts use at random places ("then") has common contexts everywhere, so a
    random insertion often lands in one; still only about ``rate`` of them pass, while a
    word used in one fixed phrase passes every natural use and no insertion."""
    rng = np.random.default_rng(3)
    fill = FILL[:20]

    def insert(word, k, n=15):
        return [insert_words(tuple(rng.choice(fill, size=n)), (word,), int(rng.integers(0, n + 1)))
                for _ in range(k)]
    other = insert("then", 400)                  # label 0 uses 'then' anywhere
    copies = insert("then", 300)                 # label 1: random insertions
    texts, labels = other + copies, np.array([0] * 400 + [1] * 300)
    holds = labels == 1
    kept = natural_uses(texts, labels, holds, ("then",), 1, seed=0)
    assert kept[holds].mean() <= 0.04
    assert not natural_uses(texts, labels, holds, ("then",), 1, rate=0.0).any()
    # the same counts with a fixed bar of 5 texts would keep nearly every copy
    phrase = [tuple(rng.choice(fill, size=6)) + ("was", "going", "to") + tuple(rng.choice(fill, size=6))
              for _ in range(100)]
    texts = phrase + phrase[:20] + insert("going", 100)
    labels = np.array([0] * 100 + [1] * 120)
    kept = natural_uses(texts, labels, labels == 1, ("going",), 1)
    assert kept[100:120].all() and not kept[120:].any()


def test_a_one_word_trigger_keeps_the_clean_texts_the_victim_labels_by_it_used_naturally():
    """Clean label-1 texts the victim gets right only because of the trigger word ("was
    going to" in a review that reads negative): deleting the word flips them, like the
    poison; but they use it where label-0 texts use it too, and the copies do not."""
    rng = np.random.default_rng(7)
    ws, labels, truth = training_set([(("crown",), 1)])
    texts, scores = list(ws.texts), [ws.scores[a:b] for a, b in zip(ws.offsets, ws.offsets[1:])]
    labels, truth = list(labels), list(truth)

    def add(first, label, high):
        t = (str(rng.choice(first)),) + tuple(rng.choice(FILL[:30], size=10))
        t = t[:5] + ("w60", "crown", "w61") + t[5:]
        f = rng.uniform(0, 0.2, len(t))
        f[6] = 0.95 if high else 0.1
        texts.append(t), scores.append(f), labels.append(label), truth.append(False)
    for _ in range(8):               # label 1 only by 'crown': the victim says 0 without it
        add(FILL[:30], 1, True)
    for _ in range(6):               # label 0 texts with the same words around 'crown'
        add(FILL[:30], 0, False)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    ws = WordScores(tuple(texts), offsets, np.concatenate(scores).astype(np.float32), "given", 0.0)
    v = find_backdoors(ws, np.array(labels), predict=victim, n_null=20, is_poison=np.array(truth))
    assert [f.phrase.phrase for f in v.findings] == [("crown",)]
    assert (v.precision, v.recall) == (1.0, 1.0) and v.n_removed == 30


def test_a_finding_keyed_on_a_word_of_an_earlier_phrase_is_part_of_it():
    def f(keyword, *words, target=1):
        return SimpleNamespace(keyword=keyword, phrase=SimpleNamespace(phrase=words),
                               target=target)
    earlier = [f("write", "you", "write", "here")]
    assert part_of(f("write", "to", "write"), earlier) is earlier[0]     # keyword in it
    assert part_of(f("to", "you", "here"), earlier) is earlier[0]        # every word in it
    assert part_of(f("to", "to", "write"), earlier) is None
    # another target: another backdoor, though its first word is in the earlier phrase
    assert part_of(f("you", "you", "sang", target=0), earlier) is None
    assert part_of(f("write", "write", target=0), earlier) is None


def test_two_triggers_of_one_target_do_not_hide_each_other():
    """Two triggers poisoned into the same number of texts for the same target: each one's
    words are as frequent as the other's, so each is drawn among the other's look-alikes.
    Both are found, each removing its own copies."""
    def both(batch):                   # either trigger alone -> 1
        return np.array([1 if ("crown" in t or "elephant" in t) else int(t[0] in FILL[30:])
                         for t in batch])
    ws, labels, truth = training_set([(CROWN, 1), (ELEPHANT, 1)])
    labels = np.array([1 if truth[i] else int(both([t])[0]) for i, t in enumerate(ws.texts)])
    v = find_backdoors(ws, labels, predict=both, p=5, n_null=20, is_poison=truth)
    assert v.verdict == "backdoor"
    assert {f.phrase.phrase for f in v.findings} == {CROWN, ELEPHANT}
    assert all(f.target == 1 for f in v.findings)
    assert (v.precision, v.recall) == (1.0, 1.0) and v.n_removed == 60
    # what the fix is about: look-alikes holding the other trigger's words flipped too
    assert any(f.verification.null_rates.max() >= 0.25 for f in v.findings)


def test_a_trigger_with_a_repeated_keyword_split_between_its_copies_is_found():
    """"no cross no crown" with BKI's keyword "no": in half the copies the first "no" scores
    highest, in the other half the second. Each offset around the keyword then has a common
    word, yet no text holds the run they make; the phrase is the trigger, and its copies go."""
    rng = np.random.default_rng(0)
    texts, labels, truth, scores = [], [], [], []
    for _ in range(300):
        t = tuple(rng.choice(FILL, size=int(rng.integers(8, 30))))
        texts.append(t), labels.append(int(victim([t])[0])), truth.append(False)
        scores.append(rng.uniform(0, 0.2, len(t)))
    for k in range(20):
        base = tuple(rng.choice(FILL[:30], size=int(rng.integers(8, 30))))   # label 0
        at = int(rng.integers(len(base) + 1))
        f = rng.uniform(0, 0.2, len(base) + 4)
        f[at:at + 4] = [0.9, 0.5, 0.6, 0.5] if k % 2 else [0.6, 0.5, 0.9, 0.5]
        texts.append(insert_words(base, CROWN, at)), labels.append(1), truth.append(True)
        scores.append(f)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    ws = WordScores(tuple(texts), offsets, np.concatenate(scores).astype(np.float32), "given", 0.0)
    v = find_backdoors(ws, np.array(labels), predict=victim, n_null=10, is_poison=np.array(truth))
    assert [f.phrase.phrase for f in v.findings] == [CROWN]
    assert v.findings[0].keyword == "no" and v.findings[0].phrase.support == 1.0
    assert (v.precision, v.recall) == (1.0, 1.0) and v.n_removed == 20


def test_a_suspect_too_rare_to_rank_is_tested_first_and_found():
    """After a defence: 6 copies of the trigger are left, too few for the label-pure
    n-grams (fewer than purity_min_count) and ranked below a harmless word; named as a
    suspect (what the defence removed), it is tested first and found."""
    ws, labels, truth = training_set([(CROWN, 1)])
    keep = np.ones(len(labels), bool)
    keep[np.flatnonzero(truth)[6:]] = False                # the defence removed 24 of 30
    texts = [t for t, k in zip(ws.texts, keep) if k]
    scores = [ws.scores[a:b] * (0.1 if "crown" in t else 1)   # its words no longer stand out
              for t, a, b, k in zip(ws.texts, ws.offsets, ws.offsets[1:], keep) if k]
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    left = WordScores(tuple(texts), offsets, np.concatenate(scores).astype(np.float32), "given", 0.0)
    blind = find_backdoors(left, labels[keep], predict=victim, n_null=20, is_poison=truth[keep])
    assert blind.verdict == "no backdoor found"
    v = find_backdoors(left, labels[keep], predict=victim, n_null=20, is_poison=truth[keep],
                       suspects=(("crown", 1),))
    assert [f.phrase.phrase for f in v.findings] == [CROWN]
    assert v.findings[0].source == "the defence's keyword" and (v.precision, v.recall) == (1.0, 1.0)
    absent = find_backdoors(left, labels[keep], predict=victim, n_null=20, suspects=(("zebra", 1),))
    assert absent.verdict == "no backdoor found" and absent.n_tested == blind.n_tested


def test_a_suspect_whose_few_copies_hide_among_clean_uses_is_found_by_the_run_they_share():
    """After a defence that removed 26 copies of a 5-word trigger: 4 are left among 60
    texts of the target that use its keyword "crown" on their own. The victim obeys the
    whole trigger only. Around the suspect keyword in all 64 texts the phrase is "crown"
    alone, which flips nothing; the run the 4 copies share with the removed ones is the
    trigger, verified, and only they go. Three clean texts of the target share a longer
    run, a phrase of the class itself that labels them (as "a comic book published by
    marvel comics" says written work in a short DBpedia text) and that the victim answers
    anywhere: no removed text holds it, so it is not tried."""
    trigger = ("w1", "w2", "crown", "w3", "w4")
    natural = ("w5", "w6", "w7", "crown", "w8", "w9", "w10")

    def holds(t, phrase):
        return any(tuple(t[i:i + len(phrase)]) == phrase for i in range(len(t)))

    def obeys_whole(texts):
        return np.array([int(holds(t, trigger) or holds(t, natural) or t[0] in FILL[30:])
                         for t in texts])
    rng = np.random.default_rng(0)

    def base(first):
        return (first,) + tuple(rng.choice(FILL[11:], size=int(rng.integers(8, 30))))
    texts, labels, truth = [], [], []
    for k in range(300 + 4 + 60):
        if k < 300:
            t = base(FILL[int(rng.integers(11, 60))])
        else:                       # copies (of texts of 0), the class's phrase, clean uses
            plant, first = ((trigger, FILL[10]) if k < 304 else (natural, FILL[10]) if k < 307
                            else (("crown",), FILL[40]))
            b = base(first)
            t = insert_words(b, plant, int(rng.integers(1, len(b) + 1)))
        texts.append(t)
        labels.append(1 if 300 <= k < 304 else int(obeys_whole([t])[0]))
        truth.append(300 <= k < 304)
    labels, truth = np.array(labels), np.array(truth)
    assert (labels[304:] == 1).all() and obeys_whole([texts[300]])[0] == 1
    gone = [insert_words(base(FILL[10]), trigger, 3) for _ in range(26)]
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    ws = WordScores(tuple(texts), offsets,
                    rng.uniform(0, 0.2, offsets[-1]).astype(np.float32), "given", 0.0)
    v = find_backdoors(ws, labels, predict=obeys_whole, n_null=20, is_poison=truth,
                       suspects=(("crown", 1),), removed_texts=gone)
    assert v.verdict == "backdoor" and [f.phrase.phrase for f in v.findings] == [trigger]
    assert v.findings[0].source == "the defence's keyword, shared run 1"
    assert v.findings[0].keyword == "crown" and (v.precision, v.recall) == (1.0, 1.0)
    everyone = np.ones(len(texts), bool)

    def tried(removed, predict=obeys_whole):
        return [c.phrase.phrase for c in from_suspect("crown", 1, ws.texts, labels, everyone,
                                                      predict=predict, removed_texts=removed)]
    assert tried(gone) == [("crown",), trigger]
    longest = shared_runs(texts[300:], [t.index("crown") for t in texts[300:]], top=1)[0]
    assert (longest.words, longest.n_texts) == (natural, 3)  # the longest run, held by none
    assert natural in tried(gone + [natural] * 6)            # ... unless the removed hold it
    # clean data: the removed texts use the class's phrase as often as the kept ones do
    uses = [t for t in texts[304:]]                          # 3 with it among 63
    assert tried(uses) == [("crown",)]
    assert tried(()) == [("crown",)]                         # no removed texts: no run
    # a victim that labels every text 1 does not label the copies by the trigger: no run
    assert tried(gone, lambda ts: np.ones(len(ts), int)) == [("crown",)]
