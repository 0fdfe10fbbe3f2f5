"""Keeps one live gateway session open: opens it, reopens it when it ends, reopens it on request.

Every session starts from a fresh plan (which contracts, replay from when), so a dropped
connection, a gateway restart and a roll all take the same path. A session that ended on its
own is reopened after ``delay_secs``, doubling up to ``max_delay_secs`` while sessions keep
ending before delivering a minute record.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import databento_dbn as dbn
from databento_dbn import DBNRecord

from multialpha.clock import Clock
from multialpha.features.bars import NS_PER_SECOND
from multialpha.feeds.live_client import LiveConnector, LiveSession

log = logging.getLogger(__name__)

Plan = Callable[[], tuple[list[str], int]]  # -> (contracts, replay start ns)
Deliver = Callable[[object], bool]  # hands an item on; False once the feed is closing


@dataclass(frozen=True)
class SessionOpened:
    """Marks where a new session's records begin (it replays until the gateway says so)."""

    contracts: tuple[str, ...]
    start_ns: int


@dataclass(frozen=True)
class SessionEnded:
    reason: str


@dataclass(frozen=True)
class SessionState:
    connected: bool
    note: str
    subscribed: frozenset[str]
    reconnects: int
    last_record_at: datetime | None


class SessionKeeper:
    """Runs the sessions on its own thread; records and session markers go to ``deliver``
    (from the client's thread for records, in order)."""

    def __init__(self, connector: LiveConnector, *, plan: Plan, deliver: Deliver, clock: Clock,
                 closed: threading.Event, delay_secs: float, max_delay_secs: float) -> None:
        self._connector = connector
        self._plan = plan
        self._deliver = deliver
        self._clock = clock
        self._closed = closed
        self._delays = (delay_secs, max(delay_secs, max_delay_secs))
        self._lock = threading.Lock()
        self._session: LiveSession | None = None
        self._resubscribe = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = SessionState(False, "connecting", frozenset(), 0, None)
        self._fresh: SessionOpened | None = None  # marker of a session that has sent nothing yet
        self._got_minute = False
        self._opened = 0
        self.last_minute_ns: int | None = None  # latest minute record received, any session

    def state(self) -> SessionState:
        with self._lock:
            return self._state

    def start(self) -> None:
        thread = threading.Thread(target=self._run, name="databento-session", daemon=True)
        thread.start()
        self._thread = thread

    def resubscribe(self) -> bool:
        """End the open session and open one from a fresh plan; False if none is open."""
        with self._lock:
            session = self._session
            if session is None or self._resubscribe.is_set():
                return False
            self._resubscribe.set()
        session.close()
        return True

    def close(self, timeout: float) -> None:
        with self._lock:
            session = self._session
            self._set(connected=False, note="closed")
        if session is not None:
            session.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout)

    def _set(self, **changes: Any) -> None:
        self._state = replace(self._state, **changes)

    def _run(self) -> None:
        delay = self._delays[0]
        while not self._closed.is_set():
            try:
                contracts, start = self._plan()
            except Exception as exc:  # a bad roll rule: the feed cannot go on
                log.exception("feed.plan_failed")
                self._deliver(exc)
                return
            opened = SessionOpened(tuple(contracts), start)
            self._fresh, self._got_minute = opened, False
            try:
                session = self._connector.open(contracts, start, self._on_record)
            except Exception as exc:  # noqa: BLE001 - any failure to connect is retried
                with self._lock:
                    self._set(note=f"cannot connect: {exc}")
                log.warning("feed.connect_failed retry_in_secs=%.1f: %s", delay, exc)
                if self._closed.wait(delay):
                    return
                delay = min(delay * 2, self._delays[1])
                continue
            with self._lock:
                self._session = session
                self._opened += 1
                self._set(connected=True, note="connected", subscribed=frozenset(contracts),
                          reconnects=self._opened - 1)
            if self._closed.is_set():
                session.close()
                return
            log.info("feed.session_open contracts=%s replay_from=%s", ",".join(contracts),
                     datetime.fromtimestamp(start / NS_PER_SECOND, tz=UTC).isoformat())
            reason = session.wait()
            if self._got_minute:
                delay = self._delays[0]
            with self._lock:
                self._session = None
                self._set(connected=False, note=f"reconnecting: {reason}")
            self._deliver(SessionEnded(reason))
            if self._closed.is_set():
                return
            if self._resubscribe.is_set():
                self._resubscribe.clear()
                continue
            log.warning("feed.session_ended reason=%s retry_in_secs=%.1f", reason, delay)
            if self._closed.wait(delay):
                return
            delay = min(delay * 2, self._delays[1])

    def _on_record(self, record: DBNRecord) -> None:
        """Every record of the open session, on the client's thread, in order."""
        if self._fresh is not None:
            opened, self._fresh = self._fresh, None
            self._deliver(opened)
        now = self._clock.now()
        with self._lock:
            self._set(last_record_at=now)
        if isinstance(record, dbn.OHLCVMsg):
            self._got_minute = True
            if self.last_minute_ns is None or record.ts_event > self.last_minute_ns:
                self.last_minute_ns = record.ts_event
        self._deliver(record)
