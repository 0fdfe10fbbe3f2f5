"""Order intents, their stable ids, and the outcome of delivering one.

An ``OrderIntent`` is what a strategy decided (enter or exit one instrument at a bar); it is
built once, stored in the outbox, and turned into a webhook payload by ``payloads``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from multialpha.state.outbox import make_intent_id
from multialpha.state.values import utc_iso

__all__ = ["Action", "DeliveryResult", "DeliveryStatus", "OrderIntent", "make_intent_id", "utc_iso"]


class Action(StrEnum):
    """What the order does; the value is TradersPost's ``action`` field."""

    BUY = "buy"
    EXIT = "exit"


class DeliveryStatus(StrEnum):
    """Where one intent stands with the broker gateway.

    The lifecycle of an intent (which status may follow which) is the outbox's, in
    ``multialpha.state.outbox``; this is the outcome of one delivery.

    * ``PENDING``: not attempted yet.
    * ``SENT``: the gateway answered 2xx.
    * ``FAILED``: known not to have been acted on (a 4xx other than 429; 429 or
      connection failures before any byte was sent, until the attempts ran out).
    * ``UNKNOWN``: may have been acted on (read timeout after sending, connection dropped
      mid-response, 5xx). Never resent automatically: sending twice could double a position.
    """

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class OrderIntent:
    """One order the daemon decided to send; immutable once built."""

    intent_id: str
    strategy: str
    symbol: str  # the research/data symbol, e.g. "6A"
    ticker: str  # what the gateway trades, e.g. an explicit contract "6AM2024"
    action: Action
    quantity: int  # contracts, > 0
    price: float  # signal price (the bar close the decision was taken on)
    signal_time: datetime  # timezone-aware; normalised to UTC
    ml_score: float | None
    reason: str

    def __post_init__(self) -> None:
        if not self.intent_id:
            raise ValueError("intent_id must not be empty")
        for name in ("strategy", "symbol", "ticker"):
            if not getattr(self, name):
                raise ValueError(f"{self.intent_id}: {name} must not be empty")
        object.__setattr__(self, "action", Action(self.action))
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise ValueError(f"{self.intent_id}: quantity must be a positive int, got {self.quantity!r}")
        if self.signal_time.tzinfo is None or self.signal_time.utcoffset() is None:
            raise ValueError(f"{self.intent_id}: signal_time must be timezone-aware")
        object.__setattr__(self, "signal_time", self.signal_time.astimezone(UTC))


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one ``deliver`` call (all its attempts)."""

    status: DeliveryStatus
    http_status: int | None  # of the last response, None if none arrived
    attempts: int  # requests started, including ones refused at connect
    detail: str  # short, human-readable; never contains the webhook URL
    elapsed_secs: float
