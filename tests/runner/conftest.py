"""A real daemon set-up in tmp_path: config file, bar files, verified bundles, a local sink."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from sklearn.ensemble import RandomForestClassifier

from multialpha.calendar import EXCHANGE_TZ
from multialpha.config import AppConfig, load_app_config
from multialpha.contracts import load_contracts
from multialpha.execution.sink import WebhookSink
from multialpha.features.bars import NS_PER_SECOND, BarArrays
from multialpha.feeds.replay_files import write_bar_file
from multialpha.models import write_model_bundle

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "config" / "contracts.yml"
ROLLS = REPO / "config" / "rolls.yml"
HOUR = timedelta(hours=1)
T0 = datetime(2024, 3, 5, 14, tzinfo=UTC)  # a Tuesday, 08:00 in Chicago


def hourly_bars(symbol: str, ohlc: Sequence[tuple[float, float, float, float]], *, start: datetime = T0,
                volume: float = 1000.0) -> BarArrays:
    """Bars one hour apart from ``start`` (bar start times) in CME Globex hours (the 16:00-17:00
    Chicago halt and the weekend left out), with the contract's tick size."""
    n = len(ohlc)
    starts: list[datetime] = []
    at = start
    while len(starts) < n:
        local = at.astimezone(EXCHANGE_TZ)
        weekend = (local.weekday() == 4 and local.hour >= 16) or local.weekday() == 5 or \
            (local.weekday() == 6 and local.hour < 17)
        if local.hour != 16 and not weekend:
            starts.append(at)
        at += HOUR
    ts = np.array([int(t.timestamp()) * NS_PER_SECOND for t in starts], dtype=np.int64)
    a = np.asarray(ohlc, dtype=np.float64).reshape(n, 4)
    return BarArrays(symbol, ts, a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy(), a[:, 3].copy(),
                     np.full(n, volume), load_contracts(CONTRACTS)[symbol].tick_size)


def always_yes_model(features: Sequence[str], seed: int = 0) -> RandomForestClassifier:
    """A real fitted forest whose probability of class 1 is always 1."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, len(features)))
    return RandomForestClassifier(n_estimators=3, random_state=seed).fit(X, np.ones(40, dtype=int))


@dataclass
class Setup:
    root: Path
    config_path: Path
    env: dict[str, str]
    sink: WebhookSink

    def config(self) -> AppConfig:
        return load_app_config(self.config_path, env=self.env)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[WebhookSink]:
    with WebhookSink(tmp_path / "webhooks.jsonl") as s:
        yield s


MakeSetup = Callable[..., Setup]


@pytest.fixture
def make_setup(tmp_path: Path, sink: WebhookSink) -> MakeSetup:
    def build(*, bars: Mapping[str, BarArrays], strategies: Mapping[str, Mapping[str, Any]],
              portfolio: Mapping[str, Any] | None = None, runtime: Mapping[str, Any] | None = None,
              features: Sequence[str] = ("ibs", "rsi2"), models: Mapping[str, Any] | None = None,
              threshold: float = 0.5) -> Setup:
        data = tmp_path / "data"
        data.mkdir(exist_ok=True)
        for sym, b in bars.items():
            write_bar_file(data / f"{sym}.csv", b)
        env = {}
        doc_strats = {}
        for name, spec in strategies.items():
            var = f"HOOK_{name.upper()}"
            env[var] = f"{sink.url}/{name}"
            mdir = tmp_path / "models" / name
            for sym in spec["instruments"]:
                model = (models or {}).get(sym) or always_yes_model(features)
                write_model_bundle(mdir, sym, model, list(features), threshold, {},
                                   {"Sharpe": 1.0, "Profit_Factor": 1.2, "Trades": 50})
            doc_strats[name] = {
                "enabled": True, "broker_account": "${" + var + "}", "starting_cash": 100000,
                "models_path": str(mdir), "max_positions": spec.get("max_positions", 10),
                "daily_stop_loss": spec.get("daily_stop_loss", 1_000_000),
                "instruments": list(spec["instruments"]), "strategy_params": dict(spec.get("params", {})),
            }
        rt: dict[str, Any] = {"mode": "replay", "contracts_path": str(CONTRACTS), "rolls_path": str(ROLLS), "health": {"port": 0},
                              "state_path": str(tmp_path / "state" / "multialpha.sqlite"),
                              "data": {"source": "replay", "path": str(data), "warmup_bars": 0,
                                       "reference_symbols": []},
                              "webhook": {"timeout_secs": 2.0, "max_attempts": 2, "max_retry_wait_secs": 0.1}}
        for k, v in (runtime or {}).items():
            if isinstance(v, dict):
                rt[k] = {**rt.get(k, {}), **v}
            else:
                rt[k] = v
        doc = {"runtime": rt, "portfolio": dict(portfolio or {}), "strategies": doc_strats}
        path = tmp_path / "config.multi_alpha.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return Setup(tmp_path, path, env, sink)

    return build
