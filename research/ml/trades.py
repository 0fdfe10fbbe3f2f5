"""Trades of the IBS rules over whole arrays, with the live strategy's own rule code.

``label_signals`` follows every entry signal to its exit independently (training labels);
``simulate_trades`` takes them one at a time, flat-only, as one IbsStrategy instance does
without a portfolio coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from multialpha.contracts import ContractSpec
from multialpha.features.bars import BarArrays
from multialpha.features.daily import exchange_minutes
from multialpha.strategy import rules_jit as R
from multialpha.strategy.indicators import atr_series
from multialpha.strategy.params import IbsParams


def close_minutes(bars: BarArrays) -> np.ndarray:
    """Exchange-time minute of day of each bar's close."""
    return exchange_minutes(bars.close_ts)


@njit(cache=False)
def _signals(high, low, close, minute, lo, hi, start, end):
    n = close.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    ibs = np.empty(n)
    for i in range(n):
        ibs[i] = R.ibs_value(high[i], low[i], close[i])
        out[i] = R.entry_signal(ibs[i], minute[i], lo, hi, start, end)
    return out, ibs


@njit(cache=False)
def _exit_from(i, close, ibs, minute, atr, kind, stop_pct, stop_mult, tp_pct, tp_mult,
               exit_lo, exit_hi, max_bars, auto_close):
    entry = close[i]
    stop = R.stop_price(entry, atr[i], kind, stop_pct, stop_mult)
    target = R.take_profit_price(entry, atr[i], kind, tp_pct, tp_mult)
    for j in range(i + 1, close.shape[0]):
        code = R.exit_code(close[j], ibs[j], minute[j], j - i, stop, target, exit_lo, exit_hi,
                           max_bars, auto_close)
        if code != 0:
            return j, code
    return -1, 0


@njit(cache=False)
def _label(sig, close, ibs, minute, atr, kind, stop_pct, stop_mult, tp_pct, tp_mult,
           exit_lo, exit_hi, max_bars, auto_close):
    idx = np.nonzero(sig)[0]
    exits = np.empty(idx.shape[0], dtype=np.int64)
    codes = np.empty(idx.shape[0], dtype=np.int64)
    for k in range(idx.shape[0]):
        exits[k], codes[k] = _exit_from(idx[k], close, ibs, minute, atr, kind, stop_pct, stop_mult,
                                        tp_pct, tp_mult, exit_lo, exit_hi, max_bars, auto_close)
    return idx, exits, codes


@njit(cache=False)
def _chain(entries, exits, accept):
    """Flat-only: take an accepted signal only after the previous trade's exit bar. A trade
    still open when the data ends (exit -1) is taken and holds the instrument to the end."""
    keep = np.zeros(entries.shape[0], dtype=np.bool_)
    free_from = -1
    for k in range(entries.shape[0]):
        if entries[k] > free_from and accept[k]:
            keep[k] = True
            free_from = exits[k] if exits[k] >= 0 else np.iinfo(np.int64).max
    return keep


@dataclass(frozen=True)
class SignalLabels:
    entry_idx: np.ndarray  # bar index of every entry signal
    exit_idx: np.ndarray  # bar index where that trade would exit (-1: data ran out)
    exit_code: np.ndarray
    pnl: np.ndarray  # USD after commission (NaN when the data ran out)


def label_signals(bars: BarArrays, params: IbsParams, contract: ContractSpec,
                  minutes: np.ndarray | None = None, first_bar: int = 0) -> SignalLabels:
    """Every entry signal at or after ``first_bar`` and the trade it would make."""
    m = close_minutes(bars) if minutes is None else minutes
    sig, ibs = _signals(bars.high, bars.low, bars.close, m, params.ibs_entry_low, params.ibs_entry_high,
                        params.session_start_min, params.session_end_min)
    sig[:first_bar] = False
    atr = atr_series(bars)
    idx, exits, codes = _label(sig, bars.close, ibs, m, atr, params.stop_kind, params.stop_pct,
                               params.stop_atr_mult, params.tp_pct, params.tp_atr_mult, params.ibs_exit_low,
                               params.ibs_exit_high, params.max_holding_bars, params.auto_close_min)
    done = exits >= 0
    pnl = np.full(idx.shape[0], np.nan)
    q = params.quantity
    pnl[done] = ((bars.close[exits[done]] - bars.close[idx[done]]) * contract.point_value * q
                 - contract.round_trip_commission(q))
    return SignalLabels(idx, exits, codes, pnl)


def simulate_trades(labels: SignalLabels, accept: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask over ``labels``: the trades one flat-only strategy instance takes."""
    acc = np.ones(labels.entry_idx.shape[0], dtype=np.bool_) if accept is None else accept.astype(np.bool_)
    return _chain(labels.entry_idx, labels.exit_idx, acc)
