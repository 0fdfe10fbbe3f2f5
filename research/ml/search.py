"""The search objective and the choice of the final configuration and threshold.

A trial draws RandomForest hyperparameters and (``search_features``) which feature groups to
use, runs the CPCV of the search set (``cross_validate``) reporting a running estimate after
every fold so the pruner can stop it, and returns the mean out-of-sample Sharpe over the
backtest paths at its best threshold of the grid, among the thresholds whose paths take at
least ``min_trades`` trades on average. A trial with no such threshold is pruned.

The final configuration is the best finished trial; its CPCV is run again (the forests are
seeded, so it gives the trial's own out-of-fold predictions) to choose the production threshold
on those out-of-fold predictions only, and the forest is refit on the whole search set.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from multialpha.research.errors import ResearchError
from multialpha.research.ml.crossval import CvPlan, CvResult, cross_validate, make_forest
from multialpha.research.ml.dataset import SearchSet
from multialpha.research.ml.feature_groups import ALWAYS_ON, features_of
from multialpha.research.ml.scoring import best_threshold
from multialpha.research.ml.settings import ForestSpace, SearchSettings
from optuna.trial import FrozenTrial, TrialState
from sklearn.ensemble import RandomForestClassifier

FOREST_KEYS = ("n_estimators", "max_depth", "min_samples_leaf", "max_features", "bootstrap", "max_samples",
               "class_weight")


def suggest(trial: optuna.Trial, space: ForestSpace, groups: Mapping[str, tuple[str, ...]],
            search_features: bool) -> None:
    """Draw every parameter of one trial (read back with ``decode``)."""
    trial.suggest_int("n_estimators", *space.n_estimators, log=True)
    trial.suggest_int("max_depth", *space.max_depth)
    trial.suggest_int("min_samples_leaf", *space.min_samples_leaf, log=True)
    trial.suggest_categorical("max_features", space.max_features)
    trial.suggest_categorical("bootstrap", (True, False))
    trial.suggest_float("max_samples", *space.max_samples)
    trial.suggest_categorical("class_weight", space.class_weight)
    if search_features:
        for name in groups:
            if name != ALWAYS_ON:
                trial.suggest_categorical(f"group_{name}", (True, False))


def decode(params: Mapping[str, Any], groups: Mapping[str, tuple[str, ...]],
           order: Sequence[str]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Forest keyword arguments and the feature list (in ``order``, the candidates' order) of a
    trial's parameters. Without group choices (``search_features`` off) every group is in."""
    forest = {k: params[k] for k in FOREST_KEYS}
    chosen = set(features_of(groups, [ALWAYS_ON, *(g for g in groups if params.get(f"group_{g}", True))]))
    return forest, tuple(f for f in order if f in chosen)


class CpcvObjective:
    """The trial objective over one search set (see the module docstring)."""

    def __init__(self, data: SearchSet, plan: CvPlan, settings: SearchSettings,
                 groups: Mapping[str, tuple[str, ...]], *, run_id: str | None = None) -> None:
        self.data, self.plan, self.settings, self.groups, self.run_id = data, plan, settings, groups, run_id
        self.thresholds = np.asarray(settings.thresholds)

    def __call__(self, trial: optuna.Trial) -> float:
        if self.run_id is not None:
            trial.set_user_attr("run", self.run_id)
            trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        suggest(trial, self.settings.forest, self.groups, self.settings.search_features)
        forest, features = decode(trial.params, self.groups, self.data.features)

        def on_fold(step: int, value: float) -> None:
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"fold {step + 1}: running out-of-sample Sharpe {value:.3f}")

        result = cross_validate(self.data, self.plan, forest, features, thresholds=self.thresholds,
                                min_trades=self.settings.min_trades, seed=self.settings.seed, on_fold=on_fold)
        k = best_threshold(result.curve.sharpe, result.curve.trades, self.settings.min_trades)
        if k is None:
            trial.set_user_attr("too_few_trades", True)
            raise optuna.TrialPruned(f"no threshold takes {self.settings.min_trades} trades per path")
        trial.set_user_attr("threshold", float(self.thresholds[k]))
        trial.set_user_attr("trades_per_path", float(result.curve.trades[k]))
        trial.set_user_attr("path_sharpe", [float(x) for x in result.curve.path_sharpe[k]])
        return float(result.curve.sharpe[k])


@dataclass(frozen=True)
class Selection:
    """The final configuration: the best trial, its out-of-fold results and the refit forest."""

    trial: FrozenTrial
    forest_params: dict[str, Any]
    features: tuple[str, ...]
    cv: CvResult
    threshold_index: int
    model: RandomForestClassifier

    @property
    def threshold(self) -> float:
        return float(self.cv.curve.thresholds[self.threshold_index])


def select(study: optuna.Study, data: SearchSet, plan: CvPlan, settings: SearchSettings,
           groups: Mapping[str, tuple[str, ...]], *, context: str) -> Selection:
    """The best finished trial, its threshold from its out-of-fold predictions, and its forest
    refit on the whole search set."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise ResearchError(
            f"{context}: none of the {len(study.trials)} trials reached {settings.min_trades} filtered trades "
            f"per CPCV path at any threshold of {settings.thresholds[0]}..{settings.thresholds[-1]} over "
            f"{len(data)} candidate trades; lower --min-trades or lengthen the search period")
    best = max(complete, key=lambda t: (t.value, -t.number))
    forest, features = decode(best.params, groups, data.features)
    cv = cross_validate(data, plan, forest, features, thresholds=np.asarray(settings.thresholds),
                        min_trades=settings.min_trades, seed=settings.seed)
    k = best_threshold(cv.curve.sharpe, cv.curve.trades, settings.min_trades)
    if k is None:  # the trial's own folds again: cannot happen unless the data changed underneath
        raise ResearchError(f"{context}: trial {best.number} no longer reaches {settings.min_trades} trades")
    cols = data.columns(features)
    model = make_forest(forest, seed=settings.seed).fit(data.X[:, cols], data.label)
    return Selection(best, forest, features, cv, k, model)
