"""The compiled entry points of the feature engine, and the errors for refused bars.

Each is compiled for its one signature when this module is imported (or loaded from numba's
on-disk cache), never on a first live bar. All of them go through ``kernel.update`` and
``kernel.value``, so research and live run the same machine code per bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import float64, from_dtype, int32, int64, types

from multialpha.features import kernel as K
from multialpha.features.bars import BarArrays, iso_utc
from multialpha.features.daily import trade_day_table
from multialpha.jit import kernel


def _kernel(signature: Any) -> Callable[[Any], Any]:
    return kernel(signature, error_model="numpy")


_STATES = from_dtype(K.STATE)[::1]
# Inputs are typed read-only so that read-only arrays (e.g. bars loaded from parquet) are
# taken as they are; writable ones convert to that type for free.
_I64 = types.Array(int64, 1, "C", readonly=True)
_DAYS = types.Array(int32, 1, "C", readonly=True)  # daily.trade_day_table()
_F64 = types.Array(float64, 1, "C", readonly=True)
_OUT = float64[::1]


@_kernel(int64(_STATES, _DAYS, int64, float64, float64, float64, float64, float64))
def update(state, days, ts, o, h, low, c, v):
    """One bar into ``state[0]``; returns a status (OK, or why the bar was refused). ``days``
    is ``daily.trade_day_table()``."""
    return K.update(state[0], days, ts, o, h, low, c, v)


@_kernel(types.void(_STATES, _I64, _I64, _OUT))
def fill(state, codes, cols, out):
    """``out[cols[q]] = feature codes[q]`` of ``state[0]`` at its last bar."""
    s = state[0]
    for q in range(codes.shape[0]):
        out[cols[q]] = K.value(s, codes[q])


@_kernel(int64(_STATES, _STATES, _I64, _I64, _OUT))
def fill_ref(state, ref, codes, cols, out):
    """``fill`` from reference engine ``ref[0]`` as of ``state[0]``'s last bar; returns 1 (and
    fills nothing) if the reference's last bar starts after it (that would look ahead)."""
    s, r = state[0], ref[0]
    if s.n > 0 and r.n > 0 and r.last_ts > s.last_ts:
        return 1
    for q in range(codes.shape[0]):
        out[cols[q]] = K.value(r, codes[q])
    return 0


@_kernel(float64(_STATES))
def atr(state):
    """ATR(ATR_WINDOW) in price units at the last bar; NaN until ATR_WINDOW + 1 bars."""
    s = state[0]
    return K.atr_price(s.tr_sum, s.tick) if s.n >= K.ATR_BARS else np.nan


@_kernel(types.void(_STATES, _DAYS, _I64, _F64, _F64, _F64, _F64, _F64, _I64, _I64, int64, float64[:, ::1],
                    int64[::1]))
def run(own, days, ts, o, h, low, c, v, codes, cols, first, out, err):
    """Every bar through ``own[0]``; for bars i >= first, row ``i - first`` of ``out`` gets
    feature ``codes[q]`` in column ``cols[q]``, as of bar i. On a refused bar, ``err`` gets
    (status, bar index) and the run stops.

    Reference symbols' features are not filled here: each reference runs once through this
    same kernel (``references.reference_features``) and is joined as of every bar.
    """
    s = own[0]
    for i in range(ts.shape[0]):
        status = K.update(s, days, ts[i], o[i], h[i], low[i], c[i], v[i])
        if status != K.OK:
            err[0], err[1] = status, i
            return
        if i < first:
            continue
        row = out[i - first]
        for q in range(codes.shape[0]):
            row[cols[q]] = K.value(s, codes[q])


@_kernel(types.void(_I64, _I64, types.Array(float64, 2, "C", readonly=True), _I64, _I64, float64[:, ::1]))
def join_asof(ts, ref_ts, values, src, dst, out):
    """``out[i, dst[q]] = values[k, src[q]]`` where k is the last row with ``ref_ts[k] <= ts[i]``
    (NaN where there is none). Both time arrays increase strictly."""
    k = -1
    m = ref_ts.shape[0]
    for i in range(ts.shape[0]):
        t = ts[i]
        while k + 1 < m and ref_ts[k + 1] <= t:
            k += 1
        row = out[i]
        for q in range(src.shape[0]):
            row[dst[q]] = values[k, src[q]] if k >= 0 else np.nan


@_kernel(types.void(_F64, _F64, _F64, float64, int64, _OUT, int64[::1]))
def atr_run(h, low, c, tick, negative_ok, out, err):
    """ATR(ATR_WINDOW) in price units at every bar (NaN before ATR_WINDOW + 1 bars), from the
    same tick sums and formula as the engine's ``atr``. On a refused price (as the engine
    refuses it, prices <= 0 included unless ``negative_ok``), ``err`` gets (status, bar index)
    and the run stops."""
    ring = np.zeros(K.ATR_WINDOW, dtype=np.int64)
    total = 0
    prev = 0
    for i in range(c.shape[0]):
        st_h, hi = K.price_ticks(h[i], tick, 1, negative_ok)
        st_l, lo = K.price_ticks(low[i], tick, 2, negative_ok)
        st_c, cl = K.price_ticks(c[i], tick, 3, negative_ok)
        if st_h != K.OK or st_l != K.OK or st_c != K.OK:
            err[0], err[1] = (st_h if st_h != K.OK else st_l if st_l != K.OK else st_c), i
            return
        out[i] = np.nan
        if i > 0:
            d, _ = K.push(ring, (i - 1) % K.ATR_WINDOW, K.true_range(hi, lo, prev))
            total += d
            if i >= K.ATR_WINDOW:
                out[i] = K.atr_price(total, tick)
        prev = cl


# -- whole series ----------------------------------------------------------------------------------


def _f64(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def run_series(bars: BarArrays, tick: float, codes: np.ndarray, cols: np.ndarray, first: int, width: int) -> np.ndarray:
    """Rows ``first:`` of ``bars``' features (``out[:, cols[q]]`` = feature ``codes[q]``) from a
    fresh engine, shape (len(bars) - first, width). Columns not in ``cols`` are left unwritten
    (the caller fills them: the matrix is not pre-filled, which cost a sixth of the run). A
    refused bar raises the ``refusal`` naming ``bars.symbol``, its time and the value."""
    out = np.empty((max(len(bars) - first, 0), width))
    err = np.zeros(2, dtype=np.int64)
    run(K.new_states([tick], [bars.allows_negative_prices]), trade_day_table(),
        np.ascontiguousarray(bars.ts, dtype=np.int64), _f64(bars.open), _f64(bars.high),
        _f64(bars.low), _f64(bars.close), _f64(bars.volume), codes, cols, first, out, err)
    if err[0] != K.OK:
        raise refused(bars, tick, int(err[0]), int(err[1]))
    return out


# -- refusals --------------------------------------------------------------------------------------


def refused(bars: BarArrays, tick_size: float, status: int, i: int) -> ValueError:
    """``refusal`` for bar ``i`` of ``bars``, which a kernel refused with ``status``."""
    previous = int(bars.ts[i - 1]) if i > 0 else None
    return refusal(bars.symbol, tick_size, status, int(bars.ts[i]),
                   tuple(float(getattr(bars, f)[i]) for f in K.FIELDS), previous)


def refusal(symbol: str, tick_size: float, status: int, ts_ns: int, values: tuple[float, ...],
            last_ts_ns: int | None = None) -> ValueError:
    """The error for a bar a kernel refused: names the symbol, the bar time and the value.

    ``values`` are the bar's (open, high, low, close, volume).
    """
    where = f"{symbol}: bar at {iso_utc(ts_ns)}"
    if status == K.NOT_INCREASING:
        before = f" ({iso_utc(last_ts_ns)})" if last_ts_ns is not None else ""
        return ValueError(f"{where} is not after the previous bar{before}: bars must be in strictly "
                          "increasing ts order")
    kind, field = status - status % 8, status % 8
    name, value = K.FIELDS[field], values[field]
    if kind == K.OFF_GRID:
        return ValueError(f"{where}: {name} {value!r} is not on the tick grid of {tick_size!r}")
    if kind == K.BAD_VOLUME:
        return ValueError(f"{where}: volume {value!r} is not a whole number of contracts >= 0")
    if kind == K.NOT_POSITIVE:
        return ValueError(f"{where}: {name} {value!r} is not positive, and {symbol}'s contract does not "
                          "allow negative prices (contracts.yml allows_negative_prices)")
    return ValueError(f"{where}: {name} {value!r} is out of the feature engine's range "
                      f"(|price| <= {K.MAX_TICKS} ticks of {tick_size!r}, volume <= {K.MAX_VOLUME})")


def checked_tick_size(symbol: str, tick_size: float | None) -> float:
    """``tick_size`` as a float, or a ValueError naming ``symbol``."""
    if tick_size is None:
        raise ValueError(f"{symbol}: no tick size: the feature engine works in ticks; attach the "
                         "contract's tick_size to the bars (BarArrays.with_tick_size, or "
                         "load_symbols(..., tick_sizes=...))")
    tick = float(tick_size)
    if not (np.isfinite(tick) and tick > 0):
        raise ValueError(f"{symbol}: tick size {tick_size!r} must be a positive number")
    return tick
