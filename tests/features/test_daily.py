"""Trading days and session aggregation, including both daylight-saving changes of 2024."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from multialpha.calendar import session_open, trading_day
from multialpha.features import BarArrays, compute_features, daily_bars, trading_day_ids
from multialpha.features.daily import day_of_week, exchange_hour, exchange_minutes, month_of

NS = 1_000_000_000
EPOCH = date(1970, 1, 1)


def _ns(dt: datetime) -> int:
    return int(dt.timestamp()) * NS


def _day_id(d: date) -> int:
    return (d - EPOCH).days


def test_trading_day_ids_match_the_calendar_rule_for_every_hour_around_both_dst_changes() -> None:
    instants = []
    for first in (datetime(2024, 3, 8, tzinfo=UTC), datetime(2024, 11, 1, tzinfo=UTC)):
        instants += [first + timedelta(minutes=30 * k) for k in range(4 * 48)]
    ids = trading_day_ids(np.array([_ns(t) for t in instants], dtype=np.int64))
    assert ids.dtype == np.int32
    assert ids.tolist() == [_day_id(trading_day(t)) for t in instants]


def test_trading_day_ids_match_the_calendar_rule_across_decades() -> None:
    rng = np.random.default_rng(0)
    seconds = rng.integers(_ns(datetime(1975, 1, 1, tzinfo=UTC)) // NS,
                           _ns(datetime(2090, 1, 1, tzinfo=UTC)) // NS, 3000)
    expected = [_day_id(trading_day(datetime.fromtimestamp(int(s), UTC))) for s in seconds]
    assert trading_day_ids(seconds * NS).tolist() == expected


def test_trading_day_rolls_at_1700_chicago_in_winter_and_summer() -> None:
    winter_1659 = _ns(datetime(2024, 1, 8, 22, 59, tzinfo=UTC))  # 16:59 CST Monday
    winter_1700 = _ns(datetime(2024, 1, 8, 23, 0, tzinfo=UTC))  # 17:00 CST
    summer_1700 = _ns(datetime(2024, 7, 8, 22, 0, tzinfo=UTC))  # 17:00 CDT Monday
    ids = trading_day_ids(np.array([winter_1659, winter_1700, summer_1700]))
    assert ids.tolist() == [_day_id(date(2024, 1, 8)), _day_id(date(2024, 1, 9)), _day_id(date(2024, 7, 9))]


def test_day_of_week_and_month_of_day_ids() -> None:
    ids = np.array([_day_id(date(2024, 1, 1)), _day_id(date(2024, 2, 4)), _day_id(date(1969, 12, 31))])
    assert day_of_week(ids).tolist() == [0, 6, 2]
    assert month_of(ids).tolist() == [1, 2, 12]


def test_exchange_hour_follows_daylight_saving() -> None:
    ts = np.array([_ns(datetime(2024, 3, 8, 22, tzinfo=UTC)), _ns(datetime(2024, 3, 11, 22, tzinfo=UTC))])
    assert exchange_hour(ts).tolist() == [16, 17]


@pytest.mark.parametrize(("friday", "monday"), [(date(2024, 3, 8), date(2024, 3, 11)),
                                                (date(2024, 11, 1), date(2024, 11, 4))])
def test_sessions_either_side_of_a_dst_weekend_hold_23_bars_from_the_1700_open(
        build, friday: date, monday: date) -> None:
    ts = build.session_ts(friday) + build.session_ts(monday)
    ohlcv = [(100 + k, 101 + k, 99 + k, 100.5 + k, 10.0) for k in range(len(ts))]
    bars = build.bars_from("ES", ts, ohlcv)
    d = daily_bars(bars)
    assert d.day.tolist() == [_day_id(friday), _day_id(monday)]
    assert d.sessions.first.tolist() == [0, 23] and d.sessions.last.tolist() == [22, 45]
    # Session opens move by an hour in UTC across the change; the rule follows them.
    assert [int(bars.ts[i]) for i in d.sessions.first] == [_ns(session_open(friday)), _ns(session_open(monday))]
    assert d.open.tolist() == [100.0, 123.0]
    assert d.high.tolist() == [101.0 + 22, 101.0 + 45]
    assert d.low.tolist() == [99.0, 99.0 + 23]
    assert d.close.tolist() == [100.5 + 22, 100.5 + 45]
    assert d.volume.tolist() == [230.0, 230.0]


def test_a_first_session_joined_late_has_unknown_open_high_low_but_a_known_close(build) -> None:
    ts = build.session_ts(date(2024, 1, 9), range(5, 8)) + build.session_ts(date(2024, 1, 10), range(2))
    bars = build.bars_from("ES", ts, [(10, 12, 9, 11, 1)] * 5)
    d = daily_bars(bars)
    assert not d.sessions.first_complete
    assert np.isnan([d.open[0], d.high[0], d.low[0], d.volume[0]]).all()
    assert d.close.tolist() == [11.0, 11.0] and d.high[1] == 12.0


def test_the_engine_keeps_sessions_as_the_calendar_does_around_the_clock_across_dst_and_holidays() -> None:
    # Every hour from February to December 2024. A session holds every hour from the previous
    # trade date's 17:00 roll: 24 bars on an ordinary weekday, 48 after a midweek holiday, 72
    # from Friday to Monday (71 and 73 on the DST weekends), 96 with a Friday or Monday holiday.
    # The compiled engine's session roll, weekday, month and close hour against the vectorized
    # functions.
    start = np.datetime64("2024-02-01T00:00", "ns").astype(np.int64)
    ts = start + np.arange(24 * 320, dtype=np.int64) * 3600 * NS
    close = 100.0 + (np.arange(ts.shape[0]) % 7)
    bars = BarArrays("ES", ts, close, close + 1, close - 1, close, np.ones(ts.shape[0]), 0.25)
    names = ["dow", "month", "hour", "day_return", "prev_daily_ibs"]
    f = compute_features(bars, names)
    days = trading_day_ids(ts)
    assert f[:, 0].tolist() == day_of_week(days).tolist()
    assert f[:, 1].tolist() == month_of(days).tolist()
    assert f[:, 2].tolist() == exchange_hour(bars.close_ts).tolist()
    d = daily_bars(bars)
    assert sorted(set(np.bincount(d.sessions.bar_session)[1:-1].tolist())) == [24, 48, 71, 72, 73, 96]
    row = d.sessions.bar_session
    later = row > 0
    expected_return = bars.close[later] / d.close[row[later] - 1] - 1
    assert np.allclose(f[later, 3], expected_return, rtol=0, atol=1e-15)
    first_complete_later = row > 1  # the data starts at 18:00 Chicago: the first session is partial
    prev = row[first_complete_later] - 1
    expected_ibs = (d.close[prev] - d.low[prev]) / (d.high[prev] - d.low[prev])
    assert np.allclose(f[first_complete_later, 4], expected_ibs, rtol=0, atol=1e-15)
    assert np.isnan(f[row <= 1, 4]).all()


def test_exchange_minutes_match_zoneinfo_across_both_dst_changes():
    ts = pd.date_range("2024-03-09", "2024-03-12", freq="7min", tz="UTC").append(
        pd.date_range("2024-11-02", "2024-11-05", freq="13min", tz="UTC"))
    local = ts.tz_convert("America/Chicago")
    expected = (local.hour * 60 + local.minute).to_numpy()
    assert np.array_equal(exchange_minutes(ts.as_unit("ns").asi8), expected)


def test_exchange_minutes_match_zoneinfo_hour_by_hour_over_several_years():
    ts = pd.date_range("2022-12-31 20:00", "2026-01-02", freq="h", tz="UTC")
    local = ts.tz_convert("America/Chicago")
    assert np.array_equal(exchange_minutes(ts.as_unit("ns").asi8), (local.hour * 60 + local.minute).to_numpy())


def test_trading_day_ids_equal_the_calendar_trade_date_for_every_hour_of_two_years() -> None:
    ts = pd.date_range("2023-01-01", "2024-12-31 23:00", freq="h", tz="UTC")
    expected = [_day_id(trading_day(t.to_pydatetime())) for t in ts]
    assert trading_day_ids(ts.as_unit("ns").asi8).tolist() == expected


@pytest.mark.parametrize(("holiday", "trade_date"), [(date(2024, 1, 15), date(2024, 1, 16)),  # MLK day
                                                     (date(2024, 7, 4), date(2024, 7, 5)),
                                                     (date(2024, 11, 28), date(2024, 11, 29))])  # Thanksgiving
def test_a_holidays_globex_hours_join_the_next_trade_dates_session_in_both_engines(
        build, holiday: date, trade_date: date) -> None:
    before = holiday - timedelta(days=3 if holiday.weekday() == 0 else 1)
    # The session before, the holiday's hours until the 12:00 early halt, the next trade date.
    ts = build.session_ts(before) + build.session_ts(holiday, range(19)) + build.session_ts(trade_date)
    bars = build.bars_from("ES", ts, [(100 + k, 101 + k, 99 + k, 100 + k, 1.0) for k in range(len(ts))])
    d = daily_bars(bars)
    assert d.day.tolist() == [_day_id(before), _day_id(trade_date)]
    assert d.sessions.first.tolist() == [0, 23] and d.open[1] == 123.0 and d.volume[1] == 19 + 23
    f = compute_features(bars, ["dow", "month", "day_return"])
    assert f[23:, 0].tolist() == [float(trade_date.weekday())] * (19 + 23)
    assert f[23, 2] == 123.0 / 122.0 - 1  # against the close of the session before


def test_data_starting_at_a_holidays_17_00_reopen_has_a_partial_first_session(build) -> None:
    # On 2024-01-15 17:00 the session of 2024-01-16 is already open since Sunday evening.
    late = build.bars_from("ES", build.session_ts(date(2024, 1, 16)), [(10, 12, 9, 11, 1)] * 23)
    assert not daily_bars(late).sessions.first_complete
    assert np.isnan(compute_features(late, ["daily_ibs"])).all()
    # From the Sunday 17:00 open (MLK day's hours included) it is complete.
    ts = build.session_ts(date(2024, 1, 15), range(19)) + build.session_ts(date(2024, 1, 16))
    full = build.bars_from("ES", ts, [(10, 12, 9, 11, 1)] * len(ts))
    assert daily_bars(full).sessions.first_complete
    assert compute_features(full, ["daily_ibs"])[-1, 0] == pytest.approx(2 / 3)
