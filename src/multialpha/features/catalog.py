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

# An exchange trading day spans 24 clock hours, 25 on the autumn daylight-saving day, so a
# session holds at most this many hour-aligned bars.
MAX_BARS_PER_SESSION = 25

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


def _sessions_to_bars(sessions_back: int) -> int:
    """Bars from the close of the session ``sessions_back`` before the current one to now.

    That session's last bar, plus every bar of the sessions in between, plus the current
    session so far.
    """
    return 1 + sessions_back * MAX_BARS_PER_SESSION


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
    2 * MAX_BARS_PER_SESSION,  # prev_daily_ibs: all of the previous session
)

REQUIRED_HISTORY_BARS: int = max(_HOURLY_HISTORY, _DAILY_HISTORY)
"""Bars a fresh engine needs before every feature is defined and exact: an engine that has
seen this many bars of its own series (and each reference engine this many of its series)
gives bit-for-bit the values of one that has seen the whole history. Counted for hour-aligned
bars, at most MAX_BARS_PER_SESSION to a session."""


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
