"""Trade-list performance figures on small inputs worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from multialpha.research.stats import (
    Concurrency,
    Drawdown,
    DrawdownEpisode,
    PerformanceSummary,
    breach_events,
    cagr,
    concurrent_positions,
    daily_pnl,
    drawdown_episodes,
    max_drawdown,
    profit_factor,
    summarize_trades,
    trade_dates,
    win_rate,
)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


# One week of CME trading days, Monday 4 to Friday 8 March 2024 (Chicago on CST, UTC-6).
WEEK = [date(2024, 3, d) for d in (4, 5, 6, 7, 8)]

# Five trades: (entry, exit, net P&L USD) and the trading day of each exit.
ENTRIES = [utc(4, 14), utc(4, 15), utc(5, 15), utc(7, 14), utc(7, 15)]
EXITS = [
    utc(4, 16),  # 10:00 Chicago -> Mon 4
    utc(4, 23, 30),  # 17:30 Chicago, after the 17:00 roll -> Tue 5
    utc(5, 20),  # 14:00 Chicago -> Tue 5
    utc(7, 18),  # 12:00 Chicago -> Thu 7
    utc(8, 15),  # 09:00 Chicago -> Fri 8
]
PNL = [300.0, -100.0, -400.0, 500.0, -200.0]
# Daily P&L: Mon +300, Tue -100 - 400 = -500, Wed 0 (no exit), Thu +500, Fri -200; total +100.
DAILY = [300.0, -500.0, 0.0, 500.0, -200.0]


def test_trade_dates_roll_at_17_chicago() -> None:
    assert trade_dates(EXITS) == [date(2024, 3, d) for d in (4, 5, 5, 7, 8)]


def test_trade_dates_follow_daylight_saving() -> None:
    # From Sunday 10 March 2024 Chicago is on CDT (UTC-5): 21:30 UTC is 16:30, 22:30 UTC is 17:30.
    assert trade_dates([utc(11, 21, 30), utc(11, 22, 30)]) == [date(2024, 3, 11), date(2024, 3, 12)]


def test_daily_pnl_sums_exits_per_trading_day_and_zero_fills_only_trading_days() -> None:
    daily = daily_pnl(EXITS, PNL, WEEK)
    assert daily.tolist() == DAILY
    assert [d.date() for d in daily.index] == WEEK  # no weekend rows, nothing carried forward
    assert daily.index.name == "trading_day"


def test_daily_pnl_when_calendar_skips_a_holiday_then_no_row_for_it() -> None:
    calendar = [date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 7), date(2024, 3, 8)]  # Wed 6 closed
    daily = daily_pnl(EXITS, PNL, calendar)
    assert daily.tolist() == [300.0, -500.0, 500.0, -200.0]


def test_daily_pnl_accepts_int64_ns_and_unsorted_calendar() -> None:
    ns = pd.DatetimeIndex(EXITS).as_unit("ns").asi8
    assert daily_pnl(ns, np.array(PNL), list(reversed(WEEK))).tolist() == DAILY


def test_daily_pnl_accepts_a_calendar_of_timestamps() -> None:
    sessions = pd.DatetimeIndex([pd.Timestamp(d) for d in WEEK])  # as pandas-market-calendars gives them
    assert daily_pnl(EXITS, PNL, sessions).tolist() == DAILY


def test_daily_pnl_when_exit_outside_the_calendar_then_value_error_names_the_trade() -> None:
    with pytest.raises(ValueError, match=r"exit_times: trade 4 exits on trading day 2024-03-08"):
        daily_pnl(EXITS, PNL, WEEK[:4])


def test_daily_pnl_when_lengths_differ_then_value_error() -> None:
    with pytest.raises(ValueError, match="pnl_usd: 4 values for 5 exit_times"):
        daily_pnl(EXITS, PNL[:4], WEEK)


def test_daily_pnl_when_exit_time_naive_datetime_then_read_as_utc() -> None:
    naive = [datetime(2024, 3, 4, 23, 30)]  # 17:30 Chicago -> Tue 5
    assert daily_pnl(naive, [10.0], WEEK).tolist() == [0.0, 10.0, 0.0, 0.0, 0.0]


def test_cagr_hand_computed() -> None:
    # equity 10,000 -> 10,100 over 5 trading days: 1.01 ** 50.4 - 1 = exp(50.4 * ln 1.01) - 1 = exp(0.501497) - 1 = 0.651191
    assert cagr(DAILY, 10_000.0) == pytest.approx(1.01 ** (252 / 5) - 1)
    assert cagr(DAILY, 10_000.0) == pytest.approx(0.651191, abs=1e-6)
    # a year of 252 days: +10 % is 10 %
    assert cagr([40.0] * 252, 100_000.0) == pytest.approx(0.1008)


def test_cagr_when_equity_wiped_out_then_minus_one() -> None:
    assert cagr([-600.0, -500.0], 1_000.0) == -1.0


def test_max_drawdown_hand_computed() -> None:
    # equity 10000 -> 10300, 9800, 9800, 10300, 10100: deepest fall 10300 -> 9800 = 500 = 500 / 10300 of peak
    assert max_drawdown(DAILY, 10_000.0) == Drawdown(usd=500.0, fraction_of_peak=pytest.approx(500 / 10300))


def test_max_drawdown_fraction_and_usd_can_come_from_different_falls() -> None:
    # equity 1000 -> 600 (400 down, 40 %), 3000, 2500 (500 down, 16.7 %)
    assert max_drawdown([-400.0, 2400.0, -500.0], 1_000.0) == Drawdown(usd=500.0, fraction_of_peak=0.4)


def test_max_drawdown_when_only_gains_then_zero() -> None:
    assert max_drawdown([10.0, 0.0, 5.0], 1_000.0) == Drawdown(usd=0.0, fraction_of_peak=0.0)


def test_drawdown_episodes_end_when_equity_is_back_at_the_peak() -> None:
    # cumulative 300, -200, -200, 300, 100: down from step 0's peak, back at it on step 3, down again
    assert drawdown_episodes(DAILY) == [
        DrawdownEpisode(peak_pos=0, trough_pos=1, recovery_pos=3, depth_usd=500.0),
        DrawdownEpisode(peak_pos=3, trough_pos=4, recovery_pos=None, depth_usd=200.0),
    ]


def test_drawdown_episodes_when_first_step_loses_then_peak_is_the_starting_capital() -> None:
    assert drawdown_episodes([-50.0, 60.0]) == [DrawdownEpisode(-1, 0, 1, 50.0)]


def test_breach_events_counts_distinct_episodes_beyond_the_level() -> None:
    assert len(breach_events(DAILY, 400.0)) == 1
    assert len(breach_events(DAILY, 100.0)) == 2  # the second, still open at the end, counts
    assert breach_events(DAILY, 500.0) == []  # reaching the level exactly is not going beyond it


def test_breach_events_when_one_episode_crosses_the_level_twice_then_one_event() -> None:
    # cumulative -600, -300, -700, +100: beyond -500 at steps 0 and 2, one episode until step 3
    assert breach_events([-600.0, 300.0, -400.0, 800.0], 500.0) == [DrawdownEpisode(-1, 2, 3, 700.0)]


def test_breach_events_when_two_recovered_episodes_then_two_events() -> None:
    # cumulative -600, 0 (recovered), -700, -100: two episodes beyond 500
    events = breach_events([-600.0, 600.0, -700.0, 600.0], 500.0)
    assert [(e.peak_pos, e.trough_pos, e.recovery_pos, e.depth_usd) for e in events] == [
        (-1, 0, 1, 600.0), (1, 2, None, 700.0)]


def test_breach_events_when_level_not_positive_then_value_error() -> None:
    with pytest.raises(ValueError, match="level_usd"):
        breach_events(DAILY, 0.0)


def test_profit_factor_and_win_rate_hand_computed() -> None:
    # gains 300 + 500 = 800, losses 100 + 400 + 200 = 700; 2 winners of 5
    assert profit_factor(PNL) == pytest.approx(8 / 7)
    assert win_rate(PNL) == pytest.approx(0.4)


def test_profit_factor_and_win_rate_edge_cases() -> None:
    assert profit_factor([10.0, 0.0]) == math.inf
    assert math.isnan(profit_factor([]))
    assert win_rate([0.0, 5.0]) == 0.5  # a flat trade is not a win
    assert math.isnan(win_rate([]))


def test_concurrent_positions_hand_computed() -> None:
    # two overlaps of two positions (Mon 15:00-16:00, Thu 15:00-18:00 UTC), never three.
    # held 2 + 8.5 + 5 + 4 + 24 = 43.5 h over Mon 14:00 -> Fri 15:00 = 97 h -> 0.448454 on average
    assert concurrent_positions(ENTRIES, EXITS) == Concurrency(average=pytest.approx(43.5 / 97), max=2)


def test_concurrent_positions_when_entries_and_exits_differ_in_time_type_then_same_answer() -> None:
    exits_ns = pd.DatetimeIndex(EXITS).as_unit("ns").tz_localize(None).to_numpy()  # datetime64[ns], UTC
    assert concurrent_positions(ENTRIES, exits_ns) == concurrent_positions(ENTRIES, EXITS)


def test_concurrent_positions_when_one_exits_as_the_next_enters_then_not_concurrent() -> None:
    assert concurrent_positions([0, 10], [10, 20]) == Concurrency(average=1.0, max=1)
    assert concurrent_positions([0, 9], [10, 20]).max == 2


def test_concurrent_positions_when_no_trades_then_zero() -> None:
    assert concurrent_positions([], []) == Concurrency(average=0.0, max=0)


def test_concurrent_positions_when_exit_before_entry_then_value_error() -> None:
    with pytest.raises(ValueError, match="exit_times: trade 1 exits before it enters"):
        concurrent_positions([0, 10], [5, 9])


@pytest.mark.parametrize(("call", "argument"), [
    (lambda: cagr(DAILY, 0.0), "starting_capital_usd"),
    (lambda: max_drawdown(DAILY, -1.0), "starting_capital_usd"),
    (lambda: profit_factor([1.0, float("nan")]), "pnl_usd"),
    (lambda: daily_pnl(EXITS, PNL, []), "trading_days"),
    (lambda: daily_pnl(EXITS, PNL, ["2024-03-04", "Monday"]), "trading_days"),
    (lambda: daily_pnl(["not a time"] * 5, PNL, WEEK), "exit_times"),
])
def test_when_argument_invalid_then_value_error_names_it(call: Callable[[], object], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        call()


def test_summarize_trades_gathers_the_hand_computed_figures() -> None:
    summary = summarize_trades(ENTRIES, EXITS, PNL, trading_days=WEEK, starting_capital_usd=10_000.0,
                               breach_level_usd=400.0)
    assert summary == PerformanceSummary(
        trade_count=5,
        net_pnl_usd=100.0,
        sharpe=pytest.approx(0.801273, abs=1e-6),
        sortino=pytest.approx(1.318306, abs=1e-6),
        cagr=pytest.approx(0.651191, abs=1e-6),
        max_drawdown_usd=500.0,
        max_drawdown_fraction=pytest.approx(500 / 10300),
        breach_events=1,
        profit_factor=pytest.approx(8 / 7),
        win_rate=pytest.approx(0.4),
        avg_concurrent_positions=pytest.approx(43.5 / 97),
        max_concurrent_positions=2,
    )
