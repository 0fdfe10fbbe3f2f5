"""Effective per-instrument parameters, each with the file that set it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multialpha.config import ResolvedStrategy, Sourced, merge_params
from multialpha.errors import ConfigError
from multialpha.models import ModelBundle
from multialpha.strategy.alpha import alpha_spec

ML_KEYS = ("ml_model", "ml_features", "ml_threshold")


@dataclass(frozen=True)
class InstrumentSetup:
    symbol: str
    params: Any  # the alpha's parameters dataclass
    effective: Mapping[str, Sourced[Any]]  # every value with its provenance
    notes: tuple[str, ...]  # e.g. bundle trained with different params


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def instrument_setup(strategy: ResolvedStrategy, symbol: str, bundle: ModelBundle | None,
                     base_dir: Path) -> InstrumentSetup:
    """class defaults < strategy_params < instrument params < bundle (ml_*)."""
    spec = alpha_spec(strategy.strategy, key=f"strategies.{strategy.name}.strategy")
    defaults: dict[str, Any] = {**spec.defaults(), **dict.fromkeys(ML_KEYS)}
    layers: list[tuple[str, Mapping[str, Any]]] = [
        (strategy.strategy_params_source, strategy.strategy_params)]
    if strategy.instrument_params_source and symbol in strategy.instrument_params:
        layers.append((f"{strategy.instrument_params_source}: {symbol}", strategy.instrument_params[symbol]))
    if bundle is not None:
        layers.append((_rel(bundle.json_path, base_dir), {
            "ml_model": _rel(bundle.model_path, base_dir),
            "ml_features": list(bundle.features),
            "ml_threshold": bundle.threshold,
        }))
    effective = merge_params(defaults, layers)
    values = {k: v.value for k, v in effective.items() if k not in ML_KEYS}
    try:
        params = spec.params(values)
    except ValueError as exc:
        raise ConfigError(f"{strategy.name} {symbol}: {exc}") from None
    notes = []
    if bundle is not None:
        trained = {k: v for k, v in bundle.params.items() if k in values and values[k] != v}
        for k, v in sorted(trained.items()):
            notes.append(f"{strategy.name} {symbol}: {k}={values[k]!r} but the model was trained with {v!r} "
                         f"({_rel(bundle.json_path, base_dir)})")
    return InstrumentSetup(symbol, params, effective, tuple(notes))
