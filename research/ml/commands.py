"""``multialpha-research train`` and ``train-all``: options, the pairs' specs, the printed results."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multialpha.research.errors import ResearchError
from multialpha.research.ml.manifest import Pair, config_pairs, load_config, pair_params, read_manifest
from multialpha.research.ml.settings import (
    DEFAULT_HOLDOUT_START,
    CpcvSettings,
    ForestSpace,
    Periods,
    SearchSettings,
)

from multialpha.config import DEFAULT_CONFIG_FILE

if TYPE_CHECKING:  # the training modules import scikit-learn and Optuna: only when training
    from multialpha.research.ml.batch import PairOutcome
    from multialpha.research.ml.train import PairSpec


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_training_options(p: argparse.ArgumentParser) -> None:
    """The options ``train`` and ``train-all`` share."""
    d = SearchSettings()
    p.add_argument("--config", default=str(DEFAULT_CONFIG_FILE),
                   help="daemon config: strategies, params, data path, references, contracts")
    p.add_argument("--data", help="directory of <SYMBOL>.csv/.parquet hourly bars (default: runtime.data.path)")
    p.add_argument("--out", default="models", help="bundles go to OUT/<strategy>/ (default: models)")
    p.add_argument("--storage", help="Optuna storage URL, e.g. postgresql://user@host/db "
                                     "(default: a SQLite file OUT/studies.sqlite3)")
    p.add_argument("--references", nargs="*", help="reference symbols for cross-market features "
                                                   "(default: runtime.data.reference_symbols)")
    p.add_argument("--features", help="comma-separated candidate features or groups (default: all)")
    p.add_argument("--train-start", type=_date, help="first trade date of the search period (default: first bar)")
    p.add_argument("--holdout-start", type=_date, default=DEFAULT_HOLDOUT_START,
                   help=f"first trade date of the hold-out (default: {DEFAULT_HOLDOUT_START})")
    p.add_argument("--holdout-end", type=_date, help="last trade date of the hold-out (default: last bar)")
    p.add_argument("--random-trials", type=int, default=d.random_trials, help="random trials first (default: %(default)s)")
    p.add_argument("--tpe-trials", type=int, default=d.tpe_trials, help="then TPE trials (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="(default: %(default)s)")
    p.add_argument("--cpcv-groups", type=int, default=d.cpcv.n_groups, help="(default: %(default)s)")
    p.add_argument("--cpcv-test-groups", type=int, default=d.cpcv.n_test_groups, help="(default: %(default)s)")
    p.add_argument("--embargo", type=float, default=d.cpcv.embargo,
                   help="after each test group, as a fraction of the trades (default: %(default)s)")
    p.add_argument("--min-trades", type=int, default=d.min_trades,
                   help="filtered trades per CPCV path a threshold must keep (default: %(default)s)")
    p.add_argument("--max-trees", type=int, help=f"cap on n_estimators (space: {d.forest.n_estimators})")
    p.add_argument("--no-feature-search", action="store_true", help="use every candidate feature")
    p.add_argument("--no-pruning", action="store_true", help="run every fold of every trial")
    p.add_argument("--no-report", action="store_true", help="skip the markdown/PNG report")
    p.add_argument("--workers", type=int, default=1, help="local worker processes (joblib)")
    p.add_argument("--dask-scheduler", help="train on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--force", action="store_true", help="retrain pairs that are already trained")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _settings(args: argparse.Namespace) -> SearchSettings:
    return SearchSettings(
        random_trials=args.random_trials, tpe_trials=args.tpe_trials, seed=args.seed,
        cpcv=CpcvSettings(args.cpcv_groups, args.cpcv_test_groups, args.embargo),
        forest=ForestSpace().capped(args.max_trees), min_trades=args.min_trades,
        search_features=not args.no_feature_search, prune=not args.no_pruning)


def build_specs(args: argparse.Namespace, pairs: list[Pair]) -> list[PairSpec]:
    from multialpha.research.ml.study import sqlite_url
    from multialpha.research.ml.train import PairSpec

    cfg = load_config(args.config)
    if args.workers < 1:
        raise ResearchError(f"--workers must be at least 1, got {args.workers}")
    if args.max_trees is not None and args.max_trees < 1:
        raise ResearchError(f"--max-trees must be at least 1, got {args.max_trees}")
    settings = _settings(args)
    periods = Periods(holdout_start=args.holdout_start, train_start=args.train_start, holdout_end=args.holdout_end)
    out = Path(args.out)
    storage = args.storage or sqlite_url(out / "studies.sqlite3")
    references = tuple(args.references if args.references is not None else cfg.runtime.data.reference_symbols)
    features = tuple(f.strip() for f in args.features.split(",") if f.strip()) if args.features else None
    data_dir = Path(args.data) if args.data else cfg.runtime.data.path
    specs = []
    for pair in pairs:
        alpha, params = pair_params(cfg, pair)
        specs.append(PairSpec(pair.strategy, pair.symbol, alpha, params, data_dir, cfg.runtime.contracts_path,
                              references, features, periods, settings, out, storage, report=not args.no_report))
    return specs


def _num(value: Any, fmt: str = ".2f") -> str:
    return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else format(value, fmt)


def outcome_line(o: PairOutcome) -> str:
    head = f"{o.strategy:8s} {o.symbol:5s} {o.status:8s}"
    r = o.result
    if r is None:
        return f"{head} {o.message or ''} {o.json_path or ''}".rstrip()
    h = r.holdout
    verdict = "undefined" if h.improvement is None else f"{h.improvement:.2f}x"
    return (f"{head} threshold {r.threshold:.3f}, {len(r.features)} features | CPCV Sharpe {r.statistics.sharpe:.2f}, "
            f"DSR {_num(r.statistics.dsr, '.3f')} ({r.statistics.n_trials} trials) | hold-out Sharpe "
            f"{_num(h.unfiltered.sharpe)} -> {_num(h.filtered.sharpe)} ({verdict}, target {h.target:g}x "
            f"{'met' if h.target_met else 'missed'}), trades {h.unfiltered.trades} -> {h.filtered.trades} | "
            f"{r.json_path}")


def _summary_row(o: PairOutcome) -> dict[str, Any]:
    row: dict[str, Any] = {"strategy": o.strategy, "symbol": o.symbol, "status": o.status, "message": o.message,
                           "bundle": None if o.json_path is None else str(o.json_path)}
    if o.result is not None:
        h = o.result.holdout
        row.update({"threshold": o.result.threshold, "cpcv_sharpe": o.result.statistics.sharpe,
                    "deflated_sharpe": o.result.statistics.dsr, "trials": o.result.statistics.n_trials,
                    "holdout": h.as_json(), "report": str(o.result.report_path) if o.result.report_path else None})
    return row


def run_training(args: argparse.Namespace, pairs: list[Pair]) -> int:
    from multialpha.research.ml.batch import train_pairs

    specs = build_specs(args, pairs)
    started = time.perf_counter()
    progress = not args.no_progress and sys.stderr.isatty()

    def show(outcome: PairOutcome) -> None:
        line = outcome_line(outcome)
        if progress:
            from tqdm import tqdm

            tqdm.write(line)
        else:
            print(line, flush=True)

    print(f"training {len(specs)} pair(s): {specs[0].settings.random_trials} random + {specs[0].settings.tpe_trials} "
          f"TPE trials each, studies in {specs[0].storage.split('://')[0] if specs[0].storage else 'memory'} "
          f"storage, bundles to {Path(args.out) / '<strategy>'}", flush=True)
    outcomes = train_pairs(specs, workers=args.workers, scheduler=args.dask_scheduler, force=args.force,
                           progress=progress, on_outcome=show)
    failed = [o for o in outcomes if o.status == "failed"]
    summary = Path(args.out) / "train_summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps([_summary_row(o) for o in outcomes], indent=2, default=str) + "\n")
    counts = {s: sum(o.status == s for o in outcomes) for s in ("trained", "skipped", "failed")}
    print(f"{counts['trained']} trained, {counts['skipped']} skipped, {counts['failed']} failed in "
          f"{time.perf_counter() - started:.1f}s; summary in {summary}")
    for o in failed:
        print(f"error: {o.message}", file=sys.stderr)
    return 1 if failed else 0


def cmd_train(args: argparse.Namespace) -> int:
    return run_training(args, [Pair(args.strategy, args.symbol)])


def cmd_train_all(args: argparse.Namespace) -> int:
    if args.manifest:
        pairs = read_manifest(args.manifest)
        if args.strategy:
            pairs = [p for p in pairs if p.strategy in args.strategy]
    else:
        pairs = config_pairs(load_config(args.config), args.strategy)
    if not pairs:
        raise ResearchError("no (strategy, symbol) pair to train")
    return run_training(args, pairs)


def add_commands(sub: Any) -> None:
    t = sub.add_parser("train", help="search, fit and publish the ML filter of one (strategy, symbol)")
    t.add_argument("--strategy", required=True, help="a strategy of the config, e.g. ibs_a")
    t.add_argument("--symbol", required=True)
    add_training_options(t)
    t.set_defaults(func=cmd_train)
    a = sub.add_parser("train-all", help="train every pair of a manifest or of the config's enabled strategies")
    a.add_argument("--manifest", help="YAML or CSV list of (strategy, symbol) pairs (default: the config's)")
    a.add_argument("--strategy", action="append", help="only this strategy (repeatable)")
    add_training_options(a)
    a.set_defaults(func=cmd_train_all)
