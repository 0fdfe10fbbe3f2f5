"""Candidate trades for model training: the unfiltered step over a symbol's bars.

One row per trade the strategy takes with the ML filter and the portfolio limits off (the
daemon's ``InstrumentStep`` driven by the research engine): entry and exit bar (the label's
span), every requested feature at the decision bar (the one feature engine), net P&L in USD
after commission (contracts.yml), the return on the entry notional, and the label P&L > 0.

A filtered strategy takes a subset of these trades; the signals an unfiltered trade blocks
are not candidates, the usual approximation when searching filters, and the reason the final
model's hold-out is scored by running the step with the model itself (``run_instrument``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from multialpha.research.engine import BarTimes, run_instrument

from multialpha.contracts import ContractSpec
from multialpha.features import Reference, compute_features
from multialpha.features.bars import BarArrays
from multialpha.strategy.alpha import AlphaSpec


@dataclass(frozen=True)
class Candidates:
    symbol: str
    features: tuple[str, ...]
    entry_idx: np.ndarray  # int64 bar index of the entry decision
    exit_idx: np.ndarray  # int64 bar index of the exit decision
    entry_ns: np.ndarray  # decision (close) times, ns UTC
    exit_ns: np.ndarray
    pnl: np.ndarray  # USD after round-trip commission
    ret: np.ndarray  # pnl / (|entry price| * point value * quantity)
    X: np.ndarray  # (n, len(features)) features at the entry decision

    def __len__(self) -> int:
        return int(self.entry_idx.shape[0])

    @property
    def label(self) -> np.ndarray:
        return (self.pnl > 0).astype(np.int64)


def extract_candidates(bars: BarArrays, spec: AlphaSpec, params: Any, contract: ContractSpec,
                       features: Sequence[str], refs: Mapping[str, Reference] | None = None, *,
                       times: BarTimes | None = None) -> Candidates:
    """Every closed trade of the unfiltered step over ``bars``, with its features at entry."""
    run = run_instrument(bars, spec, params, contract, times=times)
    n = len(run.trades)
    entry_idx = np.asarray(run.entry_index[:n], dtype=np.int64)
    exit_idx = np.asarray(run.exit_index[:n], dtype=np.int64)
    pnl = np.array([t.pnl for t in run.trades], dtype=np.float64)
    notional = np.array([abs(t.entry_price) * contract.point_value * t.quantity for t in run.trades])
    ret = np.divide(pnl, notional, out=np.full(n, np.nan), where=notional > 0)
    X = compute_features(bars, features, refs)[entry_idx] if features else np.zeros((n, 0))
    close_ts = bars.close_ts
    return Candidates(bars.symbol, tuple(features), entry_idx, exit_idx, close_ts[entry_idx],
                      close_ts[exit_idx], pnl, ret, X)
