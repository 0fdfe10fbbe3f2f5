"""What the daemon does about order deliveries, off the trading path.

Fills are assumed at the signal: a strategy books an entry open and an exit closed as it hands
the order over. The senders then deliver in the background, and this module acts on what they
report and on the operator's settlements:

* an **entry known not delivered** (FAILED: refused, or the gateway unreachable through every
  attempt) never existed at the broker: its position is voided at the next bar time;
* an entry of **unknown outcome** (UNKNOWN: a 5xx, a timeout after sending, in flight at a crash)
  is managed as open: the exit that follows is harmless if it never arrived;
* an **exit not confirmed** (FAILED or UNKNOWN) is sent again, as a new order
  ``<id>#<n>``, with a growing pause (1 s, 2 s, 4 s ... 60 s), until one is confirmed: an exit
  repeated after the position is already flat is harmless at the broker. Meanwhile no strategy on
  that broker account enters the symbol (deny reason ``exit_unconfirmed``), since a late exit
  would close the new position too (the symbol is held from the moment an exit is handed over
  until it is confirmed; with hourly bars that is long before the next decision). A repeated exit
  the gateway refuses (HTTP 4xx) means nothing
  is left to close: the symbol is released with a warning;
* a **gateway failing** on every order: one alert when a webhook has failed
  ``FAILING_AFTER`` times in a row, its strategies go REDUCING (exits only) until an operator
  resumes them, and one alert when it delivers again;
* a daemon that **starts with orders of unknown outcome** holds new entries of their strategies
  (deny reason ``orders_unknown``) until each is settled with ``multialpha orders resolve``;
  rows committed but never attempted are delivered at once (they cannot have reached the
  gateway);
* an operator's **settlement**: ``--sent`` confirms (an exit releases its symbol); ``--not-sent``
  sends the order (an entry whose position is still open, an exit).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from multialpha.alerts.notifier import Level, Notifier
from multialpha.domain import Action, OrderStatus
from multialpha.execution.router import OrderRouter, Routed
from multialpha.execution.sender import Delivered
from multialpha.portfolio import PortfolioCoordinator, TradingState
from multialpha.state import OutboxIntent, OutboxRecord, StateStore
from multialpha.strategy.step import InstrumentStep

log = logging.getLogger(__name__)
FAILING_AFTER = 3  # consecutive undelivered orders before a webhook counts as failing
MAX_RESEND_PAUSE_SECS = 60.0
SET_BY = "multialpha"
StepOf = Callable[[str, str], InstrumentStep | None]


@dataclass
class _Held:
    strategy: str
    symbol: str
    original: str  # the first exit's intent id
    payload: dict[str, Any]
    sends: int = 0
    timer: threading.Timer | None = None


@dataclass
class _Webhook:
    strategies: list[str] = field(default_factory=list)
    failures: int = 0
    failing: bool = False


class Deliveries:
    def __init__(self, store: StateStore, coordinator: PortfolioCoordinator, notifier: Notifier,
                 webhooks: dict[str, str], *, resend_pause_secs: float = 1.0) -> None:
        self._store, self._coordinator, self._notifier = store, coordinator, notifier
        self._router: OrderRouter | None = None
        self._pause = resend_pause_secs
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], _Held] = {}  # (strategy, symbol) -> exit not confirmed
        self._in_flight: set[tuple[str, str]] = set()  # exits handed over, not yet delivered
        self._voids: queue.Queue[OutboxRecord] = queue.Queue()
        self._by_url: dict[str, _Webhook] = {}
        for strategy, url in webhooks.items():
            self._by_url.setdefault(url, _Webhook()).strategies.append(strategy)
        self._webhook_of = {s: self._by_url[url] for s, url in webhooks.items()}
        self._unknown: set[str] = set()
        self._held_entries: dict[str, str] = {}  # intent id -> strategy: unknown when the daemon started
        self.delivered: list[Delivered] = []
        self._closed = False

    def attach(self, router: OrderRouter) -> None:
        self._router = router

    # -- start-up ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Deliver rows committed but never attempted; hold entries for unknown outcomes; send
        again exits a previous run could not confirm."""
        outbox = self._store.outbox
        unconfirmed = {r.intent_id for r in self._unconfirmed_exits()}
        # In commit order, so each webhook gets its orders in the order they were decided.
        for row in outbox.by_status(OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.UNKNOWN):
            if row.status is OrderStatus.PENDING:  # committed, never attempted
                self._send(row.strategy, row.intent_id)
            elif row.action is Action.BUY and row.status is OrderStatus.FAILED and row.resolved_by:
                if self._entry_still_wanted(row):
                    outbox.requeue_resolved(row.intent_id)
                    self._send(row.strategy, row.intent_id)
            elif row.intent_id in unconfirmed:
                self._hold(row, resend_now=True)
        unknown = outbox.by_status(OrderStatus.UNKNOWN)
        self._held_entries = {r.intent_id: r.strategy for r in unknown}
        self._unknown = {r.intent_id for r in unknown}
        if self._held_entries:
            self._notifier.notify(Level.CRITICAL, "Entries held: orders of unknown outcome",
                                  f"{len(unknown)} order(s) await an operator: " + ", ".join(self._held_entries)
                                  + ". Check the broker's signal log, then `multialpha orders resolve ID "
                                  "--sent|--not-sent`; entries of " + ", ".join(sorted(set(self._held_entries.values())))
                                  + " resume once all are settled")
        self._coordinator.set_orders_unknown(set(self._held_entries.values()))

    def _entry_still_wanted(self, row: OutboxRecord) -> bool:
        """An entry settled as not delivered goes out if its position is still open in the books,
        or if the exit that closed it has not gone out yet either (it follows the entry in its
        webhook's queue, so the broker sees both, in order). Never after its exit: that would
        leave a position at the broker the books have closed."""
        held = self._store.positions.get(row.strategy, row.symbol)
        if held is not None and held.signal_id == row.intent_id:
            return True
        trade = self._store.journal.by_entry(row.intent_id)
        if trade is None:
            return False
        exit_row = self._store.outbox.get(trade.exit_intent_id)
        return exit_row is not None and exit_row.status is OrderStatus.PENDING and exit_row.attempts == 0

    def _unconfirmed_exits(self) -> Iterable[OutboxRecord]:
        latest: dict[tuple[str, str], OutboxRecord] = {}
        for row in self._store.outbox.all():
            if row.action is Action.EXIT:
                latest[(row.strategy, row.symbol)] = row
        return [r for r in latest.values() if r.status in (OrderStatus.UNKNOWN, OrderStatus.FAILED)]

    # -- each bar time (hub thread, workers idle) ---------------------------------------------------
    def sync(self, step_of: StepOf) -> None:
        """Apply voids and operator settlements; update the entry holds."""
        while True:
            try:
                row = self._voids.get_nowait()
            except queue.Empty:
                break
            step = step_of(row.strategy, row.symbol)
            if step is not None and step.void(row.intent_id):
                self._notifier.notify(Level.WARNING, f"Entry not delivered: {row.strategy} {row.symbol}",
                                      f"{row.intent_id} ({row.detail}): the position never existed at the "
                                      "broker and is removed from the books")
        rows = {r.intent_id: r for r in self._store.outbox.by_status(OrderStatus.UNKNOWN)}
        for intent_id in sorted(self._unknown - set(rows)):
            settled = self._store.outbox.get(intent_id)
            if settled is not None:
                self._settled(settled, step_of)
        self._unknown = set(rows)
        held = {i: s for i, s in self._held_entries.items() if i in rows}
        if held != self._held_entries:
            self._held_entries = held
            if not held:
                self._notifier.notify(Level.INFO, "Entries resume", "every order of unknown outcome is settled")
        self._coordinator.set_orders_unknown(set(held.values()))

    def _settled(self, row: OutboxRecord, step_of: StepOf) -> None:
        if row.status is OrderStatus.SENT:
            if row.action is Action.EXIT:
                self._release(row.strategy, row.symbol)
            return
        if row.action is Action.EXIT:  # settled as not delivered: the broker may still hold it
            self._hold(row, resend_now=True)
            return
        if self._entry_still_wanted(row):
            self._store.outbox.requeue_resolved(row.intent_id)
            self._send(row.strategy, row.intent_id)

    # -- hand-over (trading threads) -----------------------------------------------------------------
    def on_routed(self, routed: Routed) -> None:
        """An exit handed over holds its symbol until it is confirmed delivered."""
        intent = routed.intent
        if intent.action is Action.EXIT and not routed.replayed:
            self._coordinator.hold_symbol(intent.strategy, intent.symbol, True)
            with self._lock:
                self._in_flight.add((intent.strategy, intent.symbol))

    # -- delivery outcomes (sender threads) ---------------------------------------------------------
    def on_delivered(self, done: Delivered) -> None:
        row = done.row
        with self._lock:
            self.delivered.append(done)
        self._track_webhook(row)
        if row.status is OrderStatus.SENT:
            if row.action is Action.EXIT:
                self._release(row.strategy, row.symbol)
            return
        if row.action is Action.BUY:
            if row.status is OrderStatus.FAILED:
                self._voids.put(row)
            return
        resend = "#" in row.intent_id
        if resend and row.status is OrderStatus.FAILED and row.http_status is not None and 400 <= row.http_status < 500:
            self._notifier.notify(Level.WARNING, f"Repeated exit refused: {row.strategy} {row.symbol}",
                                  f"{row.intent_id}: HTTP {row.http_status}; the gateway holds nothing to close")
            self._release(row.strategy, row.symbol)
            return
        self._hold(row, resend_now=False)

    def _track_webhook(self, row: OutboxRecord) -> None:
        hook = self._webhook_of.get(row.strategy)
        if hook is None:
            return
        with self._lock:
            if row.status is OrderStatus.SENT:
                hook.failures, hook.failing = 0, False
                return
            hook.failures += 1
            failing_now = hook.failures >= FAILING_AFTER and not hook.failing
            hook.failing = hook.failing or failing_now
        if failing_now:  # the alerts (failing, recovered, the state change) come from the monitoring
            for strategy in hook.strategies:
                self._reduce(strategy, f"webhook failing: {hook.failures} orders in a row not delivered; "
                                       f"exits only until `multialpha resume --strategy {strategy}`")

    def _reduce(self, strategy: str, reason: str) -> None:
        current = self._store.halts.get(strategy)
        if current is None or current.state is TradingState.ACTIVE:
            self._store.halts.set(strategy, TradingState.REDUCING, reason, SET_BY)
        if self._coordinator.status().strategies[strategy].state is TradingState.ACTIVE:
            self._coordinator.set_state(strategy, TradingState.REDUCING, reason)

    # -- exits not confirmed ------------------------------------------------------------------------
    def _hold(self, row: OutboxRecord, *, resend_now: bool) -> None:
        key = (row.strategy, row.symbol)
        if row.status is OrderStatus.FAILED and row.resolved_by:
            # An operator found it was not delivered: send that very order (same id, once only).
            self._store.outbox.requeue_resolved(row.intent_id)
            self._coordinator.hold_symbol(row.strategy, row.symbol, True)
            with self._lock:
                self._in_flight.add(key)
            self._send(row.strategy, row.intent_id)
            return
        with self._lock:
            held = self._held.get(key)
            if held is None:
                held = self._held[key] = _Held(row.strategy, row.symbol, row.intent_id.split("#")[0],
                                               dict(row.payload))
            pause = min(self._pause * 2 ** held.sends, MAX_RESEND_PAUSE_SECS)
            held.sends += 1
            n = held.sends
            if held.timer is not None:
                held.timer.cancel()
                held.timer = None
            if not resend_now and not self._closed:
                held.timer = threading.Timer(pause, self._resend, args=(key, n))
                held.timer.daemon = True
                held.timer.start()
        self._coordinator.hold_symbol(row.strategy, row.symbol, True)
        if resend_now:
            self._resend(key, n)

    def _resend(self, key: tuple[str, str], n: int) -> None:
        with self._lock:
            held = self._held.get(key)
            if held is None or held.sends != n or self._closed:
                return
            base, extras = held.original, dict(held.payload.get("extras", {}))
        original = self._store.outbox.get(base)
        if original is None:
            return
        k = n
        while True:  # the next free number: earlier runs may have sent some already
            intent_id = f"{base}#{k}"
            payload = {**held.payload, "extras": {**extras, "signal_id": intent_id, "resend_of": base}}
            if self._store.outbox.add(OutboxIntent(intent_id, original.strategy, original.symbol, Action.EXIT,
                                                   original.quantity, original.price, original.signal_time,
                                                   payload)):
                break
            k += 1
        log.warning("order.resend intent=%s of=%s", intent_id, base)
        self._send(original.strategy, intent_id)

    def _release(self, strategy: str, symbol: str) -> None:
        with self._lock:
            held = self._held.pop((strategy, symbol), None)
            if held is not None and held.timer is not None:
                held.timer.cancel()
            was_in_flight = (strategy, symbol) in self._in_flight
            self._in_flight.discard((strategy, symbol))
        if held is not None or was_in_flight:
            self._coordinator.hold_symbol(strategy, symbol, False)
            log.info("order.exit_confirmed strategy=%s symbol=%s at=%s", strategy, symbol,
                     datetime.now(UTC).isoformat())

    def _send(self, strategy: str, intent_id: str) -> None:
        if self._router is not None:
            self._router.resend(strategy, intent_id)

    def finish(self, router: OrderRouter, timeout_secs: float) -> bool:
        """At the end of a run: wait until the senders hold nothing and every exit is confirmed
        (resends included); False on timeout (the next start takes over what is left)."""
        deadline = time.monotonic() + timeout_secs
        while True:
            left = deadline - time.monotonic()
            if not router.drain(max(0.0, left)) or left <= 0:
                return False
            if not self.unconfirmed_exits:
                return True
            time.sleep(0.05)

    @property
    def unconfirmed_exits(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._held)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for held in self._held.values():
                if held.timer is not None:
                    held.timer.cancel()
