"""The per-bar feature update for numba: one small fixed state per symbol, O(1) per bar.

Prices enter as whole ticks (``price / tick_size``, checked to lie on the grid) and volumes as
whole contracts, so every rolling window is kept as exact int64 sums: the new value is added
and the one leaving is subtracted, with nothing lost to rounding. Every window statistic is
then a function of the window's contents alone, identical whatever came before it, and the
float features (z-scores, ratios, RSI, IBS) are computed from those integers by one formula.
That is what makes an engine started at any bar agree bit for bit with one that has seen the
whole history, once both have seen ``REQUIRED_HISTORY_BARS`` bars.

``update`` and ``value`` are the only definitions of the features: research (``run``) and
live (``OnlineFeatures``) reach them through the compiled entry points in ``compiled``. They
never raise: a bad bar returns a status code and leaves the state untouched.

Prices must be positive unless the engine was made for a contract whose prices may go
negative (``new_states(..., negative_prices=...)``, from contracts.yml's
``allows_negative_prices``). Every feature is translation-invariant in price (z-scores, IBS,
RSI, ATR) except the simple returns (``bar_return``, ``prev_bar_return``, ``day_return``,
``prev_day_return`` and a reference's ``hourly_return`` / ``daily_return``): a return is
NaN when its base price is zero or negative, where it has no meaning.

Bars are grouped into sessions by CME trade date (``daily``): the engine is passed the
calendar's trade-date table on every update.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from multialpha import calendar
from multialpha.calendar import TABLE_FIRST_DAY
from multialpha.features import catalog, daily
from multialpha.features.catalog import (
    ATR_WINDOW,
    ATR_Z_WINDOW,
    BASE_FEATURES,
    CLOSE_Z_WINDOW,
    DAILY_RSI,
    PCT_WINDOW,
    REF_DAILY_Z_SESSIONS,
    REF_HOURLY_Z_WINDOW,
    REF_SUFFIXES,
    RSI_LONG,
    RSI_SHORT,
    VOLUME_Z_WINDOW,
)
from multialpha.features.daily import NS_PER_DAY, NS_PER_HOUR, ROLL_NS, offset_table

GRID_TOL = 1e-6  # in ticks: a price further than this from a whole tick is off the grid
# Bounds under which no int64 product or sum below can overflow (numba's integer arithmetic
# must not overflow): the largest is the ATR z-score's 50 * sum(S**2) and sum(S)**2 over 50
# ATR sums S of 14 true ranges of up to 2 * MAX_TICKS each, about 8.6e18 < 2**63; next,
# 20 * sum(v**2) over 20 volumes of up to MAX_VOLUME, about 7.2e18.
MAX_TICKS = 2**21  # 2,097,152 ticks: ES at 5,000 is 20,000 ticks
MAX_VOLUME = 2**27
_FAR = np.iinfo(np.int64).max

# Feature codes: a base feature's code is its index in BASE_FEATURES; DAILY_Z is internal
# (only reachable as a reference's ``daily_z``).
(IBS, PREV_IBS, IBS_PCT, RSI2, RSI14, DAILY_RSI2, VOLUME_Z, VOLUME_Z_PCT, ATR_Z, ATR_Z_PCT,
 BAR_RETURN, PREV_BAR_RETURN, CLOSE_Z20, DAILY_IBS, PREV_DAILY_IBS, PREV_DAY_RETURN, DAY_RETURN,
 DOW, MONTH, HOUR, IBS_X_RSI2, IBS_X_VOLUME_Z, IBS_X_ATR_Z, IBS_X_PREV_IBS, DAILY_Z) = range(25)
assert len(BASE_FEATURES) == DAILY_Z and BASE_FEATURES[IBS_X_PREV_IBS] == "ibs_x_prev_ibs"
# A reference symbol's features are its own engine's values of these.
REF_CODES = dict(zip(REF_SUFFIXES, (CLOSE_Z20, BAR_RETURN, DAILY_Z, PREV_DAY_RETURN), strict=True))
assert REF_HOURLY_Z_WINDOW == CLOSE_Z_WINDOW, "hourly_z reuses the close_z20 window"
assert DAILY_RSI < REF_DAILY_Z_SESSIONS and RSI_SHORT < RSI_LONG

# Status codes: 0 is fine; otherwise kind * 8 + field (0-4: open, high, low, close, volume).
OK = 0
NOT_INCREASING = 1
OFF_GRID = 8
OUT_OF_RANGE = 16
BAD_VOLUME = 24
NOT_POSITIVE = 32  # a price <= 0 for a contract whose prices may not go negative
FIELDS = ("open", "high", "low", "close", "volume")

_W_CLOSE, _W_VOL, _W_ATRZ, _W_PCT, _W_DAY = (CLOSE_Z_WINDOW, VOLUME_Z_WINDOW, ATR_Z_WINDOW, PCT_WINDOW,
                                             REF_DAILY_Z_SESSIONS)



def _source_digest() -> str:
    """A digest of the code the compiled entry points are built from.

    Numba's on-disk cache only notices edits to the file holding a cached function
    (``compiled``), not to the functions and constants it uses from here, ``catalog``,
    ``daily`` or ``calendar``. The digest names a field of STATE, so any such edit changes the entry
    points' signatures and they are compiled afresh instead of loaded stale.
    """
    digest = hashlib.sha256()
    for module in (sys.modules[__name__], catalog, daily, calendar):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


STATE = np.dtype([
    (f"source_{_source_digest()}", np.uint8),  # see _source_digest
    ("tick", np.float64),
    ("negative_ok", np.int64),  # 1: prices may be zero or negative (see the module docstring)
    ("n", np.int64),  # bars seen
    ("last_ts", np.int64),
    # America/Chicago's UTC-offset changes (daily.offset_table), and the offset in force over
    # [tz_lo, tz_hi). Kept in the state so the per-bar code touches no other array.
    ("tz", np.int64, offset_table().shape),
    ("tz_lo", np.int64), ("tz_hi", np.int64), ("tz_off", np.int64),
    ("hour", np.int64),  # the last bar's close hour; its close is in close_r
    ("close_r", np.int64, (_W_CLOSE,)), ("close_sum", np.int64), ("close_sq", np.int64),
    ("vol_r", np.int64, (_W_VOL,)), ("vol_sum", np.int64), ("vol_sq", np.int64),
    ("chg_r", np.int64, (RSI_LONG,)), ("gain_s", np.int64), ("loss_s", np.int64),
    ("gain_l", np.int64), ("loss_l", np.int64),
    ("tr_r", np.int64, (ATR_WINDOW,)), ("tr_sum", np.int64),
    ("atr_r", np.int64, (_W_ATRZ,)), ("atr_sum", np.int64), ("atr_sq", np.int64),  # ATR as tick sums
    ("ibs_r", np.float64, (_W_PCT,)), ("volz_r", np.float64, (_W_PCT,)), ("atrz_r", np.float64, (_W_PCT,)),
    ("sessions", np.int64),  # sessions seen, the current one included
    ("day", np.int64), ("dow", np.int64), ("month", np.int64),
    ("sess_high", np.int64), ("sess_low", np.int64), ("sess_full", np.int64),  # full: seen from its open
    ("prev_high", np.int64), ("prev_low", np.int64), ("prev_full", np.int64),
    ("dclose_r", np.int64, (_W_DAY,)), ("dclose_sum", np.int64), ("dclose_sq", np.int64),
], align=True)

# Bars an engine needs before these are defined (and, from then on, exact).
_N_VOLZ = VOLUME_Z_WINDOW
ATR_BARS = ATR_WINDOW + 1  # bars the ATR needs
_N_ATRZ = ATR_WINDOW + ATR_Z_WINDOW
_NAN = np.nan


def new_states(tick_sizes: list[float], negative_prices: list[bool] | None = None) -> np.ndarray:
    """Fresh engine states (a record array, one per engine) for prices on these tick grids;
    ``negative_prices[k]`` lets engine k take prices <= 0 (default: none may)."""
    states = np.zeros(len(tick_sizes), dtype=STATE)
    states["tick"] = tick_sizes
    if negative_prices is not None:
        states["negative_ok"] = negative_prices
    states["tz"] = offset_table()
    return states


# -- formulas shared by every path ---------------------------------------------------------------


@njit(error_model="numpy")
def to_ticks(price: float, tick: float) -> tuple[int, bool]:
    """``price`` in whole ticks, and whether it lies on the grid."""
    x = price / tick
    r = np.rint(x)
    if not abs(x - r) <= GRID_TOL:  # also catches NaN
        return 0, False
    return int(r), True


@njit(error_model="numpy")
def true_range(high: int, low: int, prev_close: int) -> int:
    return max(high, prev_close) - min(low, prev_close)


@njit(error_model="numpy")
def atr_price(tr_sum: int, tick: float) -> float:
    """ATR in price units from the sum of the last ATR_WINDOW true ranges in ticks."""
    return tr_sum * tick / ATR_WINDOW


@njit(error_model="numpy")
def _ibs(high: int, low: int, close: int) -> float:
    if high == low:
        return 0.5
    return (close - low) / (high - low)


@njit(error_model="numpy")
def _z(x: int, total: int, squares: int, window: int) -> float:
    """(x - mean) / population std of a window given its exact sums; 0 for a flat window."""
    spread = window * squares - total * total  # window**2 * variance, exact
    if spread <= 0:
        return 0.0
    return (window * x - total) / np.sqrt(float(spread))


@njit(error_model="numpy")
def _rsi(gains: int, losses: int) -> float:
    total = gains + losses
    if total == 0:
        return 50.0
    return 100.0 * gains / total


@njit(error_model="numpy")
def _pct(ring: np.ndarray, current: float) -> float:
    count = 0
    for j in range(ring.shape[0]):
        count += ring[j] <= current
    return count / ring.shape[0]


@njit(error_model="numpy")
def _month(day: int) -> int:
    """Calendar month 1-12 of a day number since 1970-01-01 (civil-from-days)."""
    z = day + 719468
    doe = z - (z // 146097) * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    return mp + 3 if mp < 10 else mp - 9


@njit(error_model="numpy")
def _find_offset(s: Any, t: int) -> None:
    k = np.searchsorted(s.tz[0], t, side="right") - 1
    s.tz_lo = s.tz[0, k]
    s.tz_hi = s.tz[0, k + 1] if k + 1 < s.tz.shape[1] else _FAR
    s.tz_off = s.tz[1, k]


@njit(error_model="numpy", inline="always")
def _offset(s: Any, t: int) -> int:
    """America/Chicago's UTC offset at ``t`` (ns); looked up only when ``t`` leaves the cached span."""
    if t < s.tz_lo or t >= s.tz_hi:
        _find_offset(s, t)
    return s.tz_off


@njit(error_model="numpy", inline="always")
def trade_day(days: np.ndarray, roll: int) -> int:
    """First CME trade date on or after day number ``roll`` (``daily.trade_days``, one day)."""
    k = roll - TABLE_FIRST_DAY
    if k >= 0 and k < days.shape[0]:
        return days[k]
    weekday = (roll + 3) % 7
    return roll + (7 - weekday if weekday >= 5 else 0)


@njit(error_model="numpy")
def _opens_session(days: np.ndarray, roll: int) -> bool:
    """``daily.opens_session``: the last weekday before the roll date is a trade date."""
    before = roll - 1
    weekday = (before + 3) % 7
    if weekday >= 5:
        before -= weekday - 4
    return trade_day(days, before) == before


@njit(error_model="numpy")
def push(ring: np.ndarray, slot: int, x: int) -> tuple[int, int]:
    """Store ``x`` at ``slot``; returns the change of the window's sum and sum of squares."""
    old = ring[slot]
    ring[slot] = x
    return x - old, x * x - old * old


# -- the update ------------------------------------------------------------------------------------


@njit(error_model="numpy")
def price_ticks(price: float, tick: float, field: int, negative_ok: int) -> tuple[int, int]:
    """(status, ticks) of one price: off the grid, out of range, not positive (unless
    ``negative_ok``), or OK."""
    t, ok = to_ticks(price, tick)
    if not ok:
        return OFF_GRID + field, 0
    if abs(t) > MAX_TICKS:
        return OUT_OF_RANGE + field, 0
    if t <= 0 and not negative_ok:
        return NOT_POSITIVE + field, 0
    return OK, t


@njit(error_model="numpy")
def _check(s: Any, ts: int, o: float, h: float, low: float, c: float, v: float) -> tuple[int, int, int, int, int]:
    """Status of a bar and, when fine, its high, low, close in ticks and its volume."""
    if s.n > 0 and ts <= s.last_ts:
        return NOT_INCREASING, 0, 0, 0, 0
    status, _ = price_ticks(o, s.tick, 0, s.negative_ok)  # no feature reads the open, but it must be a price too
    if status != OK:
        return status, 0, 0, 0, 0
    status, hi = price_ticks(h, s.tick, 1, s.negative_ok)
    if status != OK:
        return status, 0, 0, 0, 0
    status, lo = price_ticks(low, s.tick, 2, s.negative_ok)
    if status != OK:
        return status, 0, 0, 0, 0
    status, cl = price_ticks(c, s.tick, 3, s.negative_ok)
    if status != OK:
        return status, 0, 0, 0, 0
    if not abs(v - np.rint(v)) <= GRID_TOL or v < 0:
        return BAD_VOLUME + 4, 0, 0, 0, 0
    if v > MAX_VOLUME:
        return OUT_OF_RANGE + 4, 0, 0, 0, 0
    return OK, hi, lo, cl, int(np.rint(v))


@njit(error_model="numpy")
def update(s: Any, days: np.ndarray, ts: int, o: float, h: float, low: float, c: float, v: float) -> int:
    """One bar into state ``s``; ``days`` is ``daily.trade_day_table()``."""
    status, hi, lo, cl, vol = _check(s, ts, o, h, low, c, v)
    if status != OK:
        return status
    i = s.n
    if i > 0:
        prev = s.close_r[(i - 1) % _W_CLOSE]
        j = i - 1  # index of this close-to-close change, and of this true range
        change = cl - prev
        leaving = s.chg_r[j % RSI_LONG]  # the change RSI_LONG back (0 while filling)
        s.gain_l += max(change, 0) - max(leaving, 0)
        s.loss_l += max(-change, 0) - max(-leaving, 0)
        s.gain_s += max(change, 0)
        s.loss_s += max(-change, 0)
        if j >= RSI_SHORT:
            leaving = s.chg_r[(j - RSI_SHORT) % RSI_LONG]
            s.gain_s -= max(leaving, 0)
            s.loss_s -= max(-leaving, 0)
        s.chg_r[j % RSI_LONG] = change
        d, _ = push(s.tr_r, j % ATR_WINDOW, true_range(hi, lo, prev))
        s.tr_sum += d
        if j >= ATR_WINDOW - 1:  # a full ATR: keep it (as a tick sum) for the ATR z-score
            a = j - (ATR_WINDOW - 1)
            d, d2 = push(s.atr_r, a % _W_ATRZ, s.tr_sum)
            s.atr_sum += d
            s.atr_sq += d2
    d, d2 = push(s.close_r, i % _W_CLOSE, cl)
    s.close_sum += d
    s.close_sq += d2
    d, d2 = push(s.vol_r, i % _W_VOL, vol)
    s.vol_sum += d
    s.vol_sq += d2
    slot = i % _W_PCT
    s.ibs_r[slot] = _ibs(hi, lo, cl)
    s.volz_r[slot] = _z(vol, s.vol_sum, s.vol_sq, _W_VOL) if i + 1 >= _N_VOLZ else _NAN
    s.atrz_r[slot] = _z(s.tr_sum, s.atr_sum, s.atr_sq, _W_ATRZ) if i + 1 >= _N_ATRZ else _NAN

    local = ts + _offset(s, ts)
    roll = (local + (NS_PER_DAY - ROLL_NS)) // NS_PER_DAY  # 17:00-roll date
    day = trade_day(days, roll)
    if i == 0 or day != s.day:
        if i > 0:  # the session in progress is complete: keep its close, high, low
            d, d2 = push(s.dclose_r, (s.sessions - 1) % _W_DAY, s.close_r[(i - 1) % _W_CLOSE])
            s.dclose_sum += d
            s.dclose_sq += d2
            s.prev_high, s.prev_low, s.prev_full = s.sess_high, s.sess_low, s.sess_full
        # Only the first session seen can be partial: it is full if seen from its open.
        s.sess_full = 1 if i > 0 or (local % NS_PER_DAY == ROLL_NS and _opens_session(days, roll)) else 0
        s.sessions += 1
        s.day, s.dow, s.month = day, (day + 3) % 7, _month(day)
        s.sess_high, s.sess_low = hi, lo
    else:
        s.sess_high = max(s.sess_high, hi)
        s.sess_low = min(s.sess_low, lo)
    close_at = ts + NS_PER_HOUR
    s.hour = ((close_at + _offset(s, close_at)) // NS_PER_HOUR) % 24
    s.last_ts = ts
    s.n = i + 1
    return OK


# -- the values ------------------------------------------------------------------------------------


@njit(error_model="numpy")
def _close(s: Any, lag: int) -> int:
    return s.close_r[(s.n - 1 - lag) % _W_CLOSE]


@njit(error_model="numpy", inline="always")
def _return(now: int, base: int) -> float:
    """Simple return from ``base`` to ``now`` (prices in ticks); NaN unless ``base`` > 0."""
    return now / base - 1.0 if base > 0 else _NAN


@njit(error_model="numpy")
def _day_close(s: Any, back: int) -> int:
    """Close of the completed session ``back`` sessions before the current one (1 = last)."""
    return s.dclose_r[(s.sessions - 1 - back) % _W_DAY]


@njit(error_model="numpy")
def _at(ring: np.ndarray, s: Any, lag: int) -> float:
    return ring[(s.n - 1 - lag) % _W_PCT]


@njit(error_model="numpy")
def _prev_ibs(s: Any) -> float:
    return _at(s.ibs_r, s, 1) if s.n >= 2 else _NAN


@njit(error_model="numpy")
def _rsi2(s: Any) -> float:
    return _rsi(s.gain_s, s.loss_s) if s.n > RSI_SHORT else _NAN


@njit(error_model="numpy")
def _daily_rsi(s: Any) -> float:
    if s.sessions - 1 < DAILY_RSI + 1:
        return _NAN
    gains = 0
    losses = 0
    for back in range(DAILY_RSI, 0, -1):
        change = _day_close(s, back) - _day_close(s, back + 1)
        gains += max(change, 0)
        losses += max(-change, 0)
    return _rsi(gains, losses)


@njit(error_model="numpy", inline="always")
def value(s: Any, code: int) -> float:
    """Feature ``code`` at the engine's last bar; NaN until its history is there."""
    n = s.n
    if n == 0:
        return _NAN
    done = s.sessions - 1  # completed sessions seen
    ibs = _at(s.ibs_r, s, 0)
    if code == IBS:
        return ibs
    if code == PREV_IBS:
        return _prev_ibs(s)
    if code == IBS_PCT:
        return _pct(s.ibs_r, ibs) if n >= _W_PCT else _NAN
    if code == RSI2:
        return _rsi2(s)
    if code == RSI14:
        return _rsi(s.gain_l, s.loss_l) if n > RSI_LONG else _NAN
    if code == DAILY_RSI2:
        return _daily_rsi(s)
    if code == VOLUME_Z:
        return _at(s.volz_r, s, 0)
    if code == VOLUME_Z_PCT:
        return _pct(s.volz_r, _at(s.volz_r, s, 0)) if n >= _N_VOLZ + _W_PCT - 1 else _NAN
    if code == ATR_Z:
        return _at(s.atrz_r, s, 0)
    if code == ATR_Z_PCT:
        return _pct(s.atrz_r, _at(s.atrz_r, s, 0)) if n >= _N_ATRZ + _W_PCT - 1 else _NAN
    if code == BAR_RETURN:
        return _return(_close(s, 0), _close(s, 1)) if n >= 2 else _NAN
    if code == PREV_BAR_RETURN:
        return _return(_close(s, 1), _close(s, 2)) if n >= 3 else _NAN
    if code == CLOSE_Z20:
        return _z(_close(s, 0), s.close_sum, s.close_sq, _W_CLOSE) if n >= _W_CLOSE else _NAN
    if code == DAILY_IBS:
        return _ibs(s.sess_high, s.sess_low, _close(s, 0)) if s.sess_full else _NAN
    if code == PREV_DAILY_IBS:
        return _ibs(s.prev_high, s.prev_low, _day_close(s, 1)) if done >= 1 and s.prev_full else _NAN
    if code == PREV_DAY_RETURN:
        return _return(_day_close(s, 1), _day_close(s, 2)) if done >= 2 else _NAN
    if code == DAY_RETURN:
        return _return(_close(s, 0), _day_close(s, 1)) if done >= 1 else _NAN
    if code == DOW:
        return float(s.dow)
    if code == MONTH:
        return float(s.month)
    if code == HOUR:
        return float(s.hour)
    if code == IBS_X_RSI2:
        return ibs * _rsi2(s) / 100.0
    if code == IBS_X_VOLUME_Z:
        return ibs * _at(s.volz_r, s, 0)
    if code == IBS_X_ATR_Z:
        return ibs * _at(s.atrz_r, s, 0)
    if code == IBS_X_PREV_IBS:
        return ibs * _prev_ibs(s)
    if code == DAILY_Z:
        return _z(_day_close(s, 1), s.dclose_sum, s.dclose_sq, _W_DAY) if done >= _W_DAY else _NAN
    return _NAN
