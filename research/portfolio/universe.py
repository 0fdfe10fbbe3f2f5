"""The search universe from the daemon's config file, and the candidate trades of each pair.

Read without any secret: only each enabled strategy's alpha, instruments, parameters, limits,
broker account label and models path, and the account-wide limits. Parameters merge as the
daemon merges them (class defaults < ``strategy_params`` < ``<strategy>_instrument_params.json``);
the bundle adds its filter (features, threshold), and the roll schedule its contract rolls
(no entry in a contract's last hour, exits before the roll), as in the daemon.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from multialpha.research.portfolio.candidates import CandidateTrades, signal_trades
from multialpha.research.portfolio.plan import PortfolioInputs, PortfolioPlan, StrategyPlan

from multialpha.config import expand, merge_params
from multialpha.contracts import ContractSpec, load_contracts, require
from multialpha.errors import ConfigError
from multialpha.features import Reference, reference_features, unknown_features
from multialpha.feeds.replay_files import load_symbols
from multialpha.models import ModelBundle, load_model_bundle
from multialpha.rolls import load_rolls
from multialpha.strategy.alpha import AlphaSpec, alpha_spec
from multialpha.strategy.tickers import RollTickers


@dataclass(frozen=True)
class StrategySource:
    """One enabled strategy of the config file, as research needs it."""

    name: str
    alpha: AlphaSpec
    instruments: tuple[str, ...]
    params: Mapping[str, Any]  # strategy_params
    instrument_params: Mapping[str, Mapping[str, Any]]
    max_positions: int
    daily_stop_loss: float
    account: str
    models_path: Path

    def alpha_params(self, symbol: str) -> Any:
        """The alpha's parameters for ``symbol``: defaults < strategy_params < instrument params."""
        layers: list[tuple[str, Mapping[str, Any]]] = [(f"strategies.{self.name}.strategy_params", self.params)]
        if symbol in self.instrument_params:
            layers.append((f"{self.name}_instrument_params.json: {symbol}", self.instrument_params[symbol]))
        merged = merge_params(self.alpha.defaults(), layers)
        try:
            return self.alpha.params({k: v.value for k, v in merged.items()})
        except ValueError as exc:
            raise ConfigError(f"{self.name} {symbol}: {exc}") from None


@dataclass(frozen=True)
class ConfigSource:
    file: Path
    strategies: tuple[StrategySource, ...]
    account_max_positions: int | None
    account_daily_stop_loss: float | None
    references: tuple[str, ...]
    contracts_path: Path
    rolls_path: Path  # the roll schedule: entries and exits around contract rolls, as in the daemon


def _expand(value: Any, *, file: Path, key: str) -> str:
    return expand(str(value), os.environ, file=str(file), key=key)


def read_config(path: Path, *, models: Path | None = None) -> ConfigSource:
    """The enabled strategies of ``path`` in file order; ``models`` replaces every models path
    with ``models/<strategy>``. ConfigError naming the file and key for what cannot be used."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=path) from None
    base = path.resolve().parent
    runtime = doc.get("runtime") or {}
    config_dir = base / _expand(runtime.get("config_dir", "config"), file=path, key="runtime.config_dir")
    contracts = base / _expand(runtime.get("contracts_path", "config/contracts.yml"), file=path,
                               key="runtime.contracts_path")
    rolls = base / _expand(runtime.get("rolls_path", "config/rolls.yml"), file=path, key="runtime.rolls_path")
    refs = tuple((runtime.get("data") or {}).get("reference_symbols") or ())
    out = []
    for name, raw in (doc.get("strategies") or {}).items():
        if not raw.get("enabled", True):
            continue
        key = f"strategies.{name}"
        try:
            ip_path = config_dir / f"{name}_instrument_params.json"
            per_symbol = json.loads(ip_path.read_text()) if ip_path.exists() else {}
            mp = models / name if models is not None else base / _expand(raw["models_path"], file=path,
                                                                         key=f"{key}.models_path")
            out.append(StrategySource(
                name=name, alpha=alpha_spec(str(raw.get("strategy", "ibs")), key=f"{key}.strategy", file=str(path)),
                instruments=tuple(raw["instruments"]), params=dict(raw.get("strategy_params") or {}),
                instrument_params=per_symbol, max_positions=int(raw["max_positions"]),
                daily_stop_loss=float(raw["daily_stop_loss"]), account=str(raw.get("account", "default")),
                models_path=mp))
        except KeyError as exc:
            raise ConfigError("required key is missing", file=path, key=f"{key}.{exc.args[0]}") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON: {exc}", file=config_dir / f"{name}_instrument_params.json") from None
    if not out:
        raise ConfigError("no enabled strategy", file=path, key="strategies")
    portfolio = doc.get("portfolio") or {}
    stop = portfolio.get("daily_stop_loss")
    return ConfigSource(path, tuple(out), portfolio.get("max_positions"), None if stop is None else float(stop),
                        refs, contracts, rolls)


def universe_plan(source: ConfigSource, *, strategies: Sequence[str] | None = None,
                  symbols: Sequence[str] | None = None) -> PortfolioPlan:
    """The strategies to search (all enabled ones by default) over their instruments or
    ``symbols``, with the config's limits and the account-wide limits."""
    chosen = list(source.strategies)
    if strategies:
        known = {s.name for s in chosen}
        unknown = [s for s in strategies if s not in known]
        if unknown:
            raise ConfigError(f"no enabled strategy named {', '.join(unknown)}; enabled: {', '.join(sorted(known))}",
                              file=source.file)
        chosen = [s for s in chosen if s.name in strategies]
    return PortfolioPlan(tuple(StrategyPlan(s.name, tuple(symbols) if symbols else s.instruments, s.max_positions,
                                            s.daily_stop_loss, s.account) for s in chosen),
                         source.account_max_positions, source.account_daily_stop_loss)


def load_inputs(source: ConfigSource, universe: PortfolioPlan, data_dir: Path, *, use_filter: bool = True,
                progress: Any = None) -> PortfolioInputs:
    """Bars of every symbol and the signal candidates (``signal_trades``) of every pair, with
    each pair's bundle as its filter (``use_filter=False``: every signal of the rules)."""
    contracts: dict[str, ContractSpec] = load_contracts(source.contracts_path)
    traded = sorted({sym for _, sym in universe.pairs()})
    refs = [r for r in source.references if r not in traded]
    specs = [require(contracts, s, file=source.contracts_path) for s in (*traded, *refs)]
    bars = load_symbols(data_dir, [c.symbol for c in specs], tick_sizes={c.symbol: c.tick_size for c in specs},
                        negative_prices={c.symbol for c in specs if c.allows_negative_prices})
    references: dict[str, Reference] = {r: reference_features(bars[r]) for r in source.references}
    schedule = load_rolls(source.rolls_path, require=traded)
    by_name = {s.name: s for s in source.strategies}
    candidates: dict[tuple[str, str], CandidateTrades] = {}
    for strategy, symbol in universe.pairs():
        s = by_name[strategy]
        params = s.alpha_params(symbol)
        bundle = _bundle(s, symbol, source.references) if use_filter and params.use_ml_filter else None
        candidates[(strategy, symbol)] = signal_trades(
            bars[symbol], s.alpha, params, contracts[symbol], strategy=strategy, model=bundle,
            refs=references if bundle is not None else None, tickers=RollTickers(schedule, symbol))
        if progress is not None:
            progress(strategy, symbol, len(candidates[(strategy, symbol)]))
    return PortfolioInputs({s: bars[s] for s in traded}, candidates, contracts)


def _bundle(s: StrategySource, symbol: str, references: Sequence[str]) -> ModelBundle:
    known = set(references) | {symbol}
    return load_model_bundle(symbol, s.models_path, unknown_features=lambda names: unknown_features(names, known))

