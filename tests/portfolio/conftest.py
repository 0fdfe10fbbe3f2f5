"""Shared fixtures: the real contract specs, a manual clock and a coordinator factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from multialpha.clock import ManualClock
from multialpha.contracts import ContractSpec, load_contracts
from multialpha.portfolio import (
    AccountLimits,
    CoordinatorEvent,
    PortfolioCoordinator,
    StrategyLimits,
)

CONTRACTS_FILE = Path(__file__).resolve().parents[2] / "config" / "contracts.yml"
CHICAGO = ZoneInfo("America/Chicago")


def chicago(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Chicago wall-clock time as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO).astimezone(UTC)


# Tuesday 2024-03-12, 10:00 Chicago (CDT): trading day 2024-03-12
START = chicago(2024, 3, 12, 10)


@pytest.fixture(scope="session")
def contracts() -> dict[str, ContractSpec]:
    return load_contracts(CONTRACTS_FILE)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def events() -> list[CoordinatorEvent]:
    return []


MakeCoordinator = Callable[..., PortfolioCoordinator]


@pytest.fixture
def make(contracts: dict[str, ContractSpec], clock: ManualClock,
         events: list[CoordinatorEvent]) -> MakeCoordinator:
    """Build a coordinator: ``make(ibs=dict(symbols=..., max_positions=..., daily_stop_loss=...), account=...)``."""

    def build(account: dict[str, Any] | None = None, **strategies: dict[str, Any]) -> PortfolioCoordinator:
        if not strategies:
            strategies = {"ibs": {"symbols": {"ES", "NQ", "CL", "GC"}}}
        limits = [StrategyLimits(name=name, symbols=frozenset(spec.pop("symbols")), **spec)
                  for name, spec in ((n, dict(s)) for n, s in strategies.items())]
        return PortfolioCoordinator(limits, AccountLimits(**(account or {})), contracts, clock,
                                    on_event=events.append)

    return build


@pytest.fixture
def ct() -> Callable[..., datetime]:
    """``ct(2024, 3, 12, 16, 59)``: a Chicago wall-clock time as a UTC instant."""
    return chicago
