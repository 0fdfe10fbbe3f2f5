"""Order intents, their stable ids, and the outcome of delivering one.

An ``OrderIntent`` is what a strategy decided (enter or exit one instrument at a bar); it is
built once, stored in the outbox, and turned into a webhook payload by ``payloads``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Action(StrEnum):
    """What the order does; the value is TradersPost's ``action`` field."""

    BUY = "buy"
    EXIT = "exit"


class DeliveryStatus(StrEnum):
    """Where one intent stands with the broker gateway.

    * ``PENDING``: not attempted yet (or re-queued after a known failure).
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

    def can_become(self, new: DeliveryStatus) -> bool:
        return new in DELIVERY_TRANSITIONS[self]


# FAILED may go back to PENDING because nothing reached the gateway, so sending again is
# safe. UNKNOWN is settled only by a person who checked the gateway's log.
DELIVERY_TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    DeliveryStatus.PENDING: frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN}),
    DeliveryStatus.FAILED: frozenset({DeliveryStatus.PENDING}),
    DeliveryStatus.UNKNOWN: frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED}),
    DeliveryStatus.SENT: frozenset(),
}


class InvalidTransition(ValueError):
    """A delivery status change the transition table does not allow."""


def transition(current: DeliveryStatus, new: DeliveryStatus) -> DeliveryStatus:
    """Return ``new`` if ``current -> new`` is allowed, else raise ``InvalidTransition``."""
    if not current.can_become(new):
        raise InvalidTransition(f"delivery status cannot go from {current.value} to {new.value}")
    return new


def utc_iso(when: datetime) -> str:
    """ISO-8601 UTC with a ``Z`` suffix; fractional seconds only when present."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware, got naive {when.isoformat()}")
    utc = when.astimezone(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if utc.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return utc.strftime(fmt)


def _check_id_part(name: str, value: str) -> None:
    # ':' separates the parts of an id; allowing it would let two signals share one id.
    if not value or value != value.strip() or ":" in value or any(c.isspace() for c in value):
        raise ValueError(f"{name} must be non-empty without ':' or whitespace, got {value!r}")


def make_intent_id(strategy: str, symbol: str, bar_time: datetime, action: Action | str) -> str:
    """Deterministic, readable id of one signal, e.g. ``ibs_a:6A:2024-03-01T15:00:00Z:buy``.

    The same (strategy, symbol, bar, action) always gives the same id, whatever timezone
    ``bar_time`` is expressed in, so a replayed or restarted worker cannot mint a second id
    for a signal it already sent.
    """
    _check_id_part("strategy", strategy)
    _check_id_part("symbol", symbol)
    return f"{strategy}:{symbol}:{utc_iso(bar_time)}:{Action(action).value}"


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
