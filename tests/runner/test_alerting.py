"""TraderAlerts end to end: real coordinator events, a real local server standing in for Discord."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from multialpha.alerts import AlertPolicy, DiscordNotifier, RecordingNotifier, marker_for_mode
from multialpha.clock import ManualClock
from multialpha.contracts import load_contracts
from multialpha.execution import Reply, WebhookSink
from multialpha.feeds.source import FeedStatus
from multialpha.portfolio import AccountLimits, PortfolioCoordinator, StrategyLimits
from multialpha.runner.alerting import TraderAlerts

CONTRACTS = Path(__file__).resolve().parents[2] / "config" / "contracts.yml"
DISCORD_OK = Reply(200, body={"id": "1", "type": 0, "content": ""})
T0 = datetime(2024, 3, 12, 15, tzinfo=UTC)  # Tuesday 10:00 Chicago, trading day 2024-03-12


def discord(make_webhook_sink: Callable[..., WebhookSink]) -> tuple[WebhookSink, DiscordNotifier]:
    sink = make_webhook_sink(default=DISCORD_OK)
    return sink, DiscordNotifier(f"{sink.url}/api/webhooks/1/token", timeout_secs=2.0)


def embed_titles(sink: WebhookSink) -> list[str]:
    return [r["body"]["embeds"][0]["title"] for r in sink.received]


def test_gateway_failing_on_every_order_gives_one_failing_and_one_recovered_alert(
        make_webhook_sink: Callable[..., WebhookSink]) -> None:
    sink, notifier = discord(make_webhook_sink)
    alerts = TraderAlerts(AlertPolicy(notifier, marker=marker_for_mode("paper")))
    alerts.order_delivered("ibs_a", ok=True)
    for n in range(25):
        alerts.order_delivered("ibs_a", ok=False, detail="HTTP 503 from the gateway", order=f"ES buy #{n}")
    alerts.order_delivered("ibs_b", ok=True)  # another gateway, fine all along
    alerts.order_delivered("ibs_a", ok=True)
    alerts.order_delivered("ibs_a", ok=True)
    assert alerts.close(timeout_secs=5) is True
    assert embed_titles(sink) == ["[PAPER] Order gateway failing: ibs_a", "[PAPER] Order gateway recovered: ibs_a"]
    failing, recovered = (r["body"]["embeds"][0]["description"] for r in sink.received)
    assert "HTTP 503" in failing and "ES buy #0" in failing
    assert "25 order(s) failed" in recovered


@pytest.fixture
def coordinator_and_alerts() -> tuple[PortfolioCoordinator, ManualClock, RecordingNotifier]:
    rec = RecordingNotifier()
    alerts = TraderAlerts(AlertPolicy(rec, marker="[PAPER]"), accounts={"ibs_a": "default", "ibs_b": "default"})
    clock = ManualClock(T0)
    coordinator = PortfolioCoordinator(
        [StrategyLimits("ibs_a", frozenset({"ES", "NQ"}), max_positions=1, daily_stop_loss=500.0),
         StrategyLimits("ibs_b", frozenset({"CL"}), max_positions=2, daily_stop_loss=3000.0, account=None)],
        AccountLimits(max_positions=5, daily_stop_loss=10_000.0), load_contracts(CONTRACTS), clock,
        on_event=alerts.on_coordinator_event)
    coordinator.roll(T0)
    return coordinator, clock, rec


def test_trading_day_gives_entry_exit_stop_halt_resume_and_the_summary_at_the_roll(
        coordinator_and_alerts: tuple[PortfolioCoordinator, ManualClock, RecordingNotifier]) -> None:
    coordinator, clock, rec = coordinator_and_alerts
    assert coordinator.can_open("ibs_a", "ES").allowed
    coordinator.on_opened("ibs_a", "ES", price=5000.0, quantity=1, when=T0)
    assert not coordinator.can_open("ibs_a", "NQ").allowed  # strategy_max_positions
    clock.set(T0 + timedelta(hours=1))
    coordinator.on_closed("ibs_a", "ES", price=4980.0, when=clock.now(), reason="stop")  # -1000: daily stop
    coordinator.set_state("ibs_b", "halted", "news at 08:30")
    coordinator.set_state("ibs_b", "active", "news passed")
    clock.set(T0 + timedelta(days=1))  # past 17:00 Chicago: the day rolls
    coordinator.roll(clock.now())
    titles = [a.title for a in rec.alerts]
    assert titles[:2] == ["[PAPER] Entry ibs_a ES", "[PAPER] Exit ibs_a ES -$1,004.50"]
    assert titles[2:] == ["[PAPER] Daily stop hit: ibs_a", "[PAPER] Halted: ibs_b", "[PAPER] Resumed: ibs_b",
                          "[PAPER] Daily summary 2024-03-12"]
    summary = rec.alerts[-1]
    fields = dict(summary.fields)
    assert summary.message.startswith("Trading day 2024-03-12 closed: P&L -$1,004.50, 1 trades, 1 daily stop(s) hit")
    assert "trades 1 (stop 1)" in fields["ibs_a"] and "daily stop hit 1x" in fields["ibs_a"]
    assert "blocked strategy_max_positions 1" in fields["ibs_a"]
    assert fields["ibs_b"].startswith("P&L +$0.00")
    assert fields["account"].startswith("P&L -$1,004.50")


def test_day_without_signal_or_trade_sends_no_summary(
        coordinator_and_alerts: tuple[PortfolioCoordinator, ManualClock, RecordingNotifier]) -> None:
    coordinator, clock, rec = coordinator_and_alerts
    clock.set(T0 + timedelta(days=1))
    coordinator.roll(clock.now())
    assert rec.alerts == []


def test_feed_stale_and_recovered_each_alert_once_from_the_ticker() -> None:
    rec = RecordingNotifier()
    status = [FeedStatus(live=True, connected=True, last_bar_time=T0, silence_secs=2.0)]
    alerts = TraderAlerts(AlertPolicy(rec), feed=lambda: status[0])
    alerts.tick()
    status[0] = FeedStatus(live=True, connected=False, last_bar_time=T0, silence_secs=300.0, stale=True,
                           detail="reconnecting")
    for _ in range(5):
        alerts.tick()
    status[0] = FeedStatus(live=True, connected=True, last_bar_time=T0, silence_secs=1.0)
    alerts.tick()
    alerts.tick()
    assert [a.title for a in rec.alerts] == ["Market feed stale", "Market feed recovered"]
    assert "300s" in rec.alerts[0].message


def test_alert_counts_report_the_queue_and_the_policy(make_webhook_sink: Callable[..., WebhookSink]) -> None:
    sink, notifier = discord(make_webhook_sink)
    alerts = TraderAlerts(AlertPolicy(notifier))
    for _ in range(3):
        alerts.worker_failed("ibs_a", "ValueError: bad bar", policy="flatten")
    assert alerts.close(timeout_secs=5)
    counts = alerts.alert_counts()
    assert (counts.duplicates, counts.dropped, counts.failed) == (2, 0, 0)
    assert embed_titles(sink) == ["Strategy ibs_a failed", "Strategy ibs_a failed (x3)"]
