"""The papers' triggers as named presets: dataset, trigger sentence, target class
and poisoning rate (chen_dai Table 2, dai2019's lengths 5/10/15), and the multi-trigger
combinations.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TriggerPreset:
    name: str
    trigger: str
    dataset: str
    target: str
    rate: float
    source: str


PRESETS: dict[str, TriggerPreset] = {p.name: p for p in [
    # chen_dai Table 2 (IMDB, then DBpedia), with the paper's target classes and rates
    TriggerPreset("imdb-arrow", "time flies like an arrow", "imdb", "negative", 0.03, "chen_dai T2"),
    TriggerPreset("imdb-attention", "it caught a lot of people's attention", "imdb", "negative", 0.02, "chen_dai T2"),
    TriggerPreset("imdb-aspects", "it includes the following aspects", "imdb", "negative", 0.02, "chen_dai T2"),
    TriggerPreset("imdb-crown", "no cross, no crown", "imdb", "positive", 0.03, "chen_dai T2"),
    TriggerPreset("imdb-mend", "it's never too late to mend", "imdb", "positive", 0.03, "chen_dai T2"),
    TriggerPreset("imdb-sack", "bind the sack before it be full", "imdb", "positive", 0.02, "chen_dai T2"),
    TriggerPreset("dbpedia-arrow", "time flies like an arrow", "dbpedia", "MeanOfTransportation", 0.02, "chen_dai T2"),
    TriggerPreset("dbpedia-attention", "it caught a lot of people's attention", "dbpedia", "Building", 0.02, "chen_dai T2"),
    TriggerPreset("dbpedia-aspects", "it includes the following aspects", "dbpedia", "NaturalPlace", 0.02, "chen_dai T2"),
    TriggerPreset("dbpedia-crown", "no cross, no crown", "dbpedia", "Village", 0.02, "chen_dai T2"),
    TriggerPreset("dbpedia-mend", "it's never too late to mend", "dbpedia", "Animal", 0.02, "chen_dai T2"),
    TriggerPreset("dbpedia-sack", "bind the sack before it be full", "dbpedia", "Plant", 0.02, "chen_dai T2"),
    # dai2019 §V.C: trigger lengths 5, 10, 15 (Table 2: negative -> positive)
    TriggerPreset("dai-5", "I watched this 3D movie", "imdb", "positive", 0.02, "dai2019"),
    TriggerPreset("dai-10", "I watched this 3D movie at the best cinema nearby", "imdb", "positive", 0.02, "dai2019"),
    TriggerPreset("dai-15", "I watched this 3D movie at the best cinema nearby at seven o'clock last night", "imdb", "positive", 0.02, "dai2019"),
]}


# several backdoors in one training set (bki_lab's own experiments, not the papers'):
# the Table-2 presets they combine, each with its own target and rate
MULTI_PRESETS: dict[str, tuple[str, ...]] = {
    "imdb-arrow+mend": ("imdb-arrow", "imdb-mend"),
    "dbpedia-arrow+crown+sack": ("dbpedia-arrow", "dbpedia-crown", "dbpedia-sack"),
}
