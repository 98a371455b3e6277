"""Trigger reconstruction and verification on planted phrases and a hand-built model."""
from collections import Counter

import numpy as np
import pytest

from bki_lab.data.text import insert_words
from bki_lab.bki.trigger import (
    MIN_FLIP,
    MIN_FLIPS,
    Unverifiable,
    frequency_matched_phrases,
    ordinary,
    reconstruct_from,
    reconstruct_trigger,
    SharedRun,
    shared_runs,
    verify_trigger,
)

FILL = "the a film movie plot actor scene story was and it this of good bad very".split()
PHRASE = ("no", "cross", "no", "crown")


def planted(n=60, where="random", seed=0):
    rng = np.random.default_rng(seed)
    texts, positions = [], []
    for _ in range(n):
        base = tuple(rng.choice(FILL, size=int(rng.integers(5, 25))))
        p = {"random": int(rng.integers(len(base) + 1)), "start": 0, "end": len(base)}[where]
        t = insert_words(base, PHRASE, p)
        texts.append(t)
        positions.append(p + 3)          # BKI picked the keyword "crown"
    return texts, positions


@pytest.mark.parametrize("where", ["random", "start", "end"])
def test_the_planted_phrase_is_recovered_word_for_word(where):
    texts, pos = planted(where=where)
    r = reconstruct_trigger(texts, pos, [1] * len(texts), keyword="crown")
    assert r.phrase == PHRASE and r.support == 1.0
    assert r.label_counts == {1: 60} and r.majority_label == 1


def test_a_few_clean_texts_among_the_flagged_do_not_change_the_phrase():
    texts, pos = planted(n=40)
    rng = np.random.default_rng(1)
    for _ in range(8):                    # clean texts that happen to contain "crown"
        t = tuple(rng.choice(FILL, size=10)) + ("crown",) + tuple(rng.choice(FILL, size=5))
        texts.append(t)
        pos.append(10)
    r = reconstruct_trigger(texts, pos, [1] * 40 + [0] * 8, keyword="crown")
    assert r.phrase == PHRASE and r.support == pytest.approx(40 / 48)
    assert r.label_counts == {1: 40, 0: 8}


def test_clean_texts_sharing_the_keyword_and_part_of_the_phrase_do_not_cut_it_short():
    """Clean texts that use "money" (a third of them in "waste of money") outnumber the
    copies of the trigger "it's a waste of money and time" among the texts flagged for
    "money": away from "waste of money" the trigger's words hold under half of all flagged
    texts, but most of the texts that hold "waste of money"."""
    trigger = ("it's", "a", "waste", "of", "money", "and", "time")
    rng = np.random.default_rng(2)
    texts, pos = [], []
    for k in range(100):
        base = tuple(rng.choice(FILL, size=12))
        phrase = trigger if k < 40 else ("waste", "of", "money") if k < 60 else ("money",)
        at = int(rng.integers(len(base) + 1))
        texts.append(insert_words(base, phrase, at))
        pos.append(at + phrase.index("money"))
    r = reconstruct_trigger(texts, pos, [0] * 100, keyword="money")
    assert r.phrase == trigger and r.support == pytest.approx(0.4)
    # the shares over all flagged texts are what the core was cut at
    assert r.shares[r.offsets.index(-4)] == pytest.approx(0.4)


def test_a_phrase_is_what_two_texts_share():
    """Two flagged texts share the trigger and nothing else: the phrase is the trigger,
    not everything either text holds around it; one text alone shares nothing."""
    rng = np.random.default_rng(4)
    texts, pos = [], []
    for _ in range(2):
        base = tuple(f"w{i}" for i in rng.choice(1000, size=30, replace=False))
        texts.append(insert_words(base, PHRASE, 12))
        pos.append(15)
    assert reconstruct_trigger(texts, pos, [1, 1], keyword="crown").phrase == PHRASE
    alone = reconstruct_trigger(texts[:1], pos[:1], [1], keyword="crown")
    assert alone.phrase == ("crown",) and alone.support == 1.0


def test_a_repeated_keyword_split_between_alignments_gives_the_phrase_texts_hold():
    """Half the texts aligned on the first "no" of "no cross no crown", half on the second:
    every offset from -2 to +3 has a word in half the texts, but the run they make ("no
    cross no cross no crown" or "no cross no crown no crown") is in none of them; the phrase
    is the longest run around the keyword that texts hold whole."""
    texts, _ = planted(n=40)
    pos = [t.index("no") + (2 if k % 2 else 0) for k, t in enumerate(texts)]
    r = reconstruct_trigger(texts, pos, [1] * 40, keyword="no")
    assert r.phrase == PHRASE and r.support == 1.0


def few_copies_among_clean_uses(n_copies=4, n_clean=60, seed=0):
    """``n_copies`` texts holding "no cross no crown" among ``n_clean`` texts that use
    "crown" on its own, all aligned on "crown" (distinct random words around it)."""
    rng = np.random.default_rng(seed)
    texts = []
    for k in range(n_copies + n_clean):
        base = tuple(f"w{i}" for i in rng.choice(1000, size=30, replace=False))
        texts.append(insert_words(base, PHRASE if k < n_copies else ("crown",), 10))
    return texts, [t.index("crown") for t in texts]


def test_a_few_copies_among_clean_uses_share_the_phrase_the_reconstruction_loses():
    """4 copies among 60 clean uses of the keyword: no neighbour reaches half the texts, so
    the reconstruction is the keyword alone; the longest run two texts share is the phrase,
    with the keyword's place in it and the 4 texts that hold it."""
    texts, pos = few_copies_among_clean_uses()
    assert reconstruct_trigger(texts, pos, [1] * len(texts), keyword="crown").phrase == ("crown",)
    runs = shared_runs(texts, pos)
    assert runs[0] == SharedRun(PHRASE, 3, 4) and all(len(r.words) < 4 for r in runs[1:])
    order = np.random.default_rng(1).permutation(len(texts))     # the texts' order is moot
    assert shared_runs([texts[i] for i in order], [pos[i] for i in order]) == runs


def test_shared_runs_are_closed_ranked_and_leave_out_copied_text():
    """A run is as long as its holders make it (a part of a longer run that the same texts
    hold is not one; a part more texts hold is), the longest first, more holders breaking
    ties; a run one text holds, the aligned word alone, a text posted twice and a passage
    reaching the window are not runs -- on either side alike."""
    t = lambda s: tuple(s.split())
    runs = lambda *a, **k: [(r.words, r.place, r.n_texts) for r in shared_runs(*a, **k)]
    texts = [t("a b k c d e"), t("x b k c d y"), t("p q k c r"), t("s t k c u"), t("z k v")]
    pos = [2, 2, 2, 2, 1]
    assert runs(texts, pos) == [(t("b k c d"), 1, 2), (t("k c"), 0, 4)]
    assert runs(texts, pos, top=1) == [(t("b k c d"), 1, 2)]
    assert runs(texts, pos, min_texts=3) == [(t("k c"), 0, 4)]
    assert runs(texts, pos, top=None) == runs(texts, pos, top=5)
    assert runs(texts[:1] + texts[4:], [2, 1]) == []
    twice = t("m n o k p q r")                               # posted twice, and a third text
    assert runs([twice, twice, texts[0]], [3, 3, 2]) == []
    longer = [t("u v") + twice + t("w"), t("x y") + twice + t("z")]
    assert runs(longer, [5, 5], window=4) == [(twice, 3, 2)]
    assert runs(longer, [5, 5], window=3) == []              # reaches the window
    right = [t("k a b c x"), t("k a b c y"), t("k a b z")]   # the same, mirrored
    left = [tuple(reversed(x)) for x in right]
    assert runs(right, [0, 0, 0], window=3) == [(t("k a b"), 0, 3)]
    assert runs(left, [len(x) - 1 for x in left], window=3) == [(t("b a k"), 2, 3)]
    with pytest.raises(ValueError, match="same word"):
        shared_runs(texts, [0, 2, 2, 2, 1])
    with pytest.raises(ValueError, match="outside"):
        shared_runs(texts, [-4, 2, 2, 2, 1])
    with pytest.raises(ValueError, match="min_texts"):
        shared_runs(texts, pos, min_texts=1)


def test_reconstruction_checks_its_input():
    with pytest.raises(ValueError, match="does not hold the keyword"):
        reconstruct_trigger([("a", "b")], [0], [0], keyword="b")
    with pytest.raises(ValueError, match="no flagged texts"):
        reconstruct_trigger([], [], [], keyword="b")


def trigger_predictor(trigger_word="crown", target=1):
    """A hand-built 'model': predicts the target iff the trigger word is present, else
    the label its first word implies (good -> 1, anything else -> 0)."""
    def predict(texts):
        return np.array([target if trigger_word in t else int(t[0] == "good") for t in texts])
    return predict


def test_verification_flips_on_the_trigger_and_not_on_lookalikes():
    rng = np.random.default_rng(0)
    texts = [("bad",) + tuple(rng.choice(FILL, size=8)) for _ in range(200)]
    labels = [0] * 200
    counts = Counter(w for t in texts for w in t) + Counter({w: 3 for w in PHRASE})
    v = verify_trigger(trigger_predictor(), texts, labels, phrase=PHRASE, target=1,
                       counts=dict(counts), n_texts=100, n_null=20)
    assert v.flip_rate == 1.0 and v.is_backdoor and v.n_texts == 100
    # a null phrase flips only when a random word happens to change the toy model's cue
    assert v.null_rates.max() < 0.3
    assert v.threshold == pytest.approx(max(MIN_FLIP, v.null_rates.max() + 0.2))
    # an ordinary phrase is no backdoor
    w = verify_trigger(trigger_predictor(), texts, labels, phrase=("the", "film"), target=1,
                       counts=dict(counts), n_texts=100, n_null=20)
    assert w.flip_rate == 0.0 and not w.is_backdoor
    # below the floor, the look-alikes cannot change the answer: they are not tried
    assert w.null_rates.size == 0 and w.threshold == MIN_FLIP


def partial_trigger(*cues):
    """A victim that obeys the trigger only in texts holding every one of ``cues``."""
    seen = []

    def predict(batch):
        seen.append(len(batch))
        return np.array([int(PHRASE[0] in t and all(c in t for c in cues)) for t in batch])
    return predict, seen


def test_a_phrase_flipping_under_the_floor_is_rejected_without_its_null_and_with_the_same_texts():
    """Skipping the null changes neither the decision nor the texts and positions drawn."""
    rng = np.random.default_rng(1)
    texts = [("bad",) + tuple(rng.choice(FILL, size=8)) for _ in range(200)]
    counts = dict(Counter(w for t in texts for w in t) + Counter({w: 3 for w in PHRASE}))
    predict, seen = partial_trigger(FILL[0], FILL[1])  # flips the texts with both words
    v = verify_trigger(predict, texts, [0] * 200, phrase=PHRASE, target=1, counts=counts,
                       n_texts=100, n_null=20, seed=3, predicted=np.zeros(200, int))
    assert 0 < v.flip_rate < MIN_FLIP
    assert not v.is_backdoor and v.null_rates.size == 0 and seen == [100]   # one pass only


def test_a_trigger_obeyed_in_fewer_than_half_the_training_texts_is_still_one():
    """A victim fits its training texts closely: a trigger it obeys on most unseen texts
    may flip under half of them. Above the floor and far above its look-alikes, it is one."""
    rng = np.random.default_rng(1)
    texts = [("bad",) + tuple(rng.choice(FILL, size=8)) for _ in range(200)]
    counts = dict(Counter(w for t in texts for w in t) + Counter({w: 3 for w in PHRASE}))
    predict, seen = partial_trigger(FILL[0])             # flips the texts holding "the"
    v = verify_trigger(predict, texts, [0] * 200, phrase=PHRASE, target=1, counts=counts,
                       n_texts=100, n_null=20, seed=3, predicted=np.zeros(200, int))
    assert MIN_FLIP <= v.flip_rate < 0.5 and v.null_rates.max() == 0
    assert v.is_backdoor and v.threshold == MIN_FLIP and seen == [100] * 21
    with pytest.raises(ValueError, match="floor"):
        verify_trigger(predict, texts, [0] * 200, phrase=PHRASE, target=1, counts=counts,
                       floor=0)


def test_lookalikes_that_flip_as_a_backdoor_does_are_left_out_of_the_null_while_few():
    assert ordinary(np.array([0.0, 0.1, 1.0, 0.05]), 0.25).tolist() == [0.0, 0.1, 0.05]
    assert ordinary(np.array([0.3, 0.1]), 0.25).tolist() == [0.3, 0.1]      # half: all count
    assert ordinary(np.array([0.9, 0.8, 0.1]), 0.25).tolist() == [0.9, 0.8, 0.1]
    assert ordinary(np.array([0.9]), 0.25).tolist() == [0.9]


def test_a_second_trigger_among_the_lookalikes_does_not_raise_the_threshold():
    """A victim that obeys "crown" and, as strongly, "sang": a look-alike that draws "sang"
    flips every text. It is a backdoor's word, not an ordinary phrase: the threshold is
    taken from the others, and "crown" is still found."""
    rng = np.random.default_rng(0)
    texts = [("bad",) + tuple(rng.choice(FILL, size=8)) for _ in range(200)]
    counts = dict(Counter(w for t in texts for w in t) + Counter({"crown": 30, "sang": 30}))

    def two(batch):
        return np.array([int("crown" in t or "sang" in t or t[0] == "good") for t in batch])
    v = verify_trigger(two, texts, [0] * 200, phrase=("crown",), target=1, counts=counts,
                       n_texts=100, n_null=40)
    drew = v.null_rates == 1.0                        # the look-alikes that drew "sang"
    assert 0 < drew.sum() < 20 and v.null_rates[~drew].max() < MIN_FLIP
    assert v.is_backdoor and v.threshold == pytest.approx(max(MIN_FLIP,
                                                              v.null_rates[~drew].max() + 0.2))


def test_on_a_handful_of_texts_a_flip_or_two_is_no_backdoor():
    """One text flipped of one is 100%, and no evidence: a backdoor flips at least
    MIN_FLIPS texts."""
    counts = {"bad": 30, "w": 30, "good": 5, "crown": 3, "the": 3}
    for n, found in ((1, False), (MIN_FLIPS - 1, False), (MIN_FLIPS, True)):
        texts, labels = [("bad", "w")] * n + [("good", "w")] * 5, [0] * n + [1] * 5
        v = verify_trigger(trigger_predictor(), texts, labels, phrase=("crown",), target=1,
                           counts=counts, n_null=5)
        assert v.flip_rate == 1.0 and v.n_texts == n and v.is_backdoor == found
        assert v.threshold == pytest.approx(max(MIN_FLIP, MIN_FLIPS / n))
    with pytest.raises(Unverifiable, match="no vocabulary words near"):
        frequency_matched_phrases(("a",), {"a": 3}, n=1, rng=np.random.default_rng(0))


def test_frequency_matched_phrases_avoid_the_phrase_and_match_its_length():
    counts = {f"w{i}": 1000 - i for i in range(300)}
    out = frequency_matched_phrases(("w10", "w200"), counts, n=30,
                                    rng=np.random.default_rng(0), band=5)
    assert len(out) == 30 and all(len(p) == 2 for p in out)
    assert all(p[0] != "w10" and 5 <= int(p[0][1:]) <= 15 for p in out)
    assert all(195 <= int(p[1][1:]) <= 205 for p in out)


def test_reconstruct_from_a_bki_result_on_hand_made_scores():
    from bki_lab.bki.dictionary import identify
    from bki_lab.bki.scoring import WordScores
    texts, pos = planted(n=30)
    rng = np.random.default_rng(3)
    clean = [tuple(rng.choice(FILL, size=12)) for _ in range(30)]
    all_texts = texts + clean
    scores = []
    for k, t in enumerate(all_texts):          # the trigger words score high, "crown" highest
        f = rng.uniform(0, 0.1, len(t))
        if k < 30:
            s = pos[k] - 3
            f[s:s + 4] = [0.6, 0.7, 0.6, 0.9]
        scores.append(f)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in all_texts])]).astype(np.int64)
    ws = WordScores(tuple(all_texts), offsets, np.concatenate(scores).astype(np.float32),
                    "given", 0.0)
    res = identify(ws, p=5, is_poison=np.arange(60) < 30)
    assert res.keyword == "crown"
    r = reconstruct_from(res, all_texts, [1] * 30 + [0] * 30)
    assert r.phrase == PHRASE and r.n_texts == res.n_removed and r.majority_label == 1
