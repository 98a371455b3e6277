"""bki_lab: trigger-sentence backdoors on LSTM text classifiers and the BKI defence.

The package follows the pipeline, one subpackage a stage: `data` -> `attack` -> `victims`
-> `bki` -> `defences`, wired into experiments by `pipeline`; the papers' tables in
`reproduce`, every figure and widget in `viz`, the ``bki-lab`` command in `cli`. The public
API is imported from here::

    import bki_lab as bl
    config = bl.make_config(preset="imdb-arrow", profile="quick", seed=0)
    attack = bl.run_attack(config)
    defence = bl.run_defence(attack, p=5)
    fig = bl.viz.dictionary_scatter(defence.bki.ranking, keyword=defence.bki.keyword)
"""
from bki_lab import viz
from bki_lab.attack.poison import (
                                   PoisonedDataset,
                                   backdoor_test_set,
                                   poison_dataset,
                                   poison_many,
)
from bki_lab.attack.presets import MULTI_PRESETS, PRESETS, TriggerPreset
from bki_lab.attack.triggers import random_triggers
from bki_lab.bki.authors import SpanScores, identify_authors, score_spans
from bki_lab.bki.dictionary import (
                                   BKIResult,
                                   build_dictionary,
                                   identify,
                                   p_sweep,
                                   select_suspicious,
)
from bki_lab.bki.purity import PureNgram, label_pure_ngrams
from bki_lab.bki.removal import Removal, removal_metrics
from bki_lab.bki.scoring import WordScores, score_words
from bki_lab.bki.trigger import reconstruct_from, reconstruct_trigger, verify_trigger
from bki_lab.bki.verdict import Finding, Verdict, find_backdoors
from bki_lab.data.csvfile import load_csv
from bki_lab.data.datasets import DataError, Split, TextDataset, data_dir
from bki_lab.data.dbpedia import load_dbpedia
from bki_lab.data.download import download
from bki_lab.data.imdb import load_imdb
from bki_lab.data.text import Vocab, detokenize, insert_words, tokenize
from bki_lab.defences.clustering import activation_clustering
from bki_lab.defences.comparison import compare_defences, defence_removals, run_filters
from bki_lab.defences.spectral import spectral_signatures
from bki_lab.defences.strip import strip_detect, victim_proba
from bki_lab.defences.word_label import word_label_filter
from bki_lab.pipeline.attack import AttackResult, cached_victim, load_split, run_attack
from bki_lab.pipeline.cache import CacheError, cache_dir
from bki_lab.pipeline.config import (
                                   RECIPES,
                                   DataConfig,
                                   ExperimentConfig,
                                   config_dict,
                                   make_config,
)
from bki_lab.pipeline.current import Experiment, current_experiment, use_experiment
from bki_lab.pipeline.curves import LearningCurve, learning_curve
from bki_lab.pipeline.defence import (
                                   DefenceResult,
                                   authors_spans,
                                   bki_scores,
                                   judge,
                                   judge_retrained,
                                   retrain_without,
                                   run_defence,
)
from bki_lab.reproduce.results import read_results
from bki_lab.reproduce.run import reproduce
from bki_lab.utils.seed import set_seed
from bki_lab.victims.cnn import CNNClassifier
from bki_lab.victims.lstm import BiLSTMClassifier, hidden_states
from bki_lab.victims.train import (
                                   TrainConfig,
                                   TrainedModel,
                                   TrainingError,
                                   attack_success_rate,
                                   evaluate,
                                   train_victim,
)

__version__ = "0.1.0"

__all__ = [
    "AttackResult", "PureNgram", "label_pure_ngrams", "Experiment", "current_experiment", "use_experiment", "random_triggers", "BKIResult", "BiLSTMClassifier", "CNNClassifier", "CacheError",
    "DataConfig", "DataError", "DefenceResult", "ExperimentConfig", "Finding",
    "LearningCurve", "MULTI_PRESETS", "PRESETS", "PoisonedDataset", "RECIPES", "Removal",
    "SpanScores", "Split", "TextDataset", "TrainConfig", "TrainedModel", "TrainingError",
    "TriggerPreset", "Verdict", "Vocab", "WordScores", "activation_clustering",
    "attack_success_rate", "authors_spans", "backdoor_test_set", "bki_scores",
    "build_dictionary", "cache_dir", "cached_victim", "compare_defences", "config_dict", "defence_removals", "hidden_states",
    "read_results", "victim_proba",
    "data_dir", "detokenize", "download", "evaluate", "find_backdoors", "identify",
    "identify_authors", "insert_words", "judge", "judge_retrained", "learning_curve",
    "load_csv", "load_dbpedia", "load_imdb", "load_split", "make_config", "p_sweep",
    "poison_dataset", "poison_many", "reconstruct_from", "reconstruct_trigger",
    "removal_metrics", "reproduce", "retrain_without", "run_attack", "run_defence",
    "run_filters", "score_spans", "score_words", "select_suspicious", "set_seed",
    "spectral_signatures", "strip_detect", "tokenize", "train_victim", "verify_trigger",
    "viz", "word_label_filter",
]
