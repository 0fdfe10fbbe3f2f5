"""Exchange time and trading sessions, vectorized over int64 ns UTC timestamps.

The rule is the one in ``multialpha.calendar``: an instant's 17:00-roll date is its Chicago
date, plus one day from 17:00 Chicago time on (evaluated in Chicago time, so it follows
daylight saving), and its trade date is the first CME trade date on or after that. Here it is
done with two tables instead of per-bar zoneinfo and calendar calls: Chicago's UTC-offset
changes, and the calendar's trade-date table (``trade_day_table``). The compiled engine
(``kernel``) reads the same two tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import numpy as np

from multialpha import calendar
from multialpha.calendar import EXCHANGE_TZ, SESSION_ROLL, TABLE_FIRST_DAY
from multialpha.features.bars import NS_PER_SECOND, BarArrays

NS_PER_HOUR = 3600 * NS_PER_SECOND
NS_PER_DAY = 24 * NS_PER_HOUR
ROLL_NS = (SESSION_ROLL.hour * 3600 + SESSION_ROLL.minute * 60) * NS_PER_SECOND  # 17:00, the day's roll
_TABLE_YEARS = range(1970, 2101)  # outside this range the nearest year's offset is used


def _offset_seconds(t: int) -> int:
    off = datetime.fromtimestamp(t, tz=EXCHANGE_TZ).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def _change_between(lo: int, hi: int) -> int:
    """First second in (lo, hi] whose offset differs from lo's (exactly one change assumed)."""
    before = _offset_seconds(lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_seconds(mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


@cache
def _offset_table() -> tuple[np.ndarray, np.ndarray]:
    """(change instants in ns, offset in ns from each instant on), for _TABLE_YEARS.

    Built once from zoneinfo (a few ms); fixed size, so caching it cannot grow.
    """
    starts = [int(datetime(_TABLE_YEARS[0], 1, 1, tzinfo=UTC).timestamp())]
    offsets = [_offset_seconds(starts[0])]
    for year in _TABLE_YEARS:
        # Chicago changes offset at most once in each half of a year.
        edges = [datetime(year, 1, 1, tzinfo=UTC), datetime(year, 7, 1, tzinfo=UTC),
                 datetime(year + 1, 1, 1, tzinfo=UTC)]
        for a, b in zip(edges, edges[1:], strict=False):
            lo, hi = int(a.timestamp()), int(b.timestamp())
            if _offset_seconds(lo) != _offset_seconds(hi):
                at = _change_between(lo, hi)
                starts.append(at)
                offsets.append(_offset_seconds(at))
    starts[0] = -(2**62) // NS_PER_SECOND  # the first offset also covers earlier instants
    return (np.asarray(starts, dtype=np.int64) * NS_PER_SECOND,
            np.asarray(offsets, dtype=np.int64) * NS_PER_SECOND)


@cache
def offset_table() -> np.ndarray:
    """The same table as one contiguous (2, K) int64 array, as the compiled engine reads it."""
    return np.ascontiguousarray(np.stack(_offset_table()), dtype=np.int64)


def exchange_offset_ns(ts_ns: np.ndarray) -> np.ndarray | np.int64:
    """UTC offset of America/Chicago at each instant, in ns (e.g. -6h in winter).

    A scalar when one offset covers all the instants (no daylight-saving change between
    the earliest and the latest), which is the usual case for a live tail.
    """
    starts, offsets = _offset_table()
    if ts_ns.shape[0]:
        lo, hi = np.searchsorted(starts, (ts_ns.min(), ts_ns.max()), side="right") - 1
        if lo == hi:
            return offsets[lo]
    return offsets[np.searchsorted(starts, ts_ns, side="right") - 1]


def _local_ns(ts_ns: np.ndarray) -> np.ndarray:
    """Chicago wall-clock time of each instant, as ns since 1970-01-01 00:00 local."""
    return ts_ns + exchange_offset_ns(ts_ns)


def exchange_hour(ts_ns: np.ndarray) -> np.ndarray:
    """Hour of the day (0-23) in Chicago time at each instant."""
    return (_local_ns(ts_ns) // NS_PER_HOUR) % 24


def exchange_minutes(ts_ns: np.ndarray) -> np.ndarray:
    """Minute of the day (0-1439) in Chicago time at each instant."""
    return (_local_ns(np.asarray(ts_ns, dtype=np.int64)) // (60 * NS_PER_SECOND)) % 1440


@cache
def trade_day_table() -> np.ndarray:
    """``calendar.trade_date_table`` as a read-only int32 array: entry ``k`` is the day number
    of the first CME trade date on or after day number ``TABLE_FIRST_DAY + k``. The compiled
    engine is passed this array."""
    table = np.frombuffer(calendar.trade_date_table(), dtype=np.int32)
    table.flags.writeable = False
    return table


def roll_days(local_ns: np.ndarray) -> np.ndarray:
    """17:00-roll date (day number) of each Chicago wall-clock time."""
    return (local_ns + (NS_PER_DAY - ROLL_NS)) // NS_PER_DAY


def trade_days(day_numbers: np.ndarray) -> np.ndarray:
    """Day number of the first CME trade date on or after each day number, as int32."""
    table = trade_day_table()
    k = np.asarray(day_numbers, dtype=np.int64) - TABLE_FIRST_DAY
    inside = (k >= 0) & (k < table.shape[0])
    if inside.all():
        return table[k]
    weekday = (k + (TABLE_FIRST_DAY + 3)) % 7  # 0 = Monday; outside the table only weekends are skipped
    out = k + TABLE_FIRST_DAY + np.where(weekday >= 5, 7 - weekday, 0)
    out[inside] = table[k[inside]]
    return out.astype(np.int32)


def opens_session(roll_day: int) -> bool:
    """Whether a bar at 17:00 Chicago with this 17:00-roll date opens its trade date's session:
    the last weekday before the roll date is itself a trade date, so no holiday's hours belong
    to the same trade date before it (the compiled engine has the same test)."""
    before = roll_day - 1
    weekday = (before + 3) % 7
    if weekday >= 5:
        before -= weekday - 4  # back to Friday
    return calendar.trade_day_number(before) == before


def trading_day_ids(ts_ns: np.ndarray) -> np.ndarray:
    """CME trade date of each instant as int32 days since 1970-01-01 (``calendar.trading_day``)."""
    return trade_days(roll_days(_local_ns(np.asarray(ts_ns, dtype=np.int64))))


def day_of_week(day_ids: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)."""
    return (day_ids.astype(np.int64) + 3) % 7


def month_of(day_ids: np.ndarray) -> np.ndarray:
    """Calendar month 1-12 of each day id."""
    months = day_ids.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months % 12 + 1


@dataclass(frozen=True)
class Sessions:
    """The trading session of every bar: one row per session present, oldest first."""

    day: np.ndarray  # int32 trading-day id of each session, strictly increasing
    first: np.ndarray  # index of each session's first bar
    last: np.ndarray  # index of each session's last bar
    bar_session: np.ndarray  # session row of every bar
    # False when the data starts after the first session's open, so that session is only
    # partly present: its open, high, low and volume are unknown (its close is not). The data
    # starts at the open when its first bar is at 17:00 Chicago and no earlier hours (of a
    # holiday that is not a trade date) belong to the same trade date (``opens_session``).
    first_complete: bool

    def __len__(self) -> int:
        return int(self.day.shape[0])


def sessions_of(ts_ns: np.ndarray) -> Sessions:
    """Group time-ordered bar start times into trading sessions."""
    n = ts_ns.shape[0]
    local = _local_ns(ts_ns)
    roll = roll_days(local)
    day = trade_days(roll)
    if n == 0:
        none = np.empty(0, dtype=np.int64)
        return Sessions(day, none, none, none, first_complete=True)
    new = np.flatnonzero(day[1:] != day[:-1]) + 1
    marks = np.zeros(n, dtype=np.int64)
    marks[new] = 1
    return Sessions(
        day=day[np.concatenate(([0], new))],
        first=np.concatenate(([0], new)),
        last=np.concatenate((new - 1, [n - 1])),
        bar_session=np.cumsum(marks),
        first_complete=int(local[0]) % NS_PER_DAY == ROLL_NS and opens_session(int(roll[0])),
    )


@dataclass(frozen=True)
class DailyBars:
    """Session OHLCV keyed by trading day, oldest first; the last may still be in progress.

    When the data starts after the first session's open, that session's open, high, low
    and volume are NaN; its close is still its last bar's close.
    """

    day: np.ndarray  # int32 trading-day ids (days since 1970-01-01)
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    sessions: Sessions

    def __len__(self) -> int:
        return int(self.day.shape[0])


def daily_bars(bars: BarArrays, sessions: Sessions | None = None) -> DailyBars:
    """Session OHLCV of ``bars`` (completed sessions and the one in progress)."""
    s = sessions_of(bars.ts) if sessions is None else sessions
    if len(s) == 0:
        empty = np.empty(0)
        return DailyBars(s.day, empty, empty, empty, empty, empty, s)
    open_ = bars.open[s.first].astype(np.float64)
    high, low = session_high_low(bars, s)
    volume = np.add.reduceat(bars.volume, s.first).astype(np.float64)
    if not s.first_complete:
        open_[0] = volume[0] = np.nan
    return DailyBars(s.day, open_, high, low, bars.close[s.last].astype(np.float64), volume, s)


def session_high_low(bars: BarArrays, sessions: Sessions) -> tuple[np.ndarray, np.ndarray]:
    """High and low of each session; NaN for a first session only partly present."""
    high = np.maximum.reduceat(bars.high, sessions.first).astype(np.float64)
    low = np.minimum.reduceat(bars.low, sessions.first).astype(np.float64)
    if not sessions.first_complete:
        high[0] = low[0] = np.nan
    return high, low
