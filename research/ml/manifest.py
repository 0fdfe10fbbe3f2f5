"""Which (strategy, symbol) pairs to train, and each pair's parameters from the daemon's config.

A manifest is YAML or CSV (by suffix):

YAML (``.yml``/``.yaml``)::

    pairs:
      - strategy: ibs_a
        symbols: [ES, CL, 6A]
      - strategy: ibs_b
        symbol: NQ

CSV (``.csv``), a header line then one pair per line; blank lines and lines starting with
``#`` are skipped::

    strategy,symbol
    ibs_a,ES
    ibs_b,NQ

Without a manifest, every enabled strategy of the config trades its symbols (its
``instruments``, or the ``portfolio_optimization_<strategy>.json`` list when there is one).
A strategy must be defined in the config (enabled or not): its alpha and parameters come from
there, merged as the daemon merges them (class defaults < ``strategy_params`` <
``<strategy>_instrument_params.json[SYMBOL]``).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from multialpha.research.errors import ResearchError

from multialpha.config import (
    AppConfig,
    instrument_params_path,
    load_app_config,
    load_instrument_params,
    merge_params,
    resolve_strategies,
)
from multialpha.strategy.alpha import alpha_spec


@dataclass(frozen=True)
class Pair:
    strategy: str
    symbol: str


def read_manifest(path: str | Path) -> list[Pair]:
    """The pairs of a manifest file, in file order, duplicates dropped."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResearchError(f"{file}: cannot read the manifest: {exc.strerror or exc}") from None
    if file.suffix.lower() == ".csv":
        pairs = _csv_pairs(file, text)
    elif file.suffix.lower() in (".yml", ".yaml"):
        pairs = _yaml_pairs(file, text)
    else:
        raise ResearchError(f"{file}: a manifest is .yml, .yaml or .csv, not {file.suffix or 'no suffix'!r}")
    if not pairs:
        raise ResearchError(f"{file}: the manifest lists no pairs")
    return list(dict.fromkeys(pairs))


def _yaml_pairs(file: Path, text: str) -> list[Pair]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ResearchError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("pairs"), list):
        raise ResearchError(f"{file}: expected a top-level 'pairs' list")
    unknown = sorted(set(doc) - {"pairs"})
    if unknown:
        raise ResearchError(f"{file}: unknown top-level key(s) {unknown}; only 'pairs'")
    out: list[Pair] = []
    for i, entry in enumerate(doc["pairs"]):
        where = f"{file}: pairs[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("strategy"), str):
            raise ResearchError(f"{where}: expected a mapping with 'strategy' and 'symbol' or 'symbols'")
        extra = sorted(set(entry) - {"strategy", "symbol", "symbols"})
        if extra:
            raise ResearchError(f"{where}: unknown key(s) {extra}")
        symbols: Any = entry.get("symbols", [entry["symbol"]] if "symbol" in entry else None)
        if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) and s for s in symbols):
            raise ResearchError(f"{where}: 'symbol' must be a name or 'symbols' a non-empty list of names")
        out.extend(Pair(entry["strategy"], s) for s in symbols)
    return out


def _csv_pairs(file: Path, text: str) -> list[Pair]:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return []
    rows = list(csv.reader(line for _, line in lines))
    header = [c.strip().lower() for c in rows[0]]
    if header != ["strategy", "symbol"]:
        raise ResearchError(f"{file}: line {lines[0][0]}: the header must be 'strategy,symbol', got {rows[0]}")
    out = []
    for (n, _), row in zip(lines[1:], rows[1:], strict=True):
        cells = [c.strip() for c in row]
        if len(cells) != 2 or not all(cells):
            raise ResearchError(f"{file}: line {n}: expected 'strategy,symbol', got {row}")
        out.append(Pair(cells[0], cells[1]))
    return out


def load_config(path: str | Path) -> AppConfig:
    """The daemon's config as research reads it: webhook URLs may be unset (nothing is sent)."""
    return load_app_config(path, urls_optional=True)


def config_pairs(cfg: AppConfig, strategies: Sequence[str] | None = None) -> list[Pair]:
    """Every enabled strategy's symbols (``strategies``: only those)."""
    resolved = resolve_strategies(cfg)
    if strategies:
        known = {r.name for r in resolved}
        missing = [s for s in strategies if s not in known]
        if missing:
            raise ResearchError(f"{cfg.source_file}: no enabled strategy {missing}; enabled: {sorted(known)}")
    return [Pair(r.name, s) for r in resolved if not strategies or r.name in strategies for s in r.symbols]


def pair_params(cfg: AppConfig, pair: Pair) -> tuple[str, dict[str, Any]]:
    """The pair's alpha name and its merged parameters (see the module docstring)."""
    block = cfg.strategies.get(pair.strategy)
    if block is None:
        raise ResearchError(f"{cfg.source_file}: strategy {pair.strategy!r} is not defined; defined: "
                            f"{sorted(cfg.strategies)}")
    spec = alpha_spec(block.strategy, key=f"strategies.{pair.strategy}.strategy", file=str(cfg.source_file))
    layers: list[tuple[str, Mapping[str, Any]]] = [(f"strategies.{pair.strategy}.strategy_params",
                                                    block.strategy_params)]
    path = instrument_params_path(cfg.runtime.config_dir, pair.strategy)
    per_symbol = load_instrument_params(path, shown=str(path))
    if per_symbol is not None and pair.symbol in per_symbol:
        layers.append((f"{path}: {pair.symbol}", per_symbol[pair.symbol]))
    merged = merge_params(spec.defaults(), layers)
    return block.strategy, {name: value.value for name, value in merged.items()}
