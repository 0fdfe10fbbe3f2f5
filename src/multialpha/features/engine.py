"""The feature engine: named features of a symbol's hourly bars, for research and live alike.

No look-ahead: the value at bar i uses only bars with ``ts <= ts[i]`` (the decision is taken
at bar i's close), and a reference symbol's bar counts once its start is <= ``ts[i]``.
Every window is finite (see ``indicators``), so ``compute_latest`` on the last
``REQUIRED_HISTORY_BARS`` bars is bit-for-bit ``compute_features(full history)[-1]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property

import numpy as np

from multialpha.features import indicators as ind
from multialpha.features.bars import BarArrays
from multialpha.features.catalog import (
    ATR_WINDOW,
    ATR_Z_WINDOW,
    BASE_FEATURES,
    CLOSE_Z_WINDOW,
    DAILY_RSI,
    PCT_WINDOW,
    REF_DAILY_Z_SESSIONS,
    REF_HOURLY_Z_WINDOW,
    REQUIRED_HISTORY_BARS,
    RSI_LONG,
    RSI_SHORT,
    VOLUME_Z_WINDOW,
    ref_feature_parts,
    unknown_features,
)
from multialpha.features.daily import (
    Sessions,
    day_of_week,
    exchange_hour,
    month_of,
    previous_session,
    session_high_low,
    session_high_low_so_far,
    sessions_of,
)


class _Series:
    """One symbol's bars and its intermediate arrays, each computed at most once per call.

    Features are produced for rows ``start:`` only; intermediates that feed a rolling window
    reach back as far as that window needs. Lives for one compute call only.
    """

    def __init__(self, bars: BarArrays, start: int) -> None:
        self.bars = bars
        self.start = start
        self.rows = slice(start, None)

    @cached_property
    def ibs(self) -> np.ndarray:
        b = self.bars
        return ind.ibs(b.high, b.low, b.close)

    @cached_property
    def bar_return(self) -> np.ndarray:
        return ind.simple_return(self.bars.close)

    @cached_property
    def rsi2(self) -> np.ndarray:
        return ind.cutler_rsi(self.bars.close, RSI_SHORT, self.start)[self.rows]

    @cached_property
    def volume_z(self) -> np.ndarray:
        return ind.rolling_zscore(self.bars.volume, VOLUME_Z_WINDOW, self.start - PCT_WINDOW + 1)

    @cached_property
    def atr_z(self) -> np.ndarray:
        b = self.bars
        z_start = self.start - PCT_WINDOW + 1
        atr = ind.sma_atr(b.high, b.low, b.close, ATR_WINDOW, z_start - ATR_Z_WINDOW + 1)
        return ind.rolling_zscore(atr, ATR_Z_WINDOW, z_start)

    @cached_property
    def sessions(self) -> Sessions:
        return sessions_of(self.bars.ts)

    @cached_property
    def row_session(self) -> np.ndarray:
        return self.sessions.bar_session[self.rows]

    @cached_property
    def session_close(self) -> np.ndarray:
        return self.bars.close[self.sessions.last]

    @cached_property
    def day(self) -> np.ndarray:
        return self.sessions.day[self.row_session]

    def last_session(self, per_session: np.ndarray) -> np.ndarray:
        """Per row: ``per_session`` of the last completed session (the one before the row's)."""
        return previous_session(per_session, self.row_session)

    def daily_ibs(self) -> np.ndarray:
        high, low = session_high_low_so_far(self.bars, self.sessions, self.start)
        return ind.ibs(high, low, self.bars.close[self.rows])

    def prev_daily_ibs(self) -> np.ndarray:
        # Aggregate only the sessions some row looks back to, not the whole history.
        first_needed = max(int(self.row_session[0]) - 1, 0)
        high, low = session_high_low(self.bars, self.sessions, first_needed)
        per_session = np.full(len(self.sessions), np.nan)
        per_session[first_needed:] = ind.ibs(high, low, self.session_close[first_needed:])
        return self.last_session(per_session)

    def daily_return(self) -> np.ndarray:
        return self.last_session(ind.simple_return(self.session_close))

    def daily_z(self) -> np.ndarray:
        return self.last_session(ind.rolling_zscore(self.session_close, REF_DAILY_Z_SESSIONS))


_Feature = Callable[[_Series], np.ndarray]

# Each formula returns the feature for rows ``start:`` of the series.
_BASE: dict[str, _Feature] = {
    "ibs": lambda s: s.ibs[s.rows],
    "prev_ibs": lambda s: ind.lag(s.ibs)[s.rows],
    "ibs_pct": lambda s: ind.pct_rank(s.ibs, PCT_WINDOW, s.start)[s.rows],
    "rsi2": lambda s: s.rsi2,
    "rsi14": lambda s: ind.cutler_rsi(s.bars.close, RSI_LONG, s.start)[s.rows],
    "daily_rsi2": lambda s: s.last_session(ind.cutler_rsi(s.session_close, DAILY_RSI)),
    "volume_z": lambda s: s.volume_z[s.rows],
    "volume_z_pct": lambda s: ind.pct_rank(s.volume_z, PCT_WINDOW, s.start)[s.rows],
    "atr_z": lambda s: s.atr_z[s.rows],
    "atr_z_pct": lambda s: ind.pct_rank(s.atr_z, PCT_WINDOW, s.start)[s.rows],
    "bar_return": lambda s: s.bar_return[s.rows],
    "prev_bar_return": lambda s: ind.lag(s.bar_return)[s.rows],
    "close_z20": lambda s: ind.rolling_zscore(s.bars.close, CLOSE_Z_WINDOW, s.start)[s.rows],
    "daily_ibs": _Series.daily_ibs,
    "prev_daily_ibs": _Series.prev_daily_ibs,
    "prev_day_return": _Series.daily_return,
    "day_return": lambda s: s.bars.close[s.rows] / s.last_session(s.session_close) - 1.0,
    "dow": lambda s: day_of_week(s.day).astype(np.float64),
    "month": lambda s: month_of(s.day).astype(np.float64),
    "hour": lambda s: exchange_hour(s.bars.close_ts[s.rows]).astype(np.float64),
    "ibs_x_rsi2": lambda s: s.ibs[s.rows] * s.rsi2 / 100.0,
    "ibs_x_volume_z": lambda s: s.ibs[s.rows] * s.volume_z[s.rows],
    "ibs_x_atr_z": lambda s: s.ibs[s.rows] * s.atr_z[s.rows],
    "ibs_x_prev_ibs": lambda s: s.ibs[s.rows] * ind.lag(s.ibs)[s.rows],
}

# Reference formulas return the feature for every row the caller maps onto (rows ``start:``).
_REF: dict[str, _Feature] = {
    "hourly_z": lambda s: ind.rolling_zscore(s.bars.close, REF_HOURLY_Z_WINDOW, s.start)[s.rows],
    "hourly_return": lambda s: s.bar_return[s.rows],
    "daily_z": _Series.daily_z,
    "daily_return": _Series.daily_return,
}

assert tuple(_BASE) == BASE_FEATURES, "every base feature needs exactly one formula"


class _Plan:
    """Which formula fills which output column; names are parsed once per call."""

    def __init__(self, names: Sequence[str], refs: Mapping[str, BarArrays]) -> None:
        unknown = unknown_features(names, refs)
        if unknown:
            raise ValueError(f"unknown feature name(s) {unknown}; reference symbols given: "
                             f"{sorted(refs)}; base features: {list(BASE_FEATURES)}")
        self.width = len(names)
        self.base: list[tuple[int, _Feature]] = []
        self.refs: dict[str, list[tuple[int, _Feature]]] = {}
        for col, name in enumerate(names):
            if name in _BASE:
                self.base.append((col, _BASE[name]))
            else:
                symbol, suffix = ref_feature_parts(name)  # type: ignore[misc]  # known above
                self.refs.setdefault(symbol, []).append((col, _REF[suffix]))


def _check_order(bars: BarArrays, role: str) -> None:
    if len(bars) > 1 and not bool(np.all(bars.ts[1:] > bars.ts[:-1])):
        raise ValueError(f"{role} bars of {bars.symbol!r} are not in strictly increasing ts order")


def _compute(bars: BarArrays, plan: _Plan, refs: Mapping[str, BarArrays], start: int) -> np.ndarray:
    """Rows ``start:`` of the feature matrix."""
    rows = len(bars) - start
    out = np.empty((rows, plan.width))
    if rows == 0:
        return out
    own = _Series(bars, start)
    for col, formula in plan.base:
        out[:, col] = formula(own)
    for symbol, columns in plan.refs.items():
        ref = refs[symbol]
        # As of each own bar start: the reference's latest bar starting no later.
        pos = np.searchsorted(ref.ts, bars.ts[start:], side="right") - 1
        seen = pos >= 0
        if not seen.all():
            out[np.ix_(~seen, np.array([c for c, _ in columns], dtype=np.intp))] = np.nan
        if not seen.any():
            continue
        series = _Series(ref, int(pos[seen].min()))
        for col, formula in columns:
            out[seen, col] = formula(series)[pos[seen] - series.start]
    return out


def compute_features(bars: BarArrays, names: Sequence[str],
                     refs: Mapping[str, BarArrays] | None = None) -> np.ndarray:
    """Feature matrix of shape (len(bars), len(names)), float64; NaN where history is missing."""
    refs = {} if refs is None else refs
    plan = _Plan(names, refs)
    _check_order(bars, "own")
    for symbol in plan.refs:
        _check_order(refs[symbol], "reference")
    return _compute(bars, plan, refs, 0)


def compute_latest(bars: BarArrays, names: Sequence[str],
                   refs: Mapping[str, BarArrays] | None = None) -> np.ndarray:
    """Feature values at the last bar, shape (len(names),).

    Uses only the last ``REQUIRED_HISTORY_BARS`` bars of ``bars`` and of each reference up
    to the last bar's ts, so passing longer histories costs nothing and changes nothing.
    """
    refs = {} if refs is None else refs
    plan = _Plan(names, refs)
    if len(bars) == 0:
        raise ValueError(f"no bars of {bars.symbol!r} to compute features on")
    tail = bars.tail(REQUIRED_HISTORY_BARS)
    _check_order(tail, "own")
    trimmed = {}
    for symbol in plan.refs:
        ref = refs[symbol]
        end = int(np.searchsorted(ref.ts, tail.ts[-1], side="right"))
        trimmed[symbol] = ref.slice(slice(max(0, end - REQUIRED_HISTORY_BARS), end))
        _check_order(trimmed[symbol], "reference")
    return _compute(tail, plan, trimmed, len(tail) - 1)[0]
