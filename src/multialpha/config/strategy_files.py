"""The optional per-strategy JSON files in ``runtime.config_dir``.

* ``portfolio_optimization_<strategy>.json``: the symbol list and limits chosen by the
  portfolio optimisation, in one of two shapes:

  - as ``multialpha-research export-portfolio-config`` writes it: ``{strategy,
    portfolio_constraints: {symbols, max_positions, daily_stop_loss}, expected_performance:
    {in_sample, out_of_sample}, optimization_date, method, data_range, trials, search}``;
    only ``portfolio_constraints`` is required;
  - the flat, earlier shape: ``{symbols, max_positions, daily_stop_loss, expected_performance,
    optimization_date, optimization_method}``; the last three are optional.

  Either way the daemon trades the symbols (in the file's order, which is the order in which
  simultaneous entries are decided) with those limits; the rest is shown by ``multialpha
  check``. ``strategy``, when present, must name the file's strategy.
* ``<strategy>_instrument_params.json``: ``{SYMBOL: {param: value}}`` overrides per instrument.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from multialpha.config.problems import validation_config_error
from multialpha.config.schema import StrategyName, StrictModel, Symbol, Symbols, Usd
from multialpha.errors import ConfigError


def portfolio_file_path(config_dir: Path, strategy_name: str) -> Path:
    return config_dir / f"portfolio_optimization_{strategy_name}.json"


def instrument_params_path(config_dir: Path, strategy_name: str) -> Path:
    return config_dir / f"{strategy_name}_instrument_params.json"


class FlatPortfolioFile(StrictModel):
    """The earlier, flat shape of a portfolio file."""

    symbols: Annotated[Symbols, Field(min_length=1)]
    max_positions: int = Field(ge=1)
    daily_stop_loss: Usd
    expected_performance: dict[str, Any] | None = None
    optimization_date: str | None = None
    optimization_method: str | None = None


class PortfolioConstraints(StrictModel):
    max_positions: int = Field(ge=1)
    daily_stop_loss: Usd
    symbols: Annotated[Symbols, Field(min_length=1)]


class ExportedPortfolioFile(StrictModel):
    """The shape ``multialpha-research export-portfolio-config`` writes."""

    strategy: StrategyName | None = None
    portfolio_constraints: PortfolioConstraints
    expected_performance: dict[str, Any] | None = None
    optimization_date: str | None = None
    method: str | None = None
    data_range: dict[str, Any] | None = None
    trials: int | None = Field(default=None, ge=1)
    search: dict[str, Any] | None = None


CONSTRAINTS_KEY = "portfolio_constraints"
_FLAT_KEYS = ("symbols", "max_positions", "daily_stop_loss")


@dataclass(frozen=True)
class PortfolioOptimization:
    """A portfolio file read in either shape: what the daemon uses, and what ``check`` shows."""

    symbols: tuple[str, ...]
    max_positions: int
    daily_stop_loss: float
    key_prefix: str  # where the three values sit in the file: "" (flat) or "portfolio_constraints."
    expected_performance: dict[str, Any] | None = None
    optimization_date: str | None = None
    optimization_method: str | None = None
    data_range: dict[str, Any] | None = None
    trials: int | None = None

    def key(self, name: str) -> str:
        """The JSON key path of ``symbols``, ``max_positions`` or ``daily_stop_loss``."""
        return f"{self.key_prefix}{name}"

    def summary(self) -> str:
        """One line on how the file was made and what it expects, for ``check``."""
        parts = []
        if self.optimization_date or self.optimization_method:
            parts.append(f"optimized {self.optimization_date or '(date not given)'}"
                         + (f" by {self.optimization_method}" if self.optimization_method else ""))
        if self.data_range:
            parts.append("data " + ", ".join(f"{k} {v}" for k, v in self.data_range.items()))
        if self.trials is not None:
            parts.append(f"{self.trials} portfolios tried")
        perf = self.expected_performance or {}
        for label, key in (("in-sample", "in_sample"), ("out-of-sample", "out_of_sample")):
            figures = perf.get(key)
            if isinstance(figures, dict) and figures.get("sharpe") is not None:
                parts.append(f"{label} Sharpe {figures['sharpe']:.2f}, max drawdown "
                             f"{figures.get('max_drawdown_usd', float('nan')):,.0f} USD")
        return "; ".join(parts) if parts else "no optimisation details recorded"


_INSTRUMENT_PARAMS = TypeAdapter(dict[Symbol, dict[str, Any]])


def load_portfolio_optimization(path: Path, *, shown: str, strategy: str | None = None) -> PortfolioOptimization | None:
    """The file's contents in either shape, or None when there is no such file.

    ConfigError naming the file and the JSON key for anything invalid, unknown or mixed.
    """
    doc = _read_json(path, shown=shown)
    if doc is None:
        return None
    if isinstance(doc, dict) and CONSTRAINTS_KEY in doc:
        mixed = [k for k in _FLAT_KEYS if k in doc]
        if mixed:
            raise ConfigError(f"{mixed[0]} at the top level and in {CONSTRAINTS_KEY}: the file mixes the two "
                              f"shapes; keep {CONSTRAINTS_KEY} only", file=shown, key=mixed[0])
        try:
            new = ExportedPortfolioFile.model_validate(doc)
        except ValidationError as exc:
            raise validation_config_error(exc, file=shown, model=ExportedPortfolioFile) from None
        if strategy is not None and new.strategy is not None and new.strategy != strategy:
            raise ConfigError(f"the file is for strategy {new.strategy!r}, not {strategy!r}", file=shown,
                              key="strategy")
        c = new.portfolio_constraints
        return PortfolioOptimization(c.symbols, c.max_positions, c.daily_stop_loss, f"{CONSTRAINTS_KEY}.",
                                     new.expected_performance, new.optimization_date, new.method,
                                     new.data_range, new.trials)
    try:
        old = FlatPortfolioFile.model_validate(doc)
    except ValidationError as exc:
        raise validation_config_error(exc, file=shown, model=FlatPortfolioFile) from None
    return PortfolioOptimization(old.symbols, old.max_positions, old.daily_stop_loss, "",
                                 old.expected_performance, old.optimization_date, old.optimization_method)


def load_instrument_params(path: Path, *, shown: str) -> MappingProxyType[str, MappingProxyType[str, Any]] | None:
    """``{SYMBOL: {param: value}}`` (read-only), or None when there is no such file."""
    doc = _read_json(path, shown=shown)
    if doc is None:
        return None
    try:
        params = _INSTRUMENT_PARAMS.validate_python(doc)
    except ValidationError as exc:
        raise validation_config_error(exc, file=shown) from None
    return MappingProxyType({symbol: MappingProxyType(p) for symbol, p in params.items()})


def _read_json(path: Path, *, shown: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=shown) from None
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                          file=shown) from None
    except _DuplicateKey as exc:
        raise ConfigError(f"duplicate key {exc.key!r}", file=shown) from None


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result
