"""The state store cannot be written: held locked by another process, or the disk is full. The
daemon stops with one clear error naming the file, leaves nothing half-written, and the next
run (after the operator settles what was in flight) ends with the same books as without it."""

from __future__ import annotations

import resource
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from .conftest import DAYS, Market
from .daemon import (
    DAEMON_TIMEOUT_SECS,
    EXIT_STATE,
    Daemon,
    Outcome,
    Sinks,
    assert_store_consistent,
    cli_in_process,
    run_to_end,
    settle_in_flight,
)

BUSY_TIMEOUT_SECS = 10.0  # how long the daemon waits for a lock before it gives up
STORE_SIZE_LIMIT = 1 << 20  # bytes any one file of the daemon may grow to


def _recover_and_finish(daemon: Daemon, sinks: Sinks, reference: Outcome, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_store_consistent(daemon.state_path, sinks.received())
    for name, value in sinks.env().items():
        monkeypatch.setenv(name, value)
    settle_in_flight(daemon.config, daemon.state_path, sinks.received(), cli_in_process)
    outcome = run_to_end(daemon, sinks, DAYS)
    assert outcome.webhooks == reference.webhooks
    assert outcome.journal == reference.journal
    assert outcome.daily == reference.daily
    assert outcome.coordinator["daily_pnl"] == reference.coordinator["daily_pnl"]


@pytest.mark.slow
def test_store_locked_by_another_process_beyond_the_busy_timeout_stops_the_daemon_cleanly(
        market: Market, reference: Outcome, sinks: Sinks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    daemon = Daemon(market.write_config(tmp_path), sinks.env(), tmp_path / "logs")
    proc = daemon.start()
    assert sinks.webhooks.wait_for(len(reference.webhooks) // 3, timeout_secs=DAEMON_TIMEOUT_SECS)
    other = sqlite3.connect(daemon.state_path, timeout=BUSY_TIMEOUT_SECS, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # as a careless backup script or sqlite3 shell would
        t0 = time.monotonic()
        rc = proc.wait(timeout=DAEMON_TIMEOUT_SECS)
        held = time.monotonic() - t0
    finally:
        other.rollback()
        other.close()
    error = daemon.error_of_last_run()
    assert rc == EXIT_STATE, error
    assert str(daemon.state_path) in error
    assert held >= BUSY_TIMEOUT_SECS * 0.9  # it waited for the lock before giving up
    assert len(sinks.received()) < len(reference.webhooks)  # it stopped mid-run
    _recover_and_finish(daemon, sinks, reference, monkeypatch)


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (STORE_SIZE_LIMIT, STORE_SIZE_LIMIT))


@pytest.mark.slow
def test_disk_full_stops_the_daemon_cleanly_and_a_later_run_ends_with_the_same_books(
        market: Market, reference: Outcome, sinks: Sinks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    daemon = Daemon(market.write_config(tmp_path), sinks.env(), tmp_path / "logs")
    proc = daemon.start(preexec_fn=_limit_file_size)
    rc = proc.wait(timeout=DAEMON_TIMEOUT_SECS)
    error = daemon.error_of_last_run()
    assert rc == EXIT_STATE, error
    assert str(daemon.state_path) in error
    assert 0 < len(sinks.received()) < len(reference.webhooks)  # it got some way before the disk filled
    _recover_and_finish(daemon, sinks, reference, monkeypatch)
