"""What the coordinator tells the outside world (alerts, the state store, metrics)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

_log = logging.getLogger(__name__)


class EventKind(StrEnum):
    DAY_ROLLED = "day_rolled"
    ENTRY_DENIED = "entry_denied"
    ENTRY_ALLOWED = "entry_allowed"
    POSITION_OPENED = "position_opened"
    POSITION_CLOSED = "position_closed"
    DAILY_STOP_HIT = "daily_stop_hit"
    STATE_CHANGED = "state_changed"


@dataclass(frozen=True)
class CoordinatorEvent:
    """One change. ``scope`` is a strategy name, ``"account"``, or None (day roll).

    ``seq`` increases by one per event; handlers on different threads may see events out of
    order, and ``seq`` restores it. ``data`` holds plain, JSON-serialisable values:

    * DAY_ROLLED: previous_day, pnl {scope: {realized, unrealized, total}} and stats of the day that ended
    * ENTRY_ALLOWED / ENTRY_DENIED: reason is the DenyReason value (None when allowed)
    * POSITION_OPENED: price, quantity
    * POSITION_CLOSED: reason is the exit reason; price, quantity, entry_price, net_pnl, today_pnl
    * DAILY_STOP_HIT: daily_pnl, daily_stop_loss
    * STATE_CHANGED: old, new, flatten; reason is the operator's reason
    """

    kind: EventKind
    seq: int
    at: datetime
    trading_day: date
    scope: str | None = None
    symbol: str | None = None
    reason: str | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "trading_day": self.trading_day.isoformat(),
            "scope": self.scope,
            "symbol": self.symbol,
            "reason": self.reason,
            "data": dict(self.data),
        }


class EventQueue:
    """Collects events while the coordinator holds its lock and delivers them after release.

    A handler that raises is logged and counted; the trading thread never sees the exception.
    """

    def __init__(self, handler: Callable[[CoordinatorEvent], None] | None) -> None:
        self._handler = handler
        self._seq = 0
        self._pending: list[CoordinatorEvent] = []
        self._errors = 0
        self._errors_lock = threading.Lock()

    @property
    def errors(self) -> int:
        with self._errors_lock:
            return self._errors

    def add(self, kind: EventKind, at: datetime, day: date, *, scope: str | None = None,
            symbol: str | None = None, reason: str | None = None, **data: Any) -> None:
        """Queue one event (call with the coordinator's lock held)."""
        self._seq += 1
        self._pending.append(CoordinatorEvent(kind, self._seq, at, day, scope, symbol, reason,
                                              MappingProxyType(data)))

    def take(self) -> list[CoordinatorEvent]:
        """Everything queued so far (call with the coordinator's lock held)."""
        events, self._pending = self._pending, []
        return events

    def deliver(self, events: list[CoordinatorEvent]) -> None:
        """Hand events to the handler (call without the lock)."""
        if self._handler is None:
            return
        for event in events:
            try:
                self._handler(event)
            except Exception:
                with self._errors_lock:
                    self._errors += 1
                _log.exception("portfolio event handler failed: kind=%s seq=%d", event.kind, event.seq)
