"""The IBS rules in vectorbt (optional: imported only when vectorbt is installed).

The entry and exit conditions that do not depend on the position (IBS from whole ticks, the
exchange-time minute, ATR(14) from tick sums) are computed as whole arrays; the path-dependent
part (stop and target fixed at the entry, bars held, one position at a time, no entry on the
bar of an exit) is a numba order function run by ``Portfolio.from_order_func``. Prices are
decided on in the contract's own units and the orders filled in USD per contract (close times
point value), so vectorbt's P&L is in USD and its fixed fee is the commission per contract and
side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import vectorbt as vbt
from numba import njit
from vectorbt.portfolio import nb as pnb

from multialpha.contracts import ContractSpec
from multialpha.features import BarArrays
from multialpha.strategy.params import IbsParams

ATR_WINDOW = 14
_STOP_KINDS = {"percent": 0, "atr": 1, "none": 2}


def rule_arrays(bars: BarArrays, tick: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IBS, ATR and the Chicago minute of each bar's close, vectorised."""
    hi, lo, cl = (np.floor(x / tick + 0.5) for x in (bars.high, bars.low, bars.close))
    rng = hi - lo
    ibs = np.where(rng > 0, (cl - lo) / np.where(rng > 0, rng, 1.0), 0.5)
    tr = np.maximum(hi[1:], cl[:-1]) - np.minimum(lo[1:], cl[:-1])
    sums = np.convolve(tr, np.ones(ATR_WINDOW), mode="valid")  # whole ticks: exact in float64
    atr = np.full(len(bars), np.nan)
    atr[ATR_WINDOW:] = sums * tick / ATR_WINDOW
    local = pd.DatetimeIndex(pd.to_datetime(bars.close_ts, utc=True)).tz_convert("America/Chicago")
    minute = np.asarray(local.hour * 60 + local.minute, dtype=np.int64)
    return ibs, atr, minute


@njit
def _ibs_order_nb(c, close, usd, ibs, atr, minute, rules, fee, state):  # type: ignore[no-untyped-def]
    i = c.i
    entry_low, entry_high, exit_low, exit_high, start, end, kind, stop_pct, stop_mult, tp_pct, tp_mult, \
        max_bars, auto_close, qty = rules
    px = close[i]
    if c.position_now > 0:
        state[0] += 1
        stop, target = state[1], state[2]
        if (stop == stop and px <= stop) or (target == target and px >= target) \
                or exit_low <= ibs[i] <= exit_high or (max_bars > 0 and state[0] >= max_bars) \
                or (auto_close >= 0 and auto_close <= minute[i] < 17 * 60):
            return pnb.order_nb(size=-c.position_now, price=usd[i], fixed_fees=fee)
        return pnb.order_nothing_nb()
    m = minute[i]
    in_window = start <= m <= end if start <= end else (m >= start or m <= end)
    if not (entry_low <= ibs[i] <= entry_high and in_window):
        return pnb.order_nothing_nb()
    stop = target = np.nan
    if kind == 0:
        if stop_pct > 0:
            stop = px - abs(px) * stop_pct
        if tp_pct > 0:
            target = px + abs(px) * tp_pct
    elif kind == 1 and atr[i] == atr[i]:
        if stop_mult > 0:
            stop = px - stop_mult * atr[i]
        if tp_mult > 0:
            target = px + tp_mult * atr[i]
    state[0], state[1], state[2] = 0.0, stop, target
    return pnb.order_nb(size=qty, price=usd[i], fixed_fees=fee)


def vectorbt_trades(bars: BarArrays, params: IbsParams, contract: ContractSpec) -> list[tuple[int, int, float]]:
    """(entry bar, exit bar, net USD P&L) of every closed trade."""
    tick, pv = contract.tick_size, contract.point_value
    ibs, atr, minute = rule_arrays(bars, tick)
    usd = bars.close * pv
    p = params
    rules = np.array([p.ibs_entry_low, p.ibs_entry_high, p.ibs_exit_low, p.ibs_exit_high, p.session_start_min,
                      p.session_end_min, _STOP_KINDS[p.stop_type], p.stop_pct, p.stop_atr_mult, p.tp_pct,
                      p.tp_atr_mult, p.max_holding_bars, p.auto_close_min, p.quantity], dtype=np.float64)
    state = np.zeros(3)
    pf = vbt.Portfolio.from_order_func(usd, _ibs_order_nb, np.asarray(bars.close, dtype=np.float64), usd, ibs, atr,
                                       minute, rules,
                                       contract.commission_per_side, state, init_cash=1e15)
    rec = pf.trades.values  # the structured record array
    closed = rec[rec["status"] == 1]
    return [(int(r["entry_idx"]), int(r["exit_idx"]), float(r["pnl"])) for r in closed]
