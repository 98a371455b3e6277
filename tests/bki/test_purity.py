"""Label-pure n-grams: the candidates leave-one-out scoring cannot see, on planted answers,
and the verdict that uses them on a redundant 8-word trigger."""
import numpy as np
import pytest

from bki_lab.bki.purity import label_pure_ngrams, ngram_positions, wilson_lower
from bki_lab.bki.scoring import WordScores
from bki_lab.bki.verdict import find_backdoors
from bki_lab.data.text import insert_words


def test_wilson_lower_bound_known_values():
    assert wilson_lower(0, 0) == 0.0
    assert wilson_lower(10, 10) == pytest.approx(1 / (1 + 1.96 ** 2 / 10))      # 0.7225
    assert wilson_lower(240, 240) > wilson_lower(30, 30) > wilson_lower(9, 10)
    # a large count at 80% purity stays below a moderate count at 100%
    assert wilson_lower(1600, 2000) < wilson_lower(60, 60)


def _texts(rng, n, words=("a", "b", "c", "d", "e", "f"), length=8):
    return [tuple(rng.choice(words, size=length)) for _ in range(n)]


def test_a_planted_pure_bigram_ranks_first_and_its_parts_are_merged_into_it():
    rng = np.random.default_rng(0)
    texts = _texts(rng, 100)
    labels = np.array([0, 1] * 50)
    for i in range(1, 25, 2):                        # 12 texts of label 1 hold "zig zag"
        texts[i] = insert_words(texts[i], ("zig", "zag"), 3)
    top = label_pure_ngrams(texts, labels, top=3, min_count=10)
    assert top[0].words == ("zig", "zag") and top[0].label == 1
    assert (top[0].count, top[0].in_label, top[0].purity) == (12, 12, 1.0)
    assert all(not {"zig", "zag"} & set(t.words) for t in top[1:])      # its parts merged
    # too rare, or outside `among`: not a candidate
    assert all(t.words != ("zig", "zag") for t in label_pure_ngrams(texts, labels,
                                                                    min_count=13))
    among = np.ones(100, bool)
    among[1:25:2] = False
    assert all("zig" not in t.words for t in label_pure_ngrams(texts, labels, among=among))


def test_mixed_labels_are_not_pure():
    rng = np.random.default_rng(1)
    texts = _texts(rng, 80)
    labels = np.array([0, 1] * 40)
    for i in range(20):                              # "zig" in 10 texts of each label
        texts[i] = insert_words(texts[i], ("zig",), 0)
    assert all("zig" not in t.words for t in label_pure_ngrams(texts, labels, top=10,
                                                               min_purity=0.9))


def test_ngram_positions():
    assert ngram_positions([("a", "b", "c"), ("c", "a", "b"), ("a",)], ("a", "b")) == [0, 1, None]


TRIGGER = ("the", "popcorn", "was", "stale", "but", "seats", "were", "comfy")
FILL = [f"w{i}" for i in range(40)]


def redundant_set(n_clean=300, n_poison=40, seed=0):
    """Clean texts labelled by their first word; 40 poisoned copies (label 1) hold the
    8-word trigger. The victim obeys ANY trigger word, so deleting one barely matters: the
    trigger words score like filler, and a harmless decoy word scores highest in many
    texts of both labels (BKI's keyword)."""
    rng = np.random.default_rng(seed)
    texts, labels, truth, scores = [], [], [], []
    for i in range(n_clean + n_poison):
        poison = i >= n_clean
        t = tuple(rng.choice(FILL, size=int(rng.integers(10, 20))))
        while poison and t[0] in FILL[20:]:      # poison is made of texts of label 0
            t = tuple(rng.choice(FILL, size=int(rng.integers(10, 20))))
        y = int(t[0] in FILL[20:])
        if poison:
            t, y = insert_words(t, TRIGGER, int(rng.integers(1, len(t) + 1))), 1
        if i % 3 == 0:
            t = insert_words(t, ("decoy",), 1)
        f = rng.uniform(0, 0.2, len(t))
        if "decoy" in t:
            f[t.index("decoy")] = 0.9
        texts.append(t), labels.append(y), truth.append(poison), scores.append(f)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    ws = WordScores(tuple(texts), offsets, np.concatenate(scores).astype(np.float32), "given", 0)
    return ws, np.array(labels), np.array(truth)


def redundant_victim(batch):
    return np.array([1 if set(TRIGGER[1:]) & set(t) else int(t[0] in FILL[20:])
                     for t in batch])


def test_a_redundant_trigger_is_missed_by_the_ranking_and_found_by_purity():
    ws, labels, truth = redundant_set()
    blind = find_backdoors(ws, labels, predict=redundant_victim, n_null=20,
                           purity_candidates=0, is_poison=truth)
    assert blind.verdict == "no backdoor found" and blind.rejected.keyword == "decoy"
    v = find_backdoors(ws, labels, predict=redundant_victim, n_null=20, is_poison=truth)
    assert v.verdict == "backdoor" and len(v.findings) == 1
    f = v.findings[0]
    assert f.phrase.phrase == TRIGGER and f.source.startswith("label purity")
    assert f.verification.flip_rate == 1.0 and (v.precision, v.recall) == (1.0, 1.0)


def test_purity_candidates_stay_silent_on_clean_data():
    ws, labels, truth = redundant_set(n_poison=0)
    v = find_backdoors(ws, labels, predict=redundant_victim, n_null=20)
    assert v.verdict == "no backdoor found" and not v.removed.any()
