"""Bars and candidate trades for the portfolio tests: hand-made ones and a small sample."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from multialpha.research.portfolio.candidates import CandidateTrades, signal_trades
from multialpha.research.portfolio.plan import PortfolioInputs
from multialpha.research.sampledata import generate_sample_bars

from multialpha.calendar import EXCHANGE_TZ
from multialpha.contracts import ContractSpec, load_contracts
from multialpha.features.bars import NS_PER_SECOND, BarArrays
from multialpha.strategy.ibs import IBS
from multialpha.strategy.params import IbsParams

REPO = Path(__file__).resolve().parents[3]
CONTRACTS = REPO / "config" / "contracts.yml"
T0 = datetime(2024, 3, 5, 14, tzinfo=UTC)  # Tuesday, 08:00 Chicago (CST): bar 0 closes 09:00
SAMPLE_SYMBOLS = ("ES", "NQ", "CL", "GC", "6E")
SAMPLE_PARAMS = {"stop_type": "atr", "stop_atr_mult": 2.0, "tp_atr_mult": 3.0, "max_holding_bars": 12}


@pytest.fixture(scope="session")
def contracts() -> dict[str, ContractSpec]:
    return load_contracts(CONTRACTS)


def globex_starts(n: int, start: datetime = T0) -> list[datetime]:
    """``n`` hourly bar start times from ``start``, skipping the 16:00 Chicago halt and weekends."""
    starts: list[datetime] = []
    at = start
    while len(starts) < n:
        local = at.astimezone(EXCHANGE_TZ)
        weekend = (local.weekday() == 4 and local.hour >= 16) or local.weekday() == 5 or \
            (local.weekday() == 6 and local.hour < 17)
        if local.hour != 16 and not weekend:
            starts.append(at)
        at += timedelta(hours=1)
    return starts


def closes_bars(symbol: str, closes: Sequence[float], tick: float) -> BarArrays:
    """Flat bars (open = high = low = close) at these closes, one hour apart from T0."""
    ts = np.array([int(t.timestamp()) * NS_PER_SECOND for t in globex_starts(len(closes))], dtype=np.int64)
    c = np.asarray(closes, dtype=np.float64)
    return BarArrays(symbol, ts, c.copy(), c.copy(), c.copy(), c.copy(), np.full(len(c), 100.0), tick)


MakeCandidates = Callable[[str, str, BarArrays, Sequence[tuple[int, int, str]]], CandidateTrades]


@pytest.fixture
def make_candidates() -> MakeCandidates:
    """Candidates as (entry bar, exit bar, exit reason) over ``bars``; prices are the closes."""
    def make(strategy: str, symbol: str, bars: BarArrays, spans: Sequence[tuple[int, int, str]]) -> CandidateTrades:
        close_ts = bars.close_ts
        entry = np.array([e for e, _, _ in spans], dtype=np.int64)
        exit_ = np.array([x for _, x, _ in spans], dtype=np.int64)
        return CandidateTrades(strategy, symbol, 1, close_ts[entry], close_ts[exit_], bars.close[entry].copy(),
                               bars.close[exit_].copy(), tuple(r for _, _, r in spans))
    return make


@pytest.fixture(scope="session")
def sample_bars() -> dict[str, BarArrays]:
    return generate_sample_bars(SAMPLE_SYMBOLS, start=date(2023, 1, 2), end=date(2023, 5, 31), seed=3)


@pytest.fixture(scope="session")
def sample_params() -> IbsParams:
    return IbsParams.from_mapping({**IbsParams.defaults(), **SAMPLE_PARAMS, "use_ml_filter": False})


@pytest.fixture(scope="session")
def sample_inputs(sample_bars: dict[str, BarArrays], sample_params: IbsParams,
                  contracts: dict[str, ContractSpec]) -> PortfolioInputs:
    """Every IBS signal of two strategies over the sample, as candidates."""
    candidates = {}
    for strategy in ("a", "b"):
        for s in SAMPLE_SYMBOLS:
            candidates[(strategy, s)] = signal_trades(sample_bars[s], IBS, sample_params, contracts[s],
                                                      strategy=strategy)
    return PortfolioInputs(sample_bars, candidates, contracts)
