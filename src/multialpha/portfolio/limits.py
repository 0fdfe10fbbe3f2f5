"""Configured limits, the trading-state lifecycle, and the per-scope control record."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from multialpha.contracts import ContractSpec
from multialpha.errors import ConfigError
from multialpha.portfolio._values import iso_or_none, parse_utc_or_none, to_decimal
from multialpha.portfolio.errors import IllegalTransition
from multialpha.state.halts import TRADING_STATE_TRANSITIONS, TradingState
from multialpha.state.values import ACCOUNT_SCOPE as ACCOUNT  # the scope of account-wide limits and stops


def _check_max_positions(owner: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{owner}: max_positions must be an integer >= 0 or None, got {value!r}")


def _check_stop(owner: str, value: Any) -> None:
    if value is None:
        return
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{owner}: daily_stop_loss must be a positive number of USD or None, got {value!r}")


@dataclass(frozen=True)
class StrategyLimits:
    """One strategy's entry limits. ``daily_stop_loss`` is a positive USD amount."""

    name: str
    symbols: frozenset[str]
    max_positions: int | None = None
    daily_stop_loss: float | None = None
    account: str | None = "default"  # the broker account it trades; None: no one-position-per-symbol rule

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"strategy name must be a non-empty string, got {self.name!r}")
        if self.name == ACCOUNT:
            raise ValueError(f"{ACCOUNT!r} is reserved for account-wide limits; rename the strategy")
        symbols: Iterable[str] = self.symbols
        if isinstance(symbols, str):
            raise ValueError(f"strategy {self.name}: symbols must be a collection, not a string")
        object.__setattr__(self, "symbols", frozenset(symbols))
        _check_max_positions(f"strategy {self.name}", self.max_positions)
        _check_stop(f"strategy {self.name}", self.daily_stop_loss)


@dataclass(frozen=True)
class AccountLimits:
    """Limits over all strategies together."""

    max_positions: int | None = None
    daily_stop_loss: float | None = None

    def __post_init__(self) -> None:
        _check_max_positions(ACCOUNT, self.max_positions)
        _check_stop(ACCOUNT, self.daily_stop_loss)


def index_strategies(strategies: Iterable[StrategyLimits],
                     contracts: Mapping[str, ContractSpec]) -> dict[str, StrategyLimits]:
    """Limits by strategy name; every allowed symbol needs a contract spec (its P&L depends on it)."""
    by_name: dict[str, StrategyLimits] = {}
    for lim in strategies:
        if lim.name in by_name:
            raise ConfigError(f"strategy {lim.name} is configured twice")
        missing = sorted(lim.symbols - set(contracts))
        if missing:
            raise ConfigError(f"strategy {lim.name}: no contract spec for {missing}; "
                              "add them to the contracts file")
        by_name[lim.name] = lim
    return by_name


# One lifecycle for trading states, shared with the state store that persists operator halts.
TRANSITIONS: Mapping[TradingState, frozenset[TradingState]] = TRADING_STATE_TRANSITIONS


def can_transition(old: TradingState, new: TradingState) -> bool:
    return new in TRANSITIONS[old]


@dataclass
class ScopeControl:
    """Mutable state of one scope (a strategy or the account); guarded by the coordinator's lock."""

    state: TradingState = TradingState.ACTIVE
    state_reason: str = ""
    state_since: datetime | None = None
    flatten: bool = False  # a flatten-halt: positions must be closed until the state changes
    stopped_at: datetime | None = None  # daily stop trigger time; cleared when the day rolls
    stop_pnl: Decimal | None = None  # the daily P&L that triggered the stop
    # A daily stop's flatten outlives the day roll until every position in scope is closed.
    flatten_pending: bool = False

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    @property
    def halt_flatten(self) -> bool:
        return self.state is TradingState.HALTED and self.flatten

    @property
    def stop_flatten(self) -> bool:
        return self.stopped or self.flatten_pending

    @property
    def flattening(self) -> bool:
        return self.stop_flatten or self.halt_flatten

    def change(self, scope: str, new: TradingState, reason: str, now: datetime, *, flatten: bool) -> None:
        """Apply a state move from the table; HALTED -> HALTED is allowed only to add a flatten."""
        old = self.state
        adds_flatten = old is new is TradingState.HALTED and flatten and not self.flatten
        if not (can_transition(old, new) or adds_flatten):
            raise IllegalTransition(f"{scope}: cannot go from {old.value} to {new.value}")
        self.state, self.state_reason, self.state_since, self.flatten = new, reason, now, flatten

    def clear_stop(self) -> None:
        self.stopped_at = None
        self.stop_pnl = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "reason": self.state_reason,
            "since": iso_or_none(self.state_since),
            "flatten": self.flatten,
            "stopped_at": iso_or_none(self.stopped_at),
            "stop_pnl": None if self.stop_pnl is None else str(self.stop_pnl),
            "flatten_pending": self.flatten_pending,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ScopeControl:
        stop_pnl = raw["stop_pnl"]
        return cls(
            state=TradingState(raw["state"]),
            state_reason=str(raw["reason"]),
            state_since=parse_utc_or_none(raw["since"]),
            flatten=bool(raw["flatten"]),
            stopped_at=parse_utc_or_none(raw["stopped_at"]),
            stop_pnl=None if stop_pnl is None else to_decimal(stop_pnl, name="stop_pnl"),
            flatten_pending=bool(raw.get("flatten_pending", False)),
        )
