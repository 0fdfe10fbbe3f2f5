"""Bar builders for the feature tests: Globex-hours timestamps and random walks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from multialpha.calendar import EXCHANGE_TZ, is_trade_date
from multialpha.features import BarArrays
from multialpha.features.daily import exchange_offset_ns, roll_days

NS = 1_000_000_000


def utc_ns(dt: datetime) -> int:
    return int(dt.astimezone(UTC).timestamp()) * NS


def session_ts(day: date, hours: Iterable[int] = range(23)) -> list[int]:
    """Bar starts of trading day ``day``: ``k`` hours after 17:00 Chicago the evening before."""
    evening = datetime.combine(day - timedelta(days=1), datetime.min.time().replace(hour=17),
                               tzinfo=EXCHANGE_TZ)
    return [utc_ns(evening + timedelta(hours=k)) for k in hours]


def weekdays(first: date, count: int) -> list[date]:
    days, d = [], first
    while len(days) < count:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def trade_dates(first: date, count: int) -> list[date]:
    """``count`` CME trade dates from ``first`` on (weekdays less CME holidays)."""
    days, d = [], first
    while len(days) < count:
        if is_trade_date(d):
            days.append(d)
        d += timedelta(days=1)
    return days


def weekday_hours(ts: np.ndarray) -> np.ndarray:
    """The bar starts of ``ts`` (int64 ns) in Globex's week: from Sunday 17:00 to Friday 17:00
    Chicago (the 17:00-roll date is a weekday)."""
    roll = roll_days(ts + exchange_offset_ns(ts))
    return ts[(roll + 3) % 7 < 5]


def bars_from(symbol: str, ts: Sequence[int], ohlcv: Sequence[Sequence[float]], tick_size: float = 0.01
              ) -> BarArrays:
    cols = np.asarray(ohlcv, dtype=np.float64).reshape(len(ts), 5).T
    return BarArrays(symbol, np.asarray(ts, dtype=np.int64), *(np.ascontiguousarray(c) for c in cols),
                     tick_size=tick_size)


def on_grid(prices: np.ndarray, tick_size: float) -> np.ndarray:
    return np.rint(prices / tick_size) * tick_size


def random_bars(symbol: str, sessions: int, seed: int, first: date = date(2023, 1, 3),
                tick_size: float = 0.01) -> BarArrays:
    """Random-walk bars on Globex hours (23 a session, weekdays only), on a tick grid."""
    ts = np.array([t for d in weekdays(first, sessions) for t in session_ts(d)], dtype=np.int64)
    rng = np.random.default_rng(seed)
    n = ts.shape[0]
    close = on_grid(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.004, n))), tick_size)
    open_ = np.concatenate(([100.0], close[:-1]))
    high = on_grid(np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.002, n))), tick_size)
    low = on_grid(np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.002, n))), tick_size)
    volume = rng.integers(0, 2000, n).astype(np.float64)
    return BarArrays(symbol, ts, open_, high, low, close, volume, tick_size)


@pytest.fixture
def build() -> SimpleNamespace:
    """The builders above, for tests (conftest modules are not importable by name)."""
    return SimpleNamespace(utc_ns=utc_ns, session_ts=session_ts, weekdays=weekdays, trade_dates=trade_dates,
                           weekday_hours=weekday_hours, bars_from=bars_from, random_bars=random_bars,
                           on_grid=on_grid)
