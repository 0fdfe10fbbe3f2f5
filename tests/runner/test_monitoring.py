"""Monitoring as the runner drives it: start, attach, running, hub and order hooks, close."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from multialpha.alerts import RecordingNotifier
from multialpha.clock import ManualClock
from multialpha.config import load_app_config, resolve_strategies
from multialpha.contracts import load_contracts
from multialpha.domain import Bar, BarGroup
from multialpha.feeds.source import FeedStatus
from multialpha.portfolio import AccountLimits, PortfolioCoordinator, StrategyLimits
from multialpha.state import StateStore

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 3, 12, 15, tzinfo=UTC)
HOOK = "http://127.0.0.1:9/ibs_a/s3cret"


class Files:
    """The bar source at the edge: a replay of 10 bar times."""

    def __len__(self) -> int:
        return 10

    def status(self) -> FeedStatus:
        return FeedStatus(live=False, connected=True, last_bar_time=T0)


def config(tmp_path: Path, port: int) -> Any:
    doc = {"runtime": {"mode": "replay", "contracts_path": str(REPO / "config/contracts.yml"),
                       "rolls_path": str(REPO / "config/rolls.yml"), "health": {"port": port}},
           "strategies": {"ibs_a": {"broker_account": HOOK, "starting_cash": 100000, "models_path": "models",
                                    "max_positions": 2, "daily_stop_loss": 1000, "instruments": ["ES", "NQ"]}}}
    path = tmp_path / "config.multi_alpha.yml"
    path.write_text(yaml.safe_dump(doc))
    return load_app_config(path, env={})


def group(n: int, *, historical: bool = False) -> BarGroup:
    at = T0 + timedelta(hours=n)
    bar = Bar(1.0, 1.0, 1.0, 1.0, 1.0)
    return BarGroup(seq=n, ts_ns=0, close_time=at, trading_day=at.date(), close_minute=0, historical=historical,
                    bars={"ES": bar, "NQ": bar})


def test_monitoring_from_start_to_close(tmp_path: Path, closed_port: int) -> None:
    from multialpha.runner.monitoring import Monitoring

    cfg = config(tmp_path, closed_port)
    rec = RecordingNotifier()
    mon = Monitoring(cfg, resolve_strategies(cfg), rec, progress_stream=io.StringIO(), env={}).start()
    assert mon.server is not None
    url = mon.server.url
    assert requests.get(f"{url}/health", timeout=5).json()["problems"][0]["code"] == "not_started"

    coordinator = PortfolioCoordinator([StrategyLimits("ibs_a", frozenset({"ES", "NQ"}), daily_stop_loss=1000.0)],
                                       AccountLimits(),
                                       load_contracts(REPO / "config/contracts.yml"), ManualClock(T0),
                                       on_event=mon.on_coordinator_event)
    store = StateStore.open(tmp_path / "state.sqlite")
    worker = SimpleNamespace(name="ibs_a", state="running", thread_alive=True, error=None)
    mon.attach(workers=lambda: [worker], source=Files(), coordinator=coordinator, state_path=store.path)
    mon.running()
    for n in range(3):
        mon.bar_time_started()
        mon.worker_done(2e-4)
        mon.bar_time_done(group(n, historical=n == 0))
    coordinator.can_open("ibs_a", "ES")
    coordinator.on_opened("ibs_a", "ES", price=5000.0, quantity=1, when=T0)
    for _ in range(3):
        mon.order_outcome(strategy="ibs_a", symbol="ES", action="buy", intent_id="i1", status="failed",
                          detail="HTTP 500", delivery_secs=0.2)
    mon.order_outcome(strategy="ibs_a", symbol="NQ", action="buy", intent_id="i2", status="sent", delivery_secs=0.1)

    health = requests.get(f"{url}/health", timeout=5)
    assert health.status_code == 200
    body = health.json()
    assert body["hub"]["bar_times"] == 3 and set(body["last_bar_age_secs"]) == {"ES", "NQ"}
    assert body["trading"] == {"account": "active", "ibs_a": "active"}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(requests.get(f"{url}/metrics", timeout=5).text)
               for s in f.samples}
    assert samples[("multialpha_bars_processed_total", (("symbol", "ES"),))] == 3
    assert samples[("multialpha_bar_times_processed_total", (("phase", "live"),))] == 2
    assert samples[("multialpha_decision_latency_seconds_count", ())] == 3
    assert samples[("multialpha_orders_total", (("status", "failed"), ("strategy", "ibs_a")))] == 3
    assert samples[("multialpha_open_positions", (("scope", "ibs_a"),))] == 1
    assert samples[("multialpha_daily_stop_loss_usd", (("scope", "ibs_a"),))] == 1000

    mon.close("replay finished", bar_times=3, trades=0)
    store.close()
    assert [a.title for a in rec.alerts] == [
        "multialpha started", "Entry ibs_a ES", "Order gateway failing: ibs_a", "Order gateway recovered: ibs_a",
        "multialpha stopped"]
    assert all("s3cret" not in a.message and "s3cret" not in str(a.fields) for a in rec.alerts)
    assert mon.progress is not None and mon.progress.done == 3


def test_monitoring_when_port_is_zero_then_no_server(tmp_path: Path) -> None:
    from multialpha.runner.monitoring import Monitoring

    cfg = config(tmp_path, 0)
    mon = Monitoring(cfg, resolve_strategies(cfg), RecordingNotifier(), show_progress=False, env={}).start()
    assert mon.server is None
    mon.close("done")
