"""``HealthBoard``: the runner's ``HealthProvider``.

The hub tells it about bar times through two cheap calls (no I/O, a lock held for a few
assignments); everything else is read when ``/health`` or the watchdog asks, from callables
the runner passes in. ``OutboxReader`` counts the outbox on its own read-only connection, so a
health check never waits for, or holds up, the trading threads' writes (SQLite WAL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from multialpha import __version__
from multialpha.domain import OrderStatus
from multialpha.feeds.source import FeedStatus
from multialpha.portfolio.status import CoordinatorStatus
from multialpha.runner.health import HealthSnapshot, OutboxCounts, WorkerHealth
from multialpha.state import StateStore


def utc_now() -> datetime:
    return datetime.now(UTC)


class HealthBoard:
    """Builds a ``HealthSnapshot`` on demand; thread-safe."""

    def __init__(self, *, mode: str, version: str = __version__,
                 workers: Callable[[], Iterable[WorkerHealth]] = tuple,
                 feed: Callable[[], FeedStatus | None] = lambda: None,
                 outbox: Callable[[], OutboxCounts] = OutboxCounts,
                 trading: Callable[[], Mapping[str, str]] = dict,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.mode, self.version = str(mode), version
        self._workers, self._feed, self._outbox, self._trading, self._now = workers, feed, outbox, trading, now
        self.started_at = now()
        self._lock = threading.Lock()
        self._running = False
        self._busy_since: datetime | None = None
        self._bar_times = 0
        self._last_bars: dict[str, datetime] = {}

    # -- called by the runner and the hub (cheap) -------------------------------------------------
    def set_running(self, running: bool = True) -> None:
        """The workers were started (or, with False, the run is over)."""
        with self._lock:
            self._running = running

    def bar_time_started(self) -> None:
        """The hub begins a bar time (before the day roll)."""
        now = self._now()
        with self._lock:
            self._busy_since = now

    def bar_time_done(self, close_time: datetime, symbols: Iterable[str]) -> None:
        """The hub finished a bar time: ``symbols`` had a bar closing at ``close_time``."""
        with self._lock:
            self._busy_since = None
            self._bar_times += 1
            for symbol in symbols:
                self._last_bars[symbol] = close_time

    # -- the provider -----------------------------------------------------------------------------
    def __call__(self) -> HealthSnapshot:
        with self._lock:
            running, busy, bar_times, last = self._running, self._busy_since, self._bar_times, dict(self._last_bars)
        return HealthSnapshot(
            now=self._now(), mode=self.mode, version=self.version, started_at=self.started_at,
            workers=tuple(self._workers()), feed=self._feed(), last_bars=last, outbox=self._outbox(),
            trading=dict(self._trading()), bar_time_started_at=busy, bar_times=bar_times, running=running)


def worker_health(worker: Any) -> WorkerHealth:
    """A ``StrategyWorker`` as the health check sees it (``state``, ``thread_alive``, ``error``)."""
    return WorkerHealth(name=str(worker.name), state=str(worker.state), thread_alive=bool(worker.thread_alive),
                        error=worker.error)


def trading_states(status: CoordinatorStatus) -> dict[str, str]:
    """Each scope's trading state (``account`` and every strategy) from the coordinator's status."""
    return {"account": status.account.state.value, **{n: s.state.value for n, s in status.strategies.items()}}


def outbox_counts(store: StateStore) -> OutboxCounts:
    """PENDING and UNKNOWN orders in ``store``, with when the oldest PENDING one was committed."""
    pending = store.outbox.by_status(OrderStatus.PENDING)
    unknown = store.outbox.by_status(OrderStatus.UNKNOWN)
    oldest = min((r.created_at for r in pending), default=None)
    return OutboxCounts(pending=len(pending), unknown=len(unknown), oldest_pending_at=oldest)


class OutboxReader:
    """Outbox counts from a read-only connection of its own, opened on first use and cached for
    ``max_age_secs`` (health checks can come in bursts)."""

    def __init__(self, state_path: Path | str, *, max_age_secs: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.state_path = Path(state_path)
        self._max_age, self._clock = max_age_secs, clock
        self._lock = threading.Lock()
        self._store: StateStore | None = None
        self._cached: tuple[float, OutboxCounts] | None = None

    def __call__(self) -> OutboxCounts:
        with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self._max_age:
                return self._cached[1]
            if self._store is None:
                self._store = StateStore.open(self.state_path, create=False, read_only=True)
            counts = outbox_counts(self._store)
            self._cached = (now, counts)
            return counts

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
