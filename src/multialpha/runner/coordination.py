"""The one ``PortfolioCoordinator`` of a configuration (run and check build it the same way)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from multialpha.clock import Clock, ManualClock
from multialpha.config import AppConfig, ResolvedStrategy
from multialpha.contracts import ContractSpec
from multialpha.portfolio import AccountLimits, CoordinatorEvent, PortfolioCoordinator, StrategyLimits


def build_coordinator(cfg: AppConfig, strategies: Sequence[ResolvedStrategy], contracts: Mapping[str, ContractSpec],
                      clock: Clock | None = None,
                      on_event: Callable[[CoordinatorEvent], None] | None = None) -> PortfolioCoordinator:
    return PortfolioCoordinator(
        [StrategyLimits(s.name, frozenset(s.symbols), s.max_positions.value, s.daily_stop_loss.value, s.account)
         for s in strategies],
        AccountLimits(cfg.portfolio.max_positions, cfg.portfolio.daily_stop_loss),
        contracts, clock or ManualClock(start=datetime(1970, 1, 1, tzinfo=UTC)), on_event=on_event)
