"""OrderRouter: every order intent becomes one webhook, at most once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from multialpha.alerts.notifier import Level, Notifier
from multialpha.execution.intents import DeliveryResult, DeliveryStatus, OrderIntent
from multialpha.execution.payloads import build_payload

log = logging.getLogger(__name__)


class Deliverer:
    """What the router needs from a webhook client."""

    def deliver(self, url: str, payload: Mapping[str, object], *, label: str) -> DeliveryResult:
        raise NotImplementedError


@dataclass(frozen=True)
class Routed:
    intent: OrderIntent
    result: DeliveryResult
    outbox_ns: int  # perf_counter_ns when the intent was recorded, before the POST
    done_ns: int  # perf_counter_ns when the POST finished


class OrderRouter:
    """Builds the payload, records the intent, then POSTs it to the strategy's webhook.

    An intent id is delivered at most once per router: asking again returns the first
    result without a second POST. ``on_routed`` observers see every routed intent (for the
    summary and latency figures); they must be quick and must not raise.
    """

    def __init__(self, client: Deliverer, webhook_urls: Mapping[str, str], notifier: Notifier,
                 on_routed: Callable[[Routed], None] | None = None) -> None:
        self._client = client
        self._urls = dict(webhook_urls)
        self._notifier = notifier
        self._on_routed = on_routed
        self._seen: dict[str, DeliveryResult] = {}
        self._lock = threading.Lock()

    def submit(self, intent: OrderIntent) -> DeliveryResult:
        with self._lock:
            earlier = self._seen.get(intent.intent_id)
        if earlier is not None:
            log.warning("order.duplicate intent=%s status=%s", intent.intent_id, earlier.status)
            return earlier
        payload = build_payload(intent)
        url = self._urls[intent.strategy]
        outbox_ns = time.perf_counter_ns()
        result = self._client.deliver(url, payload, label=intent.strategy)
        done_ns = time.perf_counter_ns()
        with self._lock:
            self._seen[intent.intent_id] = result
        log.info("order.routed intent=%s action=%s qty=%d price=%s status=%s attempts=%d",
                 intent.intent_id, intent.action, intent.quantity, intent.price, result.status,
                 result.attempts)
        if result.status is not DeliveryStatus.SENT:
            level = Level.CRITICAL if result.status is DeliveryStatus.UNKNOWN else Level.WARNING
            self._notifier.notify(level, f"Order {result.status}: {intent.strategy} {intent.symbol} {intent.action}",
                                  result.detail, {"intent": intent.intent_id})
        if self._on_routed is not None:
            self._on_routed(Routed(intent, result, outbox_ns, done_ns))
        return result
