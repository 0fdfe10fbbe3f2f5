"""Entry limits: allowed symbols, one position per (strategy, symbol), max positions, reservations."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from multialpha.portfolio import DenyReason, PortfolioError

IBS = {"symbols": {"ES", "NQ", "CL", "GC"}, "max_positions": 2}
TREND = {"symbols": {"ES", "NQ", "CL", "GC"}, "max_positions": 2}


def test_can_open_when_within_limits_then_allows_and_reserves(make, clock) -> None:
    pc = make(ibs=IBS)
    decision = pc.can_open("ibs", "ES")
    assert decision and decision.reason is None
    assert (decision.strategy, decision.symbol, decision.at) == ("ibs", "ES", clock.now())
    status = pc.status()
    assert status.strategies["ibs"].reserved == 1
    assert [(r.strategy, r.symbol) for r in status.reservations] == [("ibs", "ES")]


def test_can_open_when_reservations_fill_strategy_max_then_denies(make) -> None:
    pc = make(ibs=IBS)
    assert pc.can_open("ibs", "ES")
    assert pc.can_open("ibs", "NQ")
    assert pc.can_open("ibs", "CL").reason is DenyReason.STRATEGY_MAX_POSITIONS


def test_release_frees_the_reserved_slot(make) -> None:
    pc = make(ibs=IBS)
    pc.can_open("ibs", "ES")
    pc.can_open("ibs", "NQ")
    pc.release("ibs", "NQ")
    assert pc.status().strategies["ibs"].reserved == 1
    assert pc.can_open("ibs", "CL")


def test_release_when_nothing_reserved_then_does_nothing(make) -> None:
    pc = make(ibs=IBS)
    pc.release("ibs", "ES")
    assert pc.status().reservations == ()


def test_on_opened_turns_reservation_into_position_that_still_counts(make, clock) -> None:
    pc = make(ibs=IBS)
    pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    ibs = pc.status().strategies["ibs"]
    assert (ibs.reserved, ibs.open_positions) == (0, 1)
    [pos] = pc.status().positions
    assert (pos.strategy, pos.symbol, pos.quantity, pos.entry_price, pos.entry_time) == (
        "ibs", "ES", 1, 5000.0, clock.now())
    pc.can_open("ibs", "NQ")
    assert pc.can_open("ibs", "CL").reason is DenyReason.STRATEGY_MAX_POSITIONS


def test_on_opened_without_reservation_then_raises(make, clock) -> None:
    pc = make(ibs=IBS)
    with pytest.raises(PortfolioError, match="without a reservation"):
        pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    assert pc.status().positions == ()


def test_on_opened_when_quantity_invalid_then_raises_and_keeps_reservation(make, clock) -> None:
    pc = make(ibs=IBS)
    pc.can_open("ibs", "ES")
    with pytest.raises(ValueError, match="quantity"):
        pc.on_opened("ibs", "ES", price=5000.0, quantity=0, when=clock.now())
    assert pc.status().strategies["ibs"].reserved == 1


def test_on_closed_frees_the_slot(make, clock) -> None:
    pc = make(ibs=IBS)
    for sym in ("ES", "NQ"):
        pc.can_open("ibs", sym)
        pc.on_opened("ibs", sym, price=100.0, quantity=1, when=clock.now())
    assert not pc.can_open("ibs", "CL")
    pc.on_closed("ibs", "ES", price=100.0, when=clock.now(), reason="target")
    assert pc.can_open("ibs", "CL")


def test_can_open_when_symbol_not_allowed_then_denies(make) -> None:
    pc = make(ibs=IBS)
    decision = pc.can_open("ibs", "6E")
    assert not decision and decision.reason is DenyReason.SYMBOL_NOT_ALLOWED
    assert pc.status().reservations == ()


def test_can_open_when_already_reserved_or_open_then_denies(make, clock) -> None:
    pc = make(ibs={"symbols": {"ES"}})
    pc.can_open("ibs", "ES")
    assert pc.can_open("ibs", "ES").reason is DenyReason.ALREADY_OPEN
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    assert pc.can_open("ibs", "ES").reason is DenyReason.ALREADY_OPEN


def test_can_open_same_symbol_in_two_strategies_on_different_accounts_then_both_allowed(make) -> None:
    pc = make(ibs={**IBS, "account": "one"}, trend={**TREND, "account": "two"})
    assert pc.can_open("ibs", "ES")
    assert pc.can_open("trend", "ES")


def test_can_open_same_symbol_on_one_broker_account_then_second_strategy_denied(make, clock) -> None:
    pc = make(ibs=IBS, trend=TREND)  # both on the default account
    assert pc.can_open("ibs", "ES")
    assert pc.can_open("trend", "ES").reason is DenyReason.SYMBOL_HELD_ON_ACCOUNT  # reserved counts
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    assert pc.can_open("trend", "ES").reason is DenyReason.SYMBOL_HELD_ON_ACCOUNT
    pc.on_closed("ibs", "ES", price=5001.0, when=clock.now(), reason="exit")
    clock.set(clock.now() + timedelta(hours=1))
    assert pc.can_open("trend", "ES")  # the next bar time


def test_can_open_at_the_bar_time_another_strategy_closed_the_symbol_then_denied(make, clock) -> None:
    # Whether that exit is confirmed yet or not: a replay must give the same answer every time.
    pc = make(ibs=IBS, trend=TREND)
    bar = clock.now()
    assert pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=bar - timedelta(hours=2))
    pc.on_closed("ibs", "ES", price=5001.0, when=bar, reason="stop")
    assert pc.can_open("trend", "ES", bar).reason is DenyReason.SYMBOL_HELD_ON_ACCOUNT
    pc.hold_symbol("ibs", "ES", True)  # the exit's POST not answered yet: the same reason
    assert pc.can_open("trend", "ES", bar).reason is DenyReason.SYMBOL_HELD_ON_ACCOUNT
    later = bar + timedelta(hours=1)
    assert pc.can_open("trend", "ES", later).reason is DenyReason.EXIT_UNCONFIRMED  # still not answered
    pc.hold_symbol("ibs", "ES", False)
    assert pc.can_open("trend", "ES", later)


def test_can_open_when_account_max_reached_across_strategies_then_denies(make, clock) -> None:
    pc = make(account={"max_positions": 3}, ibs=IBS, trend=TREND)
    assert pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    assert pc.can_open("ibs", "NQ")
    assert pc.can_open("trend", "CL")
    decision = pc.can_open("trend", "GC")
    assert decision.reason is DenyReason.ACCOUNT_MAX_POSITIONS
    assert pc.status().account.open_positions + pc.status().account.reserved == 3


def test_can_open_when_strategy_max_and_account_max_both_reached_then_strategy_reason(make) -> None:
    pc = make(account={"max_positions": 2}, ibs=IBS)
    pc.can_open("ibs", "ES")
    pc.can_open("ibs", "NQ")
    assert pc.can_open("ibs", "CL").reason is DenyReason.STRATEGY_MAX_POSITIONS


def test_can_open_when_strategy_unknown_then_raises(make) -> None:
    pc = make(ibs=IBS)
    with pytest.raises(PortfolioError, match="unknown strategy 'nope'"):
        pc.can_open("nope", "ES")


def test_can_open_when_now_is_naive_then_raises(make) -> None:
    pc = make(ibs=IBS)
    with pytest.raises(ValueError, match="timezone"):
        pc.can_open("ibs", "ES", now=datetime(2024, 3, 12, 15))
