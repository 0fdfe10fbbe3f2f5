"""/health and /metrics served by a real server on 127.0.0.1, fetched with a real HTTP client."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from multialpha.errors import ConfigError
from multialpha.feeds.source import FeedStatus
from multialpha.runner.health import HealthSnapshot, OutboxCounts, WorkerHealth
from multialpha.runner.metrics import Metrics
from multialpha.runner.ops_server import OpsServer

NOW = datetime(2024, 7, 2, 15, 0, 5, tzinfo=UTC)
SECRET = "https://webhooks.traderspost.io/trading/webhook/abc/s3cret-token"


class Board:
    """A provider whose snapshot the test changes between requests."""

    def __init__(self) -> None:
        self.snapshot = HealthSnapshot(
            now=NOW, mode="paper", version="0.1.0", started_at=NOW - timedelta(minutes=10),
            workers=(WorkerHealth("ibs_a", "running", True),),
            feed=FeedStatus(live=True, connected=True, last_bar_time=NOW - timedelta(seconds=5), silence_secs=2.0),
            last_bars={"ES": NOW - timedelta(seconds=5)}, trading={"account": "active"}, running=True)

    def __call__(self) -> HealthSnapshot:
        return self.snapshot

    def change(self, **changes: object) -> None:
        self.snapshot = dataclasses.replace(self.snapshot, **changes)  # type: ignore[arg-type]


@pytest.fixture
def serve() -> Iterator[Callable[..., OpsServer]]:
    servers: list[OpsServer] = []

    def _serve(provider: Callable[[], HealthSnapshot], metrics: Metrics | None = None, **kw: object) -> OpsServer:
        server = OpsServer(provider, metrics, port=0, **kw).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield _serve
    for s in servers:
        s.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_health_when_healthy_then_200_and_json_body(serve: Callable[..., OpsServer]) -> None:
    server = serve(Board())
    r = requests.get(f"{server.url}/health", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert (body["status"], body["healthy"], body["mode"]) == ("ok", True, "paper")
    assert body["workers"] == {"ibs_a": {"state": "running", "alive": True, "error": None}}
    assert body["feed"]["connected"] is True


def test_health_when_state_changes_then_status_switches_between_200_and_503(
        serve: Callable[..., OpsServer]) -> None:
    board = Board()
    server = serve(board)
    assert requests.get(f"{server.url}/health", timeout=5).status_code == 200
    board.change(feed=FeedStatus(live=True, connected=True, last_bar_time=NOW, silence_secs=500.0, stale=True))
    r = requests.get(f"{server.url}/health", timeout=5)
    assert r.status_code == 503
    assert r.json()["status"] == "failing"
    assert [p["code"] for p in r.json()["problems"]] == ["feed_stale"]
    board.change(feed=FeedStatus(live=True, connected=True, last_bar_time=NOW, silence_secs=1.0))
    assert requests.get(f"{server.url}/health", timeout=5).status_code == 200
    board.change(outbox=OutboxCounts(unknown=1))
    r = requests.get(f"{server.url}/health", timeout=5)
    assert (r.status_code, r.json()["status"]) == (503, "degraded")


def test_health_when_error_text_holds_a_secret_then_it_is_not_served(serve: Callable[..., OpsServer]) -> None:
    board = Board()
    board.change(workers=(WorkerHealth("ibs_a", "failed", False, f"ConnectionError posting to {SECRET}"),))
    server = serve(board, secrets=[SECRET])
    r = requests.get(f"{server.url}/health", timeout=5)
    assert r.status_code == 503
    assert SECRET not in r.text and "s3cret-token" not in r.text
    assert "webhooks.traderspost.io" in r.json()["workers"]["ibs_a"]["error"]


def test_health_when_provider_raises_then_503_and_server_keeps_serving(serve: Callable[..., OpsServer]) -> None:
    calls = {"n": 0}
    board = Board()

    def flaky() -> HealthSnapshot:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("store closed")
        return board()

    server = serve(flaky)
    r = requests.get(f"{server.url}/health", timeout=5)
    assert (r.status_code, r.json()["healthy"]) == (503, False)
    assert requests.get(f"{server.url}/health", timeout=5).status_code == 200


def test_metrics_exposes_counters_histograms_and_gauges_in_prometheus_text(
        serve: Callable[..., OpsServer]) -> None:
    metrics = Metrics(mode="paper")
    for _ in range(3):
        metrics.bar_processed("ES")
    metrics.bar_processed("NQ")
    metrics.decision_latency(80e-6)
    metrics.decision_latency(0.004)
    metrics.order_status("ibs_a", "sent")
    metrics.order_status("ibs_a", "failed")
    metrics.entry_blocked("ibs_b", "strategy_max_positions")
    metrics.webhook_delivery("ibs_a", 0.12)
    metrics.set_daily_pnl("ibs_a", -250.5)
    metrics.set_open_positions(2)
    server = serve(Board(), metrics)
    r = requests.get(f"{server.url}/metrics", timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    got = samples(r.text)
    assert got[("multialpha_bars_processed_total", (("symbol", "ES"),))] == 3
    assert got[("multialpha_bars_processed_total", (("symbol", "NQ"),))] == 1
    assert got[("multialpha_decision_latency_seconds_bucket", (("le", "0.0001"),))] == 1
    assert got[("multialpha_decision_latency_seconds_bucket", (("le", "0.005"),))] == 2
    assert got[("multialpha_decision_latency_seconds_count", ())] == 2
    assert got[("multialpha_orders_total", (("status", "failed"), ("strategy", "ibs_a")))] == 1
    assert got[("multialpha_entries_blocked_total", (("reason", "strategy_max_positions"), ("strategy", "ibs_b")))] == 1
    assert got[("multialpha_webhook_delivery_seconds_count", (("strategy", "ibs_a"),))] == 1
    assert got[("multialpha_daily_pnl_usd", (("scope", "ibs_a"),))] == -250.5
    assert got[("multialpha_open_positions", (("scope", "account"),))] == 2
    assert got[("multialpha_build_info", (("mode", "paper"), ("version", "0.1.0")))] == 1
    # refreshed from the health assessment at scrape time
    assert got[("multialpha_health_status", ())] == 0
    assert got[("multialpha_worker_up", (("strategy", "ibs_a"),))] == 1
    assert got[("multialpha_feed_connected", ())] == 1
    assert got[("multialpha_feed_silence_seconds", ())] == 2.0
    assert got[("multialpha_feed_lag_seconds", ())] == 5.0


def test_metrics_when_state_changes_then_next_scrape_shows_it(serve: Callable[..., OpsServer]) -> None:
    board, metrics = Board(), Metrics()
    server = serve(board, metrics)
    board.change(feed=FeedStatus(live=True, connected=False, last_bar_time=NOW, silence_secs=700.0, stale=True),
                 outbox=OutboxCounts(pending=2, unknown=1))
    got = samples(requests.get(f"{server.url}/metrics", timeout=5).text)
    assert got[("multialpha_health_status", ())] == 2
    assert got[("multialpha_feed_connected", ())] == 0
    assert got[("multialpha_outbox_orders", (("status", "pending"),))] == 2
    assert got[("multialpha_outbox_orders", (("status", "unknown"),))] == 1


def test_two_daemons_in_one_process_keep_separate_metrics(serve: Callable[..., OpsServer]) -> None:
    a, b = Metrics(), Metrics()
    a.bar_processed("ES")
    sa, sb = serve(Board(), a), serve(Board(), b)
    got_a = samples(requests.get(f"{sa.url}/metrics", timeout=5).text)
    got_b = samples(requests.get(f"{sb.url}/metrics", timeout=5).text)
    assert got_a[("multialpha_bars_processed_total", (("symbol", "ES"),))] == 1
    assert ("multialpha_bars_processed_total", (("symbol", "ES"),)) not in got_b


def test_unknown_path_then_404(serve: Callable[..., OpsServer]) -> None:
    server = serve(Board())
    assert requests.get(f"{server.url}/nope", timeout=5).status_code == 404
    assert requests.get(f"{server.url}/metrics", timeout=5).status_code == 404  # no Metrics given


def test_start_when_port_taken_then_config_error_names_the_key() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as caught:
            OpsServer(Board(), port=port).start()
    assert caught.value.key == "runtime.health.port"


def test_stop_then_port_is_free_again(serve: Callable[..., OpsServer]) -> None:
    server = OpsServer(Board(), port=0).start()
    port = server.port
    server.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
