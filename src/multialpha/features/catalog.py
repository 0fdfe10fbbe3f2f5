"""Feature names, their windows, and how much history makes the last value exact.

Feature names are a public API: a model bundle lists the names it was trained on and the
strategy asks the engine for exactly those. Renaming or redefining a feature invalidates
every bundle that uses it, so add new names instead of changing old ones.
"""

from __future__ import annotations

from collections.abc import Iterable

# Windows, in bars of the series they run over (hourly bars unless the name says sessions).
PCT_WINDOW = 100  # rolling percentile ranks
RSI_SHORT = 2
RSI_LONG = 14
VOLUME_Z_WINDOW = 20
ATR_WINDOW = 14
ATR_Z_WINDOW = 50  # ATR14 values the ATR z-score is measured against
CLOSE_Z_WINDOW = 20
REF_HOURLY_Z_WINDOW = 20
REF_DAILY_Z_SESSIONS = 20
DAILY_RSI = 2

# A weekday's Globex hours run from 17:00 Chicago the evening before to 16:00: hour-aligned
# bars of any of its 24 clock hours (17:00 to 17:00; daylight saving changes at 02:00 on a
# Sunday, outside them). Bars from Friday 17:00 to Sunday 17:00 are not counted: Globex is
# closed then and the bar files refuse them.
MAX_BARS_PER_WEEKDAY = 24
# A session (one CME trade date, multialpha.calendar) holds the hours of its own weekday and
# of any weekday just before it that is not a trade date (a holiday's hours before Globex's
# early halt). Over the calendar's years, any run of up to 21 consecutive sessions takes in at
# most this many such weekdays (late 2006: Christmas, New Year's Day, the national day of
# mourning on 2007-01-02 and MLK day); the tests check it against the calendar.
HOLIDAY_WEEKDAYS = 4

BASE_FEATURES: tuple[str, ...] = (
    "ibs",
    "prev_ibs",
    "ibs_pct",
    "rsi2",
    "rsi14",
    "daily_rsi2",
    "volume_z",
    "volume_z_pct",
    "atr_z",
    "atr_z_pct",
    "bar_return",
    "prev_bar_return",
    "close_z20",
    "daily_ibs",
    "prev_daily_ibs",
    "prev_day_return",
    "day_return",
    "dow",
    "month",
    "hour",
    "ibs_x_rsi2",
    "ibs_x_volume_z",
    "ibs_x_atr_z",
    "ibs_x_prev_ibs",
)

# Cross-instrument features are named f"{symbol}_{suffix}", e.g. "VX_hourly_return".
REF_SUFFIXES: tuple[str, ...] = ("hourly_z", "hourly_return", "daily_z", "daily_return")


def _session_bars(sessions: int) -> int:
    """The most bars ``sessions`` consecutive sessions (at most 21) can hold."""
    return (sessions + HOLIDAY_WEEKDAYS) * MAX_BARS_PER_WEEKDAY


def _sessions_to_bars(sessions_back: int) -> int:
    """Bars from the close of the session ``sessions_back`` before the current one to now.

    That session's last bar, plus every bar of the sessions in between, plus the current
    session so far.
    """
    return 1 + _session_bars(sessions_back)


_HOURLY_HISTORY = max(
    PCT_WINDOW + ATR_Z_WINDOW - 1 + ATR_WINDOW,  # atr_z_pct: 100 atr_z <- 50 ATR14 <- 14 TR (+1 close)
    PCT_WINDOW + VOLUME_Z_WINDOW - 1,  # volume_z_pct
    RSI_LONG + 1,
    CLOSE_Z_WINDOW,
    REF_HOURLY_Z_WINDOW,
)
_DAILY_HISTORY = max(
    _sessions_to_bars(REF_DAILY_Z_SESSIONS),  # closes of the last 20 completed sessions
    _sessions_to_bars(DAILY_RSI + 1),  # daily_rsi2: 3 completed closes
    _session_bars(2),  # prev_daily_ibs: all of the previous session
)

REQUIRED_HISTORY_BARS: int = max(_HOURLY_HISTORY, _DAILY_HISTORY)
"""Bars a fresh engine needs before every feature is defined and exact: an engine that has
seen this many bars of its own series (and each reference engine this many of its series)
gives bit-for-bit the values of one that has seen the whole history. Counted for hour-aligned
bars on weekdays (see MAX_BARS_PER_WEEKDAY and HOLIDAY_WEEKDAYS)."""


def ref_feature_parts(name: str) -> tuple[str, str] | None:
    """``(symbol, suffix)`` of a cross-instrument feature name, or None if it is not one."""
    for suffix in REF_SUFFIXES:
        tail = "_" + suffix
        if name.endswith(tail) and len(name) > len(tail):
            return name[: -len(tail)], suffix
    return None


def feature_catalog(reference_symbols: Iterable[str]) -> list[str]:
    """Every feature name available with these reference symbols, in a stable order."""
    names = list(BASE_FEATURES)
    for symbol in reference_symbols:
        names.extend(f"{symbol}_{suffix}" for suffix in REF_SUFFIXES)
    return names


def unknown_features(names: Iterable[str], reference_symbols: Iterable[str]) -> list[str]:
    """The names (in the order given) that the engine cannot compute with these references."""
    refs = set(reference_symbols)
    base = set(BASE_FEATURES)
    unknown = []
    for name in names:
        if name in base:
            continue
        parts = ref_feature_parts(name)
        if parts is None or parts[0] not in refs:
            unknown.append(name)
    return unknown
