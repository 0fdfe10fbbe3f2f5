"""The optional per-strategy JSON files in ``runtime.config_dir``.

* ``portfolio_optimization_<strategy>.json``: the symbol list and limits chosen by the
  portfolio optimisation, ``{symbols, max_positions, daily_stop_loss, expected_performance,
  optimization_date, optimization_method}``; the last three are optional and kept as given.
* ``<strategy>_instrument_params.json``: ``{SYMBOL: {param: value}}`` overrides per instrument.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from multialpha.config.problems import validation_config_error
from multialpha.config.schema import StrictModel, Symbol, Symbols, Usd
from multialpha.errors import ConfigError


def portfolio_file_path(config_dir: Path, strategy_name: str) -> Path:
    return config_dir / f"portfolio_optimization_{strategy_name}.json"


def instrument_params_path(config_dir: Path, strategy_name: str) -> Path:
    return config_dir / f"{strategy_name}_instrument_params.json"


class PortfolioOptimization(StrictModel):
    symbols: Annotated[Symbols, Field(min_length=1)]
    max_positions: int = Field(ge=1)
    daily_stop_loss: Usd
    expected_performance: dict[str, Any] | None = None
    optimization_date: str | None = None
    optimization_method: str | None = None


_INSTRUMENT_PARAMS = TypeAdapter(dict[Symbol, dict[str, Any]])


def load_portfolio_optimization(path: Path, *, shown: str) -> PortfolioOptimization | None:
    """The file's contents, or None when there is no such file."""
    doc = _read_json(path, shown=shown)
    if doc is None:
        return None
    try:
        return PortfolioOptimization.model_validate(doc)
    except ValidationError as exc:
        raise validation_config_error(exc, file=shown, model=PortfolioOptimization) from None


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
