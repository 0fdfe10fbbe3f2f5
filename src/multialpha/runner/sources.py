"""The daemon's ``BarSource`` for its configuration: which symbols, from where.

``run`` and ``check`` both go through these functions, so a bar file ``run`` would refuse
fails ``check`` with the same message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from multialpha.config import AppConfig, ResolvedStrategy
from multialpha.config.schema import DataSource
from multialpha.contracts import ContractSpec, require
from multialpha.errors import ConfigError
from multialpha.features.bars import BarArrays
from multialpha.feeds.replay_files import find_bar_file, load_bar_file
from multialpha.feeds.replay_source import ReplaySource
from multialpha.feeds.source import BarSource
from multialpha.rolls import RollSchedule
from multialpha.runner.live_source import build_live_source, live_symbol_problems


def feed_symbols(cfg: AppConfig, strategies: Sequence[ResolvedStrategy], extra: Iterable[str] = ()) -> list[str]:
    """Every symbol the daemon needs bars of: traded, reference, and held in symbols no longer traded."""
    return sorted({s for st in strategies for s in st.symbols} | set(cfg.runtime.data.reference_symbols)
                  | set(extra))


def source_problems(cfg: AppConfig, symbols: Sequence[str], contracts: Mapping[str, ContractSpec]
                    ) -> list[ConfigError]:
    """What the configured data source cannot deliver (bar files are checked one by one)."""
    if cfg.runtime.data.source is DataSource.DATABENTO:
        return live_symbol_problems(cfg, symbols, contracts)
    return []


def load_bars(cfg: AppConfig, contracts: Mapping[str, ContractSpec], symbol: str) -> BarArrays:
    """One symbol's bar file, fully validated on its contract's tick grid."""
    rt = cfg.runtime
    spec = require(contracts, symbol, file=rt.contracts_path)
    return load_bar_file(find_bar_file(rt.data.path, symbol), symbol, spec.tick_size,
                         allows_negative_prices=spec.allows_negative_prices)


def build_source(cfg: AppConfig, strategies: Sequence[ResolvedStrategy], contracts: Mapping[str, ContractSpec],
                 rolls: RollSchedule, *, extra_symbols: Iterable[str] = (), start: date | None = None,
                 end: date | None = None, resume_after_ns: int | None = None) -> BarSource:
    symbols = feed_symbols(cfg, strategies, extra_symbols)
    if cfg.runtime.data.source is DataSource.DATABENTO:
        return build_live_source(cfg, symbols, contracts, rolls)
    bars = {s: load_bars(cfg, contracts, s) for s in symbols}
    return ReplaySource(bars, warmup_bars=cfg.runtime.data.warmup_bars, start=start, end=end,
                        resume_after_ns=resume_after_ns)
