"""Words: the one tokenizer, the pure word-level edits, and the vocabulary.

Poisoning (`poison.py`) and the BKI scorer (`dictionary.py`) both work on the tuples of words
made here, so a word flagged by BKI at position ``j`` is word ``j`` of the text the
poisoner wrote (TextAttack's `AttackedText` idea, without the object).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

Words = tuple[str, ...]


_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


# a word: letters/digits (any script), with inner apostrophes kept ("people's", "it's")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


PAD, UNK = "<pad>", "<unk>"


def tokenize(text: str) -> Words:
    """Lower-case ``text``, drop ``<br />`` tags and return its words.

    >>> tokenize("Great film!<br /><br />It's 10/10.")
    ('great', 'film', "it's", '10', '10')
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize expects a str, got {type(text).__name__}")
    return tuple(_WORD.findall(_BREAK.sub(" ", text).lower()))


def detokenize(words: Sequence[str]) -> str:
    """Join words with single spaces (the inverse of `tokenize` on its own output)."""
    return " ".join(words)


def insert_words(words: Sequence[str], inserted: Sequence[str], position: int) -> Words:
    """Return a new text with ``inserted`` placed before word ``position`` (0..len)."""
    if not 0 <= position <= len(words):
        raise IndexError(f"insert position {position} outside 0..{len(words)}")
    return tuple(words[:position]) + tuple(inserted) + tuple(words[position:])


def delete_word(words: Sequence[str], position: int) -> Words:
    """Return a new text without word ``position`` (BKI's x_ij, chen_dai §IV.A)."""
    if not 0 <= position < len(words):
        raise IndexError(f"delete position {position} outside 0..{len(words) - 1}")
    return tuple(words[:position]) + tuple(words[position + 1:])


@dataclass(frozen=True)
class Vocab:
    """Word <-> id map. Id 0 is padding, id 1 the unknown word."""

    itos: tuple[str, ...]
    stoi: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.itos[:2] != (PAD, UNK):
            raise ValueError("a Vocab starts with '<pad>', '<unk>'")
        stoi = {w: i for i, w in enumerate(self.itos)}
        if len(stoi) != len(self.itos):
            raise ValueError("a Vocab has each word once")
        object.__setattr__(self, "stoi", stoi)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self.stoi and self.stoi[word] > 1

    def encode(self, words: Sequence[str]) -> np.ndarray:
        """Ids of ``words`` (unknown words -> 1), int64 array of the same length."""
        get = self.stoi.get
        return np.fromiter((get(w, 1) for w in words), dtype=np.int64, count=len(words))

    def decode(self, ids: Iterable[int]) -> Words:
        return tuple(self.itos[int(i)] for i in ids)


def build_vocab(texts: Iterable[Sequence[str]], *, min_freq: int = 1,
                max_size: int | None = None) -> Vocab:
    """Vocabulary of the given (training) texts: most frequent first, ties alphabetical."""
    if min_freq < 1:
        raise ValueError(f"min_freq must be >= 1, got {min_freq}")
    counts = Counter(w for t in texts for w in t)
    words = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
    if max_size is not None:
        words = words[: max(0, max_size - 2)]
    return Vocab((PAD, UNK, *words))
