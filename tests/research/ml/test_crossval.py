"""CPCV of one configuration: fold order, test dates, reproducible out-of-fold paths, fold reports."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from multialpha.research.ml.crossval import cross_validate, cv_plan, fold_order, make_forest
from multialpha.research.ml.dataset import SearchSet, search_set
from multialpha.research.ml.extract import extract_candidates
from multialpha.research.ml.settings import THRESHOLD_GRID, CpcvSettings, Periods

from multialpha.contracts import load_contracts
from multialpha.features import BarArrays, reference_features
from multialpha.strategy.ibs import IBS
from multialpha.strategy.params import IbsParams

from .conftest import CONTRACTS, HOLDOUT_START, PARAMS

FEATURES = ("ibs", "rsi2", "atr_z", "VX_hourly_return")
FOREST = {"n_estimators": 10, "max_depth": 4, "min_samples_leaf": 10, "max_features": "sqrt", "bootstrap": True,
          "max_samples": 0.7, "class_weight": None}


@pytest.fixture(scope="module")
def data(sample_bars: dict[str, BarArrays]) -> SearchSet:
    bars = sample_bars["CL"]
    cand = extract_candidates(bars, IBS, IbsParams.from_mapping(PARAMS), load_contracts(CONTRACTS)["CL"], FEATURES,
                              {"VX": reference_features(sample_bars["VX"])})
    return search_set(cand, bars, Periods(holdout_start=HOLDOUT_START), context="CL")


def test_fold_order_is_a_permutation_whose_first_folds_test_every_group() -> None:
    order = fold_order(6, 2)
    assert sorted(order) == list(range(15))
    combos = list(combinations(range(6), 2))
    assert sorted(g for s in order[:3] for g in combos[s]) == list(range(6))


def test_cv_plan_test_days_cover_each_test_trade_from_entry_to_exit(data: SearchSet) -> None:
    plan = cv_plan(data, CpcvSettings(4, 2, 0.01))
    assert len(plan.splits) == 6 and plan.n_paths == 3
    for (train, test), days in zip(plan.splits, plan.test_days, strict=True):
        assert set(data.exit_day[test].tolist()) <= set(days.tolist())
        assert set(data.entry_day[test].tolist()) <= set(days.tolist())
        assert not set(train.tolist()) & set(test.tolist())


def test_cross_validate_when_run_twice_then_identical_out_of_fold_paths(data: SearchSet) -> None:
    plan = cv_plan(data, CpcvSettings(4, 2, 0.01))
    grid = np.asarray(THRESHOLD_GRID)
    a = cross_validate(data, plan, FOREST, FEATURES, thresholds=grid, min_trades=20, seed=3)
    b = cross_validate(data, plan, FOREST, FEATURES, thresholds=grid, min_trades=20, seed=3)
    assert a.paths.shape == (3, len(data))
    assert np.array_equal(a.paths, b.paths)
    assert np.array_equal(a.curve.path_sharpe, b.curve.path_sharpe, equal_nan=True)


def test_cross_validate_scores_each_test_set_with_a_forest_trained_on_its_train_set(data: SearchSet) -> None:
    plan = cv_plan(data, CpcvSettings(4, 2, 0.01))
    cols = data.columns(FEATURES)
    result = cross_validate(data, plan, FOREST, FEATURES, thresholds=np.asarray(THRESHOLD_GRID), min_trades=20,
                            seed=3)
    train, test = plan.splits[4]
    model = make_forest(FOREST, seed=3).fit(data.X[train][:, cols], data.label[train])
    assert np.array_equal(result.split_scores[4], model.predict_proba(data.X[test][:, cols])[:, 1])


def test_cross_validate_reports_one_running_value_per_fold_in_fold_order(data: SearchSet) -> None:
    plan = cv_plan(data, CpcvSettings(4, 2, 0.01))
    seen: list[tuple[int, float]] = []
    cross_validate(data, plan, FOREST, FEATURES, thresholds=np.asarray(THRESHOLD_GRID), min_trades=20, seed=3,
                   on_fold=lambda step, value: seen.append((step, value)))
    assert [s for s, _ in seen] == list(range(6))
    assert all(math.isfinite(v) for _, v in seen)


def test_cross_validate_when_no_threshold_can_reach_the_trade_minimum_then_nan_reports(data: SearchSet) -> None:
    plan = cv_plan(data, CpcvSettings(4, 2, 0.01))
    seen: list[float] = []
    cross_validate(data, plan, FOREST, FEATURES, thresholds=np.asarray(THRESHOLD_GRID), min_trades=10 * len(data),
                   seed=3, on_fold=lambda step, value: seen.append(value))
    assert len(seen) == 6 and all(math.isnan(v) for v in seen)
