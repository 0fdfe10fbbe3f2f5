from datetime import UTC, date, datetime, time, timedelta

import pytest

from multialpha.calendar import (
    TABLE_YEARS,
    exchange_sessions,
    is_trade_date,
    next_trade_date,
    previous_trade_date,
    session_close,
    session_open,
    trade_dates_before,
    trading_day,
)


@pytest.mark.parametrize(("utc", "day"), [
    # winter (CST, UTC-6): the day rolls at 23:00 UTC
    (datetime(2024, 1, 9, 22, 59, tzinfo=UTC), date(2024, 1, 9)),
    (datetime(2024, 1, 9, 23, 0, tzinfo=UTC), date(2024, 1, 10)),
    # summer (CDT, UTC-5): at 22:00 UTC
    (datetime(2024, 7, 9, 21, 59, tzinfo=UTC), date(2024, 7, 9)),
    (datetime(2024, 7, 9, 22, 0, tzinfo=UTC), date(2024, 7, 10)),
    # DST weeks: Thursday 2024-03-14 (CDT, 17:00 = 22:00 UTC), Thursday 2024-11-07 (CST, 23:00 UTC)
    (datetime(2024, 3, 14, 21, 59, tzinfo=UTC), date(2024, 3, 14)),
    (datetime(2024, 3, 14, 22, 0, tzinfo=UTC), date(2024, 3, 15)),
    (datetime(2024, 11, 7, 22, 30, tzinfo=UTC), date(2024, 11, 7)),
    (datetime(2024, 11, 7, 23, 0, tzinfo=UTC), date(2024, 11, 8)),
    # Friday's session ends 16:00 CT and belongs to Friday; not UTC midnight
    (datetime(2024, 1, 12, 21, 0, tzinfo=UTC), date(2024, 1, 12)),
    (datetime(2024, 1, 10, 1, 0, tzinfo=UTC), date(2024, 1, 10)),
])
def test_trading_day_rolls_at_1700_chicago_not_utc_midnight(utc, day):
    assert trading_day(utc) == day


def test_session_bounds_in_utc_follow_dst():
    assert session_open(date(2024, 3, 11)) == datetime(2024, 3, 10, 22, tzinfo=UTC)
    assert session_close(date(2024, 3, 11)) == datetime(2024, 3, 11, 21, tzinfo=UTC)
    assert session_open(date(2024, 1, 10)) == datetime(2024, 1, 9, 23, tzinfo=UTC)


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        trading_day(datetime(2024, 1, 9, 12))


def test_exchange_sessions_drop_cme_holidays():
    days = exchange_sessions("CME_Equity", date(2024, 12, 23), date(2024, 12, 27))
    assert date(2024, 12, 25) not in days and date(2024, 12, 24) in days


@pytest.mark.parametrize(("utc", "day"), [
    # MLK day 2024-01-15: Globex trades Sunday evening to the Monday early halt, then from
    # Monday 17:00; all of it clears on Tuesday 2024-01-16
    (datetime(2024, 1, 15, 0, 0, tzinfo=UTC), date(2024, 1, 16)),  # Sunday 18:00 CST
    (datetime(2024, 1, 15, 15, 0, tzinfo=UTC), date(2024, 1, 16)),  # Monday 09:00 CST
    (datetime(2024, 1, 15, 23, 0, tzinfo=UTC), date(2024, 1, 16)),  # Monday 17:00 CST
    # Independence Day 2024 (Thursday) -> Friday 2024-07-05
    (datetime(2024, 7, 4, 14, 0, tzinfo=UTC), date(2024, 7, 5)),
    # Thanksgiving 2024-11-28 -> the day after, itself a trade date with an early close
    (datetime(2024, 11, 28, 16, 0, tzinfo=UTC), date(2024, 11, 29)),
    (datetime(2024, 11, 29, 17, 0, tzinfo=UTC), date(2024, 11, 29)),
    # Good Friday 2024-03-29: Thursday's evening session clears on Monday 2024-04-01
    (datetime(2024, 3, 28, 23, 0, tzinfo=UTC), date(2024, 4, 1)),
    # Christmas Eve (early close) is a trade date; Christmas is not
    (datetime(2024, 12, 24, 15, 0, tzinfo=UTC), date(2024, 12, 24)),
    (datetime(2024, 12, 25, 23, 0, tzinfo=UTC), date(2024, 12, 26)),
])
def test_trading_day_of_a_cme_holiday_is_the_next_trade_date(utc, day):
    assert trading_day(utc) == day


def test_trading_day_of_an_ordinary_sunday_evening_bar_is_monday():
    assert trading_day(datetime(2024, 3, 3, 23, 0, tzinfo=UTC)) == date(2024, 3, 4)  # 17:00 CST
    # the DST Sunday: 17:00 CDT is 22:00 UTC
    assert trading_day(datetime(2024, 3, 10, 22, 0, tzinfo=UTC)) == date(2024, 3, 11)


def test_weekend_and_holiday_days_are_never_trade_dates():
    days = [date(2024, 1, 1) + timedelta(days=k) for k in range(366)]
    trade = [d for d in days if is_trade_date(d)]
    assert all(d.weekday() < 5 for d in trade)
    holidays = {d for d in days if d.weekday() < 5} - set(trade)
    assert sorted(holidays) == [date(2024, 1, 1), date(2024, 1, 15), date(2024, 2, 19), date(2024, 3, 29),
                                date(2024, 5, 27), date(2024, 6, 19), date(2024, 7, 4), date(2024, 9, 2),
                                date(2024, 11, 28), date(2024, 12, 25)]
    assert {trading_day(datetime.combine(d, time(12), tzinfo=UTC)) for d in days} == set(trade)


def test_next_and_previous_trade_dates_skip_weekends_and_holidays():
    assert next_trade_date(date(2024, 1, 13)) == date(2024, 1, 16)  # Saturday, then MLK day
    assert previous_trade_date(date(2024, 1, 16)) == date(2024, 1, 12)
    assert trade_dates_before(date(2024, 7, 8), 3) == date(2024, 7, 2)  # over July 4
    with pytest.raises(ValueError, match="count"):
        trade_dates_before(date(2024, 7, 8), 0)


def test_outside_the_table_years_only_weekends_are_skipped():
    assert TABLE_YEARS[0] > 1975 and TABLE_YEARS[-1] < 2150
    assert next_trade_date(date(1975, 1, 1)) == date(1975, 1, 1)  # New Year's Day, a Wednesday
    assert next_trade_date(date(2150, 12, 26)) == date(2150, 12, 28)  # Saturday -> Monday
