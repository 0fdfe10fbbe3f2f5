"""One pair end to end: the bundle the daemon loads, the hold-out kept out of the search."""

from __future__ import annotations

import json

import numpy as np
import pytest
from multialpha.research.engine import run_instrument
from multialpha.research.ml.dataset import holdout_bars
from multialpha.research.ml.settings import Periods
from multialpha.research.ml.train import load_pair, train_filter, train_pair

from multialpha.calendar import day_number
from multialpha.contracts import load_contracts
from multialpha.features import BarArrays, trading_day_ids
from multialpha.models import load_model_bundle, sha256_file
from multialpha.strategy.ibs import IBS
from multialpha.strategy.params import IbsParams

from .conftest import CONTRACTS, HOLDOUT_START, PARAMS, TINY, MakeSpec

FEATURES = ("ibs", "prev_ibs", "rsi2", "atr_z", "volume_z", "daily_ibs", "VX_hourly_return", "ZB_daily_z")


def test_trained_bundle_loads_and_trades_in_the_step_as_its_holdout_says(make_spec: MakeSpec) -> None:
    spec = make_spec("ES", report=True)
    result = train_pair(spec)

    bundle = load_model_bundle("ES", spec.bundle_dir)
    meta = dict(bundle.meta)
    assert result.json_path == spec.bundle_dir / "ES_best.json"
    assert bundle.sha256 == meta["Model_SHA256"] == sha256_file(spec.bundle_dir / meta["Model_File"])
    assert bundle.threshold == result.threshold and bundle.features == result.features
    assert meta["Params"] == IbsParams.from_mapping(PARAMS).__dict__
    assert {"Sharpe", "Profit_Factor", "Trades", "Deflated_Sharpe", "Probabilistic_Sharpe", "Holdout", "Data",
            "Search", "Versions"} <= set(meta)
    assert meta["Search"]["Trials"]["finished"] == TINY.trials
    assert meta["Metrics_Basis"].startswith("out of sample")
    assert meta["Data"]["search_to"] < HOLDOUT_START.isoformat() <= meta["Data"]["holdout_from"]

    # The saved bundle, loaded as the daemon loads it, trades the hold-out as recorded.
    data = load_pair(spec)
    window = holdout_bars(data.bars, spec.periods, context="ES")
    run = run_instrument(window.bars, IBS, data.params, data.contract, strategy="alpha", model=bundle,
                         refs=data.refs, first_bar=window.first_bar)
    recorded = meta["Holdout"]["filtered"]
    assert len(run.trades) == recorded["trades"] > 0
    assert sum(t.pnl for t in run.trades) == pytest.approx(recorded["net_pnl_usd"])
    assert meta["Holdout"]["unfiltered"]["trades"] >= recorded["trades"]
    assert result.report_path is not None and result.report_path.is_file()
    assert (result.report_path.parent / "ES.png").stat().st_size > 10_000


def test_search_and_threshold_when_holdout_bars_are_removed_then_identical(
        sample_bars: dict[str, BarArrays]) -> None:
    """If any hold-out row reached the objective or the threshold choice, cutting the hold-out
    off the bars would change a trial's value or the threshold."""
    contract = load_contracts(CONTRACTS)["CL"]
    params = IbsParams.from_mapping(PARAMS)

    def cut(b: BarArrays) -> BarArrays:
        return b.slice(slice(0, int(np.searchsorted(trading_day_ids(b.close_ts), day_number(HOLDOUT_START)))))

    full = train_filter(sample_bars["CL"], {r: sample_bars[r] for r in ("ZB", "VX")}, params, contract, FEATURES,
                        HOLDOUT_START, settings=TINY)
    short = train_filter(cut(sample_bars["CL"]), {r: cut(sample_bars[r]) for r in ("ZB", "VX")}, params, contract,
                         FEATURES, HOLDOUT_START, settings=TINY)
    assert len(cut(sample_bars["CL"])) < len(sample_bars["CL"]) - 500
    assert full.study is not short.study and len(full.study.trials) == TINY.trials
    assert [(t.params, t.value, t.state) for t in full.study.trials] == \
           [(t.params, t.value, t.state) for t in short.study.trials]
    assert (full.threshold, full.features) == (short.threshold, short.features)
    assert np.array_equal(full.selection.cv.paths, short.selection.cv.paths)


def test_objective_rows_all_exit_before_the_holdout_starts(make_spec: MakeSpec) -> None:
    data = load_pair(make_spec("CL"))
    holdout_ns = np.datetime64(HOLDOUT_START.isoformat(), "ns").astype(np.int64)
    assert len(data.search) > 100
    assert int(data.search.exit_ns.max()) < holdout_ns
    days = trading_day_ids(data.bars.close_ts)
    assert int(days[data.search.spans[:, 1]].max()) < day_number(HOLDOUT_START)  # by trade date too
    assert int(days[data.window.first_bar]) >= day_number(HOLDOUT_START)


def test_train_filter_when_feature_search_off_then_uses_the_features_given_in_order(
        sample_bars: dict[str, BarArrays]) -> None:
    import dataclasses

    fit = train_filter(sample_bars["ES"], {"VX": sample_bars["VX"]}, IbsParams.from_mapping(PARAMS),
                       load_contracts(CONTRACTS)["ES"], ("rsi2", "ibs", "VX_hourly_return"), HOLDOUT_START,
                       settings=dataclasses.replace(TINY, search_features=False))
    assert fit.features == ("rsi2", "ibs", "VX_hourly_return")
    assert fit.model.n_features_in_ == 3 and 0 < fit.threshold < 1


def test_bundle_records_the_search_and_holdout_periods_with_a_study_in_memory(make_spec: MakeSpec) -> None:
    from datetime import date

    spec = make_spec("CL", storage=None, periods=Periods(holdout_start=HOLDOUT_START, train_start=date(2023, 9, 1),
                                                         holdout_end=date(2024, 5, 31)))
    train_pair(spec)
    meta = json.loads((spec.bundle_dir / "CL_best.json").read_text())
    assert meta["Data"]["search_from"] == "2023-09-01"
    assert (meta["Data"]["holdout_from"], meta["Data"]["holdout_to"]) == ("2024-04-01", "2024-05-31")
    assert meta["Holdout"]["to"] == "2024-05-31"
    assert meta["Search"]["Storage"] == "memory"
