"""The watchdog against a real AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET."""

from __future__ import annotations

import dataclasses
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from multialpha.feeds.source import FeedStatus
from multialpha.runner.health import HealthSnapshot, OutboxCounts, WorkerHealth
from multialpha.runner.watchdog import Watchdog, health_watchdog, watchdog_interval_secs

INTERVAL = 0.03
NOW = datetime(2024, 7, 2, 15, tzinfo=UTC)


class NotifySocket:
    """What systemd would receive: every datagram, in order."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.settimeout(0.05)

    def drain(self) -> list[str]:
        """What is waiting: datagrams until none comes for 50 ms (at most one second)."""
        deadline, out = time.monotonic() + 1.0, []
        while time.monotonic() < deadline:
            try:
                out.append(self.sock.recv(4096).decode())
            except (TimeoutError, BlockingIOError):
                break
        return out

    def collect(self, secs: float) -> list[str]:
        """Every datagram arriving within ``secs`` (and what was already waiting)."""
        deadline, out = time.monotonic() + secs, []
        while True:
            try:
                out.append(self.sock.recv(4096).decode())
            except (TimeoutError, BlockingIOError):
                if time.monotonic() >= deadline:
                    return out
                continue
            if time.monotonic() >= deadline:
                return out


@pytest.fixture(params=["abstract", "path"])
def notify_socket(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySocket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "abstract":
        name = f"multialpha-test-{uuid.uuid4().hex[:12]}"
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        yield NotifySocket(sock)
        sock.close()
        return
    directory = Path(tempfile.mkdtemp(prefix="ma-", dir="/tmp"))  # AF_UNIX paths are short
    path = directory / "notify"
    sock.bind(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield NotifySocket(sock)
    sock.close()
    path.unlink()
    directory.rmdir()


def test_watchdog_pings_while_fit_stops_while_unfit_and_resumes(notify_socket: NotifySocket) -> None:
    fit = threading.Event()
    fit.set()
    dog = Watchdog(fit.is_set, interval_secs=INTERVAL, reason=lambda: "feed_stale: silent for 300s").start()
    try:
        assert notify_socket.collect(0.3).count("WATCHDOG=1") >= 3
        fit.clear()
        time.sleep(2 * INTERVAL)
        notify_socket.drain()  # a ping may have left just before the change
        withheld = notify_socket.collect(0.3)
        assert "WATCHDOG=1" not in withheld
        fit.set()
        assert "WATCHDOG=1" in notify_socket.collect(0.3)
    finally:
        dog.stop()


def test_watchdog_when_unfit_then_status_line_says_why_once(notify_socket: NotifySocket) -> None:
    dog = Watchdog(lambda: False, interval_secs=INTERVAL, reason=lambda: "bar_time_stalled: 400s")
    for _ in range(5):
        assert dog.check_once() is False
    assert notify_socket.collect(0.1) == ["STATUS=unhealthy, watchdog withheld: bar_time_stalled: 400s"]
    assert (dog.pings, dog.withheld) == (0, 5)


def test_watchdog_when_fit_raises_then_no_ping(notify_socket: NotifySocket) -> None:
    def broken() -> bool:
        raise RuntimeError("provider failed")

    assert Watchdog(broken, interval_secs=INTERVAL).check_once() is False
    assert not any(m == "WATCHDOG=1" for m in notify_socket.collect(0.1))


def _snapshot(**changes: object) -> HealthSnapshot:
    base = HealthSnapshot(now=NOW, mode="live", version="0.1.0", started_at=NOW - timedelta(hours=1),
                          workers=(WorkerHealth("ibs_a", "running", True),),
                          feed=FeedStatus(live=True, connected=True, last_bar_time=NOW, silence_secs=1.0),
                          running=True)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_health_watchdog_pings_when_degraded_but_not_when_failing(notify_socket: NotifySocket) -> None:
    current = [_snapshot(outbox=OutboxCounts(unknown=1))]  # degraded: a human must look, a restart would not help
    env = {"WATCHDOG_USEC": str(int(2 * INTERVAL * 1e6)), "WATCHDOG_PID": str(os.getpid())}
    dog = health_watchdog(lambda: current[0], secrets=["s3cret"], env=env)
    assert dog is not None and dog.interval_secs == pytest.approx(INTERVAL)
    assert dog.check_once() is True
    current[0] = _snapshot(feed=FeedStatus(live=True, connected=True, last_bar_time=NOW, silence_secs=900.0,
                                           stale=True, detail="gateway s3cret unreachable"))
    assert dog.check_once() is False
    messages = notify_socket.collect(0.1)
    assert messages[0] == "WATCHDOG=1"
    assert messages[1].startswith("STATUS=unhealthy, watchdog withheld: feed_stale")


@pytest.mark.parametrize(("env", "expected"), [
    pytest.param({"WATCHDOG_USEC": "60000000"}, 30.0, id="half of systemd's timeout"),
    pytest.param({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}, None, id="meant for another process"),
    pytest.param({}, None, id="no watchdog"),
    pytest.param({"WATCHDOG_USEC": "soon"}, None, id="not a number"),
])
def test_watchdog_interval_from_environment(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval_secs(env, pid=4242) == expected


def test_health_watchdog_when_systemd_set_no_watchdog_then_none() -> None:
    assert health_watchdog(lambda: _snapshot(), env={}) is None
