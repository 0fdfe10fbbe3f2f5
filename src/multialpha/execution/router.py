"""OrderRouter: every order intent is committed to the outbox, then delivered in the background.

``submit`` builds the payload and adds the outbox row (inside the caller's transaction when there
is one, so the decision and its fill commit together) and hands the row to the sender of the
strategy's webhook, which POSTs it once that transaction has committed. The decision is done
when ``submit`` returns: no POST, retry or timeout ever runs on a trading thread.

An intent already in the outbox (the same bar processed again after a restart) is not added
again: its recorded status is returned, and it is handed to the sender only if it was never
attempted (it cannot have reached the gateway) or an operator settled it as not delivered.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from multialpha.domain import DeliveryResult, OrderIntent, OrderStatus
from multialpha.execution.payloads import build_payload
from multialpha.execution.sender import Delivered, OutboxSender
from multialpha.execution.traderspost import WebhookClient
from multialpha.state import OutboxIntent, StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Routed:
    """One order's way through the daemon, for reports and latency figures."""

    intent: OrderIntent
    result: DeliveryResult | None  # None until delivered
    outbox_ns: int  # perf_counter_ns when the outbox row was added (the decision's hand-over)
    done_ns: int  # perf_counter_ns when the delivery finished (0 until then)
    replayed: bool = False  # the intent was already in the outbox
    arrival_ns: int | None = None  # perf_counter_ns when the bar reached the deciding strategy
    submitted_ns: int | None = None  # perf_counter_ns when the intent was handed to the router
    committed_ns: int = 0  # perf_counter_ns when its transaction (outbox row and fill) committed


class OrderRouter:
    def __init__(self, client: WebhookClient, webhook_urls: Mapping[str, str], store: StateStore, *,
                 on_delivered: Callable[[Delivered], None] | None = None,
                 on_routed: Callable[[Routed], None] | None = None,
                 on_committed: Callable[[Routed], None] | None = None, paper: bool = False) -> None:
        self._store = store
        self._on_delivered = on_delivered
        self._on_routed = on_routed
        self._on_committed = on_committed
        self._handed: dict[str, Routed] = {}  # handed over, transaction not yet committed
        self._paper = paper
        by_url: dict[str, OutboxSender] = {}
        self._senders: dict[str, OutboxSender] = {}
        for strategy, url in webhook_urls.items():
            if url not in by_url:
                by_url[url] = OutboxSender(strategy, url, client, store, self._delivered, label=strategy)
            self._senders[strategy] = by_url[url]
        self._unique = list(by_url.values())

    # -- trading side --------------------------------------------------------------------------
    def submit(self, intent: OrderIntent, *, arrival_ns: int | None = None) -> OrderStatus:
        submitted_ns = time.perf_counter_ns()
        payload = build_payload(intent)
        if self._paper:
            payload["extras"]["paper"] = True
        outbox = self._store.outbox
        added = outbox.add(OutboxIntent(intent.intent_id, intent.strategy, intent.symbol, intent.action,
                                        intent.quantity, repr(intent.price), intent.signal_time, payload))
        outbox_ns = time.perf_counter_ns()
        if added:
            self._senders[intent.strategy].enqueue(intent.intent_id)
            routed = Routed(intent, None, outbox_ns, 0, arrival_ns=arrival_ns, submitted_ns=submitted_ns)
            if self._on_committed is not None:
                self._handed[intent.intent_id] = routed
            self._routed(routed)
            return OrderStatus.PENDING
        earlier = outbox.get(intent.intent_id)
        assert earlier is not None
        status = earlier.status
        if status is OrderStatus.FAILED and earlier.resolved_by:  # settled as not delivered: deliver now
            outbox.requeue_resolved(intent.intent_id)
            status = OrderStatus.PENDING
        if status is OrderStatus.PENDING and earlier.attempts == 0 or earlier.status is not status:
            self._senders[intent.strategy].enqueue(intent.intent_id)
        log.warning("order.replayed intent=%s status=%s: already in the outbox", intent.intent_id, status)
        self._routed(Routed(intent, None, outbox_ns, 0, replayed=True, arrival_ns=arrival_ns,
                            submitted_ns=submitted_ns))
        return status

    def committed(self, intent_id: str) -> None:
        """The caller's transaction holding ``intent_id`` committed (latency figures)."""
        routed = self._handed.pop(intent_id, None)
        if routed is not None and self._on_committed is not None:
            self._on_committed(dataclasses.replace(routed, committed_ns=time.perf_counter_ns()))

    def resend(self, strategy: str, intent_id: str) -> None:
        """Hand an outbox row (PENDING, never attempted) to its strategy's sender."""
        self._senders[strategy].enqueue(intent_id)

    # -- delivery side -------------------------------------------------------------------------
    def _delivered(self, done: Delivered) -> None:
        if self._on_delivered is not None:
            self._on_delivered(done)

    def _routed(self, routed: Routed) -> None:
        if self._on_routed is not None:
            self._on_routed(routed)

    @property
    def backlog(self) -> int:
        return sum(s.backlog for s in self._unique)

    def fatal(self) -> Exception | None:
        return next((s.fatal for s in self._unique if s.fatal is not None), None)

    def drain(self, timeout_secs: float) -> bool:
        """Wait for every sender to deliver what it holds; False on timeout."""
        deadline = time.monotonic() + timeout_secs
        return all(s.drain(max(0.0, deadline - time.monotonic())) for s in self._unique)

    def close(self, timeout_secs: float = 5.0) -> None:
        for s in self._unique:
            s.close(timeout_secs)
