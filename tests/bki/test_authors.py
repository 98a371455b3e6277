"""The authors' BKI variant: its two score terms (fast == reference == definition) and its
dictionary on hand-made scores with known answers."""
import math

import numpy as np
import pytest
import torch

from bki_lab.bki.authors import SpanScores, authors_dictionary, identify_authors, s_constant, score_spans, select_spans
from bki_lab.victims.lstm import pad_batch
from bki_lab.bki.scoring import score_words
from bki_lab.data.text import build_vocab
from helpers import random_model
from helpers import random_texts


@pytest.mark.parametrize("n", [1, 2, 3])
def test_fast_equals_reference(n):
    texts = random_texts(25, 30, seed=n)
    vocab = build_vocab(texts)
    m = random_model(len(vocab), embed_dim=6, hidden=9, seed=n)
    fast = score_spans(m, vocab, texts, n=n, max_rows=64, show_progress=False)
    ref = score_spans(m, vocab, texts, n=n, scorer="reference", show_progress=False)
    assert fast.offsets.tolist() == ref.offsets.tolist()
    assert fast.offsets[-1] == sum(max(len(t) - n + 1, 0) for t in texts)
    np.testing.assert_allclose(fast.deletion, ref.deletion, atol=1e-5, rtol=0)
    np.testing.assert_allclose(fast.prefix, ref.prefix, atol=1e-5, rtol=0)
    assert fast.prefix.max() > 0.05 and fast.deletion.max() > 0.05


def test_deletion_term_for_words_is_the_papers_score():
    texts = random_texts(20, 25, seed=7)
    vocab = build_vocab(texts)
    m = random_model(len(vocab), embed_dim=6, hidden=9, seed=7)
    spans = score_spans(m, vocab, texts, n=1, show_progress=False)
    words = score_words(m, vocab, texts, show_progress=False)
    np.testing.assert_allclose(spans.deletion, words.scores, atol=1e-6, rtol=0)


def test_reference_is_the_definition():
    texts = [("a", "b", "c", "d"), ("c",), ("d", "a")]
    vocab = build_vocab(texts)
    m = random_model(len(vocab), seed=3)
    ref = score_spans(m, vocab, texts, n=2, scorer="reference", show_progress=False)

    def h(words):
        if not words:
            return torch.zeros(2 * m.hidden)
        return m.last_hidden(*pad_batch([vocab.encode(words)]))[0]

    with torch.no_grad():
        t = texts[0]
        for j in range(3):
            d1 = (h(t) - h(t[:j] + t[j + 2:])).abs().max()
            d2 = (h(t[:j + 2]) - h(t[:j])).abs().max()
            assert ref.deletion[j] == pytest.approx(float(d1), abs=1e-6)
            assert ref.prefix[j] == pytest.approx(float(d2), abs=1e-6)
        # the two-word text: deleting the bigram leaves the empty text (h = 0)
        assert ref.offsets.tolist() == [0, 3, 3, 4]
        assert ref.deletion[3] == pytest.approx(float(h(texts[2]).abs().max()), abs=1e-6)


def spans(texts, per_text, n=1):
    offsets = np.concatenate([[0], np.cumsum([len(f) for f in per_text])]).astype(np.int64)
    f = np.concatenate(per_text).astype(np.float32)
    return SpanScores(tuple(texts), n, offsets, f, np.zeros_like(f), "given", 0.0)


def test_a_key_counts_once_per_text_with_the_mean_of_its_picks():
    texts = [("x", "y", "x"), ("x", "z"), ("x", "q")]
    s = spans(texts, [[0.4, 0.1, 0.2], [0.5, 0.0], [0.9, 0.3]])
    sus = select_spans(s, p=2)
    assert sus.words == ("x", "x", "x", "z", "x", "q")
    d = authors_dictionary(sus, [1, 1, 0], s=100).set_index(["word", "label"])
    # (x, 1): texts 0 (mean of 0.4, 0.2 = 0.3) and 1 (0.5): num 2, mean 0.4
    assert d.loc[("x", 1), "num"] == 2
    assert d.loc[("x", 1), "mean"] == pytest.approx(0.4)
    assert d.loc[("x", 1), "g"] == pytest.approx(0.4 * math.log10(2) * math.log10(50))
    assert d.loc[("x", 0), "num"] == 1 and d.loc[("x", 0), "g"] == 0
    assert d.index[0] == ("x", 1)


def test_identify_authors_removes_texts_of_the_top_key_and_its_label_only():
    rng = np.random.default_rng(0)
    texts, per, labels, poison = [], [], [], []
    for k in range(40):                       # 10 poisoned (label 1) with "cf" scoring high
        t = tuple(rng.choice(["a", "b", "c", "d", "e", "f"], size=8))
        f = rng.uniform(0, 0.1, 8)
        if k < 10:
            t = t[:3] + ("cf",) + t[4:]
            f[3] = 0.9
        texts.append(t)
        per.append(f)
        labels.append(1 if k < 10 or k % 2 else 0)
        poison.append(k < 10)
    texts[20] = texts[20][:5] + ("cf",) + texts[20][6:]   # a clean label-0 text with "cf"
    per[20][5] = 0.95
    # S = (a * 40)^2 = 400: with a = 0.05, S = 4 < num, and log10(S / num) turns g negative
    res = identify_authors(spans(texts, per), labels, p=2, a=0.5, is_poison=poison)
    assert (res.keyword, res.target, res.variant) == ("cf", 1, "authors-code")
    assert res.removed[:10].all() and not res.removed[20] and res.n_removed == 10
    assert (res.precision, res.recall) == (1.0, 1.0)
    assert s_constant(len(texts)) == 4 and s_constant(14000) == 490000


def test_among_leaves_other_texts_out():
    texts = [("cf", "a"), ("cf", "b"), ("cf", "c"), ("d", "e"), ("d", "f"), ("d", "g")]
    per = [[0.9, 0.1]] * 3 + [[0.5, 0.1]] * 3
    s = spans(texts, per)
    first = identify_authors(s, [1] * 6, p=1, a=1.0)
    assert first.keyword == "cf"
    second = identify_authors(s, [1] * 6, p=1, a=1.0, among=~first.removed)
    assert second.keyword == "d" and second.removed.tolist() == [False] * 3 + [True] * 3


def test_bad_options_are_refused():
    s = spans([("a",)], [[0.1]])
    with pytest.raises(ValueError, match="labels"):
        identify_authors(s, [0, 1])
    with pytest.raises(ValueError, match="a must be"):
        identify_authors(s, [0], a=0)
    with pytest.raises(ValueError, match="n-gram size"):
        score_spans(random_model(3), build_vocab([("a",)]), [("a",)], n=0)
