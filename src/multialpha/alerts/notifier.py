"""Operator alerts: the ``Notifier`` interface, a log-only notifier, and a bounded background
queue that real notifiers (Discord) build on.

``notify`` is called from trading threads, so it must never block on I/O and never raise:
an alert that cannot be queued is dropped and counted, never allowed to stall a bar.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

log = logging.getLogger(__name__)


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


_LOG_LEVEL = {Level.INFO: logging.INFO, Level.WARNING: logging.WARNING, Level.CRITICAL: logging.CRITICAL}


@dataclass(frozen=True)
class Alert:
    level: Level
    title: str
    message: str
    fields: tuple[tuple[str, str], ...]
    created_at: datetime

    @classmethod
    def create(cls, level: Level | str, title: str, message: str,
               fields: Mapping[str, str] | None = None, created_at: datetime | None = None) -> Alert:
        pairs = tuple((str(k), str(v)) for k, v in (fields or {}).items())
        when = created_at if created_at is not None else datetime.now(UTC)
        return cls(Level(level), str(title), str(message), pairs, when)


class Notifier(Protocol):
    def notify(self, level: Level, title: str, message: str,
               fields: Mapping[str, str] | None = None) -> None:
        """Hand an alert over; returns at once, never raises."""
        ...


def _log_alert(alert: Alert, notifier: str) -> None:
    log.log(
        _LOG_LEVEL[alert.level],
        "alert notifier=%s level=%s title=%r message=%r fields=%r",
        notifier, alert.level.value, alert.title, alert.message, dict(alert.fields),
        extra={"event": "alert", "alert_level": alert.level.value, "alert_title": alert.title},
    )


class LogNotifier:
    """Alerts as log lines only (used when no Discord URL is configured)."""

    def notify(self, level: Level, title: str, message: str,
               fields: Mapping[str, str] | None = None) -> None:
        try:
            _log_alert(Alert.create(level, title, message, fields), "log")
        except Exception:
            log.exception("alert_not_logged title=%r", title)

    def close(self, timeout_secs: float = 0.0) -> bool:
        return True


class RecordingNotifier:
    """Keeps alerts in memory; a test double for code that raises alerts."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self._lock = threading.Lock()

    def notify(self, level: Level, title: str, message: str,
               fields: Mapping[str, str] | None = None) -> None:
        alert = Alert.create(level, title, message, fields)
        with self._lock:
            self.alerts.append(alert)

    def close(self, timeout_secs: float = 0.0) -> bool:
        return True


class AlertQueue(ABC):
    """A bounded queue drained by one daemon thread that calls ``_deliver`` per alert.

    When the queue is full the newest alert is dropped and counted (``dropped``); a failed
    delivery is logged and counted (``failed``). Neither ever reaches the caller.
    """

    def __init__(self, *, queue_size: int, name: str) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.queue_size = queue_size
        self.name = name
        self._queue: deque[Alert] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._busy = False
        self._dropped = 0
        self._failed = 0
        self._delivered = 0
        self._thread = threading.Thread(target=self._run, name=f"alerts-{name}", daemon=True)
        self._thread.start()

    @abstractmethod
    def _deliver(self, alert: Alert) -> None:
        """Send one alert; raise on failure (the queue logs and counts it)."""

    def _describe_error(self, exc: BaseException) -> str:
        """A log-safe description of a delivery error (subclasses strip secrets)."""
        return type(exc).__name__

    @property
    def dropped(self) -> int:
        with self._cond:
            return self._dropped

    @property
    def failed(self) -> int:
        with self._cond:
            return self._failed

    @property
    def delivered(self) -> int:
        with self._cond:
            return self._delivered

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + (1 if self._busy else 0)

    def notify(self, level: Level, title: str, message: str,
               fields: Mapping[str, str] | None = None) -> None:
        try:
            alert = Alert.create(level, title, message, fields)
            with self._cond:
                accepted = not self._closing and len(self._queue) < self.queue_size
                if accepted:
                    self._queue.append(alert)
                    self._cond.notify_all()
                else:
                    self._dropped += 1
                    dropped = self._dropped
            if not accepted:
                log.warning("alert_dropped notifier=%s level=%s title=%r dropped_total=%d",
                            self.name, alert.level.value, alert.title, dropped,
                            extra={"event": "alert_dropped", "dropped_total": dropped})
        except Exception:
            log.exception("alert_not_queued notifier=%s title=%r", self.name, title)

    def close(self, timeout_secs: float = 5.0) -> bool:
        """Stop accepting alerts, deliver what is queued, stop the thread. True if drained."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=timeout_secs)
        drained = not self._thread.is_alive()
        if not drained:
            log.warning("alert_queue_not_drained notifier=%s pending=%d", self.name, self.pending)
        return drained

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    return
                alert = self._queue.popleft()
                self._busy = True
            ok = False
            try:
                self._deliver(alert)
                ok = True
            except Exception as exc:
                try:
                    reason = self._describe_error(exc)
                except Exception:
                    reason = type(exc).__name__
                log.error("alert_delivery_failed notifier=%s level=%s title=%r error=%s",
                          self.name, alert.level.value, alert.title, reason,
                          extra={"event": "alert_delivery_failed"})
            finally:
                with self._cond:
                    if ok:
                        self._delivered += 1
                    else:
                        self._failed += 1
                    self._busy = False
                    self._cond.notify_all()
