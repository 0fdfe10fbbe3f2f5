"""What an operator does between runs: settle orders of unknown outcome, remove a strategy,
halt and resume, read status, without the daemon's secrets in the environment."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from multialpha.cli import main
from multialpha.domain import Action, make_intent_id
from multialpha.execution import Reply, ResponsePlan
from multialpha.feeds.replay_files import write_bar_file
from multialpha.runner import MultiAlphaRunner, RunOptions
from multialpha.state import OutboxIntent, StateStore

from .conftest import T0, MakeSetup, Setup, hourly_bars

FLAT = (5000.0, 5005.0, 4995.0, 5000.0)
PARAMS = {"session_start": "00:00", "session_end": "23:59", "stop_type": "none", "max_holding_bars": 0}
SCRIPT = [FLAT] * 3 + [(5000, 5010, 4990, 4991),  # 3: buy 4991
                       (4991, 5005, 4990, 5004),  # 4: IBS .93 -> exit at 5004 (its outcome is unknown)
                       FLAT, FLAT, (5000, 5010, 4990, 4991), FLAT]  # 7: an entry signal


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _close_iso(i: int) -> str:
    return (T0 + timedelta(hours=i + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _setup(make_setup: MakeSetup, bars: int) -> Setup:
    return make_setup(bars={"ES": hourly_bars("ES", SCRIPT[:bars])},
                      strategies={"t1": {"instruments": ["ES"], "params": PARAMS}},
                      runtime={"data": {"warmup_bars": 3}})


def _more_bars(setup: Setup) -> None:
    write_bar_file(setup.root / "data" / "ES.csv", hourly_bars("ES", SCRIPT))


def _store(setup: Setup) -> StateStore:
    return StateStore.open(setup.root / "state" / "multialpha.sqlite", create=False)


def _sent(setup: Setup) -> list[tuple[str, str, str]]:
    return [(r["body"]["action"], r["body"]["time"], r["body"]["extras"]["reason"])
            for r in setup.sink.received if r["status"] == 200]


def _unknown_exit_then_stop(make_setup: MakeSetup, *, gateway_down: bool = False) -> tuple[Setup, str]:
    """The exit at bar 4 gets a 500; it is sent again (confirmed, or with the gateway down, not)."""
    setup = _setup(make_setup, bars=5)
    setup.sink.plan = ResponsePlan([Reply(200), Reply(500)], default=Reply(500) if gateway_down else None)
    report = MultiAlphaRunner(setup.config(), options=RunOptions(drain_secs=1.5)).run()
    exit_id = f"t1:ES:{_close_iso(4)}:exit"
    # The fill is assumed at the signal: the trade is booked whatever the delivery says.
    assert [(t.exit_time.strftime("%Y-%m-%dT%H:%M:%SZ"), t.exit_price) for t in report.trades] == [
        (_close_iso(4), 5004.0)]
    with _store(setup) as store:
        row = store.outbox.get(exit_id)
        assert row is not None and row.status.value == "unknown"
        assert store.positions.all() == []
    setup.sink.plan = ResponsePlan()
    _more_bars(setup)
    return setup, exit_id


def test_unknown_exit_settled_sent_needs_nothing_more_across_a_restart(
        make_setup: MakeSetup, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch):
    setup, exit_id = _unknown_exit_then_stop(make_setup)
    assert main(["orders", "resolve", exit_id, "--sent", "--config", str(setup.config_path)]) == 0
    before = len(setup.sink.received)
    report = MultiAlphaRunner(setup.config()).run()
    assert not report.failed
    # Nothing sent again for that position; the slot and the symbol were free for bar 7's entry.
    assert [(r["body"]["action"], r["body"]["time"]) for r in setup.sink.received[before:]] == [
        ("buy", _close_iso(7))]


def test_restart_with_an_exit_not_confirmed_sends_it_again_and_holds_entries_until_settled(make_setup: MakeSetup):
    setup, exit_id = _unknown_exit_then_stop(make_setup, gateway_down=True)
    with _store(setup) as store:
        tried = [r.intent_id for r in store.outbox.all() if r.action.value == "exit"]
    assert tried[0] == exit_id and len(tried) >= 2  # sent again while the run lasted, never confirmed
    before = len(setup.sink.received)
    report = MultiAlphaRunner(setup.config()).run()
    again = setup.sink.received[before:]
    # The exit went out again at start-up, as a new order naming the first...
    assert [(r["body"]["action"], r["body"]["extras"].get("resend_of"), r["status"]) for r in again][:1] == [
        ("exit", exit_id, 200)]
    # ... and bar 7's entry was held: an order of unknown outcome awaits the operator.
    assert report.strategies["t1"]["ES"]["blocked"] == {"orders_unknown": 1}


def test_exit_not_confirmed_is_sent_again_until_it_is_and_blocks_the_symbol_meanwhile(make_setup: MakeSetup):
    setup = make_setup(bars={"ES": hourly_bars("ES", SCRIPT)},
                       strategies={"t1": {"instruments": ["ES"], "params": PARAMS}},
                       runtime={"data": {"warmup_bars": 3}})
    setup.sink.plan = ResponsePlan([Reply(200), Reply(500), Reply(500)])  # the exit, then its first resend
    MultiAlphaRunner(setup.config()).run()
    exits = [(r["body"]["extras"]["signal_id"], r["status"]) for r in setup.sink.received
             if r["body"]["action"] == "exit"]
    exit_id = f"t1:ES:{_close_iso(4)}:exit"
    assert exits == [(exit_id, 500), (f"{exit_id}#1", 500), (f"{exit_id}#2", 200)]


def test_strategy_with_no_open_position_can_be_removed(make_setup: MakeSetup):
    setup = make_setup(bars={"ES": hourly_bars("ES", SCRIPT)},
                       strategies={"t1": {"instruments": ["ES"], "params": PARAMS},
                                   "old": {"instruments": ["ES"], "params": PARAMS}},
                       runtime={"data": {"warmup_bars": 3}})
    MultiAlphaRunner(setup.config()).run()
    doc = yaml.safe_load(setup.config_path.read_text())
    del doc["strategies"]["old"]
    setup.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    report = MultiAlphaRunner(setup.config()).run()
    assert not report.failed


def test_operator_commands_need_no_webhook_secrets_and_take_a_state_path(
        make_setup: MakeSetup, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    setup = _setup(make_setup, bars=4)  # ends holding ES
    MultiAlphaRunner(setup.config()).run()
    moved = tmp_path / "elsewhere" / "state.sqlite"
    moved.parent.mkdir()
    (setup.root / "state" / "multialpha.sqlite").rename(moved)
    for name in setup.env:
        monkeypatch.delenv(name, raising=False)
    args = ["--config", str(setup.config_path), "--state", str(moved)]
    assert main(["status", "--json", *args]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["state_path"] == str(moved) and [p["symbol"] for p in status["positions"]] == ["ES"]
    assert main(["halt", "--strategy", "t1", "--reason", "review", *args]) == 0
    assert main(["resume", "--strategy", "t1", *args]) == 0
    assert main(["orders", "list", "--all", *args]) == 0
    assert "t1:ES:" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["halt", "--strategy", "nosuch", "--reason", "x"],
                                     ["resume", "--strategy", "nosuch"],
                                     ["orders", "resolve", "nosuch", "--sent"]])
def test_operator_typo_is_a_usage_error(make_setup: MakeSetup, capsys: pytest.CaptureFixture,
                                        monkeypatch: pytest.MonkeyPatch, command: list[str]):
    setup = _setup(make_setup, bars=5)
    MultiAlphaRunner(setup.config()).run()
    assert main([*command, "--config", str(setup.config_path)]) == 64
    assert "nosuch" in capsys.readouterr().err


def test_status_shows_the_daily_stop_the_portfolio_file_sets(make_setup: MakeSetup, capsys: pytest.CaptureFixture):
    setup = _setup(make_setup, bars=5)
    MultiAlphaRunner(setup.config()).run()
    config_dir = setup.root / "config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "portfolio_optimization_t1.json").write_text(json.dumps(
        {"symbols": ["ES"], "max_positions": 1, "daily_stop_loss": 2500}))
    doc = yaml.safe_load(setup.config_path.read_text())
    doc["runtime"]["config_dir"] = str(config_dir)
    setup.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert main(["status", "--json", "--config", str(setup.config_path)]) == 0
    scopes = {s["scope"]: s for s in json.loads(capsys.readouterr().out)["scopes"]}
    assert scopes["t1"]["daily_stop_loss"] == 2500


def test_orders_list_into_a_closed_pipe_ends_cleanly(make_setup: MakeSetup, tmp_path: Path):
    setup = _setup(make_setup, bars=5)
    MultiAlphaRunner(setup.config()).run()
    with _store(setup) as store:
        base = datetime(2024, 1, 1, tzinfo=UTC)
        for i in range(3000):
            when = base + timedelta(hours=i)
            store.outbox.add(OutboxIntent(make_intent_id("t1", "ES", when, Action.BUY), "t1", "ES", Action.BUY, 1,
                                          "5000", when, {}))
    exe = Path(sys.executable).with_name("multialpha")
    shell = f"'{exe}' orders list --all --config '{setup.config_path}' | head -n 1; exit ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith("HOOK_")})
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout.count("\n") == 1
