from datetime import UTC, date, datetime

import pytest

from multialpha.calendar import exchange_sessions, session_close, session_open, trading_day


@pytest.mark.parametrize(("utc", "day"), [
    # winter (CST, UTC-6): the day rolls at 23:00 UTC
    (datetime(2024, 1, 9, 22, 59, tzinfo=UTC), date(2024, 1, 9)),
    (datetime(2024, 1, 9, 23, 0, tzinfo=UTC), date(2024, 1, 10)),
    # summer (CDT, UTC-5): at 22:00 UTC
    (datetime(2024, 7, 9, 21, 59, tzinfo=UTC), date(2024, 7, 9)),
    (datetime(2024, 7, 9, 22, 0, tzinfo=UTC), date(2024, 7, 10)),
    # Sunday 2024-03-10 is the DST change: 17:00 CDT = 22:00 UTC opens Monday
    (datetime(2024, 3, 10, 21, 59, tzinfo=UTC), date(2024, 3, 10)),
    (datetime(2024, 3, 10, 22, 0, tzinfo=UTC), date(2024, 3, 11)),
    # Sunday 2024-11-03 back to CST: 17:00 CST = 23:00 UTC
    (datetime(2024, 11, 3, 22, 30, tzinfo=UTC), date(2024, 11, 3)),
    (datetime(2024, 11, 3, 23, 0, tzinfo=UTC), date(2024, 11, 4)),
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
