"""The search set stops before the hold-out; calendars are CME trade dates; bad dates are refused."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from multialpha.research.errors import ResearchError
from multialpha.research.ml.dataset import holdout_bars, search_set, trade_dates_between
from multialpha.research.ml.extract import Candidates, extract_candidates
from multialpha.research.ml.settings import Periods

from multialpha.calendar import day_number, from_day_number, is_trade_date
from multialpha.contracts import load_contracts
from multialpha.features import BarArrays, reference_features, trading_day_ids
from multialpha.strategy.ibs import IBS
from multialpha.strategy.params import IbsParams

from .conftest import CONTRACTS, HOLDOUT_START, PARAMS


@pytest.fixture(scope="module")
def es(sample_bars: dict[str, BarArrays]) -> tuple[BarArrays, Candidates]:
    bars = sample_bars["ES"]
    refs = {r: reference_features(sample_bars[r]) for r in ("ZB", "VX")}
    cand = extract_candidates(bars, IBS, IbsParams.from_mapping(PARAMS), load_contracts(CONTRACTS)["ES"],
                              ["ibs", "rsi2", "VX_daily_z"], refs)
    return bars, cand


def test_trade_dates_between_skips_weekends_and_cme_holidays() -> None:
    days = [from_day_number(int(d)) for d in trade_dates_between(date(2024, 3, 27), date(2024, 4, 2))]
    assert days == [date(2024, 3, 27), date(2024, 3, 28), date(2024, 4, 1), date(2024, 4, 2)]  # Good Friday
    assert all(is_trade_date(d) for d in days)


def test_search_set_when_trades_exit_in_the_holdout_then_left_out(es: tuple[BarArrays, Candidates]) -> None:
    bars, cand = es
    data = search_set(cand, bars, Periods(holdout_start=HOLDOUT_START), context="ES")
    days = trading_day_ids(bars.close_ts)
    exits_after = days[cand.exit_idx] >= day_number(HOLDOUT_START)
    assert exits_after.any()
    assert len(data) == int((~exits_after & np.isfinite(cand.X).all(axis=1)).sum())
    assert data.last_day < HOLDOUT_START and data.calendar[-1] < day_number(HOLDOUT_START)
    assert int(days[data.spans[:, 1]].max()) < day_number(HOLDOUT_START)
    assert np.isfinite(data.X).all()


def test_search_set_days_index_the_calendar_of_trade_dates(es: tuple[BarArrays, Candidates]) -> None:
    bars, cand = es
    data = search_set(cand, bars, Periods(holdout_start=HOLDOUT_START), context="ES")
    days = trading_day_ids(bars.close_ts)
    assert data.calendar[data.exit_day].tolist() == days[data.spans[:, 1]].tolist()
    assert data.calendar[data.entry_day].tolist() == days[data.spans[:, 0]].tolist()
    assert all(is_trade_date(from_day_number(int(d))) for d in data.calendar)


def test_search_set_when_train_start_given_then_no_earlier_entry(es: tuple[BarArrays, Candidates]) -> None:
    bars, cand = es
    start = date(2023, 10, 2)
    data = search_set(cand, bars, Periods(holdout_start=HOLDOUT_START, train_start=start), context="ES")
    assert data.first_day == start
    assert int(trading_day_ids(bars.close_ts)[data.spans[0, 0]]) >= day_number(start)


def test_holdout_bars_begin_at_the_holdout_and_end_at_its_end(es: tuple[BarArrays, Candidates]) -> None:
    bars, _ = es
    window = holdout_bars(bars, Periods(holdout_start=HOLDOUT_START, holdout_end=date(2024, 5, 31)), context="ES")
    days = trading_day_ids(window.bars.close_ts)
    assert days[window.first_bar] >= day_number(HOLDOUT_START) > days[window.first_bar - 1]
    assert from_day_number(int(days[-1])) == date(2024, 5, 31) == window.last_day
    assert window.first_day == date(2024, 4, 1)


def test_holdout_bars_when_holdout_after_the_data_then_training_error(es: tuple[BarArrays, Candidates]) -> None:
    with pytest.raises(ResearchError, match="ES: no bars in the hold-out from 2030-01-01"):
        holdout_bars(es[0], Periods(holdout_start=date(2030, 1, 1)), context="ES")


def test_search_set_when_holdout_before_the_data_then_training_error(es: tuple[BarArrays, Candidates]) -> None:
    bars, cand = es
    with pytest.raises(ResearchError, match="no bars before the hold-out start 2020-01-01"):
        search_set(cand, bars, Periods(holdout_start=date(2020, 1, 1)), context="ES")


def test_periods_when_dates_out_of_order_then_training_error() -> None:
    with pytest.raises(ResearchError, match="train start 2024-01-01 must be before the hold-out start 2023-01-01"):
        Periods(holdout_start=date(2023, 1, 1), train_start=date(2024, 1, 1))
    with pytest.raises(ResearchError, match="hold-out end 2022-12-31 is before the hold-out start"):
        Periods(holdout_start=date(2023, 1, 1), holdout_end=date(2022, 12, 31))
