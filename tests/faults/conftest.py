"""Fault tests: the daemon as a real subprocess, real webhook and alert sinks on 127.0.0.1, a
temp-file state store, and the operator's own commands between the faults."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml
from multialpha.research.ml.settings import CpcvSettings, ForestSpace, SearchSettings
from multialpha.research.ml.train import train_filter
from multialpha.research.sampledata import generate_sample_bars

from multialpha.contracts import load_contracts
from multialpha.features import REQUIRED_HISTORY_BARS
from multialpha.feeds.replay_files import write_bar_file
from multialpha.models import write_model_bundle
from multialpha.strategy.params import IbsParams

from .daemon import Daemon, Outcome, Sinks, days_between, run_to_end

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "config" / "contracts.yml"

# Two strategies of three instruments each, cross-market features from ZB and VX, models
# trained on the months before the replay, realistic daily stops so some days flatten.
STRATEGIES: dict[str, dict] = {
    "alpha": {"instruments": ("ES", "CL", "6A"), "max_positions": 3, "daily_stop_loss": 1500,
              "params": {"stop_type": "atr", "stop_atr_mult": 2.0, "tp_atr_mult": 3.0, "max_holding_bars": 12}},
    "beta": {"instruments": ("NQ", "GC", "6E"), "max_positions": 2, "daily_stop_loss": 1200,
             "params": {"ibs_entry_high": 0.25, "stop_type": "percent", "stop_pct": 0.006, "tp_pct": 0.01,
                        "max_holding_bars": 8, "session_start": "03:00", "session_end": "15:00"}},
}
ACCOUNT_LIMITS = {"max_positions": 5, "daily_stop_loss": 2000}
REFS = ("ZB", "VX")
FEATURES = ("ibs", "prev_ibs", "ibs_pct", "rsi2", "volume_z", "atr_z", "daily_ibs", "prev_day_return",
            "dow", "hour", "ibs_x_rsi2", "ZB_daily_z", "VX_hourly_return")
TRAIN_FROM, TRAIN_END = date(2023, 5, 1), date(2024, 1, 2)
# The research pipeline at its smallest: two trials over CPCV, every listed feature, a
# threshold that keeps most signals (at least 100 trades per path) so the replay trades a lot.
TRAINING = SearchSettings(random_trials=2, tpe_trials=0, seed=1, cpcv=CpcvSettings(4, 2, 0.01),
                          forest=ForestSpace(n_estimators=(60, 60), max_depth=(6, 6), min_samples_leaf=(25, 25)),
                          min_trades=100, search_features=False)
FILES_FROM = date(2023, 11, 27)  # the daemon's bar files: enough bar times for the warm-up, no more
LIVE_FROM, LIVE_TO = date(2024, 1, 8), date(2024, 1, 26)
# At least the feature engine's exact history, so the features at a bar time are the same
# whether the process got there in one go or restarted just before it.
WARMUP_BARS = REQUIRED_HISTORY_BARS + 10
DAYS = days_between(LIVE_FROM - timedelta(days=3), LIVE_TO + timedelta(days=1))  # every trading day touched


@dataclass(frozen=True)
class Market:
    """Bar files and verified model bundles, built once and shared read-only."""

    data_dir: Path
    models_dir: Path

    def write_config(self, root: Path, *, webhook: dict | None = None) -> Path:
        """A config in ``root`` with its own state store; URLs come from the environment."""
        root.mkdir(parents=True, exist_ok=True)
        runtime = {
            "mode": "replay", "contracts_path": str(CONTRACTS), "rolls_path": str(CONTRACTS.with_name("rolls.yml")), "health": {"port": 0},
            "state_path": str(root / "state" / "multialpha.sqlite"),
            "data": {"source": "replay", "path": str(self.data_dir), "warmup_bars": WARMUP_BARS,
                     "reference_symbols": list(REFS), "start": LIVE_FROM.isoformat(),
                     "end": LIVE_TO.isoformat()},
            # A refused connection is retried for about 1.5 s before the order counts as failed.
            "webhook": {"timeout_secs": 2.0, "max_attempts": 4, "max_retry_wait_secs": 0.5, **(webhook or {})},
            "alerts": {"discord_webhook_url": "${ALERT_URL}"},
        }
        strategies = {
            name: {"enabled": True, "broker_account": "${HOOK_" + name.upper() + "}", "starting_cash": 100000,
                   "models_path": str(self.models_dir / name), "max_positions": spec["max_positions"],
                   "daily_stop_loss": spec["daily_stop_loss"], "instruments": list(spec["instruments"]),
                   "strategy_params": dict(spec["params"])}
            for name, spec in STRATEGIES.items()}
        doc = {"runtime": runtime, "portfolio": dict(ACCOUNT_LIMITS), "strategies": strategies}
        path = root / "config.multi_alpha.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path


@pytest.fixture(scope="session")
def market(tmp_path_factory: pytest.TempPathFactory) -> Market:
    root = tmp_path_factory.mktemp("market")
    symbols = sorted({s for spec in STRATEGIES.values() for s in spec["instruments"]} | set(REFS))
    bars = generate_sample_bars(symbols, start=TRAIN_FROM, end=LIVE_TO, seed=3)
    contracts = load_contracts(CONTRACTS)
    refs = {r: bars[r] for r in REFS}
    for name, spec in STRATEGIES.items():
        params = IbsParams.from_mapping({**IbsParams.defaults(), **spec["params"]})
        for sym in spec["instruments"]:
            fit = train_filter(bars[sym], refs, params, contracts[sym], FEATURES, TRAIN_END, settings=TRAINING)
            write_model_bundle(root / "models" / name, sym, fit.model, list(fit.features), fit.threshold, {},
                               {"Sharpe": 1.0, "Profit_Factor": 1.2, "Trades": 50})
    data = root / "data"
    data.mkdir()
    first_ns = np.datetime64(FILES_FROM.isoformat(), "ns").astype(np.int64)
    for sym, b in bars.items():
        write_bar_file(data / f"{sym}.csv", b.slice(slice(int(np.searchsorted(b.ts, first_ns)), None)))
    return Market(data, root / "models")


@pytest.fixture(scope="session")
def reference(market: Market, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """One uninterrupted run: its own state store, its own sinks."""
    root = tmp_path_factory.mktemp("reference")
    config = market.write_config(root)
    with Sinks(root) as sinks:
        daemon = Daemon(config, sinks.env(), root / "logs")
        outcome = run_to_end(daemon, sinks, DAYS)
    assert len(outcome.webhooks) >= 60, "too few orders for the faults to mean something"
    assert len({w["body"]["extras"]["signal_id"] for w in outcome.webhooks}) == len(outcome.webhooks)
    exits = {t["exit_reason"] for t in outcome.journal}
    assert {"daily_stop", "ibs_exit", "stop"} <= exits, exits  # flatten paths are exercised too
    return outcome


@pytest.fixture
def sinks(tmp_path: Path) -> Iterator[Sinks]:
    with Sinks(tmp_path) as s:
        yield s
