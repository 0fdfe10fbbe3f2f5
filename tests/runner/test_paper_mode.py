"""The daemon as a service in paper mode: a real subprocess on the real ``databento`` client against
a local live gateway, orders to a local webhook sink, systemd's notify protocol on a test socket.
It reports READY, warms up without orders, trades the live bars, answers /health and /metrics,
recovers a dropped feed by replay without a duplicate bar, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from multialpha.calendar import EXCHANGE_TZ, trading_day
from multialpha.execution.sink import WebhookSink
from multialpha.features.bars import NS_PER_SECOND, BarArrays
from multialpha.feeds.replay_files import write_bar_file
from multialpha.models import write_model_bundle
from multialpha.rolls import load_rolls

from ..feeds.dbn_gateway import LocalGateway
from ..feeds.dbn_records import MINUTE, ohlcv
from .conftest import CONTRACTS, ROLLS, always_yes_model

API_KEY = "db-PAPERTESTKEY000000000000ABCDE"
HOUR = timedelta(hours=1)
FEATURES = ("ibs", "rsi2")
WARMUP = 600
TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _globex_hours_before(end: datetime, n: int) -> list[datetime]:
    """The ``n`` hourly bar starts before ``end`` in CME Globex hours (no daily halt, no weekend)."""
    out: list[datetime] = []
    at = end - HOUR
    while len(out) < n:
        local = at.astimezone(EXCHANGE_TZ)
        weekend = (local.weekday() == 4 and local.hour >= 16) or local.weekday() == 5 or \
            (local.weekday() == 6 and local.hour < 17)
        if local.hour != 16 and not weekend:
            out.append(at)
        at -= HOUR
    return out[::-1]


def _warmup_file(data: Path, before: datetime) -> None:
    starts = _globex_hours_before(before, WARMUP)
    rng = np.random.default_rng(5)
    close = 5000 + np.cumsum(rng.integers(-8, 9, len(starts))) * 0.25
    opens = np.r_[close[0], close[:-1]]
    high = np.maximum(opens, close) + rng.integers(0, 8, len(starts)) * 0.25
    low = np.minimum(opens, close) - rng.integers(0, 8, len(starts)) * 0.25
    ts = np.array([int(t.timestamp()) * NS_PER_SECOND for t in starts], dtype=np.int64)
    write_bar_file(data / "ES.csv", BarArrays("ES", ts, opens, high, low, close, np.full(len(ts), 1000.0)))


def _hour(iid: int, start: datetime, bars: list[tuple[float, float, float, float]]) -> list[object]:
    t0 = int(start.timestamp()) * NS_PER_SECOND
    return [ohlcv(iid, t0 + k * MINUTE, *bar, 10) for k, bar in enumerate(bars)]


class Notifications:
    """systemd's side of NOTIFY_SOCKET: a datagram socket collecting what the daemon sends."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.messages: list[str] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self._sock.recv(4096).decode())
            except TimeoutError:
                continue
            except OSError:
                return

    def saw(self, text: str) -> bool:
        return any(text in m for m in list(self.messages))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


def _wait(predicate, what: str, proc: subprocess.Popen, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the daemon exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:  # 503 is an answer too
        return e.code, e.read()


def _bars_processed(metrics_url: str) -> float:
    text = _get(metrics_url)[1].decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "multialpha_bars_processed_total" and sample.labels.get("symbol") == "ES":
                return sample.value
    return 0.0


@pytest.mark.slow
def test_paper_daemon_trades_live_bars_recovers_a_dropped_feed_and_stops_on_sigterm(tmp_path: Path):
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)  # the hour in progress starts here
    live = now  # the first live hour (in progress when the daemon starts)
    (tmp_path / "data").mkdir()
    _warmup_file(tmp_path / "data", now - HOUR)  # bar files end two hours back...
    rolls = load_rolls(ROLLS)
    day = trading_day(datetime.now(UTC))
    contracts = {rolls.active_contract("ES", d).databento_symbol for d in (day, day + timedelta(days=3))}
    instruments = {sym: 1000 + k for k, sym in enumerate(sorted(contracts))}
    iid = instruments[rolls.active_contract("ES", day).databento_symbol]
    flat_low = [(5000.0, 5010.0, 5000.0, 5005.0), (5005.0, 5005.0, 4990.0, 4991.0)]  # IBS .05: a buy signal
    gateway = LocalGateway(API_KEY, instruments, heartbeat_secs=0.5).start()
    # ... the hour before comes from the gateway's replay (warm-up: a signal, no order), then the live one
    gateway.publish(*_hour(iid, now - HOUR, flat_low), *_hour(iid, live, flat_low))

    models = tmp_path / "models" / "paper_a"
    write_model_bundle(models, "ES", always_yes_model(FEATURES), list(FEATURES), 0.5, {},
                       {"Sharpe": 1.0, "Profit_Factor": 1.2, "Trades": 50})
    health_port = _free_port()
    config = tmp_path / "config.multi_alpha.yml"
    config.write_text(yaml.safe_dump({
        "runtime": {"mode": "paper", "contracts_path": str(CONTRACTS), "rolls_path": str(ROLLS),
                    "state_path": str(tmp_path / "state" / "multialpha.sqlite"),
                    "health": {"port": health_port},
                    "data": {"source": "databento", "path": str(tmp_path / "data"), "warmup_bars": WARMUP,
                             "reference_symbols": [],
                             "databento": {"api_key": "${DATABENTO_API_KEY}", "gateway": "127.0.0.1",
                                           "port": gateway.port, "warmup_from": "files", "grace_secs": 3600,
                                           "max_silence_secs": 30}},
                    "webhook": {"timeout_secs": 2.0, "max_attempts": 2, "max_retry_wait_secs": 0.1}},
        "strategies": {"paper_a": {
            "broker_account": "${HOOK_PAPER_A}", "starting_cash": 100000, "models_path": str(models),
            "max_positions": 2, "daily_stop_loss": 100000, "instruments": ["ES"],
            "strategy_params": {"session_start": "00:00", "session_end": "23:59", "stop_type": "none",
                                "max_holding_bars": 0}}},
    }, sort_keys=False))
    notify = Notifications(tmp_path / "notify.sock")
    with WebhookSink(tmp_path / "webhooks.jsonl") as sink:
        env = {**os.environ, "DATABENTO_API_KEY": API_KEY, "HOOK_PAPER_A": f"{sink.url}/paper_a",
               "NOTIFY_SOCKET": notify.path, "DISCORD_WEBHOOK_URL": ""}
        proc = subprocess.Popen([sys.executable, "-c", "import sys; from multialpha.cli import main; "
                                 "sys.exit(main(sys.argv[1:]))", "run", "--config", str(config)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _wait(lambda: notify.saw("READY=1"), "READY", proc)
            health = f"http://127.0.0.1:{health_port}"
            # A minute of the next hour completes the live hour: its bar buys, in paper.
            gateway.publish(*_hour(iid, live + HOUR, [(4991.0, 5010.0, 4990.0, 5000.0)]))
            _wait(lambda: len(sink.received) >= 1, "the live entry", proc)
            buy = sink.received[0]["body"]
            assert buy["action"] == "buy" and buy["extras"]["paper"] is True
            assert buy["time"] == (live + HOUR).strftime("%Y-%m-%dT%H:%M:%SZ")  # not the warm-up hour's signal
            status, body = _get(f"{health}/health")
            report = json.loads(body)
            assert status in (200, 503) and report["mode"] == "paper" and report["feed"]["connected"]
            before = _bars_processed(f"{health}/metrics")

            gateway.drop()  # the connection resets; the feed reconnects and replays from its last minute
            _wait(lambda: len(gateway.started_sessions()) >= 2, "the reconnect", proc)
            gateway.publish(*_hour(iid, live + HOUR, [(4991.0, 5010.0, 4990.0, 5000.0),
                                                      (5000.0, 5009.0, 4995.0, 5009.0)])[1:],
                            *_hour(iid, live + 2 * HOUR, [(5009.0, 5010.0, 5008.0, 5009.0)]))
            _wait(lambda: len(sink.received) >= 2, "the live exit", proc)
            assert sink.received[1]["body"]["action"] == "exit"
            time.sleep(1.0)  # a duplicate bar would have come by now
            assert _bars_processed(f"{health}/metrics") == before + 1
            assert [r["body"]["action"] for r in sink.received] == ["buy", "exit"]

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=TIMEOUT) == 0, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
            assert notify.saw("STOPPING=1")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            gateway.stop()
            notify.close()
