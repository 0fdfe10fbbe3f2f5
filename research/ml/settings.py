"""What a training run is asked to do: the periods, the search and its space. Defaults live here.

The defaults are the desk's process: 120 random then 300 TPE trials per (strategy, symbol),
CPCV with 6 groups, 2 test groups (15 splits, 5 backtest paths) and a 1 % embargo, the
probability threshold chosen on out-of-fold predictions over ``THRESHOLD_GRID`` with at least
``min_trades`` filtered trades per path, and a hold-out from 2022-01-01 on.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from multialpha.research.errors import ResearchError

# Production thresholds tried on the out-of-fold probabilities: 0.30 to 0.80 in steps of 0.025.
# A forest's P(win) for these trades sits around the base win rate (about 0.5 with balanced
# class weights, 0.6 without); the grid covers both with room on each side.
THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.30 + 0.025 * i, 3) for i in range(21))
DEFAULT_HOLDOUT_START = date(2022, 1, 1)


@dataclass(frozen=True)
class ForestSpace:
    """RandomForest hyperparameters the search draws from (bounds inclusive)."""

    n_estimators: tuple[int, int] = (25, 200)  # log scale
    max_depth: tuple[int, int] = (2, 10)
    min_samples_leaf: tuple[int, int] = (10, 300)  # log scale
    max_features: tuple[str | float, ...] = ("sqrt", "log2", 0.2, 0.35, 0.5)
    max_samples: tuple[float, float] = (0.2, 0.8)  # share of rows per tree when bootstrapping
    class_weight: tuple[str | None, ...] = (None, "balanced", "balanced_subsample")

    def __post_init__(self) -> None:
        for name in ("n_estimators", "max_depth", "min_samples_leaf"):
            lo, hi = getattr(self, name)
            if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
                raise ResearchError(f"forest space: {name} must be integers 1 <= low <= high, got {(lo, hi)}")
        lo_s, hi_s = self.max_samples
        if not 0 < lo_s <= hi_s <= 1:
            raise ResearchError(f"forest space: max_samples must satisfy 0 < low <= high <= 1, got {(lo_s, hi_s)}")

    def capped(self, max_trees: int | None) -> ForestSpace:
        """The same space with at most ``max_trees`` trees per forest."""
        if max_trees is None:
            return self
        lo, hi = self.n_estimators
        top = min(hi, max_trees)
        return ForestSpace(**{**asdict(self), "n_estimators": (min(lo, top), top)})


@dataclass(frozen=True)
class CpcvSettings:
    """Combinatorial purged cross-validation of the search period (``CombinatorialPurgedKFold``)."""

    n_groups: int = 6
    n_test_groups: int = 2
    embargo: float = 0.01

    def __post_init__(self) -> None:
        if not (self.n_groups >= 2 and 1 <= self.n_test_groups < self.n_groups):
            raise ResearchError(f"CPCV: need n_groups >= 2 and 1 <= n_test_groups < n_groups, got "
                                f"{self.n_groups} groups, {self.n_test_groups} test groups")
        if not 0 <= self.embargo < 1:
            raise ResearchError(f"CPCV: embargo is a fraction of the trades in [0, 1), got {self.embargo}")


@dataclass(frozen=True)
class SearchSettings:
    """One search: trial counts, seed, CV, forest space, threshold choice and pruning."""

    random_trials: int = 120
    tpe_trials: int = 300
    seed: int = 42
    cpcv: CpcvSettings = field(default_factory=CpcvSettings)
    forest: ForestSpace = field(default_factory=ForestSpace)
    thresholds: tuple[float, ...] = THRESHOLD_GRID
    min_trades: int = 100  # filtered trades per CPCV path (the whole search period)
    search_features: bool = True  # switch feature groups on and off; False: every candidate feature
    prune: bool = True
    # Asynchronous successive halving over the folds: after ``pruner_min_folds`` folds a trial
    # goes on only if its running estimate is in the top 1/``pruner_reduction`` of the trials
    # that reached that fold, again after ``pruner_min_folds * pruner_reduction`` folds, ...
    pruner_min_folds: int = 4
    pruner_reduction: int = 2

    def __post_init__(self) -> None:
        if self.random_trials < 0 or self.tpe_trials < 0 or self.random_trials + self.tpe_trials < 1:
            raise ResearchError(f"trials: need random >= 0, tpe >= 0 and at least one trial, got "
                                f"{self.random_trials} random + {self.tpe_trials} TPE")
        if not self.thresholds or any(not (0 < t < 1 and math.isfinite(t)) for t in self.thresholds):
            raise ResearchError(f"thresholds must lie strictly between 0 and 1, got {self.thresholds}")
        if list(self.thresholds) != sorted(set(self.thresholds)):
            raise ResearchError(f"thresholds must be increasing and distinct, got {self.thresholds}")
        if self.min_trades < 1:
            raise ResearchError(f"min_trades must be at least 1, got {self.min_trades}")
        if self.pruner_min_folds < 1 or self.pruner_reduction < 2:
            raise ResearchError(f"pruning needs pruner_min_folds >= 1 and pruner_reduction >= 2, got "
                                f"{self.pruner_min_folds} and {self.pruner_reduction}")

    @property
    def trials(self) -> int:
        return self.random_trials + self.tpe_trials

    def fingerprint_fields(self) -> dict[str, Any]:
        """What the trials' values depend on: everything but the trial counts, so that a study
        can be extended with more trials and stays the same study."""
        d = asdict(self)
        d.pop("random_trials")
        d.pop("tpe_trials")
        return d


@dataclass(frozen=True)
class Periods:
    """The search period (``train_start`` to the day before ``holdout_start``) and the hold-out.

    Days are CME trade dates. A trade belongs to the search only if it exits before
    ``holdout_start``; the hold-out runs from ``holdout_start`` to ``holdout_end`` (inclusive;
    the end of the data when None). ``train_start`` None: from the first bar.
    """

    holdout_start: date = DEFAULT_HOLDOUT_START
    train_start: date | None = None
    holdout_end: date | None = None

    def __post_init__(self) -> None:
        if self.train_start is not None and self.train_start >= self.holdout_start:
            raise ResearchError(f"dates: train start {self.train_start} must be before the hold-out start "
                                f"{self.holdout_start}")
        if self.holdout_end is not None and self.holdout_end < self.holdout_start:
            raise ResearchError(f"dates: hold-out end {self.holdout_end} is before the hold-out start "
                                f"{self.holdout_start}")


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (dates and tuples included)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
