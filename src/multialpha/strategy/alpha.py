"""What an alpha is to the per-instrument step, and the registry that picks one by name.

An alpha supplies its parameters (a frozen dataclass with class defaults) and, bound to one
instrument, its entry, exit, stop and target rules. ``strategies.<name>.strategy`` in the
YAML names the alpha; an unknown name is a configuration error that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from multialpha.contracts import ContractSpec
from multialpha.domain import Position
from multialpha.errors import ConfigError


class BarEvent(NamedTuple):
    """One symbol's bar at one bar time, as a step sees it (decisions are taken at the close)."""

    close_time: datetime  # aware UTC
    trading_day: date  # CME trade date of the close
    close_minute: int  # exchange-time (Chicago) minute of day of the close
    open: float
    high: float
    low: float
    close: float
    volume: float
    historical: bool = False  # warm-up: build state only
    arrival_ns: int = 0  # perf_counter_ns when the bar reached the step (latency figures)


class AlphaParams(Protocol):
    """An alpha's parameters: a frozen dataclass whose fields have the class defaults."""

    quantity: int
    use_ml_filter: bool
    broker_stop_loss: bool


class Alpha(Protocol):
    """An alpha's rules for one instrument, parameters bound. Pure: no I/O, no state kept."""

    params: Any

    def entry(self, bar: BarEvent) -> bool:
        """The entry rule alone (before the ML filter and the coordinator)."""
        ...

    def exit_reason(self, bar: BarEvent, position: Position) -> str | None:
        """Why the position closes at this bar (None to hold)."""
        ...

    def stop_price(self, entry: float, atr: float) -> float:
        """Protective stop level for a long entered at ``entry``; NaN when disabled."""
        ...

    def target_price(self, entry: float, atr: float) -> float:
        """Take-profit level; NaN when disabled."""
        ...


@dataclass(frozen=True)
class AlphaSpec:
    name: str
    params_type: Any  # dataclass type with defaults() and from_mapping()
    build: Callable[[Any, ContractSpec], Alpha]

    def defaults(self) -> dict[str, Any]:
        return dict(self.params_type.defaults())

    def params(self, values: Mapping[str, Any]) -> Any:
        """Validated parameters; ValueError naming the bad one."""
        return self.params_type.from_mapping(values)


_REGISTRY: dict[str, AlphaSpec] = {}


def register(spec: AlphaSpec) -> AlphaSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"alpha {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def known_alphas() -> tuple[str, ...]:
    _load_builtin()
    return tuple(sorted(_REGISTRY))


def alpha_spec(name: str, *, key: str | None = None, file: str | None = None) -> AlphaSpec:
    """The alpha registered as ``name``; a ConfigError naming ``key`` and the known ones otherwise."""
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown strategy {name!r}; known: {', '.join(known_alphas())}",
                          file=file, key=key) from None


def _load_builtin() -> None:
    # The built-in alphas register themselves on import.
    from multialpha.strategy import ibs  # noqa: F401
