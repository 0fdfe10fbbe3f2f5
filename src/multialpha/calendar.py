"""The exchange's trading day.

A CME Globex trading day D runs from 17:00 America/Chicago on the previous calendar day to
16:00 on D (the hour in between is the daily maintenance break). So an instant belongs to
the next calendar day's trading day from 17:00 Chicago time on, whatever UTC says, and the
rule follows daylight-saving changes because it is evaluated in Chicago time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

EXCHANGE_TZ = ZoneInfo("America/Chicago")
SESSION_ROLL = time(17, 0)  # a new trading day starts here (exchange time)
SESSION_CLOSE = time(16, 0)  # the trading day ends here (exchange time)


def _aware(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError(f"timestamp {ts.isoformat()} has no timezone; pass UTC-aware datetimes")
    return ts


def to_exchange(ts: datetime) -> datetime:
    """The same instant in exchange (Chicago) time."""
    return _aware(ts).astimezone(EXCHANGE_TZ)


def trading_day(ts: datetime) -> date:
    """The CME trading day an instant belongs to (rolls at 17:00 America/Chicago)."""
    local = to_exchange(ts)
    if local.time() >= SESSION_ROLL:
        return local.date() + timedelta(days=1)
    return local.date()


def session_open(day: date) -> datetime:
    """UTC instant at which trading day ``day`` opens (17:00 Chicago, the evening before)."""
    local = datetime.combine(day - timedelta(days=1), SESSION_ROLL, tzinfo=EXCHANGE_TZ)
    return local.astimezone(UTC)


def session_close(day: date) -> datetime:
    """UTC instant at which trading day ``day`` closes (16:00 Chicago)."""
    return datetime.combine(day, SESSION_CLOSE, tzinfo=EXCHANGE_TZ).astimezone(UTC)


@lru_cache(maxsize=32)
def exchange_sessions(calendar_name: str, start: date, end: date) -> tuple[date, ...]:
    """Trading days (holidays removed) of a pandas-market-calendars calendar, inclusive."""
    import pandas_market_calendars as mcal

    cal = mcal.get_calendar(calendar_name)
    days = cal.valid_days(start_date=start.isoformat(), end_date=end.isoformat())
    return tuple(d.date() for d in days)

