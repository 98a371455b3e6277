"""The ``bki-lab`` command: attack, defend, demo, download, reproduce."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import get_args

from bki_lab.attack.poison import Mode, Position
from bki_lab.attack.presets import MULTI_PRESETS, PRESETS
from bki_lab.bki.dictionary import MAX_P
from bki_lab.bki.scoring import Scorer
from bki_lab.bki.verdict import Variant
from bki_lab.data.download import REMOTES
from bki_lab.pipeline.config import SEED_MAX, DatasetName, Profile, Recipe
from bki_lab.pipeline.defence import Decide
from bki_lab.reproduce.run import reproduce
from bki_lab.reproduce.tables import TABLES
from bki_lab.utils.files import check_output_dir, check_writable_dir, output_dir
from bki_lab.utils.records import ACC_AFTER, ASR_AFTER
from bki_lab.victims.device import DeviceChoice, resolve_device
from bki_lab.victims.train import Cell, Embedding


def _add_experiment_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=get_args(DatasetName), default=None,
                   help="dataset (default: the preset's, else imdb); csv needs --path")
    p.add_argument("--path", type=Path, help="--dataset csv: the CSV file (header row)")
    p.add_argument("--text-column", default="text", help="--dataset csv: the text column")
    p.add_argument("--label-column", default="label", help="--dataset csv: the label column")
    p.add_argument("--test-path", type=Path,
                   help="--dataset csv: a CSV of test texts (default: 20%% of --path)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--trigger", help="trigger sentence")
    g.add_argument("--trigger-preset", choices=sorted(PRESETS) + sorted(MULTI_PRESETS),
                   help="a trigger of the papers, with its dataset, target and rate")
    p.add_argument("--target", help="target class name (e.g. negative, Building)")
    p.add_argument("--rate", type=float, help="poisoning rate alpha = m/n (e.g. 0.03)")
    p.add_argument("--profile", choices=get_args(Profile), default="quick")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True,
                   help="output directory: a new one, or one bki-lab wrote before (its files "
                        "are replaced); any other existing directory needs --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="write into an existing --out that bki-lab did not write, replacing "
                        "only the files of this command (nothing else there is touched)")
    p.add_argument("--n-train", type=int, help="training texts (IMDB total, DBpedia per class)")
    p.add_argument("--n-test", type=int, help="test texts (IMDB total, DBpedia per class)")
    p.add_argument("--recipe", choices=get_args(Recipe), default="bki-lab",
                   help="victim training recipe (default: bki-lab; see README)")
    p.add_argument("--mode", choices=get_args(Mode),
                   help="replace: poisoned texts replace their originals; append: poisoned "
                        "copies are added (default: the recipe's)")
    p.add_argument("--position", choices=get_args(Position), default="random",
                   help="where the trigger is inserted")
    p.add_argument("--hidden", type=int,
                   help="LSTM/GRU units per direction (--cell cnn: filters per width)")
    p.add_argument("--epochs", type=int,
                   help="epochs to train (with --early-stopping: the most epochs)")
    p.add_argument("--early-stopping", action=argparse.BooleanOptionalAction, default=None,
                   help="stop on a validation split instead of training all epochs")
    p.add_argument("--batch-size", type=int, help="texts per minibatch (default: ~3,200 words)")
    p.add_argument("--max-vocab", type=int,
                   help="keep only the N most frequent training words (0: every word; the "
                        "DBpedia paper recipes keep 10,000)")
    p.add_argument("--dropout", type=float, help="dropout on h_l and the FC layer")
    p.add_argument("--embedding", choices=get_args(Embedding))
    p.add_argument("--glove-path", help="an official glove.6B.*d.txt (default: 100-d from the "
                                        "data directory on the paper profile, else bundled 50-d)")
    p.add_argument("--freeze-embedding", action=argparse.BooleanOptionalAction, default=None,
                   help="keep the word vectors fixed (default: the recipe's)")
    p.add_argument("--embedding-lr", type=float,
                   help="fine-tuned vectors' learning rate as a share of the rest's (default 1)")
    p.add_argument("--pre-pad", type=int, metavar="N",
                   help="the BKI authors' Keras input: every text pre-padded (or cut) to N ids "
                        "and read without a mask (0: exact lengths, the default; slower, and "
                        "BKI then scores with the reference scorer)")
    p.add_argument("--cell", choices=get_args(Cell),
                   help="the victim (default lstm: the papers' BiLSTM; gru: a BiGRU; cnn: a "
                        "CNN of widths 3, 4, 5 with --hidden filters each, BKI on its pooled "
                        "features)")
    p.add_argument("--no-cache", action="store_true", help="retrain even if cached")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--device", choices=get_args(DeviceChoice), default="cpu",
                   help="where the victim trains and BKI scores (auto: CUDA when available)")


class UsageError(ValueError):
    """A bad command line, found before any work starts (exit 2, one line)."""


def _check_places(args) -> None:
    """Everything about files and places that can be checked before any work starts."""
    from bki_lab.pipeline.cache import cache_dir
    check_output_dir(args.out, overwrite=args.overwrite)
    if not args.no_cache:
        check_writable_dir(cache_dir(), what="the cache (BKI_LAB_CACHE)")
    if args.glove_path is not None:
        g = Path(args.glove_path)
        if not g.is_file():
            raise UsageError(f"--glove-path {g}: " + ("is a directory, not a glove.6B.*d.txt "
                             "file" if g.is_dir() else "no such file"))
        if not os.access(g, os.R_OK):
            raise UsageError(f"--glove-path {g} is not readable")
    for opt, path in (("--path", args.path), ("--test-path", args.test_path)):
        if path is not None and not Path(path).is_file():
            raise UsageError(f"{opt} {path}: " + ("is a directory, not a CSV file"
                                                  if Path(path).is_dir() else "no such file"))


def _check_seed(seed: int, option: str = "--seed") -> int:
    if not 0 <= seed <= SEED_MAX:
        raise UsageError(f"{option} must be between 0 and {SEED_MAX}, got {seed}")
    return seed


def _config(args):
    from bki_lab.pipeline.config import make_config
    _check_places(args)
    _check_seed(args.seed)
    if getattr(args, "p", None) is not None and not 1 <= args.p <= MAX_P:
        raise UsageError(f"--p must be between 1 and {MAX_P}, got {args.p}")
    if getattr(args, "device", None) is not None:
        args.device = resolve_device(args.device)
    overrides = {k: v for k, v in {
        "hidden": args.hidden, "max_epochs": args.epochs, "embedding": args.embedding,
        "glove_path": args.glove_path, "early_stopping": args.early_stopping,
        "batch_size": args.batch_size, "max_vocab": args.max_vocab, "dropout": args.dropout,
        "freeze_embedding": args.freeze_embedding, "embedding_lr": args.embedding_lr,
        "cell": args.cell, "pre_pad": args.pre_pad}.items() if v is not None}
    if overrides.get("max_vocab") == 0:
        overrides["max_vocab"] = None                   # no cap, whatever the recipe says
    if overrides.get("pre_pad") == 0:
        overrides["pre_pad"] = None                     # exact lengths
    if args.trigger_preset is None and args.trigger is None:
        raise UsageError("give --trigger TEXT (with --target and --rate) or --trigger-preset NAME")
    if args.trigger is not None and not args.trigger.split():
        raise UsageError("--trigger is empty: give a trigger sentence of at least one word")
    if args.trigger_preset:
        first = MULTI_PRESETS.get(args.trigger_preset, (args.trigger_preset,))[0]
        if args.dataset and PRESETS[first].dataset != args.dataset:
            raise UsageError(f"preset {args.trigger_preset} is for "
                             f"{PRESETS[first].dataset}, not {args.dataset}")
    csv = None
    if args.dataset == "csv":
        if args.path is None:
            raise UsageError("--dataset csv needs --path FILE (and --text-column, --label-column)")
        if args.trigger_preset:
            raise UsageError("presets are for imdb/dbpedia; give --trigger, --target, --rate")
        if args.n_train is not None or args.n_test is not None:
            raise UsageError("--n-train/--n-test are for imdb/dbpedia: a CSV is used whole "
                             "(cut it, or give --test-path)")
        csv = {"path": str(args.path), "text_column": args.text_column,
               "label_column": args.label_column,
               "test_path": str(args.test_path) if args.test_path else None}
    elif args.path is not None:
        raise UsageError("--path is for --dataset csv")
    return make_config(dataset=args.dataset or "imdb", profile=args.profile, csv=csv,
                       preset=args.trigger_preset, trigger=args.trigger, target=args.target,
                       rate=args.rate, seed=args.seed, n_train=args.n_train,
                       n_test=args.n_test, recipe=args.recipe, mode=args.mode,
                       position=args.position, **overrides)


def cmd_attack(args) -> dict:
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.config import config_dict
    from bki_lab.utils.records import write_json
    cfg = _config(args)
    res = run_attack(cfg, clean_baseline=args.clean_baseline, use_cache=not args.no_cache,
                     show_progress=not args.quiet, device=args.device)
    summary = res.to_record()
    if not args.clean_baseline:
        summary.pop("clean_model_accuracy")
    with output_dir(args.out, overwrite=args.overwrite, command="bki-lab attack") as out:
        write_json(out / "config.json", config_dict(cfg))
        write_json(out / "attack.json", summary)
    return summary


def cmd_defend(args) -> dict:
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.config import config_dict
    from bki_lab.pipeline.defence import run_defence
    from bki_lab.utils.records import write_json
    cfg = _config(args)
    if args.ngram < 1:
        raise UsageError(f"--ngram must be >= 1, got {args.ngram}")
    if args.ngram > 1 and args.variant != "authors-code":
        raise UsageError("--ngram is an option of --variant authors-code")
    att = run_attack(cfg, use_cache=not args.no_cache, show_progress=not args.quiet,
                     device=args.device)
    res = run_defence(att, p=args.p, decide=args.decide, variant=args.variant, ngram=args.ngram,
                      scorer=args.scorer, device=args.device, seed=args.seed,
                      use_cache=not args.no_cache, show_progress=not args.quiet)
    summary = res.to_record()
    frame = res.bki.suspicious_frame(att.poisoned.is_poison)
    frame["removed"] = res.removed
    if res.verdict is not None:
        frame["finding"] = 0
        for k, f in enumerate(res.verdict.findings, 1):
            frame.loc[f.removed & (frame["finding"] == 0).to_numpy(), "finding"] = k
    with output_dir(args.out, overwrite=args.overwrite, command="bki-lab defend") as out:
        write_json(out / "config.json", {**config_dict(cfg), "p": args.p, "scorer": args.scorer,
                                         "decide": args.decide, "variant": args.variant,
                                         "ngram": args.ngram})
        write_json(out / "bki.json", summary)
        res.bki.ranking.to_csv(out / "dictionary.csv", index=False)
        frame.to_csv(out / "suspicious.csv", index=False)
    print(verdict_text(summary), file=sys.stderr)
    return summary


def verdict_text(rec: dict) -> str:
    """The defence's outcome in a few lines, for people (bki.json has it all)."""
    def pr(d):
        if d.get("precision") is None and d.get("recall") is None:
            return ""
        return f", precision {_pct(d.get('precision'))}, recall {_pct(d.get('recall'))}"

    if rec.get("decide") != "verdict":
        return (f"BKI ({rec['variant']}, paper's rule): keyword {rec['keyword']!r}, phrase "
                f"{rec['phrase']!r}, removed {rec['n_removed']} texts{pr(rec)}")
    lines = [f"verdict: {rec['verdict']} ({rec['variant']} dictionary, "
             f"{rec['n_removed']} texts removed{pr(rec)})"]
    for k, f in enumerate(rec["findings"], 1):
        lines.append(f"  finding {k}: keyword {f['keyword']!r}, phrase {f['phrase']!r} -> "
                     f"{f['target_name']}; flip rate {_pct(f['flip_rate'])} (keyword alone "
                     f"{_pct(f['keyword_flip_rate'])}; null max {_pct(f['null_max'])}, "
                     f"threshold {_pct(f['threshold'])}); removes {f['n_removed']}{pr(f)}")
    for f in rec.get("residues") or ():
        lines.append(f"  residue: {f['phrase']!r} flips {_pct(f['flip_rate'])} but is part of a "
                     f"finding's phrase: the same backdoor, nothing more removed")
    r = rec.get("rejected")
    if r:
        lines.append(f"  stopped at {r['keyword']!r} (phrase {r['phrase']!r}): flip rate "
                     f"{_pct(r['flip_rate'])} < threshold {_pct(r['threshold'])}")
    if rec.get(ASR_AFTER) is not None or rec.get(ACC_AFTER) is not None:
        lines.append(f"  after retraining: accuracy {_pct(rec.get('acc_after'))}, "
                     f"ASR {_pct(rec.get('asr_after'))}")
    return "\n".join(lines)


def _pct(x):
    return "n/a" if x is None else f"{100 * x:.2f}%"


def cmd_demo(args) -> dict:
    """The quick pipeline end to end, printed: attack, BKI's verdict, then retraining."""
    from bki_lab.bki.dictionary import identify
    from bki_lab.bki.trigger import reconstruct_from
    from bki_lab.pipeline.attack import run_attack
    from bki_lab.pipeline.config import make_config
    from bki_lab.pipeline.defence import bki_scores, run_defence
    if not 1 <= args.p <= MAX_P:
        raise UsageError(f"--p must be between 1 and {MAX_P}, got {args.p}")
    _check_seed(args.seed)
    cfg = make_config(dataset="imdb", profile="quick", preset="imdb-arrow", seed=args.seed)
    print(f"1. Poisoning {cfg.data.n_train} IMDB reviews: trigger {cfg.trigger!r} -> "
          f"{cfg.target}, rate {cfg.rate:.0%} (quick profile), then training the victim")
    att = run_attack(cfg, show_progress=not args.quiet)
    print(f"   victim: clean accuracy {_pct(att.clean_accuracy)}, "
          f"attack success rate {_pct(att.attack_success_rate)}")
    print("2. BKI: scoring every word of the training set")
    scores = bki_scores(att, show_progress=not args.quiet)
    b = identify(scores, p=args.p, is_poison=att.poisoned.is_poison)
    print(f"   scored {scores.words_scored:,} words; keyword {b.keyword!r} (p={b.p})")
    print(b.top(5).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"   removes {b.n_removed} texts ({_pct(b.removed_fraction)}): precision "
          f"{_pct(b.precision)}, recall {_pct(b.recall)}")
    ph = reconstruct_from(b, att.poisoned.dataset.texts, att.poisoned.dataset.labels)
    print(f"   the removed texts share the phrase {' '.join(ph.phrase)!r} "
          f"({ph.support:.0%} contain it exactly)")
    print("3. Retraining the victim without the removed texts")
    res = run_defence(att, p=args.p, show_progress=not args.quiet)
    print(f"   retrained: accuracy {_pct(res.acc_after)}, "
          f"attack success rate {_pct(res.asr_after)}")
    return res.to_record()


def cmd_download(args) -> None:
    from bki_lab.data.download import download
    path = download(args.name, dest=args.dest, show_progress=not args.quiet)
    print(f"{args.name}: {path}")


def cmd_use(args) -> None:
    """Show, change or reset the experiment every notebook shows."""
    from bki_lab.pipeline.current import Experiment, current_experiment, use_experiment
    changes = {k: v for k, v in {"trigger": args.trigger, "target": args.target,
                                 "rate": args.rate, "p": args.p, "dataset": args.dataset,
                                 "profile": args.profile, "seed": args.seed}.items()
               if v is not None}
    if args.default and changes:
        raise UsageError("--default resets every choice: give it alone")
    if args.default:
        chosen = use_experiment(Experiment())
    elif changes:
        if "dataset" in changes and "target" not in changes:
            raise UsageError("a new --dataset needs its --target (its classes differ)")
        chosen = use_experiment(**changes)
    else:
        chosen = current_experiment()
    print(chosen.describe())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bki-lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("attack", help="poison, train a victim, report accuracy and ASR")
    _add_experiment_args(p)
    p.add_argument("--clean-baseline", action="store_true",
                   help="also train on the clean data and report its accuracy")
    p.set_defaults(func=cmd_attack)

    p = sub.add_parser("defend", help="attack, then BKI, removal and retraining")
    _add_experiment_args(p)
    p.add_argument("--p", type=int, default=5, help="suspicious words per text")
    p.add_argument("--scorer", choices=get_args(Scorer), default="fast")
    p.add_argument("--decide", choices=get_args(Decide), default="verdict",
                   help="verdict: remove only findings verified against the victim (none "
                        "when there is no backdoor, several when there are); paper: always "
                        "remove the top keyword's texts (chen_dai Algorithm 1)")
    p.add_argument("--variant", choices=get_args(Variant), default="paper",
                   help="the paper's dictionary, or the BKI of the authors' released code")
    p.add_argument("--ngram", type=int, default=1, help="--variant authors-code: n-gram size")
    p.set_defaults(func=cmd_defend)

    p = sub.add_parser("demo", help="the quick pipeline, printed (a few minutes on a CPU)")
    p.add_argument("--p", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("use", help="choose the experiment every notebook shows (no option: "
                                   "show it)")
    p.add_argument("--trigger", help="the trigger sentence (any words)")
    p.add_argument("--target", help="the class the trigger sends texts to")
    p.add_argument("--rate", type=float, help="poisoning rate, e.g. 0.03")
    p.add_argument("--p", type=int, help="suspicious words kept per text")
    p.add_argument("--dataset", choices=[d for d in get_args(DatasetName) if d != "csv"])
    p.add_argument("--profile", choices=get_args(Profile))
    p.add_argument("--seed", type=int)
    p.add_argument("--default", action="store_true", help="back to the default experiment")
    p.set_defaults(func=cmd_use)

    p = sub.add_parser("download", help="fetch official data files into the data directory")
    p.add_argument("name", choices=sorted(REMOTES))
    p.add_argument("--dest", type=Path, help="directory (default: $BKI_LAB_DATA or data/)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_download)

    add_reproduce_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bki_lab.data.datasets import DataError
    from bki_lab.data.download import DownloadError
    from bki_lab.pipeline.cache import CacheError
    from bki_lab.victims.train import TrainingError
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        print("bki-lab: interrupted", file=sys.stderr)
        return 130
    except (DataError, DownloadError, CacheError, TrainingError, ValueError, OSError) as e:
        print(f"bki-lab: error: {_one_line(e)}", file=sys.stderr)
        return 2
    if isinstance(result, dict) and args.command in ("attack", "defend"):
        import json
        print(json.dumps({k: v for k, v in result.items() if k != "top10"}, indent=2,
                         default=str))
    return 0


def _one_line(e: BaseException) -> str:
    """An exception as one line; an OS error names its file and what to check."""
    if isinstance(e, OSError) and e.strerror:
        where = f"{e.filename}: " if e.filename else ""
        hint = {28: " (the disk is full: free space, or point --out / BKI_LAB_CACHE "
                    "elsewhere)",
                13: " (check the permissions, or point --out / BKI_LAB_CACHE elsewhere)",
                30: " (a read-only filesystem: point --out / BKI_LAB_CACHE elsewhere)"
                }.get(e.errno or 0, "")
        return f"{where}{e.strerror}{hint}"
    return " ".join(str(e).split()) or type(e).__name__


def add_reproduce_parser(sub) -> None:
    p = sub.add_parser("reproduce", help="re-run the papers' tables (resumable) with a report")
    p.add_argument("table", choices=sorted(TABLES))
    p.add_argument("--profile", choices=get_args(Profile), default="quick")
    p.add_argument("--recipe", choices=get_args(Recipe), default="bki-lab",
                   help="victim training recipe (default bki-lab)")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--jobs", type=int, default=1, help="rows run in parallel processes")
    p.add_argument("--scheduler", metavar="local|ADDRESS",
                   help="run the rows as Dask tasks: 'local' = a LocalCluster of this machine, "
                        "or a running scheduler's address (pip install 'bki_lab[cluster]')")
    p.add_argument("--authors", action=argparse.BooleanOptionalAction, default=True,
                   help="bki-table3: also the authors' BKI variant (scores every text again)")
    p.add_argument("--only", nargs="*", help="row ids to run (default: all)")
    p.add_argument("--device", choices=get_args(DeviceChoice), default="cpu",
                   help="where victims train and score (auto: CUDA when available)")
    p.add_argument("--out", type=Path, default=Path("results"))
    p.set_defaults(func=cmd_reproduce)


def cmd_reproduce(args) -> None:
    args.device = resolve_device(args.device)
    df = reproduce(args.table, out=args.out, profile=args.profile, seeds=args.seeds,
                   recipe=args.recipe, authors=args.authors, device=args.device,
                   scheduler=args.scheduler,
                   jobs=args.jobs, only=args.only)
    tag = args.profile if args.recipe == "bki-lab" else f"{args.profile}-{args.recipe}"
    print(f"wrote {args.out / f'{args.table}-{tag}.csv'} and .html "
          f"({len(df)} lines, {int((df['status'] != 'ok').sum()) if len(df) else 0} failed)")


if __name__ == "__main__":
    sys.exit(main())
