"""A state store the daemon cannot trust, or one another daemon is using: it refuses to start,
changes nothing and sends nothing."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
from pathlib import Path

import pytest

from .conftest import DAYS, Market
from .daemon import DAEMON_TIMEOUT_SECS, EXIT_STATE, Daemon, Outcome, Sinks, run_to_end


def _random_bytes(path: Path, reference: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(64 * 1024))


def _sqlite_header_then_garbage(path: Path, reference: Path) -> None:
    head = reference.read_bytes()[:100]
    path.write_bytes(head + random.Random(2).randbytes(reference.stat().st_size - 100))


def _truncated_store(path: Path, reference: Path) -> None:
    data = reference.read_bytes()  # a real store, full of trades, cut in the middle
    path.write_bytes(data[: len(data) // 2])


def _truncated_mid_page(path: Path, reference: Path) -> None:
    data = reference.read_bytes()
    path.write_bytes(data[: len(data) - 1000])


def _foreign_sqlite(path: Path, reference: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=WAL; CREATE TABLE positions (symbol TEXT, qty INTEGER);"
                       "INSERT INTO positions VALUES ('ES', 1);")
    conn.close()


def _empty(path: Path, reference: Path) -> None:
    path.write_bytes(b"")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name + ".lock")


DAMAGES = (_random_bytes, _sqlite_header_then_garbage, _truncated_store, _truncated_mid_page, _foreign_sqlite, _empty)


@pytest.mark.slow
def test_unreadable_state_store_is_refused_left_byte_for_byte_and_nothing_is_sent(
        market: Market, reference: Outcome, sinks: Sinks, tmp_path: Path):
    started = []
    for damage in DAMAGES:  # all at once: each daemon spends its first seconds importing
        name = damage.__name__.strip("_")
        daemon = Daemon(market.write_config(tmp_path / name), sinks.env(), tmp_path / name / "logs")
        daemon.state_path.parent.mkdir(parents=True)
        damage(daemon.state_path, reference.state_path)
        before = (_digest(daemon.state_path), _siblings(daemon.state_path))
        started.append((name, daemon, before, daemon.start()))

    for name, daemon, before, proc in started:
        rc = proc.wait(timeout=DAEMON_TIMEOUT_SECS)
        error = daemon.error_of_last_run()
        assert rc == EXIT_STATE, f"{name}: {error}"
        assert str(daemon.state_path) in error and "refuses to start flat" in error, f"{name}: {error}"
        assert (_digest(daemon.state_path), _siblings(daemon.state_path)) == before, name
    assert sinks.webhooks.received == []


@pytest.mark.slow
def test_second_daemon_on_the_same_store_refuses_while_the_first_runs_on_undisturbed(
        market: Market, reference: Outcome, sinks: Sinks, tmp_path: Path):
    first = Daemon(market.write_config(tmp_path), sinks.env(), tmp_path / "logs")
    proc = first.start()
    assert sinks.alerts.wait_for(1, timeout_secs=DAEMON_TIMEOUT_SECS)  # "started": it holds the store
    os.kill(proc.pid, signal.SIGSTOP)  # keep it mid-run, whatever this machine's speed
    try:
        state = first.state_path
        before = {p.name: _digest(p) for p in state.parent.iterdir() if p.is_file()}
        second = Daemon(first.config, sinks.env(), tmp_path / "logs-second")
        rc = second.start().wait(timeout=DAEMON_TIMEOUT_SECS)
        error = second.error_of_last_run()
        assert rc == EXIT_STATE, error
        assert f"{state}.lock" in error and str(proc.pid) in error
        assert {p.name: _digest(p) for p in state.parent.iterdir() if p.is_file()} == before
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    outcome = run_to_end(first, sinks, DAYS, proc=proc)
    assert outcome.webhooks == reference.webhooks
    assert outcome.journal == reference.journal
