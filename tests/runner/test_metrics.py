"""Metrics: what the daemon's events and state become in the Prometheus exposition."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from multialpha.clock import ManualClock
from multialpha.contracts import load_contracts
from multialpha.portfolio import AccountLimits, PortfolioCoordinator, StrategyLimits
from multialpha.runner.metrics import DECISION_BUCKETS_SECS, AlertCounts, Metrics

CONTRACTS = Path(__file__).resolve().parents[2] / "config" / "contracts.yml"
T0 = datetime(2024, 3, 12, 15, tzinfo=UTC)  # Tuesday 10:00 Chicago


def scrape(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, _ = metrics.exposition()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(body.decode()) for s in f.samples}


@pytest.fixture
def wired() -> tuple[PortfolioCoordinator, Metrics, ManualClock]:
    metrics = Metrics()
    clock = ManualClock(T0)
    coordinator = PortfolioCoordinator(
        [StrategyLimits("ibs_a", frozenset({"ES", "NQ"}), max_positions=1, daily_stop_loss=500.0)],
        AccountLimits(max_positions=5, daily_stop_loss=5000.0), load_contracts(CONTRACTS), clock,
        on_event=metrics.on_coordinator_event)
    return coordinator, metrics, clock


def test_coordinator_events_count_blocked_entries_stops_and_closed_trades(
        wired: tuple[PortfolioCoordinator, Metrics, ManualClock]) -> None:
    coordinator, metrics, clock = wired
    assert coordinator.can_open("ibs_a", "ES").allowed
    coordinator.on_opened("ibs_a", "ES", price=5000.0, quantity=1, when=T0)
    assert not coordinator.can_open("ibs_a", "NQ").allowed  # max_positions 1
    clock.set(T0 + timedelta(hours=1))
    coordinator.on_closed("ibs_a", "ES", price=4980.0, when=clock.now(), reason="stop")  # -1000 USD: stop hit
    got = scrape(metrics)
    assert got[("multialpha_entries_blocked_total", (("reason", "strategy_max_positions"), ("strategy", "ibs_a")))] == 1
    assert got[("multialpha_trades_closed_total", (("strategy", "ibs_a"),))] == 1
    assert got[("multialpha_daily_stops_total", (("scope", "ibs_a"),))] == 1


def test_observe_status_sets_daily_pnl_stop_and_open_positions_per_scope(
        wired: tuple[PortfolioCoordinator, Metrics, ManualClock]) -> None:
    coordinator, metrics, _ = wired
    coordinator.can_open("ibs_a", "ES")
    coordinator.on_opened("ibs_a", "ES", price=5000.0, quantity=1, when=T0)
    coordinator.mark("ibs_a", "ES", 5001.0, T0 + timedelta(minutes=30))
    metrics.add_refresh(lambda: metrics.observe_status(coordinator.status()))
    got = scrape(metrics)
    pnl = coordinator.status().strategies["ibs_a"].pnl.total
    assert got[("multialpha_daily_pnl_usd", (("scope", "ibs_a"),))] == pytest.approx(pnl)
    assert got[("multialpha_daily_pnl_usd", (("scope", "account"),))] == pytest.approx(pnl)
    assert got[("multialpha_daily_stop_loss_usd", (("scope", "ibs_a"),))] == 500.0
    assert got[("multialpha_daily_stop_loss_usd", (("scope", "account"),))] == 5000.0
    assert got[("multialpha_open_positions", (("scope", "ibs_a"),))] == 1
    assert got[("multialpha_open_positions", (("scope", "account"),))] == 1


def test_track_alerts_exports_dropped_failed_and_suppressed_counts() -> None:
    metrics = Metrics()
    counts = AlertCounts(dropped=2, failed=1, duplicates=7, rate_limited=3)
    metrics.track_alerts(lambda: counts)
    got = scrape(metrics)
    assert got[("multialpha_alerts_dropped_total", ())] == 2
    assert got[("multialpha_alerts_failed_total", ())] == 1
    assert got[("multialpha_alerts_suppressed_total", (("reason", "duplicate"),))] == 7
    assert got[("multialpha_alerts_suppressed_total", (("reason", "rate_limited"),))] == 3


def test_refresh_that_raises_is_counted_and_the_scrape_still_answers() -> None:
    metrics = Metrics()

    def broken() -> None:
        raise RuntimeError("coordinator gone")

    metrics.add_refresh(broken)
    metrics.bar_processed("ES")
    got = scrape(metrics)
    assert got[("multialpha_metrics_refresh_errors_total", ())] == 1
    assert got[("multialpha_bars_processed_total", (("symbol", "ES"),))] == 1


def test_decision_latency_buckets_span_50_microseconds_to_50_milliseconds() -> None:
    assert DECISION_BUCKETS_SECS[0] == 50e-6 and DECISION_BUCKETS_SECS[-1] == 50e-3
    assert list(DECISION_BUCKETS_SECS) == sorted(DECISION_BUCKETS_SECS)


def test_trading_thread_calls_are_cheap() -> None:
    metrics = Metrics()
    started = time.perf_counter()
    for n in range(20_000):
        metrics.bar_processed("ES")
        metrics.decision_latency(1e-4)
        metrics.bar_time(historical=n % 2 == 0)
    per_call = (time.perf_counter() - started) / 60_000
    assert per_call < 50e-6  # a few microseconds each; generous for a shared machine
