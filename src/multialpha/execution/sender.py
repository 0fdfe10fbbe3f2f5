"""``OutboxSender``: one background thread per webhook URL, delivering committed outbox rows in
order, so a slow, hanging or failing gateway never delays a trading decision (the decision is
done once its row is committed) nor another webhook's orders.

Once-only across crashes: before each POST the row's attempt count is committed. A row that is
still PENDING with no attempt when the process stops was never sent, so the next start delivers
it; one with an attempt may have reached the gateway and becomes UNKNOWN for an operator.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from multialpha.domain import DeliveryResult, OrderStatus
from multialpha.errors import MultialphaError
from multialpha.execution.traderspost import WebhookClient
from multialpha.state import OutboxRecord, StateStore

log = logging.getLogger(__name__)
_STOP = object()


@dataclass(frozen=True)
class Delivered:
    """One outbox row's delivery, as the sender saw it."""

    row: OutboxRecord  # as it stands after the delivery (status, attempts, http_status, detail)
    result: DeliveryResult
    queued_ns: int  # perf_counter_ns when it was handed to the sender
    read_ns: int  # perf_counter_ns when the sender read the committed row (its transaction is durable)
    done_ns: int


class OutboxSender:
    def __init__(self, name: str, url: str, client: WebhookClient, store: StateStore,
                 on_delivered: Callable[[Delivered], None], *, label: str) -> None:
        self.name = name
        self._url, self._client, self._store = url, client, store
        self._on_delivered = on_delivered
        self._label = label
        self._queue: queue.Queue[object] = queue.Queue()
        self._idle = threading.Condition()
        self._outstanding = 0
        self.fatal: MultialphaError | None = None  # the state store failed under the sender
        self._thread = threading.Thread(target=self._run, name=f"sender-{name}", daemon=True)
        self._thread.start()

    def enqueue(self, intent_id: str) -> None:
        with self._idle:
            self._outstanding += 1
        self._queue.put((intent_id, time.perf_counter_ns()))

    @property
    def backlog(self) -> int:
        with self._idle:
            return self._outstanding

    def drain(self, timeout_secs: float) -> bool:
        """Wait until every queued row is delivered; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0 or self.fatal is not None,
                                       timeout=timeout_secs)

    def close(self, timeout_secs: float = 5.0) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout_secs)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, tuple)
            intent_id: str = item[0]
            queued_ns: int = item[1]
            try:
                self._deliver(intent_id, queued_ns)
            except MultialphaError as exc:  # the store is unusable: the process must stop
                log.critical("sender.store_failed sender=%s intent=%s error=%s", self.name, intent_id, exc)
                self.fatal = exc
            finally:
                with self._idle:
                    self._outstanding -= 1
                    self._idle.notify_all()
            if self.fatal is not None:
                return

    def _deliver(self, intent_id: str, queued_ns: int) -> None:
        row = self._store.outbox.get(intent_id)
        read_ns = time.perf_counter_ns()
        if row is None or row.status is not OrderStatus.PENDING:
            return  # rolled back with its decision, or settled meanwhile: nothing to send
        attempts = row.attempts + 1
        # Committed, and on disk with the decision that made the row, before the POST: a crash
        # from here on leaves the row "in flight", never sent again.
        self._store.outbox.mark(intent_id, OrderStatus.PENDING, attempts=attempts)
        self._store.sync()
        result = self._client.deliver(self._url, row.payload, label=self._label)
        done = self._store.outbox.mark(intent_id, result.status, http_status=result.http_status,
                                       detail=result.detail, attempts=attempts - 1 + result.attempts)
        log.info("order.delivered intent=%s status=%s attempts=%d http=%s", intent_id, result.status,
                 done.attempts, result.http_status)
        self._on_delivered(Delivered(done, result, queued_ns, read_ns, time.perf_counter_ns()))
