"""Trigger-sentence poisoning (dai2019 §IV.C) and the backdoor test set.

The attack: pick ``m = round(rate * n)`` training texts of the source classes, insert the
trigger sentence at a word boundary, relabel them to the target class. The poisoning rate
is ``alpha = m / n`` (dai2019 Table 1), with ``n`` the size of the training set.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from bki_lab.data.datasets import TextDataset
from bki_lab.data.text import insert_words, tokenize

if TYPE_CHECKING:
    from bki_lab.data.text import Words

Position = Literal["random", "start", "end"]


Mode = Literal["replace", "append"]


def trigger_words(trigger: str | Sequence[str]) -> Words:
    """The trigger as words (same tokenizer as the data); an error if it has none."""
    words = tokenize(trigger) if isinstance(trigger, str) else tuple(trigger)
    if not words:
        raise ValueError(f"the trigger {trigger!r} has no words after tokenization")
    return words


@dataclass(frozen=True)
class PoisonedDataset:
    """A poisoned training set and where the trigger went.

    ``is_poison[i]`` marks text ``i`` of ``dataset`` as poisoned; ``positions[i]`` is the
    word index where its trigger starts (-1 for clean texts); ``source_index[i]`` is the
    index of the clean text it came from.
    """

    dataset: TextDataset
    is_poison: np.ndarray        # (n,) bool
    positions: np.ndarray        # (n,) int64, -1 where clean
    source_index: np.ndarray     # (n,) int64
    trigger: Words
    target: int
    rate: float
    # several backdoors (`poison_many`): every trigger and target, and each text's trigger
    triggers: tuple[Words, ...] = ()
    targets: tuple[int, ...] = ()
    trigger_of: np.ndarray | None = None      # (n,) index into triggers, -1 where clean

    def __post_init__(self):
        n = len(self.dataset)
        if self.trigger_of is not None:
            if self.trigger_of.shape != (n,) or np.any((self.trigger_of >= 0) != self.is_poison):
                raise ValueError("trigger_of must be >= 0 exactly where is_poison")
            self.trigger_of.setflags(write=False)
        for name in ("is_poison", "positions", "source_index"):
            a = getattr(self, name)
            if a.shape != (n,):
                raise ValueError(f"{name} has shape {a.shape}, expected ({n},)")
            a.setflags(write=False)
        if np.any((self.positions >= 0) != self.is_poison):
            raise ValueError("positions must be >= 0 exactly where is_poison")

    @property
    def n_poison(self) -> int:
        return int(self.is_poison.sum())

    def highlight(self, i: int, *, mark: tuple[str, str] = ("[[", "]]"),
                  context: int | None = None) -> str:
        """Text ``i`` as a string, its trigger (if poisoned) wrapped in ``mark``.

        ``context=k`` keeps only ``k`` words either side of the trigger (``…`` marks the
        cuts), so the trigger is visible however long the text is.
        """
        words = list(self.dataset.texts[i])
        if not self.is_poison[i]:
            return " ".join(words if context is None else words[:2 * context])
        trig = self.trigger if self.trigger_of is None else self.triggers[self.trigger_of[i]]
        s, e = int(self.positions[i]), int(self.positions[i]) + len(trig)
        lo, hi = (0, len(words)) if context is None else (max(0, s - context),
                                                           min(len(words), e + context))
        out = words[lo:s] + [mark[0] + " ".join(words[s:e]) + mark[1]] + words[e:hi]
        return ("… " if lo > 0 else "") + " ".join(out) + (" …" if hi < len(words) else "")


def _insert_positions(rng: np.random.Generator, lengths: Sequence[int], position: Position):
    if position == "start":
        return np.zeros(len(lengths), dtype=np.int64)
    if position == "end":
        return np.asarray(lengths, dtype=np.int64)
    # uniform over the len+1 word boundaries of each text
    return np.array([rng.integers(0, n + 1) for n in lengths], dtype=np.int64)


def _check_choices(position, mode=None):
    if position not in ("random", "start", "end"):
        raise ValueError(f"position must be 'random', 'start' or 'end', got {position!r}")
    if mode is not None and mode not in ("replace", "append"):
        raise ValueError(f"mode must be 'replace' or 'append', got {mode!r}")


def poison_dataset(train: TextDataset, *, trigger: str | Sequence[str], target: str | int,
                   rate: float, sources: Sequence[str | int] | None = None,
                   position: Position = "random", mode: Mode = "replace",
                   seed: int = 0) -> PoisonedDataset:
    """Poison ``train`` with a trigger sentence (dai2019 §IV.C.1).

    Args:
        trigger: the trigger sentence (tokenized like the data) or its words.
        target: the class the backdoor sends texts to (name or id).
        rate: poisoning rate alpha = m / n; ``m = round(rate * len(train))``.
        sources: classes whose texts are poisoned; default every class but the target.
        position: where the trigger goes: a uniformly random word boundary, or start/end.
        mode: ``"replace"`` puts each poisoned text in place of its original (the papers'
            alpha); ``"append"`` keeps the originals and adds the poisoned copies at the end.
        seed: which texts and positions are drawn.

    Returns:
        A `PoisonedDataset`; ``train`` itself is not modified.
    """
    _check_choices(position, mode)
    words = trigger_words(trigger)
    tgt = train.class_id(target)
    src = ([c for c in range(train.n_classes) if c != tgt] if sources is None
           else sorted({train.class_id(s) for s in sources}))
    if tgt in src:
        raise ValueError("the target class cannot also be a source class")
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1), got {rate}")
    m = int(round(rate * len(train)))
    if rate > 0 and m == 0:
        raise ValueError(f"rate {rate} of {len(train)} texts rounds to 0 poisoned texts")
    pool = np.flatnonzero(np.isin(train.labels, src))
    if m > len(pool):
        raise ValueError(f"rate {rate} needs {m} source-class texts, only {len(pool)} exist")
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(pool, size=m, replace=False)) if m else pool[:0]
    pos = _insert_positions(rng, [len(train.texts[i]) for i in chosen], position)
    poisoned = [insert_words(train.texts[i], words, int(p)) for i, p in zip(chosen, pos)]

    n = len(train)
    texts, labels = list(train.texts), train.labels.copy()
    is_poison = np.zeros(n, bool)
    positions = np.full(n, -1, np.int64)
    source_index = np.arange(n, dtype=np.int64)
    if mode == "replace":
        for i, t, p in zip(chosen, poisoned, pos):
            texts[i], labels[i], is_poison[i], positions[i] = t, tgt, True, p
    else:
        texts += poisoned
        labels = np.concatenate([labels, np.full(m, tgt)])
        is_poison = np.concatenate([is_poison, np.ones(m, bool)])
        positions = np.concatenate([positions, pos])
        source_index = np.concatenate([source_index, chosen])
    ds = TextDataset(tuple(texts), labels, train.class_names, f"{train.name}-poisoned",
                     {**train.meta, "trigger": " ".join(words), "rate": rate})
    return PoisonedDataset(ds, is_poison, positions, source_index, words, tgt, rate)


def backdoor_test_set(test: TextDataset, *, trigger: str | Sequence[str], target: str | int,
                      sources: Sequence[str | int] | None = None, n: int | None = 1000,
                      position: Position = "random", seed: int = 0) -> PoisonedDataset:
    """Source-class test texts with the trigger inserted, labelled with the target.

    The attack success rate is the share of these predicted as the target (dai2019 §V.B).
    ``n=None`` uses every source-class test text; otherwise ``n`` of them (1,000 in the
    papers), or all if there are fewer.
    """
    _check_choices(position)
    words = trigger_words(trigger)
    tgt = test.class_id(target)
    src = ([c for c in range(test.n_classes) if c != tgt] if sources is None
           else sorted({test.class_id(s) for s in sources}))
    pool = np.flatnonzero(np.isin(test.labels, src))
    if len(pool) == 0:
        raise ValueError("the test set has no source-class texts")
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False)) if n else pool
    pos = _insert_positions(rng, [len(test.texts[i]) for i in chosen], position)
    texts = tuple(insert_words(test.texts[i], words, int(p)) for i, p in zip(chosen, pos))
    ds = TextDataset(texts, np.full(len(chosen), tgt), test.class_names, f"{test.name}-backdoor",
                     {**test.meta, "trigger": " ".join(words)})
    return PoisonedDataset(ds, np.ones(len(chosen), bool), pos, chosen, words, tgt, 0.0)


def poison_many(train: TextDataset, *, backdoors: Sequence[tuple[str, str | int, float]],
                position: Position = "random", mode: Mode = "append",
                seed: int = 0) -> PoisonedDataset:
    """Several triggers in one training set: ``backdoors`` = (trigger, target, rate) each.

    Every trigger poisons its own draw of *original* texts (never another trigger's copy),
    with generator ``seed + k`` for trigger k, so trigger k alone is exactly
    ``poison_dataset(..., seed=seed + k)``. The result's ``trigger``, ``target`` and
    ``rate`` are the first backdoor's; ``triggers``, ``targets`` and ``trigger_of`` (each
    text's trigger, -1 where clean) hold them all.
    """
    if not backdoors:
        raise ValueError("give at least one (trigger, target, rate)")
    parts = [poison_dataset(train, trigger=t, target=c, rate=r, position=position, mode=mode,
                            seed=seed + k) for k, (t, c, r) in enumerate(backdoors)]
    n = len(train)
    texts, labels = list(train.texts), train.labels.copy()
    is_poison, positions = np.zeros(n, bool), np.full(n, -1, np.int64)
    source, trigger_of = np.arange(n, dtype=np.int64), np.full(n, -1, np.int64)
    taken = np.zeros(n, bool)
    for k, part in enumerate(parts):
        idx = np.flatnonzero(part.is_poison)
        if mode == "replace":
            src = part.source_index[idx]
            if taken[src].any():
                raise ValueError("two triggers drew the same text; use mode='append'")
            taken[src] = True
            for i in idx:
                texts[i], labels[i] = part.dataset.texts[i], part.dataset.labels[i]
            is_poison[idx], positions[idx], trigger_of[idx] = True, part.positions[idx], k
        else:
            texts += [part.dataset.texts[i] for i in idx]
            labels = np.concatenate([labels, part.dataset.labels[idx]])
            is_poison = np.concatenate([is_poison, np.ones(len(idx), bool)])
            positions = np.concatenate([positions, part.positions[idx]])
            source = np.concatenate([source, part.source_index[idx]])
            trigger_of = np.concatenate([trigger_of, np.full(len(idx), k)])
    first = parts[0]
    ds = TextDataset(tuple(texts), labels, train.class_names, f"{train.name}-poisoned",
                     {**train.meta, "triggers": [" ".join(p.trigger) for p in parts],
                      "rates": [p.rate for p in parts]})
    return PoisonedDataset(ds, is_poison, positions, source, first.trigger, first.target,
                           first.rate, tuple(p.trigger for p in parts),
                           tuple(p.target for p in parts), trigger_of)
