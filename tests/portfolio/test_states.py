"""Manual halts, REDUCING (exits only) and flatten-halts; exits always go through."""

from __future__ import annotations

from datetime import timedelta

import pytest

from multialpha.portfolio import DenyReason, EventKind, IllegalTransition, PortfolioError, TradingState

TWO = {"ibs": {"symbols": {"ES", "NQ"}}, "trend": {"symbols": {"ES", "NQ"}}}


def _open(pc, clock, strategy: str, symbol: str, price: float = 5000.0) -> None:
    assert pc.can_open(strategy, symbol)
    pc.on_opened(strategy, symbol, price=price, quantity=1, when=clock.now())


def test_can_open_when_account_halted_then_denies_every_strategy(make) -> None:
    pc = make(**TWO)
    pc.set_state("account", TradingState.HALTED, "operator")
    assert pc.can_open("ibs", "ES").reason is DenyReason.ACCOUNT_HALTED
    assert pc.can_open("trend", "ES").reason is DenyReason.ACCOUNT_HALTED
    assert not pc.must_flatten("ibs")  # a plain halt keeps positions


def test_can_open_when_strategy_halted_then_denies_only_that_strategy(make) -> None:
    pc = make(**TWO)
    pc.set_state("ibs", "halted", "bad fills")
    assert pc.can_open("ibs", "ES").reason is DenyReason.STRATEGY_HALTED
    assert pc.can_open("trend", "ES")


def test_can_open_when_reducing_then_denies_but_exits_go_through(make, clock) -> None:
    pc = make(**TWO)
    _open(pc, clock, "ibs", "ES")
    pc.set_state("ibs", TradingState.REDUCING, "wind down")
    assert pc.can_open("ibs", "NQ").reason is DenyReason.REDUCING
    assert not pc.must_flatten("ibs")
    assert pc.on_closed("ibs", "ES", price=5001.0, when=clock.now(), reason="exit") == 45.5


def test_on_closed_when_halted_stopped_and_over_limits_then_still_books_exit(make, clock) -> None:
    pc = make(account={"max_positions": 1, "daily_stop_loss": 50.0}, **TWO)
    _open(pc, clock, "ibs", "ES")
    pc.mark("ibs", "ES", 4990.0, clock.now())
    pc.set_state("account", TradingState.HALTED, "operator")
    pc.set_state("ibs", TradingState.HALTED, "operator")
    assert pc.on_closed("ibs", "ES", price=4990.0, when=clock.now(), reason="flatten") == -504.5
    assert pc.status().positions == ()


def test_halt_reason_wins_over_daily_stop(make, clock) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 10.0})
    _open(pc, clock, "ibs", "ES")
    pc.mark("ibs", "ES", 4990.0, clock.now())
    pc.set_state("ibs", TradingState.HALTED, "operator")
    assert pc.can_open("ibs", "NQ").reason is DenyReason.STRATEGY_HALTED


def test_set_state_when_resumed_then_entries_allowed_again(make, clock, events) -> None:
    pc = make(**TWO)
    pc.set_state("account", TradingState.HALTED, "maintenance")
    clock.advance(timedelta(minutes=5))
    pc.set_state("account", TradingState.ACTIVE, "done")
    assert pc.can_open("ibs", "ES")
    changes = [e for e in events if e.kind is EventKind.STATE_CHANGED]
    assert [(e.scope, e.data["old"], e.data["new"], e.reason) for e in changes] == [
        ("account", "active", "halted", "maintenance"), ("account", "halted", "active", "done")]
    account = pc.status().account
    assert (account.state, account.state_reason, account.state_since) == (
        TradingState.ACTIVE, "done", clock.now())


def test_set_state_when_move_is_illegal_then_raises_and_changes_nothing(make, events) -> None:
    pc = make(**TWO)
    pc.set_state("ibs", TradingState.HALTED, "x")
    with pytest.raises(IllegalTransition, match="ibs: cannot go from halted to halted"):
        pc.set_state("ibs", TradingState.HALTED, "again")
    assert pc.status().strategies["ibs"].state_reason == "x"
    assert len([e for e in events if e.kind is EventKind.STATE_CHANGED]) == 1


def test_set_state_when_scope_unknown_then_raises(make) -> None:
    pc = make(**TWO)
    with pytest.raises(PortfolioError, match="unknown strategy"):
        pc.set_state("nope", TradingState.HALTED, "x")
    with pytest.raises(ValueError):
        pc.set_state("ibs", "paused", "x")


def test_halt_persists_across_day_roll_while_daily_stop_does_not(make, clock) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 10.0}, trend={"symbols": {"ES"}, "account": "other"})
    _open(pc, clock, "ibs", "ES")
    pc.mark("ibs", "ES", 4990.0, clock.now())
    pc.on_closed("ibs", "ES", price=4990.0, when=clock.now(), reason="daily_stop")
    pc.set_state("trend", TradingState.HALTED, "operator")
    clock.advance(timedelta(days=1))
    assert not pc.must_flatten("ibs")
    assert pc.can_open("ibs", "NQ")
    assert pc.can_open("trend", "ES").reason is DenyReason.STRATEGY_HALTED


def test_daily_stop_flatten_when_position_survives_day_roll_then_pending_until_closed(make, clock) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 10.0})
    _open(pc, clock, "ibs", "ES")
    pc.mark("ibs", "ES", 4990.0, clock.now())
    assert pc.flatten_reason("ibs") == "daily_stop"
    clock.advance(timedelta(days=1))  # the exit did not go out before the 17:00 roll
    assert pc.flatten_reason("ibs") == "daily_stop"
    assert pc.can_open("ibs", "NQ").reason is DenyReason.STRATEGY_DAILY_STOP
    pc.on_closed("ibs", "ES", price=4990.0, when=clock.now(), reason="daily_stop")
    assert pc.flatten_reason("ibs") is None
    assert pc.can_open("ibs", "NQ")


def test_flatten_account_makes_every_strategy_flatten_until_resumed(make, clock) -> None:
    pc = make(**TWO)
    _open(pc, clock, "ibs", "ES")
    pc.flatten("account", "flatten-all")
    assert pc.must_flatten("ibs") and pc.must_flatten("trend")
    assert pc.can_open("trend", "NQ").reason is DenyReason.ACCOUNT_HALTED
    pc.on_closed("ibs", "ES", price=5000.0, when=clock.now(), reason="flatten")
    clock.advance(timedelta(days=1))  # a flatten-halt is not a daily stop: the roll keeps it
    assert pc.must_flatten("ibs")
    pc.set_state("account", TradingState.ACTIVE, "resume")
    assert not pc.must_flatten("ibs") and not pc.status().account.flatten_requested
    assert pc.can_open("trend", "NQ")


def test_flatten_on_halted_strategy_adds_flatten_and_is_idempotent(make, events) -> None:
    pc = make(**TWO)
    pc.set_state("ibs", TradingState.HALTED, "operator")
    assert not pc.must_flatten("ibs")
    pc.flatten("ibs", "close everything")
    pc.flatten("ibs", "close everything")
    assert pc.must_flatten("ibs") and not pc.must_flatten("trend")
    assert len([e for e in events if e.kind is EventKind.STATE_CHANGED]) == 2
