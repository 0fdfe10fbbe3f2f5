"""The exchange's trade dates (CME).

An instant's trade date takes two steps:

1. its *17:00-roll date*: the Chicago calendar date, plus one day from 17:00 Chicago time on
   (the Globex session that opens at 17:00 trades for the next day). Evaluated in Chicago
   time, so it follows daylight saving.
2. the first CME trade date on or after that date.

CME trade dates are the weekdays that CME clears, taken from pandas-market-calendars'
``CME_TradeDate`` calendar: New Year's Day, Martin Luther King Jr. Day, Presidents Day, Good
Friday, Memorial Day, Juneteenth (from 2022), Independence Day, Labor Day, Thanksgiving,
Christmas and the national days of mourning are not trade dates. So a Sunday-evening bar
belongs to Monday, and on a holiday on which Globex still trades until an early halt (MLK,
Presidents Day, Memorial Day, Juneteenth, July 4, Labor Day, Thanksgiving) those hours
belong to the next trade date, as CME clears them. Christmas Eve and the day after
Thanksgiving are trade dates (with an early close).

One calendar serves every contract: the account's trading day (daily P&L, the daily stop),
the feature engine's daily bars and the roll schedule all use it. The per-exchange
calendars (``CME_Equity``, ``CMEGlobex_*``) list those early-halt holidays as sessions of
their own, so they are not used for trade dates.

The table of trade dates is built once per process for ``TABLE_YEARS``; a look-up is then
one index. Outside those years only weekends are skipped.
"""

from __future__ import annotations

from array import array
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

EXCHANGE_TZ = ZoneInfo("America/Chicago")
SESSION_ROLL = time(17, 0)  # a new trading day starts here (exchange time)
SESSION_CLOSE = time(16, 0)  # the trading day ends here (exchange time)
TRADE_DATE_CALENDAR = "CME_TradeDate"  # pandas-market-calendars name
TABLE_YEARS = range(1980, 2101)  # years whose holidays are known to the trade-date table
EPOCH = date(1970, 1, 1)  # day numbers count from here
TABLE_FIRST_DAY = (date(TABLE_YEARS[0], 1, 1) - EPOCH).days  # day number of the table's first entry
_TABLE_DAYS = (date(TABLE_YEARS[-1] + 1, 1, 1) - EPOCH).days - TABLE_FIRST_DAY


def _aware(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError(f"timestamp {ts.isoformat()} has no timezone; pass UTC-aware datetimes")
    return ts


def to_exchange(ts: datetime) -> datetime:
    """The same instant in exchange (Chicago) time."""
    return _aware(ts).astimezone(EXCHANGE_TZ)


def day_number(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def from_day_number(n: int) -> date:
    return EPOCH + timedelta(days=n)


def weekend_skip(n: int) -> int:
    """Days from day number ``n`` to the next weekday (0 on a weekday; 1970-01-01 was a Thursday)."""
    weekday = (n + 3) % 7  # 0 = Monday
    return 7 - weekday if weekday >= 5 else 0


@cache
def trade_date_table() -> array:
    """Day number of the first CME trade date on or after each day of ``TABLE_YEARS``.

    Entry ``k`` is for day number ``TABLE_FIRST_DAY + k``. Built once (pandas-market-calendars,
    about 0.2 s); the feature engine reads the same table as an int32 array.
    """
    import pandas_market_calendars as mcal

    try:
        cal = mcal.get_calendar(TRADE_DATE_CALENDAR)
    except RuntimeError as exc:
        raise RuntimeError(f"pandas-market-calendars has no {TRADE_DATE_CALENDAR!r} calendar "
                           "(it needs version 5.5 or later)") from exc
    last = from_day_number(TABLE_FIRST_DAY + _TABLE_DAYS + 31)  # a trade date after the last entry
    valid = {day_number(d) for d in cal.valid_days(from_day_number(TABLE_FIRST_DAY).isoformat(),
                                                   last.isoformat()).date}
    table = array("i", bytes(4 * _TABLE_DAYS))
    upcoming = TABLE_FIRST_DAY + _TABLE_DAYS
    while upcoming not in valid:
        upcoming += 1
    for k in range(_TABLE_DAYS - 1, -1, -1):
        if TABLE_FIRST_DAY + k in valid:
            upcoming = TABLE_FIRST_DAY + k
        table[k] = upcoming
    return table


def trade_day_number(n: int) -> int:
    """Day number of the first CME trade date on or after day number ``n``."""
    k = n - TABLE_FIRST_DAY
    if 0 <= k < _TABLE_DAYS:
        return trade_date_table()[k]
    return n + weekend_skip(n)


def next_trade_date(day: date) -> date:
    """The first CME trade date on or after ``day``."""
    return from_day_number(trade_day_number(day_number(day)))


def is_trade_date(day: date) -> bool:
    return next_trade_date(day) == day


def previous_trade_date(day: date) -> date:
    """The last CME trade date strictly before ``day``."""
    d = day - timedelta(days=1)
    while not is_trade_date(d):
        d -= timedelta(days=1)
    return d


def trade_dates_before(day: date, count: int) -> date:
    """The ``count``-th CME trade date strictly before ``day`` (``count`` >= 1)."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    for _ in range(count):
        day = previous_trade_date(day)
    return day


def roll_date(ts: datetime) -> date:
    """The Chicago date of an instant, plus one day from 17:00 Chicago time on."""
    local = to_exchange(ts)
    if local.time() >= SESSION_ROLL:
        return local.date() + timedelta(days=1)
    return local.date()


def trading_day(ts: datetime) -> date:
    """The CME trade date an instant belongs to: the first trade date on or after its
    17:00-roll date (see the module docstring)."""
    return next_trade_date(roll_date(ts))


def session_open(day: date) -> datetime:
    """UTC instant of 17:00 Chicago on the evening before ``day``: where the Globex session of
    an ordinary trade date opens (a trade date after a holiday or weekend also holds the
    hours since the previous trade date's close)."""
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
