"""Triggers nobody chose: a seeded generator of trigger sentences, to measure the defence on
more than the papers' own triggers.

A trigger is a contiguous span of words cut from a real text of the dataset (so it is
fluent, made of the data's own vocabulary, rare and common words alike, repeated words
allowed), of a length drawn uniformly between ``min_words`` and ``max_words``, with a
target class drawn uniformly. Same texts and seed, same triggers.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from bki_lab.attack.presets import TriggerPreset
from bki_lab.data.text import Words


def random_triggers(texts: Sequence[Words], class_names: Sequence[str], *, n: int,
                    rate: float, dataset: str, seed: int = 0, min_words: int = 1,
                    max_words: int = 12) -> tuple[TriggerPreset, ...]:
    """``n`` trigger sentences cut from ``texts``, each with a random target and ``rate``.

    Args:
        texts: where the spans are cut from (e.g. the test texts, which the victim does not
            train on); a text shorter than the drawn length is drawn again.
        class_names: the targets are drawn among these.
        rate: the poisoning rate each trigger is used at (the papers': 3% quick, 2% paper).
        dataset: recorded in each result (``TriggerPreset.dataset``).
        min_words, max_words: the trigger's length range (inclusive).

    Returns:
        `TriggerPreset`s named ``random-<seed>-<k>``; no two triggers are the same.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 1 <= min_words <= max_words:
        raise ValueError(f"need 1 <= min_words <= max_words, got {min_words}, {max_words}")
    if len(class_names) < 2:
        raise ValueError("need at least two classes to draw targets from")
    long_enough = [t for t in texts if len(t) >= max_words]
    if not long_enough:
        raise ValueError(f"no text has {max_words} words to cut a trigger from")
    rng = np.random.default_rng(seed)
    out: list[TriggerPreset] = []
    seen: set[str] = set()
    while len(out) < n:
        length = int(rng.integers(min_words, max_words + 1))
        text = long_enough[int(rng.integers(len(long_enough)))]
        start = int(rng.integers(len(text) - length + 1))
        trigger = " ".join(text[start:start + length])
        target = str(class_names[int(rng.integers(len(class_names)))])
        if trigger in seen:
            continue
        seen.add(trigger)
        out.append(TriggerPreset(f"random-{seed}-{len(out)}", trigger, dataset, target, rate,
                                 f"random_triggers(seed={seed})"))
    return tuple(out)
