"""Trading state per scope, its history, and the operator command in another process."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import multialpha
from multialpha.clock import ManualClock
from multialpha.errors import IllegalTransition, StateError
from multialpha.state import (
    ACCOUNT_SCOPE,
    TRADING_STATE_TRANSITIONS,
    HaltEvent,
    StateConflict,
    StateStore,
    TradingState,
)

TS = TradingState


def _reach(store: StateStore, scope: str, state: TradingState) -> None:
    if state is not TS.ACTIVE:
        store.halts.set(scope, state, "setup", "test")


def test_never_set_scope_then_active(store: StateStore) -> None:
    assert store.halts.get("ibs_a") is None
    assert store.halts.state("ibs_a") is TS.ACTIVE
    assert store.halts.all() == [] and store.halts.history() == []


@pytest.mark.parametrize("old,new", list(itertools.product(TS, TS)), ids=lambda s: s.value)
def test_set_when_any_pair_then_only_table_moves_allowed(store: StateStore, old, new) -> None:
    _reach(store, "ibs_a", old)
    if new in TRADING_STATE_TRANSITIONS[old]:
        record = store.halts.set("ibs_a", new, "why", "alice")
        assert record.state is new and record.set_by == "alice"
    else:
        assert old is new  # the table allows every move between two different states
        with pytest.raises(IllegalTransition):
            store.halts.set("ibs_a", new, "why", "alice")
    assert store.halts.state("ibs_a") is new


def test_set_then_persists_across_reopen_with_history(store_path: Path, clock: ManualClock) -> None:
    with StateStore.open(store_path, clock=clock) as store:
        store.halts.set(ACCOUNT_SCOPE, TS.HALTED, "margin call https://x/y", "alice", flatten=True)
        store.halts.clear_flatten(ACCOUNT_SCOPE, "flattened", "daemon")
        store.halts.set(ACCOUNT_SCOPE, TS.REDUCING, "calmer", "alice")
    with StateStore.open(store_path, create=False) as store:
        record = store.halts.get(ACCOUNT_SCOPE)
        assert record is not None
        assert (record.state, record.reason, record.flatten_requested) == (TS.REDUCING, "calmer", False)
        assert record.since == clock.now()
        history = store.halts.history(ACCOUNT_SCOPE)
        assert [(h.event, h.from_state, h.to_state, h.flatten_requested) for h in history] == [
            (HaltEvent.SET, None, TS.HALTED, True),
            (HaltEvent.FLATTEN_CLEARED, TS.HALTED, TS.HALTED, False),
            (HaltEvent.SET, TS.HALTED, TS.REDUCING, False),
        ]
        assert "https" not in history[0].reason


def test_history_when_edited_then_refused(store: StateStore) -> None:
    store.halts.set("ibs_a", TS.HALTED, "why", "alice")
    with pytest.raises(StateConflict, match="append-only"), store.transaction():
        store.db.query("DELETE FROM halt_history")
    assert len(store.halts.history()) == 1


def test_flatten_when_active_then_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="flatten"):
        store.halts.set("ibs_a", TS.ACTIVE, "why", "alice", flatten=True)
    with pytest.raises(IllegalTransition, match="flatten"):
        store.halts.request_flatten("ibs_a", "why", "alice")
    store.halts.set("ibs_a", TS.HALTED, "why", "alice")
    assert store.halts.request_flatten("ibs_a", "now flatten", "alice").flatten_requested


def _run_in_other_process(script: str) -> subprocess.CompletedProcess[str]:
    src = Path(multialpha.__file__).resolve().parents[1]
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=60, env={"PYTHONPATH": str(src)}, check=False)


def test_halt_set_by_other_process_then_running_daemon_reads_it(store: StateStore) -> None:
    assert store.halts.state(ACCOUNT_SCOPE) is TS.ACTIVE  # the daemon's connection is already reading
    done = _run_in_other_process(f"""
        from multialpha.state import StateStore, TradingState
        with StateStore.open({str(store.path)!r}, create=False) as cli:
            cli.halts.set("account", TradingState.HALTED, "operator halt", "cli", flatten=True)
    """)
    assert done.returncode == 0, done.stderr
    record = store.halts.get(ACCOUNT_SCOPE)
    assert record is not None and record.state is TS.HALTED and record.flatten_requested
    assert record.set_by == "cli"


def test_other_process_waits_for_a_write_in_progress_then_succeeds(store: StateStore) -> None:
    with store.transaction():
        store.halts.set("ibs_a", TS.HALTED, "daemon writes", "daemon")
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(f"""
                from multialpha.state import StateStore, TradingState
                with StateStore.open({str(store.path)!r}, create=False) as cli:
                    print(cli.halts.state("ibs_a").value)
                    cli.halts.set("ibs_a", TradingState.ACTIVE, "resume", "cli")
            """)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={"PYTHONPATH": str(Path(multialpha.__file__).resolve().parents[1])},
        )
        # The reader is not blocked by our open write transaction; the writer waits for it.
        time.sleep(0.5)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip() in {"active", "halted"}
    assert store.halts.state("ibs_a") is TS.ACTIVE
    assert [h.set_by for h in store.halts.history("ibs_a")] == ["daemon", "cli"]


def test_write_when_other_connection_holds_lock_past_timeout_then_state_error(store_path: Path) -> None:
    with StateStore.open(store_path) as daemon, StateStore.open(store_path, busy_timeout_secs=0.2) as cli:
        with daemon.transaction():
            daemon.halts.set("ibs_a", TS.HALTED, "why", "daemon")
            with pytest.raises(StateError, match="locked") as info:
                cli.halts.set("ibs_b", TS.HALTED, "why", "cli")
            assert str(store_path) in str(info.value)
        assert cli.halts.state("ibs_a") is TS.HALTED
        assert cli.halts.get("ibs_b") is None
