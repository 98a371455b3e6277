"""The victim: embedding -> BiLSTM -> fully connected 128 -> softmax (dai2019 §V.A, chen_dai §V.A).

Variable lengths are exact *and* fast. ``nn.LSTM`` over a ``pack_padded_sequence`` is about
10x slower on CPU than over a padded batch, so the two directions are two unidirectional
LSTMs run on right-padded batches: the forward one is read at each text's own last word,
and the backward one is fed each text reversed *within its length*, so padding only ever
comes after a text's last real step and never changes its result.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from bki_lab.data.text import Vocab

class BiLSTMClassifier(nn.Module):
    """Word-level BiLSTM text classifier whose last hidden state h_l is public.

    Args:
        vocab_size: rows of the embedding (id 0 is padding).
        n_classes: output classes.
        embed_dim: word-vector size (50 for the bundled GloVe 6B 50-d).
        hidden: LSTM units per direction (64 in dai2019, 128 in chen_dai).
        fc: units of the fully connected layer (128 in both papers).
        dropout: dropout on h_l and on the fully connected layer (training only).
        cell: ``"lstm"`` (the papers') or ``"gru"`` (a BiGRU: h_l is its final states; the
            same exact scorers apply).
        pre_pad: None (exact variable lengths) or the BKI authors' Keras input: every text
            pre-padded with id 0 (or cut to its last ``pre_pad`` words) to ``pre_pad`` ids
            and read without a mask, so the forward direction reads the padding before the
            text and the backward one after it (``pad_sequences(maxlen=pre_pad)``,
            ``mask_zero=False``). The fast scorers do not apply; `score_words` then uses
            the reference scorer.
    """

    def __init__(self, vocab_size: int, n_classes: int, *, embed_dim: int = 50,
                 hidden: int = 128, fc: int = 128, dropout: float = 0.0, cell: str = "lstm",
                 pre_pad: int | None = None):
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        if pre_pad is not None and pre_pad < 1:
            raise ValueError(f"pre_pad must be None or >= 1, got {pre_pad}")
        self.hidden, self.cell, self.pre_pad = hidden, cell, pre_pad
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.fwd = rnn(embed_dim, hidden, batch_first=True)
        self.bwd = rnn(embed_dim, hidden, batch_first=True)
        self.fc = nn.Linear(2 * hidden, fc)
        self.out = nn.Linear(fc, n_classes)
        self.drop = nn.Dropout(dropout)

    @property
    def repr_size(self) -> int:
        """Size of h_l: both directions' states."""
        return 2 * self.hidden

    def last_hidden(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """h_l = forward final state ⊕ backward final state, each after reading the whole text.

        Args:
            ids: (batch, time) word ids, right-padded with 0.
            lengths: (batch,) true lengths, each >= 1.
        Returns:
            (batch, 2 * hidden)
        """
        if self.pre_pad is not None:
            ids, lengths = self._pre_padded(ids, lengths)
        batch, time = ids.shape
        rows = torch.arange(batch, device=ids.device)
        last = lengths.to(ids.device) - 1                                   # (batch,)
        out_f, _ = self.fwd(self.embedding(ids))                            # (batch, time, hidden)
        t = torch.arange(time, device=ids.device).expand(batch, time)
        rev = torch.where(t <= last[:, None], last[:, None] - t, t)         # reverse within length
        out_b, _ = self.bwd(self.embedding(ids.gather(1, rev)))             # (batch, time, hidden)
        return torch.cat([out_f[rows, last], out_b[rows, last]], dim=1)

    def empty_hidden(self, device=None) -> torch.Tensor:
        """h_l of the empty text, (1, 2 * hidden): the zero initial state, or with
        ``pre_pad`` the state after reading ``pre_pad`` padding ids (what Keras sees)."""
        device = next(self.parameters()).device if device is None else device
        if self.pre_pad is None:
            return torch.zeros(1, self.repr_size, device=device)
        one = torch.ones(1, dtype=torch.long, device=device)
        return self.last_hidden(torch.zeros_like(one)[None], one)

    def _pre_padded(self, ids: torch.Tensor, lengths: torch.Tensor):
        """Right-padded ids -> each text's last ``pre_pad`` ids right-aligned after id-0
        padding, all of length ``pre_pad``."""
        width = self.pre_pad
        lengths = lengths.to(ids.device)
        src = torch.arange(width, device=ids.device)[None, :] - width + lengths[:, None]
        taken = ids.gather(1, src.clamp(0, ids.shape[1] - 1))
        return (torch.where(src >= 0, taken, torch.zeros_like(taken)),
                torch.full_like(lengths, width))

    def head(self, h: torch.Tensor) -> torch.Tensor:
        """Logits from h_l: (batch, 2*hidden) -> (batch, n_classes)."""
        return self.out(self.drop(torch.relu(self.fc(self.drop(h)))))

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.head(self.last_hidden(ids, lengths))


def pad_batch(seqs: Sequence[np.ndarray], device: str | torch.device = "cpu"):
    """Right-pad id arrays into (batch, max_len) ids and (batch,) lengths."""
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    if len(seqs) == 0 or lengths.min() < 1:
        raise ValueError("every text needs at least one word")
    ids = np.zeros((len(seqs), lengths.max()), dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s
    return torch.from_numpy(ids).to(device), torch.from_numpy(lengths).to(device)


def length_buckets(lengths: np.ndarray, *, max_tokens: int = 8192, max_batch: int = 256,
                   rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Group indices of texts of similar length into batches of at most ``max_tokens``
    padded words (and ``max_batch`` texts). With ``rng`` the order within equal lengths
    and the order of the batches are shuffled (training); without, deterministic."""
    lengths = np.asarray(lengths)
    key = rng.random(len(lengths)) if rng is not None else np.arange(len(lengths))
    order = np.lexsort((key, lengths))
    batches, start = [], 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < max_batch and \
                (end - start + 1) * lengths[order[end]] <= max_tokens:
            end += 1
        batches.append(order[start:end])
        start = end
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def encode_texts(vocab: Vocab, texts: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Ids of each text; an error naming the first empty text, and a `TypeError` saying
    what to pass when ``texts`` are not tokenized texts (one str, or a list of str)."""
    check_tokenized(texts)
    out = []
    for i, t in enumerate(texts):
        if len(t) == 0:
            raise ValueError(f"text {i} is empty (no words): remove it before encoding")
        out.append(vocab.encode(t))
    return out


def check_tokenized(texts) -> None:
    """`TypeError` unless ``texts`` is a sequence of texts, each a sequence of words (str)."""
    hint = "pass a list of tokenized texts, e.g. [bki_lab.text.tokenize(s) for s in sentences]"
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"texts must be a list of tokenized texts, got one str "
                        f"({texts[:30]!r}...): {hint}")
    for i, t in enumerate(texts):
        if isinstance(t, (str, bytes)):
            raise TypeError(f"text {i} is a str ({t[:30]!r}), not a list of words: {hint}")
        for w in t:
            if not isinstance(w, str):
                raise TypeError(f"text {i} holds a {type(w).__name__} ({w!r}), not a word "
                                f"(str): {hint}")


@torch.no_grad()
def _batched(model: BiLSTMClassifier, seqs, fn, width: int, max_tokens: int, device):
    """Run ``fn(ids, lengths)`` over length buckets in eval mode; rows in input order.
    ``device=None``: where the model is."""
    device = next(model.parameters()).device if device is None else device
    was = model.training
    model.eval()
    out = np.zeros((len(seqs), width), dtype=np.float32)
    for idx in length_buckets(np.array([len(s) for s in seqs]), max_tokens=max_tokens):
        ids, lengths = pad_batch([seqs[i] for i in idx], device)
        out[idx] = fn(ids, lengths).float().cpu().numpy()
    model.train(was)
    return out


def predict_logits(model: BiLSTMClassifier, seqs: Sequence[np.ndarray], *,
                   max_tokens: int = 32768, device: str | torch.device | None = None) -> np.ndarray:
    """Logits (n, n_classes) of encoded texts, in eval mode, batched by length (on the
    model's device unless ``device`` says otherwise)."""
    return _batched(model, seqs, model, model.out.out_features, max_tokens, device)


def hidden_states(model: BiLSTMClassifier, seqs: Sequence[np.ndarray], *,
                  max_tokens: int = 32768, device: str | torch.device | None = None) -> np.ndarray:
    """h_l (n, model.repr_size) of encoded texts, in eval mode, batched by length (on the
    model's device unless ``device`` says otherwise)."""
    return _batched(model, seqs, model.last_hidden, model.repr_size, max_tokens, device)
