"""The Grafana dashboard queries only metrics the daemon exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from multialpha.runner.health import HealthReport, HealthSnapshot, Verdict, WorkerHealth
from multialpha.runner.metrics import AlertCounts, Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json"
METRIC = re.compile(r"\bmultialpha_[a-z0-9_]+")


def exported_sample_names() -> set[str]:
    """Every sample name a daemon's /metrics can hold, with each metric touched once."""
    from datetime import UTC, datetime

    from multialpha.feeds.source import FeedStatus

    m = Metrics(mode="paper")
    m.bar_processed("ES")
    m.bar_time(historical=False)
    m.decision_latency(1e-4)
    m.order_status("ibs_a", "sent")
    m.webhook_delivery("ibs_a", 0.1)
    m.entry_blocked("ibs_a", "strategy_max_positions")
    m.daily_stop_hit("ibs_a")
    m.trade_closed("ibs_a")
    m.set_daily_pnl("ibs_a", 1.0)
    m.set_daily_stop_loss("ibs_a", 500.0)
    m.set_open_positions(1)
    m.set_outbox(0, 0)
    now = datetime(2024, 7, 1, tzinfo=UTC)
    m.observe_health(HealthReport(Verdict.OK, (), HealthSnapshot(
        now=now, mode="paper", version="0", started_at=now, workers=(WorkerHealth("ibs_a", "running", True),),
        feed=FeedStatus(live=True, connected=True, last_bar_time=now, silence_secs=1.0), running=True)))
    m.track_alerts(lambda: AlertCounts())
    body, _ = m.exposition()
    return {s.name for f in text_string_to_metric_families(body.decode()) for s in f.samples}


def expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for v in node.values() for e in expressions(v)]
    if isinstance(node, list):
        return [e for v in node for e in expressions(v)]
    return []


def test_every_metric_the_dashboard_queries_is_exported() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {name for expr in expressions(dashboard) for name in METRIC.findall(expr)}
    assert queried, "the dashboard has no multialpha queries"
    assert sorted(queried - exported_sample_names()) == []


def test_dashboard_covers_latency_orders_blocked_pnl_positions_and_feed() -> None:
    queried = " ".join(expressions(json.loads(DASHBOARD.read_text())))
    for name in ("multialpha_decision_latency_seconds_bucket", "multialpha_orders_total",
                 "multialpha_entries_blocked_total", "multialpha_daily_pnl_usd", "multialpha_daily_stop_loss_usd",
                 "multialpha_open_positions", "multialpha_feed_silence_seconds"):
        assert name in queried


def test_every_panel_uses_the_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert all(p["datasource"] == {"type": "prometheus", "uid": "${datasource}"} for p in dashboard["panels"])
