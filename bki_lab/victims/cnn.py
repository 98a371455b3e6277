"""A small CNN victim (Kim 2014) and its exact fast BKI scorer.

embedding -> 1-d convolutions of widths 3, 4, 5 (``filters`` each) -> ReLU -> max over
positions -> fully connected 128 -> softmax. BKI has no last LSTM state here; it scores with
the pooled features instead (h_l := the max-pooled, ReLU'd convolution outputs, 3 x filters),
as the peers do with a pooled representation.

The convolutions are "full": every text is padded with k - 1 zero vectors on both sides, so a
text of L words has L + k - 1 windows per width and any text, even of one word, has some.

Fast deletion scores, exact: deleting word i leaves every window entirely left of i (windows
j < i) and entirely right of it (j >= i + k, shifted by one) as they were; only the k - 1
windows that span the gap are new. So the pooled feature of the text without word i is
max(prefix max of the windows before i, suffix max of the windows from i + k on, the k - 1
new windows), and the new windows are one small convolution over the 2k - 2 words around
i. Cost per text: L (k - 1) windows instead of the reference's L (L + k - 1).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from bki_lab.victims.lstm import pad_batch


class CNNClassifier(nn.Module):
    """Word-level CNN text classifier whose pooled features h_l are public.

    Args:
        vocab_size: rows of the embedding (id 0 is padding).
        n_classes: output classes.
        embed_dim: word-vector size.
        filters: convolution filters per width (the training settings' ``hidden``).
        widths: convolution widths, each >= 1.
        fc: units of the fully connected layer.
        dropout: dropout on h_l and on the fully connected layer (training only).
    """

    cell = "cnn"

    def __init__(self, vocab_size: int, n_classes: int, *, embed_dim: int = 50,
                 filters: int = 128, widths: Sequence[int] = (3, 4, 5), fc: int = 128,
                 dropout: float = 0.0):
        super().__init__()
        if not widths or min(widths) < 1:
            raise ValueError(f"widths must be a non-empty list of sizes >= 1, got {widths!r}")
        self.widths, self.filters = tuple(int(k) for k in widths), filters
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, filters, k) for k in self.widths)
        self.fc = nn.Linear(self.repr_size, fc)
        self.out = nn.Linear(fc, n_classes)
        self.drop = nn.Dropout(dropout)

    @property
    def repr_size(self) -> int:
        """Size of h_l: filters per width x widths."""
        return self.filters * len(self.widths)

    def _embedded(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(batch, embed, time) word vectors, exactly zero after each text's last word."""
        time = ids.shape[1]
        real = torch.arange(time, device=ids.device)[None, :] < lengths.to(ids.device)[:, None]
        return (self.embedding(ids) * real[..., None]).transpose(1, 2)

    def windows(self, ids: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
        """Per width k: (batch, filters, time + k - 1) outputs of the full convolution,
        -inf at the windows past each text's own L + k - 1."""
        x = self._embedded(ids, lengths)
        lengths = lengths.to(ids.device)
        out = []
        for k, conv in zip(self.widths, self.convs):
            y = conv(F.pad(x, (k - 1, k - 1)))
            past = torch.arange(y.shape[2], device=ids.device)[None, :] >= (lengths + k - 1)[:, None]
            out.append(y.masked_fill(past[:, None, :], -torch.inf))
        return out

    def last_hidden(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """h_l: (batch, filters x widths), the ReLU'd maximum of each filter over positions."""
        return torch.cat([torch.relu(y.amax(2)) for y in self.windows(ids, lengths)], dim=1)

    def empty_hidden(self, device=None) -> torch.Tensor:
        """h_l of the empty text, (1, filters x widths): zero (no window to pool)."""
        device = next(self.parameters()).device if device is None else device
        return torch.zeros(1, self.repr_size, device=device)

    def head(self, h: torch.Tensor) -> torch.Tensor:
        """Logits from h_l."""
        return self.out(self.drop(torch.relu(self.fc(self.drop(h)))))

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.head(self.last_hidden(ids, lengths))


def _shift_right(x: torch.Tensor) -> torch.Tensor:
    """x[..., i] -> x[..., i - 1], -inf at 0."""
    return F.pad(x[..., :-1], (1, 0), value=-torch.inf)


@torch.no_grad()
def fast_scores(model: CNNClassifier, seqs: Sequence[np.ndarray], device) -> list[np.ndarray]:
    """||h_l(x) - h_l(x without word i)||_inf for every word of every text in ``seqs`` (one
    batch), as the module docstring explains. Deleting the only word of a one-word text
    leaves the empty text, whose h_l counts as 0 (as for the recurrent victims)."""
    ids, lengths = pad_batch(seqs, device)
    B, T = ids.shape
    x = model._embedded(ids, lengths)                                   # (B, E, T)
    full, deleted = [], []
    for k, conv, y in zip(model.widths, model.convs, model.windows(ids, lengths)):  # y: (B, F, T+k-1)
        full.append(y.amax(2))
        before = _shift_right(y.cummax(2).values)[..., :T]              # max over windows j < i
        after = y.flip(2).cummax(2).values.flip(2)                      # max over windows j >= .
        after = F.pad(after, (0, k), value=-torch.inf)[..., k:k + T]    # ... j >= i + k
        best = torch.maximum(before, after)
        if k > 1:                   # the k - 1 windows spanning the gap left by word i
            xp = F.pad(x, (k - 1, k - 1))                               # (B, E, T + 2k - 2)
            ctx = xp.unfold(2, 2 * k - 1, 1)                            # (B, E, T, 2k - 1)
            ctx = torch.cat([ctx[..., :k - 1], ctx[..., k:]], dim=3)    # word i left out
            ctx = ctx.permute(0, 2, 1, 3).reshape(B * T, x.shape[1], 2 * k - 2)
            gap = conv(ctx).amax(2).view(B, T, -1).transpose(1, 2)      # (B, F, T)
            best = torch.maximum(best, gap)
        deleted.append(best)
    full_h = torch.relu(torch.cat(full, dim=1))                         # (B, R)
    del_h = torch.relu(torch.cat(deleted, dim=1))                       # (B, R, T)
    diff = (full_h[:, :, None] - del_h).abs().amax(1).cpu().numpy()     # (B, T)
    one = full_h.abs().amax(1).cpu().numpy()
    return [diff[b, :len(s)] if len(s) > 1 else one[b:b + 1] for b, s in enumerate(seqs)]
