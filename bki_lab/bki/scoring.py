"""Per-word impact scores f(w_ij) = ||h_l(x_i) - h_l(x_i without word j)||_inf (chen_dai §IV.A).

Two scorers, same interface and same numbers (to float rounding):

* ``reference``: one forward pass per deleted word, the variants of one text batched
  together: simple and obviously right.
* ``fast``: deleting word j leaves the forward states before j and the backward states after
  j unchanged, so every variant resumes from a cached state of the full text. Within a
  direction, variant j joins the computation just after its deleted word and then reads the
  same input as the full text, so the input projection W_ih x_t of each token is computed
  once for all variants, and the variants of many texts (of similar length, right-aligned so
  that all of them end on the same step) run as one growing matrix product per time step.
  Cost per text and direction: L^2/2 LSTM steps instead of L^2 (and no input projections).
"""
from __future__ import annotations

import copy
import functools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np
import pandas as pd
import torch

from bki_lab.utils.progress import progress
from bki_lab.victims.cnn import CNNClassifier, fast_scores
from bki_lab.victims.lstm import encode_texts, length_buckets, pad_batch

if TYPE_CHECKING:
    from bki_lab.data.text import Vocab, Words
    from bki_lab.victims.lstm import BiLSTMClassifier

Scorer = Literal["fast", "reference"]


@dataclass(frozen=True)
class WordScores:
    """f(w_ij) for every word of every text, kept so that p, the ranking or any text can be
    looked at again without a forward pass.

    Text i's words are ``texts[i]`` and their scores ``scores[offsets[i]:offsets[i+1]]``.
    """

    texts: tuple[Words, ...]
    offsets: np.ndarray      # (n + 1,) int64
    scores: np.ndarray       # (total words,) float32
    scorer: str
    seconds: float

    def __post_init__(self):
        if self.offsets.shape != (len(self.texts) + 1,) or self.offsets[-1] != len(self.scores):
            raise ValueError("offsets do not match texts and scores")
        if np.any(np.diff(self.offsets) != [len(t) for t in self.texts]):
            raise ValueError("a text's score count differs from its word count")
        if not np.all(np.isfinite(self.scores)):
            raise ValueError("scores must be finite")
        self.offsets.setflags(write=False)
        self.scores.setflags(write=False)

    def __len__(self) -> int:
        return len(self.texts)

    def of(self, i: int) -> np.ndarray:
        """Scores of text i, one per word."""
        return self.scores[self.offsets[i]: self.offsets[i + 1]]

    @property
    def words_scored(self) -> int:
        return int(len(self.scores))

    def to_frame(self) -> pd.DataFrame:
        """One row per word: text, position, word, score."""
        lengths = np.diff(self.offsets)
        return pd.DataFrame({
            "text": np.repeat(np.arange(len(self.texts)), lengths),
            "position": np.concatenate([np.arange(n) for n in lengths]) if len(lengths) else [],
            "word": [w for t in self.texts for w in t],
            "score": self.scores})


# --------------------------------------------------------------------------- reference
@torch.no_grad()
def _reference_text(model: BiLSTMClassifier, ids: np.ndarray, device, chunk: int) -> np.ndarray:
    L = len(ids)
    full = model.last_hidden(*pad_batch([ids], device))                  # (1, 2H)
    if L == 1:                      # deleting the only word leaves the empty text
        return (full - model.empty_hidden(device)).abs().amax(1).cpu().numpy()
    out = []
    for start in range(0, L, chunk):
        variants = [np.delete(ids, j) for j in range(start, min(L, start + chunk))]
        h = model.last_hidden(*pad_batch(variants, device))              # (variants, 2H)
        out.append((full - h).abs().amax(1).cpu().numpy())
    return np.concatenate(out)


# --------------------------------------------------------------------------- fast
def _cell_step(rnn: torch.nn.RNNBase, emb: torch.Tensor):
    """``step(t, hs, cs)``: advance the states (blocks, B, H) by step ``t`` of ``emb`` in
    place, for an LSTM (gates i, f, g, o) or a GRU (r, z, n; no cell state). Every step's
    input projection is computed here once, for the whole (T, B) batch.

    Only sigmoids are evaluated: tanh(x) = 2 sigmoid(2x) - 1, with the rows of the tanh gate
    doubled once here (doubling is exact in floating point). torch's CPU tanh costs about
    three times its sigmoid, and the gate arithmetic, not the matrix product, was most of a
    step (benchmarks/bench_step.py); the identity moves the states by ~1e-7.
    """
    T, B, _ = emb.shape
    H = rnn.hidden_size
    n_gates = 3 if isinstance(rnn, torch.nn.GRU) else 4
    tanh_gate = 2                             # GRU (r, z, n): n; LSTM (i, f, g, o): g
    scale = torch.ones(n_gates * H, dtype=emb.dtype, device=emb.device)
    scale[tanh_gate * H:(tanh_gate + 1) * H] = 2.0
    w_hh_t = (rnn.weight_hh_l0 * scale[:, None]).t().contiguous()
    w_ih_t = (rnn.weight_ih_l0 * scale[:, None]).t()
    if n_gates == 3:
        xproj = torch.addmm(rnn.bias_ih_l0 * scale, emb.reshape(T * B, -1),
                            w_ih_t).view(T, B, 3 * H)
        b_hh = rnn.bias_hh_l0 * scale

        def step(t, hs, cs):
            blocks = hs.shape[0]
            gh = torch.addmm(b_hh, hs.reshape(blocks * B, H), w_hh_t).view(blocks, B, 3 * H)
            xr, xz, xn = xproj[t].chunk(3, dim=1)
            hr, hz, hn = gh.chunk(3, dim=2)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            n = torch.addcmul(xn, r, hn).sigmoid_().mul_(2.0).sub_(1.0)    # tanh(xn + r hn)
            hs.copy_(n + z * (hs - n))
        return step
    xproj = torch.addmm((rnn.bias_ih_l0 + rnn.bias_hh_l0) * scale, emb.reshape(T * B, -1),
                        w_ih_t).view(T, B, 4 * H)

    def step(t, hs, cs):
        blocks = hs.shape[0]
        s = torch.mm(hs.view(blocks * B, H), w_hh_t).view(blocks, B, 4 * H)
        i, f, g, o = s.add_(xproj[t]).sigmoid_().chunk(4, dim=2)
        cs.mul_(f).addcmul_(i, g, value=2.0).sub_(i)                         # + i (2g - 1)
        torch.mul(cs, 2.0, out=hs).sigmoid_().mul_(2.0).sub_(1.0).mul_(o)    # o tanh(c)
    return step


@torch.no_grad()
def resume_direction(emb: torch.Tensor, offsets: torch.Tensor, lstm: torch.nn.RNNBase, *,
                      span: int = 1, restart: bool = False):
    """Final states of the full texts and of every variant of them, one direction.

    Args:
        emb: (T, B, E) inputs, right-aligned: text b occupies steps offsets[b]..T-1.
        offsets: (B,) first real step of each text.
        span: variant k skips steps k..k+span-1 (a deleted word, or n-gram).
        restart: instead, variant k starts afresh (zero state) at step k: the final state
            of the suffix k..T-1 alone (for the authors' prefix term, on reversed texts).
    Returns:
        full: (B, H) final state of each full text;
        variants: (T, B, H); variants[k, b] is the final state of variant k of text b
            (meaningful for k >= offsets[b]);
        history: (T + 1, B, H); history[t] is the full text's state before step t.
    """
    T, B, _ = emb.shape
    H = lstm.hidden_size
    step = _cell_step(lstm, emb)
    h = emb.new_zeros(T + 1, B, H)      # block 0: full text; block k+1: variant k
    c = emb.new_zeros(T + 1, B, H)
    hist_h = emb.new_zeros(T + 1, B, H)
    hist_c = emb.new_zeros(T + 1, B, H)
    not_started = (torch.arange(T, device=emb.device)[:, None] < offsets[None, :])  # (T, B)
    late = int(offsets.max())
    for t in range(T):
        if restart:                     # variant t reads step t from the zero state
            blocks = t + 2
        elif t - span + 1 >= 0:         # variant t-span+1 resumes from the state before it
            k = t - span + 1
            h[k + 1] = hist_h[k] if span > 1 else h[0]
            c[k + 1] = hist_c[k] if span > 1 else c[0]
            blocks = k + 1              # blocks 0..k read step t; variant k joins after it
        else:
            blocks = 1
        step(t, h[:blocks], c[:blocks])
        if t < late:                    # texts not yet begun keep the zero initial state
            keep = (~not_started[t]).to(h.dtype)[:, None]
            h[0].mul_(keep)
            c[0].mul_(keep)
        hist_h[t + 1] = h[0]
        hist_c[t + 1] = c[0]
    if not restart:                     # variants whose skipped steps reach the end
        for k in range(max(0, T - span + 1), T):
            h[k + 1] = hist_h[k]
    return h[0], h[1:], hist_h


@torch.no_grad()
def aligned(model: BiLSTMClassifier, seqs: Sequence[np.ndarray], device):
    """Texts right-aligned on one last step: (lengths, offsets, offsets as a tensor, the
    embedded texts (T, B, E), the embedded reversed texts)."""
    lengths = np.array([len(s) for s in seqs])
    T, B = int(lengths.max()), len(seqs)
    offsets = T - lengths
    fwd = np.zeros((T, B), dtype=np.int64)
    bwd = np.zeros((T, B), dtype=np.int64)
    for b, s in enumerate(seqs):
        fwd[offsets[b]:, b] = s
        bwd[offsets[b]:, b] = s[::-1]
    emb = model.embedding
    return (lengths, offsets, torch.as_tensor(offsets, device=device),
            emb(torch.as_tensor(fwd, device=device)), emb(torch.as_tensor(bwd, device=device)))


@torch.no_grad()
def _fast_bucket(model: BiLSTMClassifier, seqs: Sequence[np.ndarray], device) -> list[np.ndarray]:
    lengths, offsets, off, e_f, e_b = aligned(model, seqs, device)
    full_f, var_f, _ = resume_direction(e_f, off, model.fwd)
    full_b, var_b, _ = resume_direction(e_b, off, model.bwd)
    diff_f = (var_f - full_f[None]).abs().amax(2).t().cpu().numpy()    # (B, T)
    diff_b = (var_b - full_b[None]).abs().amax(2).t().cpu().numpy()
    out = []
    for b, L in enumerate(lengths):
        o = offsets[b]
        # word j: forward variant at step o+j; backward variant at reversed step o+L-1-j
        out.append(np.maximum(diff_f[b, o:], diff_b[b, o:][::-1]))
    return out


# --------------------------------------------------------------------------- public
def without_tf32(fn):
    """Run ``fn`` with cuDNN's TF32 off (torch allows it by default, and the reference
    scorer's LSTM is cuDNN's on a GPU): on an H100 the fast scorer and the reference then
    agree to 3e-6 instead of 1.2e-4. No effect on CPU."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        c = torch.backends.cudnn
        with c.flags(enabled=c.enabled, benchmark=c.benchmark,
                     deterministic=c.deterministic, allow_tf32=False):
            return fn(*args, **kwargs)
    return wrapped


def applicable(scorer: Scorer, model) -> Scorer:
    """``scorer``, or the reference where the fast scorers' state reuse does not hold: a
    ``pre_pad`` victim (deleting a word adds a padding step before the text)."""
    return "reference" if getattr(model, "pre_pad", None) is not None else scorer


def default_rows(device) -> int:
    """The fast scorers' bucket size for ``device``: 4,096 rows on CPU (a step's gates stay
    in cache), 32,768 on CUDA (steps large enough to fill the GPU)."""
    return 32768 if str(device).startswith("cuda") else 4096


@without_tf32
def score_words(model: BiLSTMClassifier, vocab: Vocab, texts: Sequence[Words], *,
                scorer: Scorer = "fast", device: str = "cpu", max_rows: int | None = None,
                precision: Literal["float32", "float64"] = "float32",
                show_progress: bool = True) -> WordScores:
    """Impact score of every word of every text (chen_dai §IV.A, Algorithm 1 lines 3-9).

    f(w_ij) = ||h_l(x_i) - h_l(x_ij)||_inf, with x_ij the text without word j and h_l the
    BiLSTM's forward ⊕ backward final state; the model is in eval mode, without autograd.
    Deleting the only word of a one-word text leaves the empty text, whose h_l is the zero
    initial state (`empty_hidden`; with ``pre_pad``, the state after the padding alone).

    Args:
        scorer: ``"fast"`` (state reuse, texts batched) or ``"reference"`` (a forward pass
            per deleted word, batched per text). Both give the same scores to ~1e-6.
            A model with ``pre_pad`` (the Keras input) is always scored by the reference
            (deleting a word adds a padding step before the text, so no state is shared);
            the result's ``scorer`` says so.
        device: ``"cpu"`` or ``"cuda"``.
        max_rows: fast scorer's bucket size in (texts x longest length) variant rows;
            None: `default_rows` (~4k rows keep a step's gates in cache on CPU; a GPU
            wants larger steps).
        precision: ``"float64"`` runs a double-precision copy of the model: slower, and the
            two scorers then agree to ~1e-12 instead of ~1e-5 on 500-word texts.
    """
    if scorer not in ("fast", "reference"):
        raise ValueError(f"scorer must be 'fast' or 'reference', got {scorer!r}")
    if precision not in ("float32", "float64"):
        raise ValueError(f"precision must be 'float32' or 'float64', got {precision!r}")
    t0 = time.perf_counter()
    scorer = applicable(scorer, model)
    max_rows = max_rows or default_rows(device)
    was, home = model.training, next(model.parameters()).device
    if precision == "float64":
        model = copy.deepcopy(model).double()
    model.eval().to(device)
    seqs = encode_texts(vocab, texts)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    per_text: list[np.ndarray | None] = [None] * len(seqs)
    bar = progress(total=int(lengths.sum()), desc=f"BKI scoring ({scorer})", unit="word",
                   disable=not show_progress)
    if scorer == "reference":
        for i, s in enumerate(seqs):
            per_text[i] = _reference_text(model, s, device, chunk=max(1, max_rows // len(s)))
            bar.update(len(s))
    else:
        # longest first, so the slowest buckets start early and the bar is honest
        bucket = fast_scores if isinstance(model, CNNClassifier) else _fast_bucket
        for idx in reversed(length_buckets(lengths, max_tokens=max_rows, max_batch=max_rows)):
            for i, sc in zip(idx, bucket(model, [seqs[i] for i in idx], device)):
                per_text[i] = sc
            bar.update(int(lengths[idx].sum()))
    bar.close()
    model.train(was).to(home)          # the caller's model goes back where it was
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    scores = (np.concatenate(per_text) if per_text else np.zeros(0)).astype(np.float32)
    return WordScores(tuple(tuple(t) for t in texts), offsets, scores, scorer,
                      time.perf_counter() - t0)
