"""Start-up: rebuild the daemon's state from the store. A clean restart and a crash take this
same path (crash-only), so the code that recovers is the code that runs every day."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from multialpha.alerts.notifier import Level, Notifier
from multialpha.config import ResolvedStrategy
from multialpha.domain import OrderStatus
from multialpha.errors import ConfigError, StateError
from multialpha.portfolio import ACCOUNT, PortfolioCoordinator, TradingState
from multialpha.runner.ledger import COORDINATOR_SNAPSHOT
from multialpha.state import StateStore

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint"
IN_FLIGHT_DETAIL = ("in flight when the daemon stopped: check the broker's signal log, then "
                    "`multialpha orders resolve ID --sent|--not-sent`")


@dataclass
class Recovery:
    resume_after_ns: int | None = None  # last bar time fully processed before this start
    orphans: dict[str, list[str]] = field(default_factory=dict)  # strategy -> symbols no longer configured
    notes: list[str] = field(default_factory=list)


def recover(store: StateStore, coordinator: PortfolioCoordinator, notifier: Notifier,
            strategies: Sequence[ResolvedStrategy]) -> Recovery:
    swept = store.outbox.sweep_in_flight(IN_FLIGHT_DETAIL)
    if swept:
        ids = [r.intent_id for r in swept]
        notifier.notify(Level.CRITICAL, "Orders of unknown outcome after a restart",
                        f"{len(ids)} order(s) were in flight when the daemon stopped and are not sent again: "
                        + ", ".join(ids))
    return read_saved_state(store, coordinator, strategies, notifier)


def read_saved_state(store: StateStore, coordinator: PortfolioCoordinator, strategies: Sequence[ResolvedStrategy],
                     notifier: Notifier | None = None) -> Recovery:
    """Everything start-up reads from the store, checked against the configuration; writes
    nothing (``multialpha check`` runs it on a read-only store). ConfigError or StateError
    naming what is wrong."""
    rec = Recovery()
    unknown = [r.intent_id for r in store.outbox.by_status(OrderStatus.UNKNOWN, OrderStatus.PENDING)]
    if unknown:
        rec.notes.append(f"{len(unknown)} order(s) of unknown outcome await an operator: " + ", ".join(unknown))

    by_name = {s.name: s for s in strategies}
    positions = store.positions.all()
    unconfigured = sorted({p.strategy for p in positions} - set(by_name))
    if unconfigured:
        held = ", ".join(f"{p.strategy} {p.symbol}" for p in positions if p.strategy in unconfigured)
        raise ConfigError(f"the state store holds open positions of strategies that are not enabled: {held}. "
                          "Enable them again so their exits are managed, or close the positions at the broker "
                          "and remove them from the store deliberately")
    for p in positions:
        if p.symbol not in by_name[p.strategy].symbols:
            rec.orphans.setdefault(p.strategy, []).append(p.symbol)
            msg = (f"{p.strategy} holds {p.quantity} {p.symbol} (entered {p.entry_time.isoformat()}) but {p.symbol} "
                   "is no longer configured: it gets no new entries and its exit is still managed")
            rec.notes.append(msg)
            if notifier is not None:
                notifier.notify(Level.CRITICAL, "Position in a symbol no longer configured", msg)

    snap = store.daily.load_snapshot(COORDINATOR_SNAPSHOT)
    if snap is not None:
        coordinator.restore(snap.data)
    on_record = {(p.strategy, p.symbol) for p in positions}
    in_coordinator = {(p.strategy, p.symbol) for p in coordinator.status().positions}
    if on_record != in_coordinator:
        raise StateError(f"{store.path}: positions {sorted(on_record)} disagree with the coordinator's saved "
                         f"state {sorted(in_coordinator)}; refusing to guess")

    cp = store.daily.load_snapshot(CHECKPOINT)
    if cp is not None:
        rec.resume_after_ns = int(cp.data["ts_ns"])
    if positions or cp is not None:
        rec.notes.append(f"recovered {len(positions)} open position(s) from {store.path}"
                         + (f"; resuming after bar {cp.data['close_time']}" if cp is not None else ""))
    return rec


class HaltSync:
    """Applies operator halts written to the store (by `multialpha halt/resume`) to the coordinator."""

    def __init__(self, store: StateStore, coordinator: PortfolioCoordinator, notifier: Notifier) -> None:
        self._store, self._coordinator, self._notifier = store, coordinator, notifier
        self._seen: dict[str, tuple[str, bool, str]] = {}

    def sync(self) -> None:
        for rec in self._store.halts.all():
            key = (rec.state.value, rec.flatten_requested, rec.since.isoformat())
            if self._seen.get(rec.scope) == key:
                continue
            self._seen[rec.scope] = key
            status = self._coordinator.status()
            scopes = {ACCOUNT: status.account, **status.strategies}
            current = scopes.get(rec.scope)
            if current is None:
                log.warning("halt.ignored scope=%s: not a configured strategy", rec.scope)
                continue
            state = rec.state
            if state is TradingState.HALTED and rec.flatten_requested:
                if not current.flatten_requested:
                    self._coordinator.flatten(rec.scope, rec.reason)
            elif current.state is not state:
                self._coordinator.set_state(rec.scope, state, rec.reason)
            else:
                continue
            level = Level.INFO if state is TradingState.ACTIVE else Level.WARNING
            self._notifier.notify(level, f"{rec.scope} is now {state.value}"
                                  + (" (flatten)" if rec.flatten_requested else ""),
                                  f"{rec.reason} (by {rec.set_by})")
