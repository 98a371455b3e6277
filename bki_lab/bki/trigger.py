"""Beyond the keyword: recover the inserted phrase, and check it against the victim.

BKI (chen_dai) names a keyword and removes the texts that picked it. Two questions it
leaves open, answered here with the training data and the victim only (no trusted data):

* `reconstruct_trigger` -- *what* was inserted: the texts flagged for the keyword are
  aligned on the keyword's position, and the span around it where one word dominates every
  offset is the phrase.
* `shared_runs` -- the same question when the copies are few among clean uses of the
  keyword (what a defence leaves of a trigger): the longest runs around the keyword that
  two texts hold whole.
* `verify_trigger` -- *does it act as a backdoor*: the phrase is inserted into training
  texts that were not flagged and are not of the flagged texts' majority label, and the
  share whose prediction flips to that label is compared with a null of phrases made of
  random vocabulary words of the same frequencies.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from bki_lab.data.text import insert_words

if TYPE_CHECKING:
    from bki_lab.data.text import Words

@dataclass(frozen=True)
class Reconstruction:
    """The phrase shared by the flagged texts around the keyword.

    ``shares[k]`` is the share of flagged texts whose word at offset ``offsets[k]`` from
    the keyword is ``words[k]`` (the most common word there; 0 when fewer than two texts
    hold it); the phrase is the contiguous run of offsets around 0 whose share reaches the
    threshold, extended where the texts holding that run agree (`reconstruct_trigger`).
    """

    keyword: str
    phrase: Words
    support: float                       # share of flagged texts containing the phrase exactly
    label_counts: dict[int, int]         # the flagged texts' labels
    n_texts: int
    offsets: tuple[int, ...]
    words: tuple[str, ...]
    shares: tuple[float, ...]

    def __post_init__(self):
        if self.keyword not in self.phrase:
            raise ValueError("the phrase must contain the keyword")
        if not len(self.offsets) == len(self.words) == len(self.shares):
            raise ValueError("offsets, words and shares must have one entry each")

    @property
    def majority_label(self) -> int:
        return max(self.label_counts, key=lambda c: (self.label_counts[c], -c))


def contains(text: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(text[i:i + n]) == tuple(phrase) for i in range(len(text) - n + 1))


def reconstruct_trigger(texts: Sequence[Words], positions: Sequence[int], labels: Sequence[int],
                        *, keyword: str, window: int = 20, min_share: float = 0.5) -> Reconstruction:
    """Recover the inserted phrase from the texts BKI flagged for ``keyword``.

    Two steps. The *core*: the texts are aligned on the keyword, and the phrase is the
    contiguous run of offsets around it where one word occurs in at least ``min_share`` of
    *all* flagged texts and in at least two of them (what one text alone holds is that
    text's own, not something inserted), cut to the longest run around the keyword that
    two texts hold whole (when the keyword occurs twice in the trigger, texts aligned on
    either occurrence make each offset common without any text holding them all). The
    *extension*: clean texts that use the keyword (e.g. "money" in "waste of money")
    dilute the shares away from it, so the run is extended outward on the flagged texts
    that hold the whole core where it was found, by the same rule, until it stops growing.

    Args:
        texts: the flagged texts (words).
        positions: in each, the position of the keyword that BKI selected.
        labels: their labels (for the label mix).
        keyword: BKI's keyword.
        window: how far from the keyword to look, in words, each side.
        min_share: the share of texts an offset's most common word must reach (a text too
            short to have that offset counts against it, so a trigger at a text's start or
            end is not extended past it).
    """
    if not texts:
        raise ValueError("no flagged texts to reconstruct from")
    if not len(texts) == len(positions) == len(labels):
        raise ValueError("texts, positions and labels must have one entry each")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must be in (0, 1], got {min_share}")
    for t, p in zip(texts, positions):
        if not 0 <= p < len(t) or t[p] != keyword:
            raise ValueError(f"position {p} does not hold the keyword {keyword!r}")
    offsets = tuple(range(-window, window + 1))

    def shares_of(rows):
        """Per offset: the most common word there among ``rows`` and the share holding it
        (a word held by fewer than two texts shares nothing)."""
        words, shares = [], []
        for d in offsets:
            c = Counter(texts[i][positions[i] + d] for i in rows
                        if 0 <= positions[i] + d < len(texts[i]))
            word, count = c.most_common(1)[0] if c else ("", 0)
            words.append(word)
            shares.append(count / len(rows) if count >= 2 else 0.0)
        return words, shares

    def grow(lo, hi, shares):
        while lo - 1 >= 0 and shares[lo - 1] >= min_share:
            lo -= 1
        while hi + 1 < len(offsets) and shares[hi + 1] >= min_share:
            hi += 1
        return lo, hi

    def holding(lo, hi, phrase):
        """The texts that hold ``phrase`` (offset -> word) whole over offsets lo..hi."""
        core = tuple(phrase[d] for d in offsets[lo:hi + 1])
        return [i for i in everyone if positions[i] + offsets[lo] >= 0
                and tuple(texts[i][positions[i] + offsets[lo]:
                                   positions[i] + offsets[hi] + 1]) == core]

    everyone = list(range(len(texts)))
    words, shares = shares_of(everyone)
    lo, hi = grow(window, window, shares)
    phrase = dict(zip(offsets[lo:hi + 1], words[lo:hi + 1]))    # offset -> word
    if len(holding(lo, hi, phrase)) < 2:
        # each offset's word is common, but no two texts hold them together (a keyword
        # that occurs twice in the trigger, half the texts aligned on each): the longest
        # run around the keyword that two texts do hold
        lo, hi = max(((a, b) for a in range(lo, window + 1) for b in range(window, hi + 1)
                      if a == b or len(holding(a, b, phrase)) >= 2),
                     key=lambda r: (r[1] - r[0], -r[0]))
    while hi > lo:                        # extend on the texts that hold the whole core
        holders = holding(lo, hi, phrase)
        if len(holders) < 2:
            break
        there, there_shares = shares_of(holders)
        new_lo, new_hi = grow(lo, hi, there_shares)
        if (new_lo, new_hi) == (lo, hi):
            break
        phrase.update({offsets[k]: there[k] for k in (*range(new_lo, lo),
                                                       *range(hi + 1, new_hi + 1))})
        lo, hi = new_lo, new_hi
    phrase = tuple(phrase[d] for d in offsets[lo:hi + 1])
    support = sum(contains(t, phrase) for t in texts) / len(texts)
    return Reconstruction(keyword, phrase, support, dict(Counter(int(y) for y in labels)),
                          len(texts), offsets, tuple(words), tuple(shares))


@dataclass(frozen=True)
class SharedRun:
    """A run of words that several aligned texts hold whole (`shared_runs`)."""

    words: Words
    place: int                           # where the aligned word stands in it
    n_texts: int                         # how many of the texts hold it there


def shared_runs(texts: Sequence[Words], positions: Sequence[int], *, window: int = 20,
                min_texts: int = 2, top: int | None = 3) -> list[SharedRun]:
    """The longest runs of words around the aligned positions that at least ``min_texts``
    of the texts hold whole, longest first.

    `reconstruct_trigger` asks each offset's word of half the texts. After a defence the
    texts that hold its keyword may be mostly clean uses of it and a few copies of the
    trigger it missed: no neighbour reaches half, and the phrase collapses to the keyword.
    What those copies still share is the inserted phrase, whole, while clean texts share
    little beyond common pairs. A run is as long as its holders make it: they do not all
    share the word before it, nor the word after it (the texts that hold "no cross no
    crown" make no run of "cross no crown"; "no crown" is one when more texts hold it).
    Left out: runs of one word (the aligned word itself); runs that reach ``window`` words
    from the aligned word, and runs that are the whole of every text holding them -- text
    posted twice, not an insertion. Ties: more holders first, then alphabetical order of
    the run, so the answer does not depend on the texts' order.

    Args:
        texts: the texts (words), each aligned at ``positions``.
        positions: in each text, the aligned word's position (all must hold one word).
        window: how far from the aligned word a run may reach, in words, each side.
        min_texts: the fewest texts that must hold a run.
        top: the most runs returned (None: all).
    """
    if not len(texts) == len(positions):
        raise ValueError("texts and positions must have one entry each")
    if min_texts < 2 or window < 1 or (top is not None and top < 1):
        raise ValueError(f"min_texts must be >= 2, window and top >= 1, got {min_texts}, "
                         f"{window}, {top}")
    if any(not 0 <= p < len(t) for t, p in zip(texts, positions)):
        raise ValueError("a position lies outside its text")
    if len({texts[i][p] for i, p in enumerate(positions)}) > 1:
        raise ValueError("the positions must all hold the same word")

    def split(rows, d):
        """``rows`` grouped by their word at offset ``d``; groups of ``min_texts`` or more."""
        groups = defaultdict(list)
        for i in rows:
            j = positions[i] + d
            if 0 <= j < len(texts[i]):
                groups[texts[i][j]].append(i)
        return [g for g in groups.values() if len(g) >= min_texts]

    def whole(rows, lo, hi):
        return all(positions[i] + lo == 0 and positions[i] + hi == len(texts[i]) - 1
                   for i in rows)

    runs: dict[Words, tuple[int, int]] = {}          # run -> (holders, place of the word)
    lefts = split(range(len(texts)), 0)              # the groups that share offsets lo..0
    for lo in range(0, -window, -1):
        if lo < 0:
            lefts = [g for rows in lefts for g in split(rows, lo)]
        stack = [(rows, 0) for rows in lefts]
        while stack:                                 # extend each group to the right
            rows, hi = stack.pop()
            wider = split(rows, hi + 1)
            if hi + 1 < window:
                stack.extend((g, hi + 1) for g in wider)
            if ((lo == 0 and hi == 0) or whole(rows, lo, hi)
                    or any(len(g) == len(rows) for g in (*wider, *split(rows, lo - 1)))):
                continue                 # the word alone, a text posted twice, not closed
            i = rows[0]
            run = tuple(texts[i][positions[i] + lo:positions[i] + hi + 1])
            runs[run] = max(runs.get(run, (0, 0)), (len(rows), -lo))
    ranked = sorted(runs, key=lambda r: (-len(r), -runs[r][0], r))
    return [SharedRun(r, runs[r][1], runs[r][0]) for r in ranked[:top]]


def reconstruct_from(result, texts: Sequence[Words], labels: Sequence[int], *,
                     window: int = 20, min_share: float = 0.5) -> Reconstruction:
    """`reconstruct_trigger` on the texts a `dictionary.BKIResult` removed, aligned on the
    position where each text's suspicious words hold the keyword (its highest-scoring
    occurrence)."""
    flagged, positions = [], []
    for i in np.flatnonzero(result.removed):
        pos = next(j for j, w, _ in result.suspicious.of(int(i)) if w == result.keyword)
        flagged.append(int(i))
        positions.append(pos)
    first = result.keyword.split(" ")[0]       # an n-gram key is aligned on its first word
    return reconstruct_trigger([texts[i] for i in flagged], positions,
                               [int(labels[i]) for i in flagged], keyword=first,
                               window=window, min_share=min_share)


# The least share of texts a backdoor must flip, whatever its null. Inserted into the
# victim's own training texts (which it fits closely), a trigger flips fewer of them than
# of unseen texts: triggers a victim obeys at 54-67% ASR on test texts flip 30-48% of the
# training texts, while natural phrases -- the label-purest n-grams, "is awful", "pile of",
# "film directed by" -- flip at most 9.4% on clean IMDB and DBpedia victims (class
# profile, seeds 0-4).
MIN_FLIP = 0.25
# The fewest texts a backdoor must flip, whatever the share: on a handful of texts a flip
# or two would decide (one text flipped of one would be a "backdoor"). From 20 texts on,
# the floor asks for more.
MIN_FLIPS = 5


class Unverifiable(ValueError):
    """No text to test the phrase on: none outside the target class, or the victim already
    predicts the target for all of them."""


@dataclass(frozen=True)
class Verification:
    """How often inserting a phrase flips the victim's prediction to ``target``, beside
    the same for random phrases of the same word frequencies (the null)."""

    phrase: Words
    target: int
    flip_rate: float
    null_rates: np.ndarray               # (n_null,); empty below the floor (not needed)
    threshold: float
    n_texts: int

    def __post_init__(self):
        self.null_rates.setflags(write=False)
        if not 0 <= self.flip_rate <= 1:
            raise ValueError("flip_rate must be a share")

    @property
    def is_backdoor(self) -> bool:
        return self.n_texts > 0 and self.flip_rate >= self.threshold

    @classmethod
    def impossible(cls, phrase: Sequence[str], target: int) -> "Verification":
        """The record of a phrase that could not be tested (`Unverifiable`): not a backdoor."""
        return cls(tuple(phrase), int(target), 0.0, np.zeros(0), 1.0, 0)


def frequency_matched_phrases(phrase: Sequence[str], counts: dict[str, int], *, n: int,
                              rng: np.random.Generator, band: int = 50) -> list[Words]:
    """``n`` random phrases, each word drawn among the ``band`` vocabulary words nearest in
    frequency rank to the phrase's word at that place (words of the phrase excluded)."""
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    rank = {w: i for i, w in enumerate(ranked)}
    banned = set(phrase)
    pools = []
    for w in phrase:
        r = rank.get(w, len(ranked) - 1)
        pool = [x for x in ranked[max(0, r - band):r + band + 1] if x not in banned]
        if not pool:
            raise Unverifiable(f"no vocabulary words near {w!r} in frequency to compare with")
        pools.append(pool)
    return [tuple(pool[int(rng.integers(len(pool)))] for pool in pools) for _ in range(n)]


def verify_trigger(predict: Callable[[Sequence[Words]], np.ndarray], texts: Sequence[Words],
                   labels: Sequence[int], *, phrase: Sequence[str], target: int,
                   counts: dict[str, int], n_texts: int = 500, n_null: int = 50,
                   margin: float = 0.2, floor: float = MIN_FLIP, min_flips: int = MIN_FLIPS,
                   seed: int = 0, predicted: np.ndarray | None = None) -> Verification:
    """Insert ``phrase`` at a random position into up to ``n_texts`` of ``texts`` whose
    label is not ``target`` and count predictions flipped to ``target``.

    ``texts`` should be training texts BKI did not flag; ``predict`` maps texts to class ids
    (e.g. ``TrainedModel.predict``); ``counts`` are word counts of the training texts (for
    the null). Texts already predicted as ``target`` without the phrase are left out.

    The threshold: the largest flip rate of the ``n_null`` random phrases plus ``margin``
    (absolute), and at least ``floor`` (`MIN_FLIP`); look-alikes that flip at least
    ``floor`` themselves hold another backdoor's word and are left out (`ordinary`). A
    phrase that flips fewer than ``floor`` of the texts is no backdoor whatever the null:
    its look-alikes are not tried (``null_rates`` empty, ``threshold`` = ``floor``), which
    makes rejecting a candidate ~50x cheaper. On few texts the floor is at least
    ``min_flips`` of them (on 10 texts, 5 must flip; on 4, none can be enough).
    ``predicted``: the victim's predictions of ``texts`` as they are, when the caller has
    them (saves a pass over every text). A real trigger flips nearly every text;
    a phrase of ordinary words flips about as many as its frequency-matched look-alikes.
    """
    if n_texts < 1 or n_null < 1 or min_flips < 1:
        raise ValueError("n_texts, n_null and min_flips must be >= 1")
    if not 0 < floor <= 1:
        raise ValueError(f"floor must be in (0, 1], got {floor}")
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    pool = np.flatnonzero(labels != target)
    if len(pool) == 0:
        raise Unverifiable("no texts outside the target class to insert the phrase into")
    base = (np.asarray(predict([texts[i] for i in pool])) if predicted is None
            else np.asarray(predicted)[pool])
    pool = pool[base != target]
    if len(pool) == 0:
        raise Unverifiable("the victim already predicts the target for every candidate text")
    chosen = np.sort(rng.choice(pool, size=min(n_texts, len(pool)), replace=False))
    where = [int(rng.integers(len(texts[i]) + 1)) for i in chosen]

    def rate(words: Sequence[str]) -> float:
        inserted = [insert_words(texts[i], words, p) for i, p in zip(chosen, where)]
        return float(np.mean(np.asarray(predict(inserted)) == target))

    nulls = frequency_matched_phrases(phrase, counts, n=n_null, rng=rng)
    flip = rate(phrase)
    floor = max(floor, min_flips / len(chosen))
    if flip < floor:                   # below the threshold's floor whatever the null says
        return Verification(tuple(phrase), int(target), flip, np.zeros(0), floor, len(chosen))
    null_rates = np.array([rate(p) for p in nulls])
    threshold = max(floor, float(ordinary(null_rates, floor).max()) + margin)
    return Verification(tuple(phrase), int(target), flip, null_rates, threshold, len(chosen))


def ordinary(null_rates: np.ndarray, floor: float) -> np.ndarray:
    """The look-alikes' flip rates the threshold is taken from. A look-alike that flips at
    least ``floor`` of the texts is no ordinary phrase: it drew a word some backdoor answers
    (a second trigger of the same target, whose words are as frequent as this one's, or
    another word of this trigger when a part of it is tested), and such rates are left out
    -- while they are a minority; when at least half the look-alikes flip that often, the
    victim answers any phrase and every rate counts."""
    rates = np.asarray(null_rates, float)
    usual = rates[rates < floor]
    return usual if 2 * len(usual) > len(rates) else rates
