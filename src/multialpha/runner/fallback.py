"""Positions of a strategy whose worker failed (at start-up or while running) are still managed.

The hub adopts them into exit-only steps it drives itself, bar by bar, without the failed
worker's Backtrader engine: each is marked every bar (so its P&L counts toward the account's
daily stop), exits when a flatten applies, and, under the ``reducing`` choice, follows its exit
rules. ``runtime.on_strategy_failure`` decides what else happens:

* ``flatten`` (default): the failed strategy is HALTED with a flatten request (as if an
  operator had run ``halt --strategy NAME --flatten``): its positions exit at the next bar
  time and it stays halted until ``multialpha resume --strategy NAME``;
* ``reducing``: the whole account goes REDUCING (exits only, for every strategy) until an
  operator resumes it; the failed strategy's positions keep their exit rules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

from multialpha.alerts.notifier import Level, Notifier
from multialpha.config import ResolvedStrategy
from multialpha.config.schema import FailurePolicy
from multialpha.contracts import ContractSpec
from multialpha.domain import BarGroup
from multialpha.errors import MultialphaError
from multialpha.features import FeatureBook
from multialpha.feeds.history import BarHistory
from multialpha.portfolio import ACCOUNT, PortfolioCoordinator, TradingState
from multialpha.rolls import RollSchedule
from multialpha.runner.market import BookView
from multialpha.runner.params import instrument_setup
from multialpha.runner.worker import tickers_for
from multialpha.state import StateStore
from multialpha.strategy.alpha import BarEvent, alpha_spec
from multialpha.strategy.ibs import IBS
from multialpha.strategy.ports import Ledger, OrderPort
from multialpha.strategy.step import InstrumentStep

log = logging.getLogger(__name__)
SET_BY = "multialpha"


class FallbackSteps:
    def __init__(self, *, store: StateStore, coordinator: PortfolioCoordinator, orders: OrderPort,
                 ledger: Ledger, contracts: Mapping[str, ContractSpec], notifier: Notifier,
                 policy: FailurePolicy, base_dir: Path, rolls: RollSchedule | None) -> None:
        self._store, self._coordinator, self._orders, self._ledger = store, coordinator, orders, ledger
        self._contracts, self._notifier, self._policy = contracts, notifier, policy
        self._base_dir, self._rolls = base_dir, rolls
        self._steps: dict[tuple[str, str], InstrumentStep] = {}
        self._history: dict[str, BarHistory] = {}
        self.adopted: dict[str, str] = {}  # strategy -> why

    def __iter__(self) -> Iterator[InstrumentStep]:
        return iter([self._steps[k] for k in sorted(self._steps)])

    def adopt(self, strategy: ResolvedStrategy, why: str, history: BarHistory) -> None:
        """Take over ``strategy``'s open positions and apply the failure policy."""
        if strategy.name in self.adopted:
            return
        self.adopted[strategy.name] = why
        positions = self._ledger.open_positions(strategy.name)
        self._apply_policy(strategy.name, why)
        for pos in positions:
            self._steps[(strategy.name, pos.symbol)] = self._step(strategy, pos.symbol, history)
        held = ", ".join(f"{p.quantity} {p.symbol}" for p in positions) or "no open positions"
        action = ("its positions exit at the next bar time and it stays halted until `multialpha resume "
                  f"--strategy {strategy.name}`" if self._policy is FailurePolicy.FLATTEN else
                  "the account is REDUCING (exits only) until `multialpha resume`; its positions keep their "
                  "exit rules")
        self._notifier.notify(Level.CRITICAL, f"Strategy {strategy.name} failed",
                              f"{why}. Holding {held}: {action}.")
        log.error("strategy.adopted strategy=%s positions=%d policy=%s", strategy.name, len(positions),
                  self._policy.value)

    def on_group(self, group: BarGroup) -> None:
        """Every bar time, warm-up included: history, marks, flattens and exit rules."""
        for (name, symbol), step in sorted(self._steps.items()):
            bar = group.bars.get(symbol)
            if bar is None:
                continue
            self._history[name].append(symbol, group.ts_ns, bar)
            step.on_bar(BarEvent(group.close_time, group.trading_day, group.close_minute, bar.open, bar.high,
                                 bar.low, bar.close, bar.volume, group.historical, group.arrived_ns))
        for key in [k for k, s in self._steps.items() if s.position is None]:
            del self._steps[key]

    def _apply_policy(self, name: str, why: str) -> None:
        reason = f"strategy {name} failed: {why}"[:500]
        if self._policy is FailurePolicy.FLATTEN:
            scope, state, flatten = name, TradingState.HALTED, True
        else:
            scope, state, flatten = ACCOUNT, TradingState.REDUCING, False
        current = self._store.halts.get(scope)
        if current is not None and current.state is state and current.flatten_requested == flatten:
            return
        if current is not None and current.state is state:
            self._store.halts.request_flatten(scope, reason, SET_BY)
        else:
            self._store.halts.set(scope, state, reason, SET_BY, flatten=flatten)
        if flatten:
            self._coordinator.flatten(scope, reason)
        elif self._coordinator.status().account.state is not state:
            self._coordinator.set_state(scope, state, reason)

    def _step(self, strategy: ResolvedStrategy, symbol: str, history: BarHistory) -> InstrumentStep:
        contract = self._contracts[symbol]
        try:
            spec = alpha_spec(strategy.strategy)
            params = instrument_setup(strategy, symbol, None, self._base_dir).params
        except MultialphaError:  # its configuration is what failed: exit on defaults (flatten/daily stop)
            spec, params = IBS, IBS.params_type()
        self._history.setdefault(strategy.name, history)
        book = FeatureBook({symbol: contract.tick_size},
                           negative_prices={symbol} if contract.allows_negative_prices else ())
        step = InstrumentStep(strategy=strategy.name, symbol=symbol,
                              tickers=tickers_for(self._rolls, symbol),
                              alpha=spec.build(params, contract), contract=contract, gate=self._coordinator,
                              orders=self._orders, ledger=self._ledger,
                              market=BookView(book, history, symbol), exit_only=True)
        if history.count(symbol):  # the last close the failed worker saw: a flatten can go out now
            step.last_close = float(history.bars(symbol).close[-1])
        return step
