"""Effective per-strategy settings, each value carrying where it came from.

Parameter precedence for one instrument, lowest first: class defaults < ``strategy_params`` in
the YAML < ``<strategy>_instrument_params.json[SYMBOL]`` < the model bundle. A
``portfolio_optimization_<strategy>.json`` sets the symbol list, ``max_positions`` and
``daily_stop_loss``; where it disagrees with the YAML, a note says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from pydantic import SecretStr

from multialpha.config.problems import did_you_mean
from multialpha.config.schema import AppConfig, StrategyConfig
from multialpha.config.strategy_files import (
    PortfolioOptimization,
    instrument_params_path,
    load_instrument_params,
    load_portfolio_optimization,
    portfolio_file_path,
)
from multialpha.errors import ConfigError

T = TypeVar("T")

CLASS_DEFAULT = "class default"


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """A value and a human-readable name of where it came from."""

    value: T
    source: str


def merge_params(defaults: Mapping[str, Any], layers: Sequence[tuple[str, Mapping[str, Any]]], *,
                 default_source: str = CLASS_DEFAULT) -> dict[str, Sourced[Any]]:
    """Every parameter of ``defaults`` with the value of the highest layer that sets it.

    ``layers`` are ``(source, params)`` pairs, lowest precedence first. A name no default
    knows, or a value of the wrong type, is a ConfigError naming the source; all problems
    are reported at once.
    """
    merged = {name: Sourced(value, default_source) for name, value in defaults.items()}
    problems: list[str] = []
    for source, params in layers:
        unknown = [name for name in params if name not in defaults]
        if unknown:
            hints = "".join(did_you_mean(name, defaults) for name in unknown)
            problems.append(f"{source}: unknown parameter(s) {', '.join(unknown)}{hints}")
        for name, value in params.items():
            if name not in defaults:
                continue
            try:
                merged[name] = Sourced(_like_default(defaults[name], value), source)
            except TypeError as exc:
                problems.append(f"{source}: {name}: {exc} (got {value!r})")
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        raise ConfigError(f"{len(problems)} parameter problems:\n" + "\n".join(f"  {p}" for p in problems))
    return merged


def _like_default(default: Any, value: Any) -> Any:
    """``value`` checked (loosely) against the type of ``default``; ints widen to float."""
    if default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError("expected true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("expected an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("expected a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise TypeError("expected a string")
        return value
    if isinstance(default, list | tuple) and isinstance(value, list | tuple):
        return type(default)(value)
    if not isinstance(value, type(default)):
        raise TypeError(f"expected {type(default).__name__}")
    return value


@dataclass(frozen=True)
class ResolvedStrategy:
    """One enabled strategy with its effective symbols, limits and parameter layers."""

    name: str
    strategy: str
    broker_account: SecretStr
    account: str  # the broker account label (one position per symbol per account)
    broker_stop_mult: float  # protective stop distance as a multiple of the strategy's; 0: none
    starting_cash: float  # USD
    models_path: Path
    symbols: tuple[str, ...]
    symbols_source: str
    added_symbols: tuple[str, ...]  # symbols the portfolio file adds to the YAML's instruments
    max_positions: Sourced[int]
    daily_stop_loss: Sourced[float]  # USD
    strategy_params: Mapping[str, Any]
    strategy_params_source: str
    instrument_params: Mapping[str, Mapping[str, Any]]
    instrument_params_source: str | None
    portfolio_file: Path | None
    notes: tuple[str, ...]  # disagreements and warnings to report at start-up
    portfolio: PortfolioOptimization | None = None  # the portfolio file's contents, when there is one

    def param_layers(self, symbol: str) -> list[tuple[str, Mapping[str, Any]]]:
        """The configured layers for one instrument, lowest first; the bundle layer goes after them."""
        layers: list[tuple[str, Mapping[str, Any]]] = [(self.strategy_params_source, self.strategy_params)]
        if self.instrument_params_source is not None and symbol in self.instrument_params:
            layers.append((f"{self.instrument_params_source}: {symbol}", self.instrument_params[symbol]))
        return layers


def display_path(path: Path, base_dir: Path) -> str:
    """``path`` relative to the config file's directory when it is inside it."""
    try:
        return path.relative_to(base_dir).as_posix()
    except ValueError:
        return str(path)


def resolve_strategies(cfg: AppConfig) -> list[ResolvedStrategy]:
    """The enabled strategies in file order, with the optional JSON files applied."""
    return [_resolve(name, s, cfg) for name, s in cfg.enabled_strategies().items()]


def _resolve(name: str, s: StrategyConfig, cfg: AppConfig) -> ResolvedStrategy:
    if s.broker_account is None:  # the schema rejects this; kept for the type checker
        raise ConfigError("required when the strategy is enabled", file=cfg.source_file,
                          key=f"strategies.{name}.broker_account")
    cfg_name = display_path(cfg.source_file, cfg.base_dir)
    yml = f"{cfg_name}: strategies.{name}"
    symbols, symbols_source = s.instruments, f"{yml}.instruments"
    max_positions = Sourced(s.max_positions, f"{yml}.max_positions")
    daily_stop_loss = Sourced(float(s.daily_stop_loss), f"{yml}.daily_stop_loss")
    notes: list[str] = []

    portfolio_path = portfolio_file_path(cfg.runtime.config_dir, name)
    portfolio_shown = display_path(portfolio_path, cfg.base_dir)
    portfolio = load_portfolio_optimization(portfolio_path, shown=portfolio_shown, strategy=name)
    if portfolio is not None:
        notes.extend(_symbol_notes(name, s.instruments, portfolio.symbols, cfg_name, portfolio_shown))
        for key, ours, theirs in (("max_positions", s.max_positions, portfolio.max_positions),
                                  ("daily_stop_loss", s.daily_stop_loss, portfolio.daily_stop_loss)):
            if not math.isclose(ours, theirs):
                notes.append(f"{name}: {key} {_number(ours)} in {cfg_name} overridden by "
                             f"{_number(theirs)} from {portfolio_shown}")
        symbols, symbols_source = portfolio.symbols, f"{portfolio_shown}: {portfolio.key('symbols')}"
        max_positions = Sourced(portfolio.max_positions, f"{portfolio_shown}: {portfolio.key('max_positions')}")
        daily_stop_loss = Sourced(float(portfolio.daily_stop_loss),
                                  f"{portfolio_shown}: {portfolio.key('daily_stop_loss')}")

    params_path = instrument_params_path(cfg.runtime.config_dir, name)
    params_shown = display_path(params_path, cfg.base_dir)
    instrument_params = load_instrument_params(params_path, shown=params_shown)
    if instrument_params is not None:
        untraded = [symbol for symbol in instrument_params if symbol not in symbols]
        if untraded:
            notes.append(f"{name}: {params_shown} has params for {', '.join(untraded)}, "
                         f"which {name} does not trade; ignored")

    return ResolvedStrategy(
        name=name, strategy=s.strategy, broker_account=s.broker_account, account=s.account,
        broker_stop_mult=s.broker_stop_mult,
        starting_cash=float(s.starting_cash), models_path=s.models_path,
        symbols=symbols, symbols_source=symbols_source,
        added_symbols=tuple(sym for sym in symbols if sym not in s.instruments),
        max_positions=max_positions, daily_stop_loss=daily_stop_loss,
        strategy_params=MappingProxyType(dict(s.strategy_params)), strategy_params_source=f"{yml}.strategy_params",
        instrument_params=instrument_params if instrument_params is not None else MappingProxyType({}),
        instrument_params_source=params_shown if instrument_params is not None else None,
        portfolio_file=portfolio_path if portfolio is not None else None,
        notes=tuple(notes), portfolio=portfolio)


def _symbol_notes(name: str, ours: Sequence[str], theirs: Sequence[str], cfg_name: str,
                  portfolio_shown: str) -> list[str]:
    added = [symbol for symbol in theirs if symbol not in ours]
    removed = [symbol for symbol in ours if symbol not in theirs]
    if not added and not removed:
        return []
    changes = []
    if added:
        changes.append(f"added {', '.join(added)}")
    if removed:
        changes.append(f"removed {', '.join(removed)}")
    return [f"{name}: instruments in {cfg_name} overridden by {portfolio_shown}: {'; '.join(changes)}"]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
