"""The daemon as an operator runs it: a subprocess of the console script, its webhooks and
alerts going to local sinks, its state read back through the store's own API."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from multialpha import cli
from multialpha.domain import OrderStatus
from multialpha.execution.sink import WebhookSink
from multialpha.runner.ledger import COORDINATOR_SNAPSHOT
from multialpha.state import ACCOUNT_SCOPE, StateStore

EXIT_STATE = 75  # StateError: the state store is unusable
DAEMON_TIMEOUT_SECS = 120.0
QUIET_SECS = 0.15  # a request written before a kill reaches the sink within this
STARTED_ALERT = "multialpha started"  # the alert's title once the daemon holds its store and trades


def console_script() -> list[str]:
    script = Path(sys.executable).with_name("multialpha")
    return [str(script)] if script.exists() else [sys.executable, "-m", "multialpha.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sinks:
    """The webhook sink (one path per strategy) and a second sink standing in for Discord."""

    def __init__(self, root: Path) -> None:
        self.webhooks = WebhookSink(root / "webhooks.jsonl")
        self.alerts = WebhookSink(root / "alerts.jsonl")

    def __enter__(self) -> Sinks:
        self.webhooks.start()
        self.alerts.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.webhooks.stop()
        self.alerts.stop()

    def env(self, webhooks_url: str | None = None) -> dict[str, str]:
        base = webhooks_url or self.webhooks.url
        return {"HOOK_ALPHA": f"{base}/alpha", "HOOK_BETA": f"{base}/beta",
                "ALERT_URL": f"{self.alerts.url}/discord"}

    def received(self) -> list[dict[str, Any]]:
        """The orders the gateway accepted (2xx): path and body, webhook by webhook, each in
        arrival order (each webhook has its own sender, so only that order is guaranteed)."""
        return by_webhook([{"path": r["path"], "body": r["body"]} for r in self.webhooks.received
                           if r["status"] is not None and 200 <= r["status"] < 300])

    def alert_embeds(self) -> list[dict[str, Any]]:
        return [e for r in self.alerts.received for e in r["body"].get("embeds", [])]

    def quiesce(self) -> None:
        """Wait until nothing more arrives: a request a killed process had already written
        to its socket still reaches the sink, and an operator checks the log after that."""
        last = (-1, -1)
        while True:
            now = (len(self.webhooks.received), len(self.alerts.received))
            if now == last:
                return
            last = now
            time.sleep(QUIET_SECS)


class Daemon:
    """``multialpha run --config FILE`` with the sinks' URLs in its environment."""

    def __init__(self, config: Path, env: Mapping[str, str], log_dir: Path) -> None:
        self.config = config
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.runs = 0

        self.state_path = Path(yaml.safe_load(config.read_text())["runtime"]["state_path"])

    def start(self, *, preexec_fn: Callable[[], None] | None = None) -> subprocess.Popen[bytes]:
        """Start one daemon process; its stderr goes to ``log_dir/run-N.err``."""
        self.runs += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"run-{self.runs}.err").open("wb") as err:
            return subprocess.Popen([*console_script(), "run", "--config", str(self.config),
                                     "--log-level", "WARNING"],
                                    env=self.env, stdout=subprocess.DEVNULL, stderr=err,
                                    preexec_fn=preexec_fn)

    def stderr_of_last_run(self) -> str:
        path = self.log_dir / f"run-{self.runs}.err"
        return path.read_text(errors="replace") if path.exists() else ""

    def error_of_last_run(self) -> str:
        """The error ``main`` printed as the process ended (it may span lines)."""
        err = self.stderr_of_last_run()
        at = err.rfind("error: ")
        return err[at:] if at >= 0 else err[-2000:]

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """An operator command (``status``, ``orders``, ...) through the console script."""
        return subprocess.run([*console_script(), *args[:1], "--config", str(self.config), *args[1:]],
                              env=self.env, capture_output=True, text=True, timeout=60)


def kill(proc: subprocess.Popen[bytes]) -> int:
    """kill -9, then reap; the returned code says whether the process had ended by itself."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=30)


# -- the store, read back -------------------------------------------------------------------

WALL_CLOCK_FIELDS = {"id", "recorded_at", "opened_at", "created_at", "updated_at"}


def _fields(record: Any) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(record).items() if k not in WALL_CLOCK_FIELDS}


@dataclass
class Outcome:
    """A daemon's end state: what the gateway received and what its store holds."""

    webhooks: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
    journal: list[dict[str, Any]]
    positions: list[dict[str, Any]]
    daily: dict[tuple[str, str], dict[str, Any]]
    coordinator: dict[str, Any]
    state_path: Path
    timings: dict[str, float] = field(default_factory=dict)


def read_store(path: Path, days: Sequence[date]) -> dict[str, Any]:
    with StateStore.open(path, create=False) as store:
        snap = store.daily.load_snapshot(COORDINATOR_SNAPSHOT)
        daily = {(r.trading_day.isoformat(), r.scope): _fields(r) for d in days for r in store.daily.for_day(d)}
        return {"outbox": [_fields(r) for r in store.outbox.all()],
                "journal": [_fields(t) for t in store.journal.all()],
                "positions": [_fields(p) for p in store.positions.all()],
                "daily": daily, "coordinator": snap.data if snap is not None else {}}


def by_webhook(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records grouped by path, each path's in their own order."""
    return sorted(records, key=lambda r: r["path"])


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def backlog(path: Path) -> list[tuple[str, OrderStatus]]:
    """Orders an operator has to settle: in flight when the daemon died, or of unknown outcome."""
    if not path.exists():
        return []
    with StateStore.open(path, create=False) as store:
        return [(r.intent_id, r.status) for r in store.outbox.backlog()]


def in_flight(path: Path) -> list[str]:
    """Orders the dead daemon was delivering (attempted, outcome not recorded) or of unknown
    outcome: what an operator settles. Orders committed but never attempted need nothing: the
    next start delivers them."""
    if not path.exists():
        return []
    with StateStore.open(path, create=False) as store:
        return [r.intent_id for r in store.outbox.backlog()
                if r.status is OrderStatus.UNKNOWN or r.attempts > 0]


def settle_in_flight(config: Path, state_path: Path, received: Sequence[Mapping[str, Any]],
                     run_cli: Callable[[Sequence[str]], int]) -> dict[str, bool]:
    """As an operator would: for every order the dead daemon left unsettled, look it up among
    the orders the gateway accepted and record what happened with ``multialpha orders resolve``."""
    delivered = {r["body"].get("extras", {}).get("signal_id") for r in received}
    settled = {}
    for intent_id in in_flight(state_path):
        sent = intent_id in delivered
        rc = run_cli(["orders", "resolve", intent_id, "--sent" if sent else "--not-sent",
                      "--by", "fault-test", "--config", str(config)])
        assert rc == 0, f"orders resolve {intent_id} exited {rc}"
        settled[intent_id] = sent
    return settled


def cli_in_process(argv: Sequence[str]) -> int:
    """The console script's ``main``, called in this process (its start-up cost is paid once)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return cli.main(list(argv))


def run_to_end(daemon: Daemon, sinks: Sinks, days: Sequence[date],
               proc: subprocess.Popen[bytes] | None = None) -> Outcome:
    """Start the daemon (unless ``proc`` is it), let it finish by itself, read back what it left."""
    spawned = datetime.now().astimezone()
    t0 = time.monotonic()
    proc = proc or daemon.start()
    rc = proc.wait(timeout=DAEMON_TIMEOUT_SECS)
    assert rc == 0, f"daemon exited {rc}:\n{daemon.stderr_of_last_run()[-4000:]}"
    total = time.monotonic() - t0
    sinks.quiesce()
    state = read_store(daemon.state_path, days)
    received = sinks.webhooks.received
    started = next((datetime.fromisoformat(r["received_at"]) for r in sinks.alerts.received
                    for e in r["body"].get("embeds", []) if e.get("title") == STARTED_ALERT), None)
    timings = {"total_secs": total}
    if started is not None and received:
        first = datetime.fromisoformat(received[0]["received_at"])
        last = datetime.fromisoformat(received[-1]["received_at"])
        timings.update(startup_secs=(started - spawned).total_seconds(),
                       warmup_secs=max(0.0, (first - started).total_seconds()),
                       trading_secs=max(0.0, (last - first).total_seconds()))
    return Outcome(webhooks=sinks.received(), state_path=daemon.state_path, timings=timings, **state)


def assert_store_consistent(path: Path, accepted: Sequence[Mapping[str, Any]]) -> None:
    """Nothing half-written: the file passes SQLite's check, the books agree with each other,
    and every order the books rely on is in the outbox, settled the way the gateway saw it."""
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    with StateStore.open(path, create=False) as store:
        outbox = {r.intent_id: r for r in store.outbox.all()}
        positions = store.positions.all()
        journal = store.journal.all()
        snap = store.daily.load_snapshot(COORDINATOR_SNAPSHOT)
        daily = {(r.trading_day, r.scope): r.realized_cents
                 for d in sorted({t.trading_day for t in journal}) for r in store.daily.for_day(d)}
    delivered = {r["body"]["extras"]["signal_id"] for r in accepted}
    in_flight = [r for r in outbox.values() if r.status is OrderStatus.PENDING and r.attempts > 0]
    assert len(in_flight) <= 2, in_flight  # one order at a time is in flight per webhook
    for r in outbox.values():  # SENT means the gateway accepted it; accepted means SENT or in flight
        assert (r.status is OrderStatus.SENT) <= (r.intent_id in delivered), r
    assert delivered <= {i for i, r in outbox.items() if r.status in (OrderStatus.SENT, OrderStatus.PENDING)}
    booked = [p.signal_id for p in positions] + [i for t in journal for i in (t.entry_intent_id, t.exit_intent_id)]
    for intent_id in booked:  # booked at the decision, delivered (or being delivered) after
        assert outbox[intent_id].status in (OrderStatus.SENT, OrderStatus.UNKNOWN, OrderStatus.PENDING), \
            outbox[intent_id]
    saved = {(p["strategy"], p["symbol"]) for p in (snap.data["positions"] if snap else [])}
    assert {(p.strategy, p.symbol) for p in positions} == saved
    by_scope: dict[tuple[date, str], int] = {}
    for t in journal:
        for scope in (t.strategy, ACCOUNT_SCOPE):
            by_scope[(t.trading_day, scope)] = by_scope.get((t.trading_day, scope), 0) + t.pnl_cents
    assert {k: v for k, v in daily.items() if v or k in by_scope} == by_scope
