"""Writing a trained pair out: the bundle the daemon loads, scored on the hold-out as saved.

The bundle is first written to a staging directory and loaded back with ``load_model_bundle``
(integrity check included); that loaded bundle is what the hold-out run filters with. The
deployed ``<SYMBOL>_best.json`` then gets the same model file (its SHA-256 is checked against
the staged one) and the hold-out figures. Headline metrics (``Sharpe``, ``Profit_Factor``,
``Trades``, ``Deflated_Sharpe``) are out of sample: the CPCV paths of the search period.
"""

from __future__ import annotations

import dataclasses
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from multialpha.research.errors import ResearchError
from multialpha.research.ml.dataset import HoldoutBars
from multialpha.research.ml.holdout import HoldoutResult
from multialpha.research.ml.scoring import accepted, daily_pnl_by_threshold, sharpe_of_rows
from multialpha.research.ml.search import FOREST_KEYS, Selection
from multialpha.research.ml.significance import SearchStatistics, search_statistics
from multialpha.research.ml.study import shown_storage
from multialpha.research.stats import profit_factor
from optuna.trial import TrialState

from multialpha.models import ModelBundle, load_model_bundle, write_model_bundle

if TYPE_CHECKING:
    from multialpha.research.ml.train import PairData

PF_CAP = 1e6  # a profit factor with no losing trade is recorded as this, JSON has no infinity
METRICS_BASIS = ("out of sample: mean over the CPCV backtest paths of the search period "
                 "(forests never saw the trades they score), at the threshold chosen on those "
                 "out-of-fold predictions; Holdout is the saved bundle on later bars")


@dataclass(frozen=True)
class PairResult:
    strategy: str
    symbol: str
    json_path: Path
    report_path: Path | None
    threshold: float
    features: tuple[str, ...]
    statistics: SearchStatistics
    holdout: HoldoutResult
    trials: dict[str, int]


def path_daily(selection: Selection, data: PairData) -> np.ndarray:
    """``(n_paths, n_days)`` daily P&L of each CPCV path at the chosen threshold."""
    s = data.search
    t = np.array([selection.threshold])
    return np.vstack([daily_pnl_by_threshold(accepted(p, t), s.pnl, s.exit_day, s.calendar.shape[0])[0]
                      for p in selection.cv.paths])


def trial_counts(study: optuna.Study) -> dict[str, int]:
    states = [t.state for t in study.get_trials(deepcopy=False)]
    complete, pruned = states.count(TrialState.COMPLETE), states.count(TrialState.PRUNED)
    return {"finished": complete + pruned, "complete": complete, "pruned": pruned,
            "failed": states.count(TrialState.FAIL)}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("multialpha", "numpy", "scikit-learn", "optuna", "joblib"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def publish(data: PairData, study: optuna.Study, study_name: str, selection: Selection, window: HoldoutBars,
            score: Callable[[ModelBundle], HoldoutResult]) -> PairResult:
    """Write the bundle (staged, loaded, scored on the hold-out, deployed) and the report."""
    spec, s = data.spec, data.search
    trials = trial_counts(study)
    values = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.value is not None]
    daily = path_daily(selection, data)
    k = selection.threshold_index
    stats = search_statistics(daily, selection.cv.curve.path_sharpe[k], values, trials["finished"])
    taken = selection.cv.paths >= selection.threshold
    pooled = np.concatenate([s.pnl[row] for row in taken])
    metrics: dict[str, float] = {
        "Sharpe": round(stats.sharpe, 4),
        "Profit_Factor": round(min(profit_factor(pooled), PF_CAP), 4),
        "Trades": int(round(float(selection.cv.curve.trades[k]))),
    }
    if stats.dsr is not None:
        metrics["Deflated_Sharpe"] = round(stats.dsr, 4)
    unfiltered = sharpe_of_rows(np.bincount(s.exit_day, weights=s.pnl, minlength=s.calendar.shape[0]))[0]
    extra: dict[str, Any] = {
        "Strategy": spec.strategy, "Alpha": spec.alpha, "Metrics_Basis": METRICS_BASIS,
        "Sharpe_Paths": [round(x, 4) for x in stats.path_sharpe],
        "Probabilistic_Sharpe": None if stats.psr is None else round(stats.psr, 4),
        "Sharpe_Unfiltered": _number(unfiltered),
        "Data": {"bars_from": data.bar_range[0], "bars_to": data.bar_range[1],
                 "search_from": s.first_day.isoformat(), "search_to": s.last_day.isoformat(),
                 "search_trade_dates": int(s.calendar.shape[0]), "search_trades": len(s),
                 "holdout_from": window.first_day.isoformat(), "holdout_to": window.last_day.isoformat(),
                 "references": list(spec.references)},
        "Search": {
            "Study": study_name, "Storage": shown_storage(spec.storage),
            "Objective": "mean annualised Sharpe of the filtered trades' daily P&L on CME trade dates over "
                         "the CPCV paths, at the trial's best threshold with enough trades",
            "Trials": {"random_requested": spec.settings.random_trials, "tpe_requested": spec.settings.tpe_trials,
                       **trials},
            "Best_Trial": selection.trial.number, "Seed": spec.settings.seed,
            "CPCV": {**dataclasses.asdict(spec.settings.cpcv), "splits": len(data.plan.splits),
                     "paths": data.plan.n_paths},
            "Threshold_Grid": list(spec.settings.thresholds), "Min_Trades_Per_Path": spec.settings.min_trades,
            "Pruning": (f"successive halving over the folds from fold {spec.settings.pruner_min_folds}, keeping "
                        f"1/{spec.settings.pruner_reduction}" if spec.settings.prune else "off"),
            "Forest": {key: selection.forest_params[key] for key in FOREST_KEYS},
            "Candidate_Features": len(s.features),
            "Feature_Groups": [g for g in data.groups if set(data.groups[g]) & set(selection.features)],
            "Trials_Sharpe_Variance": stats.trials_sharpe_variance,
        },
        "Versions": versions(), "Trained_At": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    params = dataclasses.asdict(data.params)
    directory = spec.bundle_dir
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{spec.symbol}-", dir=directory))
    try:
        write_model_bundle(staging, spec.symbol, selection.model, selection.features, selection.threshold, params,
                           metrics, extra)
        staged = load_model_bundle(spec.symbol, staging)
        holdout = score(staged)
        json_path, _ = write_model_bundle(directory, spec.symbol, selection.model, selection.features,
                                          selection.threshold, params, metrics, {**extra, "Holdout": holdout.as_json()})
        deployed = load_model_bundle(spec.symbol, directory)
        if deployed.sha256 != staged.sha256:
            raise ResearchError(f"{spec.context}: the deployed model file differs from the one scored on the "
                                f"hold-out ({deployed.sha256} != {staged.sha256})")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report_path = None
    if spec.report:
        from multialpha.research.ml.report import write_report

        report_path = write_report(directory / "reports", data, selection, stats, holdout, daily, json_path)
    return PairResult(spec.strategy, spec.symbol, json_path, report_path, selection.threshold, selection.features,
                      stats, holdout, trials)


def _number(value: float) -> float | None:
    return round(float(value), 4) if np.isfinite(value) else None
