"""OrderRouter: every order intent is committed to the outbox, then becomes one webhook."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from multialpha.alerts.notifier import Level, Notifier
from multialpha.domain import Action, DeliveryResult, OrderIntent, OrderStatus
from multialpha.execution.payloads import build_payload
from multialpha.execution.traderspost import WebhookClient
from multialpha.state import OutboxIntent, OutboxRecord, StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Routed:
    intent: OrderIntent
    result: DeliveryResult
    outbox_ns: int  # perf_counter_ns when the outbox row was committed, before the POST
    done_ns: int  # perf_counter_ns when the POST finished
    replayed: bool = False  # the intent was already in the outbox: nothing was sent
    arrival_ns: int | None = None  # perf_counter_ns when the bar reached the deciding strategy
    submitted_ns: int | None = None  # perf_counter_ns when the intent was handed to the router


class OrderRouter:
    """Outbox first, then the POST, then the outcome; an intent id is POSTed at most once.

    An intent already in the outbox (the same bar processed again after a restart) is not
    sent again: its recorded outcome is returned (``replayed``). A row that was in flight when
    the last process stopped is UNKNOWN until an operator settles it; one settled as "not
    delivered" is delivered now.
    """

    def __init__(self, client: WebhookClient, webhook_urls: Mapping[str, str], notifier: Notifier,
                 store: StateStore, on_routed: Callable[[Routed], None] | None = None) -> None:
        self._client = client
        self._urls = dict(webhook_urls)
        self._notifier = notifier
        self._store = store
        self._on_routed = on_routed

    def submit(self, intent: OrderIntent, *, arrival_ns: int | None = None) -> OrderStatus:
        """``arrival_ns``: when the bar that produced the intent reached its strategy (latency figures)."""
        submitted_ns = time.perf_counter_ns()
        payload = build_payload(intent)
        outbox = self._store.outbox
        added = outbox.add(OutboxIntent(intent.intent_id, intent.strategy, intent.symbol,
                                        Action(intent.action.value), intent.quantity, repr(intent.price),
                                        intent.signal_time, payload))
        if not added:
            earlier = outbox.get(intent.intent_id)
            assert earlier is not None
            if not (earlier.status is OrderStatus.FAILED and earlier.resolved_by):
                return self._replayed(intent, earlier)
            outbox.requeue_resolved(intent.intent_id)
        outbox_ns = time.perf_counter_ns()
        result = self._client.deliver(self._urls[intent.strategy], payload, label=intent.strategy)
        done_ns = time.perf_counter_ns()
        outbox.mark(intent.intent_id, OrderStatus(result.status.value), http_status=result.http_status,
                    detail=result.detail, attempts=result.attempts)
        log.info("order.routed intent=%s action=%s qty=%d price=%r status=%s attempts=%d",
                 intent.intent_id, intent.action, intent.quantity, intent.price, result.status, result.attempts)
        if result.status is not OrderStatus.SENT:
            level = Level.CRITICAL if result.status is OrderStatus.UNKNOWN else Level.WARNING
            self._notifier.notify(level, f"Order {result.status}: {intent.strategy} {intent.symbol} {intent.action}",
                                  result.detail, {"intent": intent.intent_id})
        if self._on_routed is not None:
            self._on_routed(Routed(intent, result, outbox_ns, done_ns, arrival_ns=arrival_ns,
                                   submitted_ns=submitted_ns))
        return result.status

    def _replayed(self, intent: OrderIntent, row: OutboxRecord) -> OrderStatus:
        status = OrderStatus(row.status.value)
        if status is OrderStatus.PENDING:  # only this process writes PENDING rows, and it is done with them
            status = OrderStatus.UNKNOWN
        log.warning("order.replayed intent=%s status=%s: already in the outbox, not sent again",
                    intent.intent_id, status)
        result = DeliveryResult(status=status, http_status=row.http_status, attempts=0,
                                detail=f"already in the outbox as {row.status.value}; not sent again",
                                elapsed_secs=0.0)
        if self._on_routed is not None:
            now = time.perf_counter_ns()
            self._on_routed(Routed(intent, result, now, now, replayed=True))
        return result.status
