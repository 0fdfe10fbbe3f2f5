"""The portfolio simulators take exactly the daemon's trades.

The daemon's path: each (strategy, symbol) is an ``InstrumentStep`` with the real IBS rules and
a real model bundle as its filter, gated by one ``PortfolioCoordinator``, driven bar time after
bar time as the hub drives them (``runner/hub.py``): clock and day roll, every instrument with a
bar (strategies in config order, symbols in list order), then the flatten sweep; contract months
and rolls from the repository's roll schedule, as the daemon's. The simulators
get only the candidate trades of each instrument (``signal_trades``) and the bars. With limits
and daily stops that bind, both must show the same fills and the same daily P&L.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from multialpha.research.engine import ArrayMarket, BarTimes, MemoryLedger, RecordingOrders
from multialpha.research.portfolio.candidates import signal_trades
from multialpha.research.portfolio.exact import simulate_exact
from multialpha.research.portfolio.fast import FastSimulator
from multialpha.research.portfolio.plan import PortfolioInputs, PortfolioPlan, StrategyPlan
from multialpha.research.portfolio.replay import ns_to_datetime
from sklearn.ensemble import RandomForestClassifier

from multialpha.clock import ManualClock
from multialpha.features import compute_features
from multialpha.models import ModelBundle, load_model_bundle, write_model_bundle
from multialpha.portfolio import ACCOUNT, CoordinatorEvent, EventKind, PortfolioCoordinator
from multialpha.rolls import load_rolls
from multialpha.strategy.alpha import BarEvent
from multialpha.strategy.ibs import IBS
from multialpha.strategy.indicators import atr_series
from multialpha.strategy.params import IbsParams
from multialpha.strategy.step import InstrumentStep
from multialpha.strategy.tickers import RollTickers

from .conftest import REPO, SAMPLE_PARAMS, SAMPLE_SYMBOLS

FEATURES = ("ibs", "rsi2", "atr_z")
ROLLS = load_rolls(REPO / "config" / "rolls.yml")
PLAN = PortfolioPlan(
    (StrategyPlan("a", SAMPLE_SYMBOLS, max_positions=2, daily_stop_loss=1500.0),
     StrategyPlan("b", ("6E", "GC", "ES"), max_positions=2, daily_stop_loss=1000.0)),
    account_max_positions=3, account_daily_stop_loss=2500.0)


def _bundles(bars, tmp_path: Path) -> dict[str, ModelBundle]:
    """A real forest per symbol, fitted on the symbol's own features against noise: it lets
    about half of the signals through."""
    out = {}
    for s in SAMPLE_SYMBOLS:
        X = compute_features(bars[s], FEATURES)
        X = X[np.all(np.isfinite(X), axis=1)][:400]
        y = np.random.default_rng(1).integers(0, 2, X.shape[0])
        model = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y)
        write_model_bundle(tmp_path, s, model, list(FEATURES), 0.5, {},
                           {"Sharpe": 0.0, "Profit_Factor": 1.0, "Trades": 0})
        out[s] = load_model_bundle(s, tmp_path)
    return out


def _daemon_path(bars, contracts, params, bundles) -> tuple[pd.DataFrame, list[float]]:
    closes = np.unique(np.concatenate([b.close_ts for b in bars.values()]))
    clock = ManualClock(ns_to_datetime(int(closes[0])))
    daily: dict[str, float] = {}

    def on_event(event: CoordinatorEvent) -> None:
        if event.kind is EventKind.DAY_ROLLED:
            daily[event.data["previous_day"]] = event.data["pnl"][ACCOUNT]["total"]

    coordinator = PortfolioCoordinator([s.limits() for s in PLAN.strategies], PLAN.account_limits(), contracts,
                                       clock, on_event=on_event)
    ledger = MemoryLedger()
    steps, at = [], {}
    for strategy, symbol in PLAN.pairs():
        b = bars[symbol]
        market = ArrayMarket(atr_series(b), compute_features(b, FEATURES), FEATURES, b.close_ts)
        step = InstrumentStep(strategy=strategy, symbol=symbol, tickers=RollTickers(ROLLS, symbol),
                              alpha=IBS.build(params, contracts[symbol]),
                              contract=contracts[symbol], gate=coordinator, orders=RecordingOrders(), ledger=ledger,
                              market=market, model=bundles[symbol], entry_reason="ibs_entry")
        steps.append(step)
        t = BarTimes.of(b)
        for i, ts in enumerate(b.close_ts.tolist()):
            at.setdefault(ts, []).append((step, market, i, BarEvent(
                t.close_time[i], t.trading_day[i], int(t.close_minute[i]), float(b.open[i]), float(b.high[i]),
                float(b.low[i]), float(b.close[i]), float(b.volume[i]))))
    for ts in closes.tolist():
        when = ns_to_datetime(ts)
        clock.set(when)
        coordinator.roll(when)
        for step, market, i, bar in at.get(ts, ()):
            market.i = i
            step.on_bar(bar)
        for step in steps:
            step.sweep(when)
    coordinator.roll(ns_to_datetime(int(closes[-1]) + 3 * 86_400 * 10**9))
    trades = pd.DataFrame([(t.strategy, t.symbol, t.entry_time, t.exit_time, t.entry_price, t.exit_price, t.pnl,
                            t.exit_reason) for t in ledger.closed_trades])
    return trades, [daily[d] for d in sorted(daily)]


def test_simulators_fill_exactly_what_the_daemons_step_and_coordinator_fill(sample_bars, contracts,
                                                                           tmp_path: Path) -> None:
    params = IbsParams.from_mapping({**IbsParams.defaults(), **SAMPLE_PARAMS, "use_ml_filter": True})
    bundles = _bundles(sample_bars, tmp_path)
    expected_trades, expected_daily = _daemon_path(sample_bars, contracts, params, bundles)

    candidates = {(st, s): signal_trades(sample_bars[s], IBS, params, contracts[s], strategy=st, model=bundles[s],
                                         tickers=RollTickers(ROLLS, s))
                  for st, s in PLAN.pairs()}
    inputs = PortfolioInputs(sample_bars, candidates, contracts)
    for result in (simulate_exact(inputs, PLAN), FastSimulator(inputs, PLAN).simulate(PLAN)):
        t = result.trades
        got = pd.DataFrame(list(zip(t.strategy, t.symbol, map(ns_to_datetime, t.entry_ns),
                                    map(ns_to_datetime, t.exit_ns), t.entry_price, t.exit_price, t.pnl_usd,
                                    t.exit_reason, strict=True)))
        pd.testing.assert_frame_equal(got, expected_trades)
        assert list(result.daily_pnl) == expected_daily
    # The limits and stops did bind: the comparison covers them.
    assert (expected_trades[7] == "daily_stop").sum() >= 5
    assert (expected_trades[7] == "contract_roll").sum() >= 1
    assert len(expected_trades) < sum(len(c) for c in candidates.values()) / 2


def test_without_limits_the_simulation_of_every_signal_is_the_instruments_own_trade_list(
        sample_inputs, sample_bars, sample_params, contracts) -> None:
    from multialpha.research.engine import run_instrument
    from multialpha.research.portfolio.candidates import trades_from_run

    for symbol in ("ES", "6E"):
        run = run_instrument(sample_bars[symbol], IBS, sample_params, contracts[symbol], strategy="a")
        own = trades_from_run(run, sample_bars[symbol], strategy="a", quantity=1)
        result = simulate_exact(sample_inputs, PortfolioPlan((StrategyPlan("a", (symbol,)),)))
        t = result.trades
        assert t.entry_ns.tolist() == own.entry_ns.tolist()
        assert t.exit_ns.tolist() == own.exit_ns.tolist()
        # the research engine's open gate books P&L in floats, the coordinator in exact decimals
        assert t.pnl_usd.tolist() == pytest.approx([tr.pnl for tr in run.trades], abs=1e-6)
