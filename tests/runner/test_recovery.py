"""Restarts through the state store: nothing lost, nothing sent twice, halts reach a running daemon."""

from __future__ import annotations

import io
import json

import yaml

from multialpha.execution.router import Routed
from multialpha.runner import MultiAlphaRunner
from multialpha.runner.hub import WAL_CHECKPOINT_BYTES
from multialpha.runner.ops import halt, resume, status_data
from multialpha.state import StateStore, TradingState

from .conftest import MakeSetup, hourly_bars
from .test_ibs_strategy_replay import PARAMS, SCRIPT


def _bodies(setup):
    return [r["body"] for r in setup.sink.received]


def _stop_after(runner: MultiAlphaRunner, n_orders: int):
    seen = []

    def on_routed(r: Routed) -> None:
        seen.append(r)
        if len(seen) == n_orders:
            runner.request_stop()

    return on_routed


def _setup(make_setup: MakeSetup, **kw):
    return make_setup(bars={"ES": hourly_bars("ES", SCRIPT)},
                      strategies={"t1": {"instruments": ["ES"], "params": PARAMS}},
                      runtime={"data": {"warmup_bars": 3}}, **kw)


def test_second_run_after_a_finished_run_sends_nothing_again(make_setup: MakeSetup):
    setup = _setup(make_setup)
    MultiAlphaRunner(setup.config()).run()
    first = _bodies(setup)
    report = MultiAlphaRunner(setup.config()).run()
    assert _bodies(setup) == first and len(first) == 6
    assert report.live_bar_times == 0  # every bar time was processed before: warm-up only
    assert len(report.trades) == 3  # the journal is the store's, across runs


def test_stop_with_a_position_open_then_restart_manages_its_exit_exactly_as_without_the_stop(make_setup: MakeSetup):
    reference = _setup(make_setup)
    MultiAlphaRunner(reference.config()).run()
    expected = _bodies(reference)

    import shutil
    shutil.rmtree(reference.root / "state")
    for stop_after in (1, 3, 5):  # stopped holding the 1st, 2nd and 3rd position
        state = reference.root / "state"
        shutil.rmtree(state, ignore_errors=True)
        log_before = len(reference.sink.received)
        runner = MultiAlphaRunner(reference.config())
        runner._on_routed = _stop_after(runner, stop_after)
        runner.run()
        with StateStore.open(state / "multialpha.sqlite", create=False) as store:
            assert len(store.positions.all()) == 1  # stopped while holding it
        MultiAlphaRunner(reference.config()).run()
        assert _bodies(reference)[log_before:] == expected


def test_halt_with_flatten_written_by_an_operator_reaches_the_running_daemon(make_setup: MakeSetup):
    setup = _setup(make_setup)
    cfg = setup.config()
    runner = MultiAlphaRunner(cfg)

    def on_routed(r: Routed) -> None:
        if r.intent.action == "buy" and not r.replayed:  # as `multialpha halt` from another shell
            halt(cfg, strategy="t1", flatten=True, reducing=False, reason="risk check", by="desk",
                 out=io.StringIO())

    runner._on_routed = on_routed
    report = runner.run()
    exits = [(b["action"], b["extras"]["reason"], b["time"]) for b in _bodies(setup)]
    assert exits == [("buy", "ibs_entry", "2024-03-05T19:00:00Z"), ("exit", "halt_flatten", "2024-03-05T20:00:00Z")]
    assert report.strategies["t1"]["ES"]["blocked"] == {"strategy_halted": 3}  # bars 6, 7 and 8 signalled
    data = status_data(cfg)
    t1 = next(s for s in data["scopes"] if s["scope"] == "t1")
    assert t1["state"] == "halted" and t1["reason"] == "risk check" and t1["flatten_requested"]

    # The halt survives a restart; resume lifts it.
    with StateStore.open(cfg.runtime.state_path, create=False) as store:
        assert store.halts.state("t1") is TradingState.HALTED
    resume(cfg, strategy="t1", reason="checked", by="desk", out=io.StringIO())
    with StateStore.open(cfg.runtime.state_path, create=False) as store:
        assert store.halts.state("t1") is TradingState.ACTIVE


def test_position_in_a_symbol_no_longer_configured_is_reported_and_still_exited(make_setup: MakeSetup):
    nq = [(5000.0, 5005.0, 4995.0, 5000.0)] * len(SCRIPT)
    nq[4] = (5000, 5010, 4990, 4991)  # NQ entry at bar 4
    bars = {"ES": hourly_bars("ES", SCRIPT), "NQ": hourly_bars("NQ", nq)}
    both = make_setup(bars=bars, strategies={"t1": {"instruments": ["ES", "NQ"], "params": PARAMS}},
                      runtime={"data": {"warmup_bars": 3}})
    runner = MultiAlphaRunner(both.config())
    runner._on_routed = _stop_after(runner, 2)  # ES buy, NQ buy at bar 4
    runner.run()
    assert [(b["extras"]["signal_id"].split(":")[1], b["action"]) for b in _bodies(both)] == [("ES", "buy"), ("NQ", "buy")]

    doc = yaml.safe_load(both.config_path.read_text())
    doc["strategies"]["t1"]["instruments"] = ["ES"]
    both.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    report = MultiAlphaRunner(both.config()).run()
    nq_orders = [(b["action"], b["time"]) for b in _bodies(both) if b["extras"]["signal_id"].split(":")[1] == "NQ"]
    # max_holding_bars=3: bars 5, 6, 7 after the entry, counted across the restart
    assert nq_orders == [("buy", "2024-03-05T19:00:00Z"), ("exit", "2024-03-05T22:00:00Z")]
    assert any("NQ is no longer configured" in n for n in report.notes)
    assert report.strategies["t1"]["NQ"]["signals"] == 0  # exit-only: never asks for an entry
    assert json.loads(json.dumps(status_data(both.config())))["positions"] == []


def test_the_wal_is_folded_into_the_store_between_bar_times_never_inside_an_order_commit(
        make_setup: MakeSetup, monkeypatch):
    setup = _setup(make_setup)
    calls: list[tuple[int, bool]] = []
    real = StateStore.checkpoint_wal

    def checkpoint(store: StateStore, min_bytes: int = 0) -> tuple[int, int]:
        calls.append((min_bytes, bool(store.db.pragma("wal_autocheckpoint"))))
        return real(store, min_bytes)

    monkeypatch.setattr(StateStore, "checkpoint_wal", checkpoint)
    runner = MultiAlphaRunner(setup.config())
    report = runner.run()
    assert len(_bodies(setup)) == 6
    # Once per bar time after every worker is done with it, on a connection whose commits
    # (the orders' outbox rows among them) never fold the WAL themselves.
    assert len(calls) == report.bar_times and calls
    assert all(min_bytes == WAL_CHECKPOINT_BYTES and not automatic for min_bytes, automatic in calls)
