"""snapshot()/restore(): plain data, exact round trip, reservations left out, clear errors."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from multialpha.errors import ConfigError, StateError
from multialpha.portfolio import DenyReason, TradingState

STRATEGIES = {"ibs": {"symbols": {"ES", "NQ", "CL"}, "max_positions": 3, "daily_stop_loss": 400.0},
              "trend": {"symbols": {"CL", "GC", "6E"}, "daily_stop_loss": 5000.0}}
ACCOUNT = {"max_positions": 5, "daily_stop_loss": 6000.0}


def _busy(make, clock):
    """A coordinator with positions, marks, realized P&L, a stop, a halt, stats and a reservation."""
    pc = make(account=ACCOUNT, **STRATEGIES)
    for strategy, symbol, price, qty in (("ibs", "ES", 5000.25, 1), ("trend", "CL", 75.31, -2),
                                         ("trend", "6E", 1.08745, 3), ("ibs", "NQ", 18000.0, 1)):
        assert pc.can_open(strategy, symbol)
        pc.on_opened(strategy, symbol, price=price, quantity=qty, when=clock.now())
    clock.advance(timedelta(minutes=1))
    pc.mark("trend", "CL", 75.12, clock.now())
    pc.mark("trend", "6E", 1.0871, clock.now())
    pc.on_closed("ibs", "NQ", price=17985.5, when=clock.now(), reason="target")
    pc.mark("ibs", "ES", 4998.0, clock.now())  # ibs stop hit
    pc.can_open("ibs", "CL")  # denied, counted
    pc.set_state("trend", TradingState.REDUCING, "review")
    assert pc.can_open("trend", "GC").reason is DenyReason.REDUCING
    return pc


def test_snapshot_is_json_serialisable_and_restore_round_trips_exactly(make, clock) -> None:
    pc = _busy(make, clock)
    snap = pc.snapshot()
    text = json.dumps(snap)
    fresh = make(account=ACCOUNT, **STRATEGIES)
    fresh.restore(json.loads(text))
    assert fresh.snapshot() == snap
    assert fresh.status() == pc.status()  # same positions, P&L, stops, states and stats


def test_snapshot_keeps_exact_money_values(make, clock) -> None:
    snap = _busy(make, clock).snapshot()
    [euro] = [p for p in snap["positions"] if p["symbol"] == "6E"]
    assert (euro["entry_price"], euro["last_mark"], euro["quantity"]) == ("1.08745", "1.0871", 3)
    # 0.19 * 1000 * 2 - 0.00035 * 125000 * 3; float arithmetic gives 248.74999999999...
    assert snap["daily_pnl"]["trend"]["unrealized"] == "248.750000"


def test_snapshot_leaves_out_reservations_and_restore_drops_pending_ones(make, clock) -> None:
    pc = make(account=ACCOUNT, **STRATEGIES)
    assert pc.can_open("trend", "GC")
    snap = pc.snapshot()
    assert "reservations" not in json.dumps(snap)
    pc.restore(snap)
    assert pc.status().reservations == ()
    assert pc.can_open("trend", "GC")


def test_restore_after_restart_keeps_stops_halts_and_positions(make, clock) -> None:
    snap = _busy(make, clock).snapshot()
    restarted = make(account=ACCOUNT, **STRATEGIES)
    restarted.restore(snap)
    assert restarted.must_flatten("ibs")
    assert restarted.can_open("ibs", "CL").reason is DenyReason.STRATEGY_DAILY_STOP
    assert restarted.can_open("trend", "GC").reason is DenyReason.REDUCING
    assert restarted.on_closed("ibs", "ES", price=4998.0, when=clock.now(), reason="flatten") == -117.0


def test_restore_then_later_day_rolls_carried_positions(make, clock) -> None:
    snap = _busy(make, clock).snapshot()
    restarted = make(account=ACCOUNT, **STRATEGIES)
    restarted.restore(snap)
    clock.advance(timedelta(days=1))
    status = restarted.status()
    assert status.trading_day == date.fromisoformat(snap["trading_day"]) + timedelta(days=1)
    assert not status.strategies["ibs"].stopped
    assert status.account.pnl.total == 0.0  # carried positions start the day at their last mark
    assert [p.unrealized_today for p in status.positions] == [0.0, 0.0, 0.0]


def test_restore_when_snapshot_names_unconfigured_strategy_then_config_error(make, clock) -> None:
    snap = _busy(make, clock).snapshot()
    only_ibs = make(account=ACCOUNT, ibs=STRATEGIES["ibs"])
    with pytest.raises(ConfigError, match="trend"):
        only_ibs.restore(snap)


@pytest.mark.parametrize("damage", [
    lambda s: s.pop("positions"),
    lambda s: s.update(version=99),
    lambda s: s["positions"][0].update(entry_time="yesterday"),
    lambda s: s["positions"][0].update(entry_price="cheap"),
    lambda s: s["scopes"]["ibs"].update(state="paused"),
    lambda s: s.update(trading_day=None),
])
def test_restore_when_snapshot_malformed_then_state_error_and_state_unchanged(make, clock, damage) -> None:
    pc = _busy(make, clock)
    before = pc.snapshot()
    broken = json.loads(json.dumps(before))
    damage(broken)
    with pytest.raises(StateError):
        pc.restore(broken)
    assert pc.snapshot() == before
