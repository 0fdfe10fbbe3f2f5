"""The nouns every room passes around: bars, bar groups, order intents and the order lifecycle.

Neutral ground: the strategy core, the feeds, execution and the state store all speak these
types, so none of them needs to import another to agree on what a bar or an order is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from multialpha.errors import IllegalTransition

E = TypeVar("E", bound=StrEnum)


# -- bars ---------------------------------------------------------------------------------------
class Bar(NamedTuple):
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class BarGroup:
    """Every symbol's bar that starts at ``ts_ns``; delivered together, in time order."""

    seq: int
    ts_ns: int  # bar start, ns since epoch UTC
    close_time: datetime  # decision time (bar close), aware UTC
    trading_day: date  # CME trading day of the decision time
    close_minute: int  # exchange-time minute of day of the close (session windows)
    historical: bool  # warm-up: update state, never send orders
    bars: Mapping[str, Bar]
    arrived_ns: int = 0  # perf_counter_ns when the hub released it (latency measurement)


# -- orders -------------------------------------------------------------------------------------
class Action(StrEnum):
    """What an order does; the value is TradersPost's ``action`` field."""

    BUY = "buy"
    EXIT = "exit"


class OrderType(StrEnum):
    """How the broker executes it; the value is TradersPost's ``orderType`` field."""

    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    """Where one order intent stands with the broker gateway.

    * ``PENDING``: committed, not (yet) known to be delivered.
    * ``SENT``: the gateway answered 2xx.
    * ``FAILED``: known not to have been acted on (a 4xx other than 429; 429 or a connect-stage
      failure once the attempts ran out).
    * ``UNKNOWN``: may have been acted on (read timeout after sending, connection dropped, 5xx,
      or in flight when the process died). Never resent automatically; an operator settles it.
    """

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return not ORDER_TRANSITIONS[self]


# PENDING -> PENDING records another attempt. UNKNOWN moves only by an operator's settlement.
ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType({
    OrderStatus.PENDING: frozenset({OrderStatus.PENDING, OrderStatus.SENT, OrderStatus.FAILED,
                                    OrderStatus.UNKNOWN}),
    OrderStatus.UNKNOWN: frozenset({OrderStatus.SENT, OrderStatus.FAILED}),
    OrderStatus.SENT: frozenset(),
    OrderStatus.FAILED: frozenset(),
})


def ensure_transition(table: Mapping[E, frozenset[E]], old: E, new: E, *, what: str) -> None:
    """Raise ``IllegalTransition`` unless ``old -> new`` is in ``table``."""
    allowed = table[old]
    if new not in allowed:
        choices = ", ".join(sorted(str(s.value) for s in allowed)) or "none, it is final"
        raise IllegalTransition(
            f"{what}: illegal transition {old.value} -> {new.value} (allowed from {old.value}: {choices})")


def utc_iso(when: datetime) -> str:
    """ISO-8601 UTC with a ``Z`` suffix; fractional seconds only when present."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware, got naive {when.isoformat()}")
    utc = when.astimezone(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if utc.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return utc.strftime(fmt)


def check_name(value: object, *, field: str) -> str:
    """A strategy or symbol name: non-empty text without ':' (it separates intent id parts),
    whitespace or surrounding spaces."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be non-empty text, got {value!r}")
    if ":" in value or any(c.isspace() for c in value):
        raise ValueError(f"{field} must not contain ':' or whitespace, got {value!r}")
    return value


def make_intent_id(strategy: str, symbol: str, signal_time: datetime, action: Action | str) -> str:
    """Deterministic, readable id of one signal, e.g. ``ibs_a:6A:2024-03-01T15:00:00Z:buy``.

    The same (strategy, symbol, bar, action) always gives the same id, whatever timezone
    ``signal_time`` is expressed in, so a replayed or restarted worker cannot mint a second id
    for a signal it already sent.
    """
    check_name(strategy, field="strategy")
    check_name(symbol, field="symbol")
    if signal_time.tzinfo is None or signal_time.utcoffset() is None:
        raise ValueError(f"signal_time must be timezone-aware, got naive {signal_time.isoformat()}")
    return f"{strategy}:{symbol}:{utc_iso(signal_time)}:{Action(action).value}"


@dataclass(frozen=True)
class OrderIntent:
    """One order the daemon decided to send; immutable once built.

    ``price`` is the signal price (the close the decision was taken on). A market order sends
    it only as ``signalPrice``; a limit order also uses it as its limit. ``stop_loss`` is an
    optional broker-side protective stop price attached to an entry.
    """

    intent_id: str
    strategy: str
    symbol: str  # the research/data symbol, e.g. "6A"
    ticker: str  # what the gateway trades, e.g. an explicit contract "6AM2024"
    action: Action
    quantity: int  # contracts, > 0
    price: float  # signal price
    signal_time: datetime  # timezone-aware; normalised to UTC
    ml_score: float | None
    reason: str
    order_type: OrderType = OrderType.MARKET
    stop_loss: float | None = None

    def __post_init__(self) -> None:
        if not self.intent_id:
            raise ValueError("intent_id must not be empty")
        for name in ("strategy", "symbol", "ticker"):
            if not getattr(self, name):
                raise ValueError(f"{self.intent_id}: {name} must not be empty")
        object.__setattr__(self, "action", Action(self.action))
        object.__setattr__(self, "order_type", OrderType(self.order_type))
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise ValueError(f"{self.intent_id}: quantity must be a positive int, got {self.quantity!r}")
        if self.signal_time.tzinfo is None or self.signal_time.utcoffset() is None:
            raise ValueError(f"{self.intent_id}: signal_time must be timezone-aware")
        object.__setattr__(self, "signal_time", self.signal_time.astimezone(UTC))


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one delivery (all its attempts)."""

    status: OrderStatus
    http_status: int | None  # of the last response, None if none arrived
    attempts: int  # requests started, including ones refused at connect
    detail: str  # short, human-readable; never contains the webhook URL
    elapsed_secs: float


# -- positions ------------------------------------------------------------------------------------
@dataclass
class Position:
    """An open position as the strategy manages it (fills are assumed at the signal price).

    The position of record is the state store's row; this is its in-memory form. ``stop`` and
    ``target`` are NaN when disabled. ``exit_pending`` holds the reason of an exit decided but
    not confirmed delivered: the next bar sends it again whatever the exit rules say.
    """

    strategy: str
    symbol: str
    quantity: int
    entry_price: float
    entry_time: datetime
    entry_intent_id: str
    stop: float = math.nan
    target: float = math.nan
    atr: float = math.nan
    ml_score: float | None = None
    features: dict[str, float] = field(default_factory=dict)
    bars_held: int = 0  # -1 after a restart: counted from the bar history on the next bar
    exit_pending: str | None = None
    ticker: str = ""  # the contract held (its exit goes there); "" when restored from an older store


@dataclass(frozen=True)
class ClosedTrade:
    """One round trip, as journaled."""

    strategy: str
    symbol: str
    quantity: int
    entry_time: datetime
    entry_price: float
    exit_time: datetime
    exit_price: float
    pnl: float  # USD after round-trip commission
    exit_reason: str
    ml_score: float | None
    entry_intent_id: str
    exit_intent_id: str
    features: dict[str, float]


# -- the coordinator's answer ---------------------------------------------------------------------
class DenyReason(StrEnum):
    SYMBOL_NOT_ALLOWED = "symbol_not_allowed"
    ALREADY_OPEN = "already_open"
    SYMBOL_HELD_ON_ACCOUNT = "symbol_held_on_account"  # another strategy holds it on the same broker account
    STRATEGY_MAX_POSITIONS = "strategy_max_positions"
    ACCOUNT_MAX_POSITIONS = "account_max_positions"
    STRATEGY_DAILY_STOP = "strategy_daily_stop"
    ACCOUNT_DAILY_STOP = "account_daily_stop"
    STRATEGY_HALTED = "strategy_halted"
    ACCOUNT_HALTED = "account_halted"
    REDUCING = "reducing"
    ORDERS_UNKNOWN = "orders_unknown"  # an order of unknown outcome awaits an operator


@dataclass(frozen=True)
class Decision:
    """The answer to one entry request; truthy when the entry may go out."""

    allowed: bool
    reason: DenyReason | None
    strategy: str
    symbol: str
    at: datetime

    def __post_init__(self) -> None:
        if self.allowed != (self.reason is None):
            raise ValueError("a decision is allowed exactly when it has no deny reason")

    def __bool__(self) -> bool:
        return self.allowed
