"""The live ``BarSource`` of a configuration: Databento, on the contracts the roll schedule names.

The feed subscribes to exactly the contract orders are sent for (one roll rule:
``multialpha.rolls``), warms up from Databento historical or from the bar files, and runs on the
wall clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from multialpha.clock import SystemClock
from multialpha.config import AppConfig
from multialpha.config.schema import WarmupFrom
from multialpha.contracts import ContractSpec
from multialpha.errors import ConfigError
from multialpha.feeds.source import BarSource
from multialpha.rolls import RollSchedule

GLOBEX_EXCHANGES = frozenset({"CME", "CBOT", "NYMEX", "COMEX"})  # the venues GLBX.MDP3 carries


def live_symbol_problems(cfg: AppConfig, symbols: Sequence[str],
                         contracts: Mapping[str, ContractSpec]) -> list[ConfigError]:
    """Symbols the live dataset does not carry (e.g. VX trades on CFE, not on CME Globex)."""
    db = cfg.runtime.data.databento
    if db is None or db.dataset != "GLBX.MDP3":
        return []
    return [ConfigError(f"{s} trades on {contracts[s].exchange}, which {db.dataset} does not carry; remove it "
                        "from the traded and reference symbols of a live run", file=cfg.source_file,
                        key="runtime.data.reference_symbols" if s in cfg.runtime.data.reference_symbols
                        else "strategies")
            for s in symbols if s in contracts and contracts[s].exchange not in GLOBEX_EXCHANGES]


def build_live_source(cfg: AppConfig, symbols: Sequence[str], contracts: Mapping[str, ContractSpec],
                      rolls: RollSchedule) -> BarSource:
    import databento

    from multialpha.feeds.databento_live import DatabentoLiveSource
    from multialpha.feeds.live_client import DatabentoConnector
    from multialpha.feeds.warmup import DatabentoHistory, FileHistory, HistorySource

    rt = cfg.runtime
    db = rt.data.databento
    if db is None:  # the schema requires it for this source
        raise ConfigError("required when source is databento", file=cfg.source_file, key="runtime.data.databento")
    problems = live_symbol_problems(cfg, symbols, contracts)
    if problems:
        raise problems[0]
    key = db.api_key.get_secret_value()
    ticks = {s: contracts[s].tick_size for s in symbols}

    def contract_for(symbol: str, day: date) -> str:
        return rolls.active_contract(symbol, day).databento_symbol

    history: HistorySource
    if db.warmup_from is WarmupFrom.FILES:
        history = FileHistory(rt.data.path, tick_sizes=ticks)
    else:
        client = databento.Historical(key=key, gateway=db.historical_gateway or databento.HistoricalGateway.BO1)
        history = DatabentoHistory(client, contract_for=contract_for, dataset=db.dataset, tick_sizes=ticks)
    connector = DatabentoConnector(key, dataset=db.dataset, gateway=db.gateway, port=db.port,
                                   heartbeat_interval_s=db.heartbeat_interval_secs)
    return DatabentoLiveSource(symbols, connector=connector, contract_for=contract_for, clock=SystemClock(),
                               history=history, warmup_bars=rt.data.warmup_bars, tick_sizes=ticks,
                               grace_secs=db.grace_secs, max_silence_secs=db.max_silence_secs)
