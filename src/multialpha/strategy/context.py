"""Everything one IbsStrategy instance needs, built by its worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multialpha.contracts import ContractSpec
from multialpha.strategy.params import IbsParams
from multialpha.strategy.position import Ledger
from multialpha.strategy.stats import InstrumentStats

if TYPE_CHECKING:
    from multialpha.alerts.notifier import Notifier
    from multialpha.execution.router import OrderRouter
    from multialpha.features import FeatureBook
    from multialpha.feeds.history import BarHistory
    from multialpha.feeds.inbox import Inbox
    from multialpha.models import ModelBundle
    from multialpha.portfolio import PortfolioCoordinator


@dataclass
class InstrumentContext:
    strategy: str
    symbol: str
    ticker: str
    params: IbsParams
    bundle: ModelBundle | None
    contract: ContractSpec
    references: tuple[str, ...]
    history: BarHistory
    features: FeatureBook
    inbox: Inbox
    coordinator: PortfolioCoordinator
    router: OrderRouter
    ledger: Ledger
    notifier: Notifier
    exit_only: bool = False  # a held position in a symbol no longer configured: manage its exit only
    stats: InstrumentStats = field(default_factory=InstrumentStats)
    extra: dict[str, Any] = field(default_factory=dict)
