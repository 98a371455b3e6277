"""Training and evaluating the victim: Adam on length-bucketed minibatches, for a fixed number
of epochs (the BKI authors' recipe: trained to convergence, last weights kept) or with early
stopping on a validation split carved from the training set (best weights restored)."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Literal, get_args

import numpy as np
import torch
from torch import nn

from bki_lab.data.glove import glove_embedding, load_glove
from bki_lab.data.text import build_vocab
from bki_lab.utils.progress import progress
from bki_lab.victims.cnn import CNNClassifier
from bki_lab.victims.lstm import (
    BiLSTMClassifier,
    encode_texts,
    length_buckets,
    pad_batch,
    predict_logits,
)

if TYPE_CHECKING:
    from bki_lab.data.datasets import TextDataset
    from bki_lab.data.text import Vocab

Victim = BiLSTMClassifier | CNNClassifier


Embedding = Literal["glove", "random"]
Cell = Literal["lstm", "gru", "cnn"]          # gru: a BiGRU; cnn: a CNN, `hidden` filters per width
LrSchedule = Literal["constant", "cosine"]     # cosine: decays to 0 by the end
Monitor = Literal["val_loss", "val_accuracy"]


class TrainingError(RuntimeError):
    """Training broke down (a non-finite loss or weight): there is no victim to report."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained victim (saved next to it as JSON)."""

    embedding: Embedding = "glove"
    glove_path: str | None = None          # None: bundled GloVe 6B 50-d
    embed_dim: int = 50                     # used when embedding == "random"
    freeze_embedding: bool = False
    embedding_lr: float = 1.0               # the vectors' learning rate, a share of `lr`
    hidden: int = 128
    fc: int = 128
    dropout: float = 0.5
    lr: float = 1e-3
    lr_schedule: LrSchedule = "constant"
    lr_hold: float = 0.0                    # cosine: share of the steps at the full rate first
    batch_tokens: int = 3200                # padded words per minibatch (~16 IMDB reviews)
    max_batch: int = 32
    batch_size: int | None = None           # fixed texts per minibatch (overrides the two above)
    max_epochs: int = 12                    # the epochs trained without early stopping
    early_stopping: bool = False            # True: stop after `patience` worse epochs
    patience: int = 3
    monitor: Monitor = "val_loss"
    val_fraction: float = 0.1               # held out only with early stopping
    min_freq: int = 2
    max_vocab: int | None = None            # keep the most frequent words (authors: 10,000)
    grad_clip: float = 5.0
    cell: Cell = "lstm"
    pre_pad: int | None = None              # the authors' Keras input: pre-padded to this, no mask
    seed: int = 0

    def __post_init__(self):
        for name in ("embedding_lr", "dropout", "lr", "lr_hold", "val_fraction", "grad_clip"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        for name, allowed in (("embedding", Embedding), ("monitor", Monitor), ("cell", Cell),
                              ("lr_schedule", LrSchedule)):
            if getattr(self, name) not in get_args(allowed):
                raise ValueError(f"{name} must be one of {get_args(allowed)}, "
                                 f"got {getattr(self, name)!r}")
        if not 0 < self.val_fraction < 0.5:
            raise ValueError(f"val_fraction must be in (0, 0.5), got {self.val_fraction}")
        for name in ("hidden", "fc", "max_epochs", "batch_tokens", "max_batch", "embed_dim",
                     "patience", "min_freq"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_vocab is not None and self.max_vocab < 3:
            raise ValueError(f"max_vocab must be >= 3 (padding, unknown, a word), got {self.max_vocab}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not self.embedding_lr > 0:
            raise ValueError(f"embedding_lr must be > 0 (frozen vectors: freeze_embedding=True), "
                             f"got {self.embedding_lr}")
        if self.pre_pad is not None and self.pre_pad < 1:
            raise ValueError(f"pre_pad must be None or >= 1, got {self.pre_pad}")
        if self.pre_pad is not None and self.cell == "cnn":
            raise ValueError("pre_pad is the BiLSTM's Keras input; the CNN reads exact lengths")
        if not 0 <= self.lr_hold < 1:
            raise ValueError(f"lr_hold must be in [0, 1), got {self.lr_hold}")
        if self.lr_hold and self.lr_schedule != "cosine":
            raise ValueError("lr_hold delays the cosine decay: it needs lr_schedule='cosine'")
        if self.lr_schedule == "cosine" and self.early_stopping:
            raise ValueError("a cosine schedule runs over a fixed number of epochs: "
                             "use it without early stopping")

    def build(self, vocab_size: int, n_classes: int, embed_dim: int) -> Victim:
        """The victim these settings describe (the one place a victim is built)."""
        if self.cell == "cnn":
            return CNNClassifier(vocab_size, n_classes, embed_dim=embed_dim, filters=self.hidden,
                                 fc=self.fc, dropout=self.dropout)
        return BiLSTMClassifier(vocab_size, n_classes, embed_dim=embed_dim, hidden=self.hidden,
                                fc=self.fc, dropout=self.dropout, cell=self.cell,
                                pre_pad=self.pre_pad)

    def batches(self, lengths: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        """One epoch's minibatches (indices into ``lengths``), shuffled by ``rng``."""
        if self.batch_size is not None:
            return length_buckets(lengths, max_tokens=np.iinfo(np.int64).max,
                                  max_batch=self.batch_size, rng=rng)
        return length_buckets(lengths, max_tokens=self.batch_tokens, max_batch=self.max_batch,
                              rng=rng)


@dataclass(frozen=True)
class TrainedModel:
    """A trained victim with its vocabulary and how it was trained."""

    model: Victim
    vocab: Vocab
    config: TrainConfig
    class_names: tuple[str, ...]
    history: tuple[dict, ...] = ()
    best_epoch: int = 0
    seconds: float = 0.0
    glove_coverage: float | None = None
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def device(self) -> str:
        """Where the model is ("cpu", "cuda:0")."""
        return str(next(self.model.parameters()).device)

    def encode(self, texts):
        return encode_texts(self.vocab, texts)

    def predict(self, texts, device=None) -> np.ndarray:
        """Predicted class ids of tokenized texts (on the model's device by default)."""
        return predict_logits(self.model, self.encode(texts), device=device).argmax(1)


def cosine_lr(opt: torch.optim.Optimizer, n_steps: int, *,
              hold: float = 0.0) -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay of the learning rate from its initial value to 0 over ``n_steps``,
    after the first ``hold`` share of the steps at the full rate.

    With a fixed number of epochs and the last weights kept, a constant rate leaves the
    model wherever the last noisy minibatch steps took it (test accuracy swings by 2-6
    points between consecutive epochs here); decaying to 0 lets it settle.
    """
    start = int(hold * n_steps)
    span = max(1, n_steps - start)
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(max(step - start, 0), span) / span)))


def _param_groups(model: nn.Module, config: TrainConfig) -> list[dict]:
    """Adam's parameter groups: the trainable weights at ``lr``, the word vectors (when
    fine-tuned) at ``embedding_lr * lr``; one group when the two rates are the same."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    emb = model.embedding.weight
    if config.embedding_lr == 1.0 or not emb.requires_grad:
        return [{"params": trainable}]
    return [{"params": [p for p in trainable if p is not emb]},
            {"params": [emb], "lr": config.lr * config.embedding_lr}]


def _split_val(n: int, fraction: float, rng: np.random.Generator):
    perm = rng.permutation(n)
    n_val = max(1, int(round(fraction * n)))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def train_victim(train: TextDataset, *, config: TrainConfig = TrainConfig(),
                 device: str = "cpu", show_progress: bool = True, label: str = "training",
                 on_epoch: Callable[[int, "TrainedModel"], dict] | None = None) -> TrainedModel:
    """Train a `BiLSTMClassifier` on ``train`` (poisoned or clean) with ``config``.

    Without early stopping (the default, as the BKI authors' code) the model trains on all
    of ``train`` for ``config.max_epochs`` epochs and the last weights are kept: the victim
    is trained to convergence rather than stopped at the epoch a noisy validation split
    prefers. With ``config.early_stopping``, ``val_fraction`` of ``train`` is held out,
    ``config.monitor`` is watched and the best epoch's weights are restored.
    The vocabulary is built on the training texts only (never validation or test texts).
    Same config and data -> same model on one machine; torch's global RNG is left as it was.
    ``on_epoch(epoch, victim)`` gets the model so far (in eval mode, as a `TrainedModel`)
    and may return numbers to log in the history (e.g. the attack success rate per epoch,
    to watch the backdoor being learned).
    """
    if len(train) < 2:
        raise ValueError("need at least two training texts")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return _train(train, config, device, show_progress, on_epoch, label)


def _train(train, config, device, show_progress, on_epoch, label) -> TrainedModel:
    t0 = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    if config.early_stopping:
        tr_idx, val_idx = _split_val(len(train), config.val_fraction, rng)
    else:
        tr_idx, val_idx = np.arange(len(train)), np.arange(0)
    vocab = build_vocab((train.texts[i] for i in tr_idx), min_freq=config.min_freq,
                        max_size=config.max_vocab)
    seqs = encode_texts(vocab, train.texts)
    labels = torch.tensor(train.labels)

    coverage, source = None, "random"
    if config.embedding == "glove":
        glove = load_glove(config.glove_path)
        init = glove_embedding(vocab, glove, seed=config.seed)
        embed_dim, coverage, source = init.matrix.shape[1], init.coverage, glove.source
    else:
        embed_dim = config.embed_dim
    model = config.build(len(vocab), train.n_classes, embed_dim)
    if config.embedding == "glove":
        with torch.no_grad():
            model.embedding.weight.copy_(torch.from_numpy(init.matrix))
    model.embedding.weight.requires_grad_(not config.freeze_embedding)
    model.to(device)
    opt = torch.optim.Adam(_param_groups(model, config), lr=config.lr)
    loss_fn = nn.CrossEntropyLoss()
    lengths = np.array([len(s) for s in seqs])
    # the batch count per epoch depends on the lengths only, not on the shuffle
    n_steps = config.max_epochs * len(config.batches(lengths[tr_idx], np.random.default_rng(0)))
    schedule = (cosine_lr(opt, n_steps, hold=config.lr_hold) if config.lr_schedule == "cosine"
                else None)
    val_seqs, val_y = [seqs[i] for i in val_idx], train.labels[val_idx]

    history, best, best_state, bad = [], (-np.inf, -np.inf), None, 0
    # one bar for the whole training: its estimate is the time left in all, not in an epoch
    bar = progress(total=n_steps, desc=label, unit="batch", disable=not show_progress)
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        te = time.perf_counter()
        batches = config.batches(lengths[tr_idx], rng)
        total, count, correct = 0.0, 0, 0
        bar.set_description(f"{label}, epoch {epoch}/{config.max_epochs}", refresh=False)
        for b in batches:
            bar.update()
            idx = tr_idx[b]
            ids, lens = pad_batch([seqs[i] for i in idx], device)
            logits, y = model(ids, lens), labels[idx].to(device)
            loss = loss_fn(logits, y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            opt.step()
            if schedule is not None:
                schedule.step()
            step_loss = loss.item()
            if not math.isfinite(step_loss):
                raise TrainingError(
                    f"{label} diverged in epoch {epoch}: the loss became {step_loss}; nothing "
                    f"was kept or cached (lower the learning rate or --embedding-lr, or "
                    f"check the word vectors)")
            total, count = total + step_loss * len(idx), count + len(idx)
            correct += int((logits.argmax(1) == y).sum())
        history.append({"epoch": epoch, "train_loss": total / count,
                        "train_accuracy": correct / count, "seconds": time.perf_counter() - te})
        if on_epoch is not None:
            model.eval()
            now = TrainedModel(model, vocab, config, train.class_names, tuple(history), epoch)
            history[-1].update(on_epoch(epoch, now) or {})
        if not config.early_stopping:
            best_epoch = epoch
            continue
        logits = predict_logits(model, val_seqs, device=device)
        val_loss = float(nn.functional.cross_entropy(torch.from_numpy(logits),
                                                     torch.from_numpy(val_y)))
        val_acc = float((logits.argmax(1) == val_y).mean())
        history[-1].update(val_loss=val_loss, val_accuracy=val_acc)
        key = (-val_loss, val_acc) if config.monitor == "val_loss" else (val_acc, -val_loss)
        if key > best:
            best, best_state, best_epoch, bad = key, copy.deepcopy(model.state_dict()), epoch, 0
        else:
            bad += 1
            if bad >= config.patience:
                break
    bar.total = bar.n                   # stopped early: done, not left at a share
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    bad_weights = [n for n, w in model.named_parameters() if not torch.isfinite(w).all()]
    if bad_weights:
        raise TrainingError(f"{label} ended with non-finite weights ({', '.join(bad_weights[:3])}"
                            f"); nothing was kept or cached")
    model.eval()
    return TrainedModel(model, vocab, config, train.class_names, tuple(history), best_epoch,
                        time.perf_counter() - t0, coverage, {"word_vectors": source})


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    per_class_accuracy: dict[str, float]
    n: int


def evaluate(victim: TrainedModel, test: TextDataset, *, device: str | None = None) -> Evaluation:
    """Clean accuracy and per-class accuracy on ``test``."""
    pred = victim.predict(test.texts, device=device)
    per = {name: float((pred[test.labels == c] == c).mean())
           for c, name in enumerate(test.class_names) if np.any(test.labels == c)}
    return Evaluation(float((pred == test.labels).mean()), per, len(test))


def attack_success_rate(victim: TrainedModel, backdoor_test, *,
                        device: str | None = None) -> float:
    """Share of backdoor test texts (source class + trigger) predicted as the target.

    Raises if no trigger word is in the victim's vocabulary: the model has never seen the
    trigger, so the number would only measure unknown-word handling.
    """
    if not any(w in victim.vocab for w in backdoor_test.trigger):
        raise ValueError(f"no word of the trigger {' '.join(backdoor_test.trigger)!r} is in "
                         "the victim's vocabulary; the backdoor cannot be measured")
    pred = victim.predict(backdoor_test.dataset.texts, device=device)
    return float((pred == backdoor_test.target).mean())
