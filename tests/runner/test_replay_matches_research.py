"""The daemon (Backtrader, live feature path, compiled forest, HTTP) trades exactly what the
research engine, driving the same per-instrument step over arrays with the same model,
predicts: no train/serve skew."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from multialpha.research.engine import run_instrument
from multialpha.research.ml.settings import CpcvSettings, ForestSpace, SearchSettings
from multialpha.research.ml.train import train_filter
from multialpha.research.sampledata import generate_sample_bars

from multialpha.contracts import load_contracts
from multialpha.models import load_model_bundle
from multialpha.rolls import load_rolls
from multialpha.runner import MultiAlphaRunner, RunOptions
from multialpha.strategy.ibs import IBS
from multialpha.strategy.params import IbsParams
from multialpha.strategy.tickers import RollTickers

from .conftest import CONTRACTS, ROLLS, MakeSetup

SYMBOLS = ("ES", "CL", "6A")
REFS = ("ZB", "VX")
FEATURES = ("ibs", "prev_ibs", "ibs_pct", "rsi2", "volume_z", "atr_z", "daily_ibs", "prev_day_return",
            "dow", "hour", "ibs_x_rsi2", "ZB_daily_z", "VX_hourly_return")
PARAMS = {"stop_type": "atr", "stop_atr_mult": 2.0, "tp_atr_mult": 3.0, "max_holding_bars": 12}
TRAIN_END = date(2024, 1, 2)
TRADE_FROM = date(2024, 1, 8)
WARMUP = 400
TRAINING = SearchSettings(random_trials=2, tpe_trials=0, seed=1, cpcv=CpcvSettings(4, 2, 0.01),
                          forest=ForestSpace(n_estimators=(60, 60), max_depth=(6, 6), min_samples_leaf=(25, 25)),
                          min_trades=100, search_features=False)


@pytest.mark.slow
def test_daemon_webhooks_equal_the_research_simulation(make_setup: MakeSetup):
    bars = generate_sample_bars(SYMBOLS + REFS, start=date(2023, 5, 1), end=date(2024, 2, 16), seed=3)
    contracts = load_contracts(CONTRACTS)
    rolls = load_rolls(ROLLS)
    params = IbsParams.from_mapping({**IbsParams.defaults(), **PARAMS})
    refs = {r: bars[r] for r in REFS}
    models = {s: train_filter(bars[s], refs, params, contracts[s], FEATURES, TRAIN_END, settings=TRAINING).model
              for s in SYMBOLS}
    setup = make_setup(bars=bars, strategies={"alpha": {"instruments": list(SYMBOLS), "params": PARAMS}},
                       runtime={"data": {"warmup_bars": WARMUP, "reference_symbols": list(REFS)}},
                       features=FEATURES, models=models, threshold=0.5)
    report = MultiAlphaRunner(setup.config(), options=RunOptions(start=TRADE_FROM)).run()
    assert not report.failed

    # What research expects, from the first replayed bar on (the daemon's history starts there).
    first_ts = _first_replayed_ts(bars, WARMUP)
    expected: set[tuple[str, str, str, float]] = set()
    for s in SYMBOLS:
        b = bars[s].slice(slice(int(np.searchsorted(bars[s].ts, first_ts)), None))
        rb = {r: refs[r].slice(slice(int(np.searchsorted(refs[r].ts, first_ts)), None)) for r in REFS}
        live_from = int(np.searchsorted(b.close_ts, _first_live_close_ns(report)))
        bundle = load_model_bundle(s, setup.root / "models" / "alpha")
        run = run_instrument(b, IBS, params, contracts[s], strategy="alpha", model=bundle, refs=rb,
                             first_bar=live_from, tickers=RollTickers(rolls, s))
        for intent in run.intents:
            expected.add((intent.ticker, intent.action.value, _iso_dt(intent.signal_time), intent.price))

    got = {(r["body"]["ticker"], r["body"]["action"], r["body"]["time"], r["body"]["signalPrice"])
           for r in setup.sink.received}
    assert len(expected) > 20  # enough trades for the comparison to mean something
    assert got == expected
    assert len(setup.sink.received) == len(got)  # and nothing was sent twice


def _iso_dt(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(ns: int) -> str:
    return np.datetime_as_string(np.datetime64(int(ns), "ns"), unit="s") + "Z"


def _first_live_close_ns(report) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(report.first_live_time).timestamp()) * 1_000_000_000


def _first_replayed_ts(bars, warmup: int) -> int:
    times = np.unique(np.concatenate([b.ts for b in bars.values()]))
    from datetime import UTC, datetime, timedelta

    from multialpha.calendar import trading_day

    days = [trading_day(datetime.fromtimestamp(t / 1e9, tz=UTC) + timedelta(hours=1)) for t in times]
    first_live = next(i for i, d in enumerate(days) if d >= TRADE_FROM)
    return int(times[max(0, first_live - warmup)])
