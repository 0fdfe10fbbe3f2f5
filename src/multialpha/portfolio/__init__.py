"""The portfolio coordinator: the gate every entry passes (limits, daily stops, halts, stats)."""

from multialpha.portfolio.coordinator import PortfolioCoordinator
from multialpha.portfolio.decision import Decision, DenyReason, EntryFacts, entry_denial
from multialpha.portfolio.errors import IllegalTransition, PortfolioError
from multialpha.portfolio.events import CoordinatorEvent, EventKind
from multialpha.portfolio.limits import ACCOUNT, TRANSITIONS, AccountLimits, StrategyLimits, TradingState
from multialpha.portfolio.snapshot import SNAPSHOT_VERSION
from multialpha.portfolio.stats import Stats
from multialpha.portfolio.status import (
    CoordinatorStatus,
    PnlStatus,
    PositionStatus,
    ReservationStatus,
    ScopeStatus,
)

__all__ = [
    "ACCOUNT",
    "SNAPSHOT_VERSION",
    "TRANSITIONS",
    "AccountLimits",
    "CoordinatorEvent",
    "CoordinatorStatus",
    "Decision",
    "DenyReason",
    "EntryFacts",
    "EventKind",
    "IllegalTransition",
    "PnlStatus",
    "PortfolioCoordinator",
    "PortfolioError",
    "PositionStatus",
    "ReservationStatus",
    "ScopeStatus",
    "Stats",
    "StrategyLimits",
    "TradingState",
    "entry_denial",
]
