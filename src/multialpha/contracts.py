"""Futures contract specifications, read from ``config/contracts.yml``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from multialpha.errors import ConfigError

DEFAULT_CONTRACTS_FILE = Path("config") / "contracts.yml"
_FIELDS = ("name", "exchange", "point_value", "tick_size", "tick_value", "commission_per_side", "calendar")
_OPTIONAL = {"allows_negative_prices": False}  # field -> value when absent


@dataclass(frozen=True)
class ContractSpec:
    symbol: str
    name: str
    exchange: str
    point_value: float  # USD per 1.0 of quoted price
    tick_size: float
    tick_value: float  # USD per tick
    commission_per_side: float  # USD per contract per side
    calendar: str  # pandas-market-calendars name
    # The exchange lets the price go to zero or below (NYMEX energy since April 2020): bar
    # files and the feature engine accept such prices for this contract only.
    allows_negative_prices: bool = False

    def gross_pnl(self, entry_price: float, exit_price: float, quantity: int) -> float:
        """Long P&L in USD before commission."""
        return (exit_price - entry_price) * self.point_value * quantity

    def round_trip_commission(self, quantity: int) -> float:
        return 2.0 * self.commission_per_side * quantity

    def net_pnl(self, entry_price: float, exit_price: float, quantity: int) -> float:
        """Long P&L in USD after entry and exit commission."""
        return self.gross_pnl(entry_price, exit_price, quantity) - self.round_trip_commission(quantity)


def _spec(symbol: str, raw: Any, file: Path) -> ContractSpec:
    key = f"contracts.{symbol}"
    if not isinstance(raw, Mapping):
        raise ConfigError("must be a mapping", file=file, key=key)
    unknown = sorted(set(raw) - set(_FIELDS) - set(_OPTIONAL))
    if unknown:
        raise ConfigError(f"unknown field(s) {unknown}", file=file, key=key)
    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise ConfigError(f"missing field(s) {missing}", file=file, key=key)
    numbers: dict[str, float] = {}
    for f in ("point_value", "tick_size", "tick_value", "commission_per_side"):
        v = raw[f]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ConfigError("must be a number", file=file, key=f"{key}.{f}", value=v, show_value=True)
        if v < 0 or (v == 0 and f != "commission_per_side"):
            raise ConfigError("must be positive", file=file, key=f"{key}.{f}", value=v, show_value=True)
        numbers[f] = float(v)
    negative = raw.get("allows_negative_prices", _OPTIONAL["allows_negative_prices"])
    if not isinstance(negative, bool):
        raise ConfigError("must be true or false", file=file, key=f"{key}.allows_negative_prices",
                          value=negative, show_value=True)
    expected = numbers["tick_size"] * numbers["point_value"]
    if not math.isclose(expected, numbers["tick_value"], rel_tol=1e-9):
        raise ConfigError(
            f"tick_value {numbers['tick_value']} != tick_size * point_value = {expected}",
            file=file, key=f"{key}.tick_value")
    return ContractSpec(symbol=symbol, name=str(raw["name"]), exchange=str(raw["exchange"]),
                        calendar=str(raw["calendar"]), allows_negative_prices=negative, **numbers)


def load_contracts(path: str | Path = DEFAULT_CONTRACTS_FILE) -> dict[str, ContractSpec]:
    """Load and validate every contract spec; errors name the file and the key."""
    file = Path(path)
    try:
        doc = yaml.safe_load(file.read_text())
    except FileNotFoundError:
        raise ConfigError("contracts file not found", file=file) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("contracts"), Mapping):
        raise ConfigError("expected a top-level 'contracts' mapping", file=file)
    return {str(sym): _spec(str(sym), raw, file) for sym, raw in doc["contracts"].items()}


def require(specs: Mapping[str, ContractSpec], symbol: str, *, file: str | Path | None = None) -> ContractSpec:
    """The spec of ``symbol`` or a ConfigError naming it."""
    try:
        return specs[symbol]
    except KeyError:
        raise ConfigError(f"no contract spec for symbol {symbol!r}; add it to the contracts file",
                          file=file) from None
