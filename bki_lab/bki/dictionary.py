"""Backdoor Keyword Identification (Chen & Dai, §IV, Algorithm 1), from scores to removal.

The stages, each a pure function of the previous one (no state is carried between calls):

    WordScores  --select_suspicious(p)-->  per-text top-p suspicious words
                --build_dictionary-->      word -> (num, mean f), ranked by g(k)
                --identify-->              keyword k_b, removed texts, precision/recall

Scoring (the expensive part) lives in `bki_lab.bki.scoring`; retraining is wired in
`bki_lab.pipeline.defence`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from bki_lab.bki.removal import RemovedCounts, removal_metrics

if TYPE_CHECKING:
    from bki_lab.bki.scoring import WordScores

@dataclass(frozen=True)
class Suspicious:
    """The top-p suspicious words of each text (Algorithm 1, line 10).

    Text i's picks are ``positions/words/scores[offsets[i]:offsets[i+1]]``, highest score
    first.
    """

    offsets: np.ndarray       # (n + 1,)
    positions: np.ndarray     # word index in its text
    words: tuple[str, ...]
    scores: np.ndarray
    p: int

    def of(self, i: int) -> list[tuple[int, str, float]]:
        s, e = self.offsets[i], self.offsets[i + 1]
        return [(int(j), w, float(f)) for j, w, f in
                zip(self.positions[s:e], self.words[s:e], self.scores[s:e])]

    def restricted(self, among: np.ndarray) -> "Suspicious":
        """The same picks with those of texts outside ``among`` (a bool mask) dropped;
        every text keeps its place (an excluded text has no picks)."""
        among = np.asarray(among, bool)
        if among.shape != (len(self.offsets) - 1,):
            raise ValueError(f"among has {among.shape} entries for "
                             f"{len(self.offsets) - 1} texts")
        counts = np.diff(self.offsets) * among
        keep = np.repeat(among, np.diff(self.offsets))
        return Suspicious(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                          self.positions[keep],
                          tuple(w for w, k in zip(self.words, keep) if k),
                          self.scores[keep], self.p)


MAX_P = 100        # suspicious words per text: the paper uses 5; more selects whole texts


def select_suspicious(scores: WordScores, *, p: int = 5) -> Suspicious:
    """Keep the ``p`` highest-scoring words of every text.

    Ties are broken by position (the earlier word first), so the choice is deterministic.
    A text with fewer than ``p`` words gives all of its words. Words are picked by
    *position*: a word that is among the top p at two positions of one text is picked twice,
    and so counts twice in the dictionary, each time with its own score (Algorithm 1 adds
    each element of {k_1..k_p} in turn).
    """
    if not isinstance(p, (int, np.integer)) or not 1 <= p <= MAX_P:
        raise ValueError(f"p must be an integer from 1 to {MAX_P}, got {p!r}")
    offs, pos, words, sc = [0], [], [], []
    for i, text in enumerate(scores.texts):
        f = scores.of(i)
        order = np.lexsort((np.arange(len(f)), -f))[:p]   # score desc, then position asc
        pos.append(order)
        sc.append(f[order])
        words.extend(text[j] for j in order)
        offs.append(offs[-1] + len(order))
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
    return Suspicious(np.asarray(offs, np.int64), cat(pos, np.int64), tuple(words),
                      cat(sc, np.float64), int(p))


def build_dictionary(suspicious: Suspicious) -> pd.DataFrame:
    """The dictionary Dic: word -> (num, mean f), ranked by g(k) = mean f · log10(num).

    Equal to Algorithm 1's incremental update num -> num + 1,
    mean -> (num·mean + f) / (num + 1) (checked in the tests); computed in one pass.
    Rank 1 is the largest g; ties go to the larger num, then alphabetical order.

    Returns:
        DataFrame with columns word, num, mean, g, rank (sorted by rank).
    """
    df = pd.DataFrame({"word": list(suspicious.words), "f": suspicious.scores})
    if df.empty:
        return pd.DataFrame({"word": pd.Series(dtype=str), "num": pd.Series(dtype=np.int64),
                             "mean": pd.Series(dtype=float), "g": pd.Series(dtype=float),
                             "rank": pd.Series(dtype=np.int64)})
    agg = df.groupby("word", sort=False)["f"].agg(num="size", mean="mean").reset_index()
    agg["num"] = agg["num"].astype(np.int64)
    agg["g"] = agg["mean"] * np.log10(agg["num"])
    agg = agg.sort_values(["g", "num", "word"], ascending=[False, False, True],
                          kind="mergesort").reset_index(drop=True)
    agg["rank"] = np.arange(1, len(agg) + 1)
    return agg[["word", "num", "mean", "g", "rank"]]


@dataclass(frozen=True)
class BKIResult(RemovedCounts):
    """What BKI decided for one training set, and how well, when the truth is known."""

    keyword: str
    ranking: pd.DataFrame        # word, num, mean, g, rank
    removed: np.ndarray          # (n,) bool: the texts whose suspicious words contain keyword
    suspicious: Suspicious
    p: int
    precision: float | None = None   # removed poison / removed
    recall: float | None = None      # removed poison / poison
    target: int | None = None        # the key's label (the authors' variant keys on it)
    variant: str = "paper"           # "paper" (Algorithm 1) or "authors-code" (`authors.py`)

    def __post_init__(self):
        if len(self.removed) != len(self.suspicious.offsets) - 1:
            raise ValueError("removed mask and suspicious words disagree on the text count")
        self.removed.setflags(write=False)

    def top(self, k: int = 10) -> pd.DataFrame:
        return self.ranking.head(k)

    def suspicious_frame(self, is_poison: np.ndarray | None = None) -> pd.DataFrame:
        """One row per text: index, is_poison, removed, its top-p words and scores."""
        rows = []
        for i in range(len(self.removed)):
            picks = self.suspicious.of(i)
            row = {"index": i}
            if is_poison is not None:
                row["is_poison"] = bool(is_poison[i])
            row["removed"] = bool(self.removed[i])
            for r in range(self.p):
                row[f"word_{r + 1}"] = picks[r][1] if r < len(picks) else ""
                row[f"score_{r + 1}"] = picks[r][2] if r < len(picks) else np.nan
            rows.append(row)
        return pd.DataFrame(rows)


def identify(scores: WordScores, *, p: int = 5, is_poison: Sequence[bool] | None = None,
             keyword: str | None = None, among: np.ndarray | None = None,
             rank: int = 0) -> BKIResult:
    """Pick the backdoor keyword and the texts to remove (Algorithm 1, lines 10-20).

    Args:
        scores: per-word scores of the (possibly poisoned) training set.
        p: suspicious words per text (the paper uses 5).
        is_poison: the true poison mask, when known, for precision and recall.
        keyword: remove the texts of this word instead of the top-ranked one (to explore
            "what if BKI had picked the second word?").
        among: a bool mask: only these texts build the dictionary and can be removed (the
            rest, e.g. texts removed by an earlier finding, take no part).
        rank: take the word at this rank (0: the top) instead of the top one.
    """
    sus = select_suspicious(scores, p=p)
    n = len(sus.offsets) - 1
    part = sus if among is None else sus.restricted(among)
    ranking = build_dictionary(part)
    if ranking.empty:
        raise ValueError("no suspicious words: the training set has no words")
    if not 0 <= rank < len(ranking):
        raise ValueError(f"rank {rank} is outside the ranking of {len(ranking)} words")
    kb = ranking["word"].iloc[rank] if keyword is None else keyword
    text_of = np.repeat(np.arange(n), np.diff(part.offsets))
    hit = np.fromiter((w == kb for w in part.words), dtype=bool, count=len(part.words))
    removed = np.zeros(n, dtype=bool)
    removed[text_of[hit]] = True
    precision = recall = None
    if is_poison is not None:
        if len(is_poison) != len(removed):
            raise ValueError(f"is_poison has {len(is_poison)} entries for {len(removed)} texts")
        precision, recall = removal_metrics(removed, np.asarray(is_poison))
    return BKIResult(str(kb), ranking, removed, sus, int(p), precision, recall)


def p_sweep(scores: WordScores, *, ps: Sequence[int] = (1, 2, 3, 5, 8, 10),
            is_poison: Sequence[bool] | None = None) -> pd.DataFrame:
    """BKI's decision for several p from the same cached scores: one row per p with the
    keyword, its g, the removed count and fraction, precision and recall."""
    rows = []
    for p in ps:
        r = identify(scores, p=p, is_poison=is_poison)
        rows.append({"p": p, "keyword": r.keyword, "g": float(r.ranking["g"].iloc[0]),
                     "n_removed": r.n_removed, "removed_fraction": r.removed_fraction,
                     "precision": r.precision, "recall": r.recall})
    return pd.DataFrame(rows)
