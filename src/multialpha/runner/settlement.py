"""Orders of unknown outcome and the operator's settlement of them, applied by the daemon.

An order is UNKNOWN after a 5xx, a timeout after sending, or when it was in flight as the
process died. An entry of unknown outcome is managed as open (the exit that follows is harmless
if it never arrived). A daemon that starts with orders of unknown outcome (typically restarted
by systemd after a crash) holds new entries of their strategies (deny reason
``orders_unknown``, shown as REDUCING by ``status``) until an operator has checked the broker
and settled each with ``multialpha orders resolve ID --sent|--not-sent``; exits go on. The
running daemon picks a settlement up at its next bar time, a restarted one at start-up:

* an exit settled ``--sent`` closes its position at the exit's signal price and time (the
  fill assumed at the signal), freeing the slot, unless a later exit already closed it (an
  exit the daemon delivered itself but had not booked when it stopped is booked when its bar
  time is processed again, as the order router answers it from the outbox);
* an exit settled ``--not-sent`` leaves the position to its exit rules;
* an exit still unknown (or known failed) keeps its position with the exit pending: the next
  bar sends a new exit whatever the exit rules say (a second exit is harmless at the broker).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from multialpha.alerts.notifier import Level, Notifier
from multialpha.domain import Action, OrderIntent, OrderStatus
from multialpha.portfolio import PortfolioCoordinator
from multialpha.state import OutboxRecord, StateStore
from multialpha.strategy.step import InstrumentStep

log = logging.getLogger(__name__)
StepOf = Callable[[str, str], InstrumentStep | None]


def intent_of(row: OutboxRecord) -> OrderIntent:
    extras = row.payload.get("extras") or {}
    return OrderIntent(intent_id=row.intent_id, strategy=row.strategy, symbol=row.symbol,
                       ticker=str(row.payload.get("ticker") or row.symbol), action=row.action,
                       quantity=row.quantity, price=float(row.price), signal_time=row.signal_time,
                       ml_score=extras.get("ml_score"), reason=str(extras.get("reason") or "exit"))


class Settlements:
    def __init__(self, store: StateStore, coordinator: PortfolioCoordinator, notifier: Notifier) -> None:
        self._store, self._coordinator, self._notifier = store, coordinator, notifier
        self._unknown: dict[str, OutboxRecord] = {}
        self._held: dict[str, str] = {}  # intent id -> strategy: unknown when the daemon started

    def start(self, step_of: StepOf, steps: list[InstrumentStep]) -> None:
        """At start-up: apply settlements made while the daemon was down; restore pending exits;
        hold entries of strategies with orders of unknown outcome."""
        self._held = {r.intent_id: r.strategy for r in self._store.outbox.by_status(OrderStatus.UNKNOWN)}
        if self._held:
            self._notifier.notify(Level.CRITICAL, "Entries held: orders of unknown outcome",
                                  f"{len(self._held)} order(s) await an operator: " + ", ".join(self._held)
                                  + ". Check the broker's signal log, then `multialpha orders resolve ID "
                                  "--sent|--not-sent`; entries of "
                                  + ", ".join(sorted(set(self._held.values()))) + " resume once all are settled")
        for step in steps:
            pos = step.position
            if pos is None:
                continue
            for row in self._store.outbox.exits_after(step.strategy, step.symbol, pos.entry_time):
                if step.position is None:
                    break
                self._apply(row, step)
        self.sync(step_of)

    def sync(self, step_of: StepOf) -> None:
        """Each bar time: settlements since the last call, and which strategies hold entries."""
        rows = {r.intent_id: r for r in self._store.outbox.by_status(OrderStatus.UNKNOWN)}
        for intent_id in [i for i in self._unknown if i not in rows]:
            settled = self._store.outbox.get(intent_id)
            step = None if settled is None else step_of(settled.strategy, settled.symbol)
            if settled is not None and step is not None:
                self._apply(settled, step)
        self._unknown = rows
        held = {i: s for i, s in self._held.items() if i in rows}
        if held != self._held:
            self._held = held
            if not held:
                self._notifier.notify(Level.INFO, "Entries resume", "every order of unknown outcome is settled")
        self._coordinator.set_orders_unknown(set(held.values()))

    def _apply(self, row: OutboxRecord, step: InstrumentStep) -> None:
        pos = step.position
        if row.action is not Action.EXIT or pos is None or row.signal_time <= pos.entry_time:
            return
        if row.status is OrderStatus.SENT and row.resolved_by:
            intent = intent_of(row)
            trade = step.close_booked(intent, intent.reason)
            log.warning("order.settled_exit intent=%s pnl=%.2f", row.intent_id, trade.pnl)
            self._notifier.notify(Level.WARNING, f"Exit settled as delivered: {row.strategy} {row.symbol}",
                                  f"{row.intent_id} booked at its signal price {float(row.price)}; "
                                  f"trade P&L {trade.pnl:,.2f}")
        elif row.status is OrderStatus.FAILED and row.resolved_by:
            pos.exit_pending = None  # settled as not delivered: back to the exit rules
        elif row.status in (OrderStatus.UNKNOWN, OrderStatus.FAILED):
            pos.exit_pending = pos.exit_pending or str((row.payload.get("extras") or {}).get("reason") or "exit")
