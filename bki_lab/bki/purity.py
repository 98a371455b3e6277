"""Where deleting one word cannot look: n-grams whose texts are (almost) all of one label.

BKI scores a word by how much *deleting it alone* moves h_l. A trigger the victim answers
redundantly -- several of its words each enough to flip the prediction -- barely moves h_l
when any one word goes, so none of its words need reach BKI's top-p, and BKI's dictionary
ranks ordinary sentiment words above it. The poisoning leaves another trace that needs no
deletion at all: every poisoned text holds the trigger and carries the target label, so the
trigger's n-grams occur in many texts of *one* label and (nearly) never in another, far
more purely than natural phrases, whose labels are mixed.

`label_pure_ngrams` ranks the n-grams of a training set by the lower confidence bound
(Wilson score) of the share of their texts in their majority label: a large count at
(near) perfect purity ranks first; a rare name used by a few reviews of one label, or a
frequent sentiment word at 80% purity, ranks below. These are candidates only: the verdict
(`bki_lab.bki.verdict`) reconstructs each one's phrase and keeps it only if inserting it
flips the victim far more often than frequency-matched random phrases do.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from bki_lab.data.text import Words


@dataclass(frozen=True)
class PureNgram:
    """An n-gram, the label most of its texts carry, and how purely."""

    words: Words
    label: int
    count: int                 # texts that hold it
    in_label: int              # of which carry ``label``
    bound: float               # Wilson lower bound of in_label / count

    @property
    def purity(self) -> float:
        return self.in_label / self.count


def wilson_lower(k: int, n: int, z: float = 1.96) -> float:
    """The lower end of the Wilson score interval for k successes in n trials."""
    if n == 0:
        return 0.0
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def label_pure_ngrams(texts: Sequence[Words], labels: Sequence[int], *, max_n: int = 3,
                      min_count: int = 10, min_purity: float = 0.9, top: int = 3,
                      among: np.ndarray | None = None) -> tuple[PureNgram, ...]:
    """The ``top`` n-grams (1 to ``max_n`` words) held by at least ``min_count`` texts of
    which at least ``min_purity`` carry one label, ranked by `wilson_lower` of that share
    (ties: longer n-grams first, then more texts, then alphabetical).

    Each text counts once per n-gram (presence, not frequency). Overlapping n-grams of one
    phrase are kept apart: an n-gram is dropped when a higher-ranked one shares a word with
    it and has the same label, so the ``top`` candidates are ``top`` different phrases.

    Args:
        texts, labels: the training set.
        among: (n,) bool, the texts to count (default: all).
    """
    labels = np.asarray(labels)
    if len(labels) != len(texts):
        raise ValueError(f"{len(labels)} labels for {len(texts)} texts")
    if max_n < 1 or min_count < 1 or top < 1 or not 0 < min_purity <= 1:
        raise ValueError("need max_n, min_count, top >= 1 and min_purity in (0, 1]")
    idx = np.flatnonzero(among) if among is not None else np.arange(len(texts))
    by_label: dict[int, Counter] = defaultdict(Counter)     # label -> n-gram -> texts
    for i in idx:
        t = texts[i]
        by_label[int(labels[i])].update(
            {tuple(t[j:j + n]) for n in range(1, max_n + 1) for j in range(len(t) - n + 1)})
    total: Counter = Counter()
    for c in by_label.values():
        total.update(c)
    ranked = []
    for g, n_texts in total.items():
        if n_texts < min_count:
            continue
        label, k = max(((y, c[g]) for y, c in by_label.items()), key=lambda yk: (yk[1], -yk[0]))
        if k / n_texts < min_purity:
            continue
        ranked.append(PureNgram(g, label, n_texts, k, wilson_lower(k, n_texts)))
    ranked.sort(key=lambda r: (-r.bound, -len(r.words), -r.count, r.words))
    out: list[PureNgram] = []
    for r in ranked:
        if any(r.label == o.label and set(r.words) & set(o.words) for o in out):
            continue
        out.append(r)
        if len(out) == top:
            break
    return tuple(out)


def ngram_positions(texts: Sequence[Words], words: Sequence[str]) -> list[int | None]:
    """In each text, the start of the first occurrence of ``words``, or None."""
    n, words = len(words), tuple(words)
    out: list[int | None] = []
    for t in texts:
        out.append(next((j for j in range(len(t) - n + 1) if tuple(t[j:j + n]) == words),
                        None))
    return out
