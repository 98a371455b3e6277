"""The BKI of the authors' released code (``main.py`` of cirrrr/backdoor-keyword-identification),
beside the paper's Algorithm 1 (`dictionary.py`). Facts: ``$BKI_LAB_DATA/README.md`` §2b.

Where it differs from the paper:

* **score**: an n-gram starting at word j of text x gets
  ``||h(x) - h(x without x[j:j+n])||_inf + ||h(x[:j+n]) - h(x[:j])||_inf``: the paper's
  deletion term plus a *prefix* term, the change of the BiLSTM output when the text is cut
  just after rather than just before the n-gram (h of the empty prefix is 0).
* **keys** are (n-gram, label) pairs; a key counts **once per text**, with the mean of its
  scores over the text's picks; a key's mean is the mean of those per-text means.
* **ranking**: ``mean · log10(num) · log10(S / num)`` with ``S = round((a · n_train)^2)``,
  ``a = 0.05``; the removed texts are those whose picks hold the top key.

One difference is not reproduced: the authors' Keras model reads every text pre-padded to
500 ids without masking, so its states see the padding; ours start from zero at the first
word (the victim of this workbench has no padding steps).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np
import pandas as pd
import torch

from bki_lab.bki.dictionary import BKIResult, Suspicious
from bki_lab.bki.removal import removal_metrics
from bki_lab.bki.scoring import (
    aligned,
    applicable,
    default_rows,
    resume_direction,
    without_tf32,
)
from bki_lab.utils.progress import progress
from bki_lab.victims.lstm import encode_texts, length_buckets, pad_batch

if TYPE_CHECKING:
    from bki_lab.data.text import Vocab, Words
    from bki_lab.victims.lstm import BiLSTMClassifier

@dataclass(frozen=True)
class SpanScores:
    """Both terms of the authors' score for every n-gram of every text.

    Text i's n-grams start at words 0..len-n; their terms are
    ``deletion/prefix[offsets[i]:offsets[i+1]]`` (a text shorter than n has none).
    """

    texts: tuple[Words, ...]
    n: int
    offsets: np.ndarray      # (texts + 1,) int64
    deletion: np.ndarray     # (spans,) float32: the paper's f, for n-grams
    prefix: np.ndarray       # (spans,) float32
    scorer: str
    seconds: float

    def __post_init__(self):
        want = [max(len(t) - self.n + 1, 0) for t in self.texts]
        if self.offsets.shape != (len(self.texts) + 1,) or np.any(np.diff(self.offsets) != want):
            raise ValueError("offsets do not match the texts' n-gram counts")
        if not self.deletion.shape == self.prefix.shape == (self.offsets[-1],):
            raise ValueError("one deletion and one prefix term per n-gram")
        if not (np.all(np.isfinite(self.deletion)) and np.all(np.isfinite(self.prefix))):
            raise ValueError("span scores must be finite")
        for a in (self.offsets, self.deletion, self.prefix):
            a.setflags(write=False)

    def __len__(self) -> int:
        return len(self.texts)

    def of(self, i: int) -> np.ndarray:
        """Text i's scores (deletion + prefix), one per n-gram start."""
        s, e = self.offsets[i], self.offsets[i + 1]
        return self.deletion[s:e] + self.prefix[s:e]


# --------------------------------------------------------------------------- reference
@torch.no_grad()
def _reference_text(model: BiLSTMClassifier, ids: np.ndarray, n: int, device) -> tuple:
    L = len(ids)
    if L < n:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    H2 = 2 * model.hidden

    def h(seqs):                     # h of each id list; the empty text's: `empty_hidden`
        out = torch.empty(len(seqs), H2, device=device)
        keep = [k for k, s in enumerate(seqs) if len(s)]
        if len(keep) < len(seqs):    # only the prefix list holds the empty text
            out[[k for k, s in enumerate(seqs) if not len(s)]] = model.empty_hidden(device)
        if keep:
            out[keep] = model.last_hidden(*pad_batch([seqs[k] for k in keep], device))
        return out

    full = h([ids])
    deleted = h([np.delete(ids, np.arange(j, j + n)) for j in range(L - n + 1)])
    prefixes = h([ids[:m] for m in range(L + 1)])                     # P(0..L)
    d1 = (full - deleted).abs().amax(1)
    d2 = (prefixes[n:] - prefixes[:L - n + 1]).abs().amax(1)
    return d1.cpu().numpy(), d2.cpu().numpy()


# --------------------------------------------------------------------------- fast
@torch.no_grad()
def _fast_bucket(model: BiLSTMClassifier, seqs: Sequence[np.ndarray], n: int, device) -> list:
    lengths, offsets, off, e_f, e_b = aligned(model, seqs, device)
    full_f, var_f, hist_f = resume_direction(e_f, off, model.fwd, span=n)
    full_b, var_b, _ = resume_direction(e_b, off, model.bwd, span=n)
    _, suffix_b, _ = resume_direction(e_b, off, model.bwd, restart=True)
    del_f = (var_f - full_f[None]).abs().amax(2).t().cpu().numpy()        # (B, T)
    del_b = (var_b - full_b[None]).abs().amax(2).t().cpu().numpy()
    hist_f, suffix_b = hist_f.cpu().numpy(), suffix_b.cpu().numpy()
    out = []
    for b, L in enumerate(lengths):
        o, m = offsets[b], L - n + 1
        if m <= 0:
            out.append((np.zeros(0, np.float32), np.zeros(0, np.float32)))
            continue
        j = np.arange(m)
        # the n-gram j..j+n-1: forward variant o+j; backward (reversed) variant o+L-j-n
        d1 = np.maximum(del_f[b, o + j], del_b[b, o + L - j - n])
        # prefix P(k): forward state after k words; backward run over x[:k] = the reversed
        # text's suffix from step o+L-k; P(0) = 0
        pf = hist_f[o:o + L + 1, b]                                       # (L+1, H)
        pb = np.zeros_like(pf)
        pb[1:] = suffix_b[o + L - np.arange(1, L + 1), b]
        d2 = np.maximum(np.abs(pf[j + n] - pf[j]).max(1), np.abs(pb[j + n] - pb[j]).max(1))
        out.append((d1.astype(np.float32), d2.astype(np.float32)))
    return out


@without_tf32
def score_spans(model: BiLSTMClassifier, vocab: Vocab, texts: Sequence[Words], *, n: int = 1,
                scorer: Literal["fast", "reference"] = "fast", device: str = "cpu",
                max_rows: int | None = None, show_progress: bool = True) -> SpanScores:
    """The authors' two score terms for every n-gram of every text (eval mode, no autograd).

    ``fast`` reuses the full text's states (as `scoring.score_words` does) and gets the
    prefix term from one forward pass and one restarting backward pass; ``reference`` runs
    the model on every cut text. The two agree to float rounding. A model with
    ``pre_pad`` (the Keras input) is always scored by the reference.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (the n-gram size) must be an integer >= 1, got {n!r}")
    if scorer not in ("fast", "reference"):
        raise ValueError(f"scorer must be 'fast' or 'reference', got {scorer!r}")
    if getattr(model, "cell", "lstm") not in ("lstm", "gru"):
        raise ValueError("the authors' variant scores recurrent victims (its prefix term reads "
                         f"the BiLSTM's states); this victim is a {model.cell!r}: use "
                         "variant='paper'")
    t0 = time.perf_counter()
    scorer = applicable(scorer, model)
    max_rows = max_rows or default_rows(device)
    was, home = model.training, next(model.parameters()).device
    model.eval().to(device)
    seqs = encode_texts(vocab, texts)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    per: list = [None] * len(seqs)
    bar = progress(total=int(lengths.sum()), desc=f"authors' BKI scoring ({scorer})",
                   unit="word", disable=not show_progress)
    if scorer == "reference":
        for i, s in enumerate(seqs):
            per[i] = _reference_text(model, s, n, device)
            bar.update(len(s))
    else:
        for idx in reversed(length_buckets(lengths, max_tokens=max_rows, max_batch=max_rows)):
            for i, terms in zip(idx, _fast_bucket(model, [seqs[i] for i in idx], n, device)):
                per[i] = terms
            bar.update(int(lengths[idx].sum()))
    bar.close()
    model.train(was).to(home)
    counts = np.maximum(lengths - n + 1, 0)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    cat = (lambda k: np.concatenate([t[k] for t in per]).astype(np.float32) if per
           else np.zeros(0, np.float32))
    return SpanScores(tuple(tuple(t) for t in texts), int(n), offsets, cat(0), cat(1), scorer,
                      time.perf_counter() - t0)


# --------------------------------------------------------------------------- dictionary
def select_spans(scores: SpanScores, *, p: int = 5) -> Suspicious:
    """Each text's ``p`` highest-scoring n-grams (ties: the earlier first); words are the
    n-grams joined by spaces."""
    if not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"p must be an integer >= 1, got {p!r}")
    offs, pos, words, sc = [0], [], [], []
    for i, text in enumerate(scores.texts):
        f = scores.of(i)
        order = np.lexsort((np.arange(len(f)), -f))[:p]
        pos.append(order)
        sc.append(f[order])
        words.extend(" ".join(text[j:j + scores.n]) for j in order)
        offs.append(offs[-1] + len(order))
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
    return Suspicious(np.asarray(offs, np.int64), cat(pos, np.int64), tuple(words),
                      cat(sc, np.float64), int(p))


def authors_dictionary(suspicious: Suspicious, labels: Sequence[int], *,
                       s: float) -> pd.DataFrame:
    """(n-gram, label) -> num (texts), mean (of per-text means), g = mean · log10(num) ·
    log10(s / num), ranked by g (ties: larger num, then word, then label)."""
    labels = np.asarray(labels)
    text_of = np.repeat(np.arange(len(suspicious.offsets) - 1), np.diff(suspicious.offsets))
    df = pd.DataFrame({"text": text_of, "word": list(suspicious.words),
                       "label": labels[text_of].astype(np.int64), "f": suspicious.scores})
    cols = ["word", "label", "num", "mean", "g", "rank"]
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    per_text = df.groupby(["word", "label", "text"], sort=False)["f"].mean().reset_index()
    agg = per_text.groupby(["word", "label"], sort=False)["f"].agg(num="size", mean="mean")
    agg = agg.reset_index()
    agg["num"] = agg["num"].astype(np.int64)
    agg["g"] = agg["mean"] * np.log10(agg["num"]) * np.log10(s / agg["num"])
    agg = agg.sort_values(["g", "num", "word", "label"], ascending=[False, False, True, True],
                          kind="mergesort").reset_index(drop=True)
    agg["rank"] = np.arange(1, len(agg) + 1)
    return agg[cols]


def identify_authors(scores: SpanScores, labels: Sequence[int], *, p: int = 5, a: float = 0.05,
                     is_poison: Sequence[bool] | None = None,
                     among: np.ndarray | None = None, rank: int = 0) -> BKIResult:
    """The authors' keyword key and the texts to remove (``main.py``'s
    ``get_suspicious_keyword``). ``among``: only these texts take part (a bool mask);
    ``rank``: the key at this rank instead of the top one."""
    if not a > 0:
        raise ValueError(f"a must be > 0, got {a}")
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} labels for {len(scores)} texts")
    sus = select_spans(scores, p=p)
    n_texts = len(scores)
    among = np.ones(n_texts, bool) if among is None else np.asarray(among, bool)
    part = sus.restricted(among)
    s = s_constant(int(among.sum()), a)
    ranking = authors_dictionary(part, labels, s=s)
    if ranking.empty:
        raise ValueError("no n-grams to rank: every text is shorter than n")
    if not 0 <= rank < len(ranking):
        raise ValueError(f"rank {rank} is outside the ranking of {len(ranking)} keys")
    word, label = str(ranking["word"].iloc[rank]), int(ranking["label"].iloc[rank])
    labels = np.asarray(labels)
    text_of = np.repeat(np.arange(n_texts), np.diff(part.offsets))
    hit = np.fromiter((w == word for w in part.words), bool, count=len(part.words))
    removed = np.zeros(n_texts, bool)
    removed[text_of[hit]] = True
    removed &= labels == label
    precision = recall = None
    if is_poison is not None:
        precision, recall = removal_metrics(removed, np.asarray(is_poison))
    return BKIResult(word, ranking, removed, sus, int(p), precision, recall, target=label,
                     variant="authors-code")


def s_constant(n_train: int, a: float = 0.05) -> int:
    """S = round((a · n_train)^2) of the authors' ranking."""
    return round((a * n_train) ** 2)
