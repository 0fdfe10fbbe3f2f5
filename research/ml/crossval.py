"""One forest configuration scored out of sample under combinatorial purged cross-validation.

The search period's trades are cut into ``n_groups`` contiguous groups; every combination of
``n_test_groups`` groups is a test set, the rest (purged of labels overlapping the test
groups, and embargoed after them) trains a forest (``CombinatorialPurgedKFold``). The test
predictions are assembled into ``C(n_groups - 1, n_test_groups - 1)`` backtest paths, each an
out-of-sample P(win) for every trade of the period, and each path is scored at every
threshold of the grid (``threshold_curve``).

While the folds run, ``on_fold(step, value)`` gets a running estimate after each fold so that a
pruner can stop a poor configuration early: the mean over the folds so far of each fold's
Sharpe (its test trades' daily P&L over the trade dates of its test groups), at the best
threshold whose trade count, projected to the whole period, reaches ``min_trades``; NaN when
no threshold does. Folds run in an order that covers every group early (``fold_order``), so
the first estimates already span the whole period.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
from multialpha.research.ml.cpcv import CombinatorialPurgedKFold
from multialpha.research.ml.dataset import SearchSet
from multialpha.research.ml.scoring import (
    ThresholdCurve,
    accepted,
    best_threshold,
    daily_pnl_by_threshold,
    sharpe_of_rows,
    threshold_curve,
)
from multialpha.research.ml.settings import CpcvSettings
from sklearn.ensemble import RandomForestClassifier

from multialpha.models import class_column


@dataclass(frozen=True)
class CvPlan:
    """The splits of one search set, computed once and shared by every trial."""

    cv: CombinatorialPurgedKFold
    splits: tuple[tuple[np.ndarray, np.ndarray], ...]  # (train, test) in ``split`` order
    order: tuple[int, ...]  # the order the folds run in
    test_days: tuple[np.ndarray, ...]  # per split: calendar positions of its test groups' dates

    @property
    def n_paths(self) -> int:
        return self.cv.get_n_paths()


def fold_order(n_groups: int, n_test_groups: int) -> tuple[int, ...]:
    """Split numbers (``combinations`` order) arranged so that each run of folds tests every
    group about equally often: greedily the split whose groups were tested least so far."""
    combos = list(combinations(range(n_groups), n_test_groups))
    uses = np.zeros(n_groups, dtype=np.int64)
    left = list(range(len(combos)))
    order = []
    while left:
        best = min(left, key=lambda s: (sum(int(uses[g]) for g in combos[s]), s))
        order.append(best)
        left.remove(best)
        for g in combos[best]:
            uses[g] += 1
    return tuple(order)


def cv_plan(data: SearchSet, settings: CpcvSettings) -> CvPlan:
    cv = CombinatorialPurgedKFold(settings.n_groups, settings.n_test_groups, settings.embargo)
    splits = tuple(cv.split(data.X, spans=data.spans))
    # Each group's dates run from its first entry's trade date to its latest exit's.
    n = len(data)
    size, extra = divmod(n, settings.n_groups)
    bounds = np.concatenate(([0], np.cumsum([size + (g < extra) for g in range(settings.n_groups)])))
    group_days = [np.arange(data.entry_day[bounds[g]], data.exit_day[bounds[g]:bounds[g + 1]].max() + 1)
                  for g in range(settings.n_groups)]
    test_days = tuple(np.unique(np.concatenate([group_days[g] for g in combo]))
                      for combo in combinations(range(settings.n_groups), settings.n_test_groups))
    return CvPlan(cv, splits, fold_order(settings.n_groups, settings.n_test_groups), test_days)


def make_forest(params: Mapping[str, Any], *, seed: int, n_jobs: int = 1) -> RandomForestClassifier:
    """A RandomForestClassifier from search parameters (``max_samples`` only when bootstrapping)."""
    kw = dict(params)
    if not kw.get("bootstrap", True):
        kw["max_samples"] = None
    return RandomForestClassifier(**kw, random_state=seed, n_jobs=n_jobs)


def win_probability(model: RandomForestClassifier, X: np.ndarray) -> np.ndarray:
    """P(class 1) per row; 0 when the training rows held no win at all."""
    if 1 not in model.classes_:
        return np.zeros(X.shape[0])
    return model.predict_proba(X)[:, class_column(model, 1)]


@dataclass(frozen=True)
class CvResult:
    split_scores: tuple[np.ndarray, ...]  # per split (``split`` order): P(win) of its test trades
    paths: np.ndarray  # (n_paths, n): out-of-fold P(win) of every trade on every path
    curve: ThresholdCurve


def cross_validate(data: SearchSet, plan: CvPlan, params: Mapping[str, Any], features: tuple[str, ...], *,
                   thresholds: np.ndarray, min_trades: int, seed: int,
                   on_fold: Callable[[int, float], None] | None = None) -> CvResult:
    """Fit and score one configuration on every split (see the module docstring)."""
    cols = data.columns(features)
    X = data.X[:, cols]
    n, n_days = len(data), data.calendar.shape[0]
    scores: list[np.ndarray | None] = [None] * len(plan.splits)
    fold_sharpe = np.zeros(len(thresholds))
    trades_so_far = np.zeros(len(thresholds))
    tested = 0
    for step, s in enumerate(plan.order):
        train, test = plan.splits[s]
        model = make_forest(params, seed=seed).fit(X[train], data.label[train])
        scores[s] = win_probability(model, X[test])
        if on_fold is None:
            continue
        taken = accepted(scores[s], thresholds)
        daily = daily_pnl_by_threshold(taken, data.pnl[test], data.exit_day[test], n_days)
        fold_sharpe += np.nan_to_num(sharpe_of_rows(daily[:, plan.test_days[s]]), nan=0.0)
        trades_so_far += taken.sum(axis=1)
        tested += test.shape[0]
        best = best_threshold(fold_sharpe / (step + 1), trades_so_far * n / tested, min_trades)
        on_fold(step, float("nan") if best is None else float(fold_sharpe[best] / (step + 1)))
    done = tuple(s for s in scores if s is not None)
    paths = plan.cv.assemble_paths(list(done))
    curve = threshold_curve(paths, data.pnl, data.exit_day, n_days, np.asarray(thresholds))
    return CvResult(done, paths, curve)
