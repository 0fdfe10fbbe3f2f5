"""The coordinator's day follows the CME trade date (17:00 America/Chicago roll, DST, weekends
and holidays included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from multialpha.clock import ManualClock
from multialpha.portfolio import AccountLimits, DenyReason, EventKind, PortfolioCoordinator, StrategyLimits


def Z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# UTC instant -> trading day. Chicago is UTC-6 (CST) until 2024-03-10 02:00 and from
# 2024-11-03 02:00, UTC-5 (CDT) in between; so the 17:00 roll is 23:00Z in winter, 22:00Z in summer.
# Weekends and CME holidays are no trade dates: their hours belong to the next trade date.
CASES = [
    ("2024-03-07T22:59", date(2024, 3, 7)),   # Thu 16:59 CST
    ("2024-03-07T23:00", date(2024, 3, 8)),   # Thu 17:00 CST
    ("2024-03-10T21:59", date(2024, 3, 11)),  # Sun 16:59 CDT, the day clocks spring forward: Monday
    ("2024-03-10T22:00", date(2024, 3, 11)),  # Sun 17:00 CDT: the week opens (would be 16:00 in CST)
    ("2024-03-11T21:59", date(2024, 3, 11)),  # Mon 16:59 CDT
    ("2024-03-11T22:00", date(2024, 3, 12)),  # Mon 17:00 CDT
    ("2024-03-12T23:30", date(2024, 3, 13)),  # Tue 18:30 CDT
    ("2024-03-13T00:30", date(2024, 3, 13)),  # same trading day across UTC midnight
    ("2024-11-01T21:59", date(2024, 11, 1)),  # Fri 16:59 CDT
    ("2024-11-01T22:00", date(2024, 11, 4)),  # Fri 17:00 CDT: Monday
    ("2024-11-03T22:00", date(2024, 11, 4)),  # Sun 16:00 CST, the day clocks fall back (17:00 in CDT)
    ("2024-11-03T22:59", date(2024, 11, 4)),  # Sun 16:59 CST
    ("2024-11-03T23:00", date(2024, 11, 4)),  # Sun 17:00 CST: the week opens
    ("2024-11-04T22:59", date(2024, 11, 4)),  # Mon 16:59 CST
    ("2024-11-04T23:00", date(2024, 11, 5)),  # Mon 17:00 CST
    ("2024-11-28T16:00", date(2024, 11, 29)),  # Thanksgiving 10:00 CST, before the early halt
]


@pytest.mark.parametrize(("instant", "expected"), CASES)
def test_roll_moves_to_cme_trading_day_of_utc_instant(contracts, instant: str, expected: date) -> None:
    at = Z(instant)
    clock = ManualClock(at - timedelta(days=4))
    pc = PortfolioCoordinator([StrategyLimits("ibs", frozenset({"ES"}))], AccountLimits(), contracts, clock)
    assert pc.roll(at) is True
    assert pc.trading_day == expected
    assert pc.roll(at) is False


def test_roll_never_goes_back_to_an_earlier_day(make, clock) -> None:
    pc = make()
    start = pc.trading_day
    assert pc.roll(clock.now() + timedelta(days=1))
    assert pc.roll(clock.now()) is False
    assert pc.trading_day == start + timedelta(days=1)


def _stopped_coordinator(make, clock, at: datetime):
    clock.set(at)
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 100.0})
    pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=at)
    pc.on_closed("ibs", "ES", price=4990.0, when=at, reason="stop")
    assert pc.must_flatten("ibs")
    return pc


@pytest.mark.parametrize(("hit", "last_minute", "roll", "new_day"), [
    # winter, before the spring change: 17:00 CST = 23:00Z
    ("2024-03-07T15:00", "2024-03-07T22:59", "2024-03-07T23:00", date(2024, 3, 8)),
    # first weekday after clocks spring forward: 17:00 CDT = 22:00Z
    ("2024-03-11T15:00", "2024-03-11T21:59", "2024-03-11T22:00", date(2024, 3, 12)),
    # last weekday before clocks fall back: 17:00 CDT = 22:00Z, Friday: the next trade date is Monday
    ("2024-11-01T15:00", "2024-11-01T21:59", "2024-11-01T22:00", date(2024, 11, 4)),
    # first weekday after clocks fall back: 17:00 CST = 23:00Z
    ("2024-11-04T15:00", "2024-11-04T22:59", "2024-11-04T23:00", date(2024, 11, 5)),
])
def test_daily_stop_clears_at_1700_chicago_not_before(make, clock, events, hit: str, last_minute: str,
                                                     roll: str, new_day: date) -> None:
    pc = _stopped_coordinator(make, clock, Z(hit))
    clock.set(Z(last_minute))  # 16:59 Chicago: same trading day, still stopped
    assert pc.must_flatten("ibs")
    assert pc.can_open("ibs", "NQ").reason is DenyReason.STRATEGY_DAILY_STOP
    clock.set(Z(roll))  # 17:00 Chicago: next trading day, the stop is gone
    assert pc.roll() is True
    assert pc.trading_day == new_day
    assert not pc.must_flatten("ibs")
    status = pc.status().strategies["ibs"]
    assert (status.stopped, status.stopped_at, status.pnl.total) == (False, None, 0.0)
    assert pc.can_open("ibs", "NQ")
    [rolled] = [e for e in events if e.kind is EventKind.DAY_ROLLED]
    assert rolled.trading_day == new_day and rolled.data["pnl"]["ibs"]["total"] == -504.5


def test_day_rolls_on_bar_time_even_when_nothing_trades(make, clock, ct) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 100.0})
    pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    pc.mark("ibs", "ES", 4990.0, clock.now())
    assert pc.must_flatten("ibs")
    # The runner calls roll() with each bar's time; the clock is not moved here.
    assert pc.roll(ct(2024, 3, 12, 17, 0)) is True
    # The stop's flatten outlives the roll while ES is still open: no entries until it is closed.
    assert pc.can_open("ibs", "NQ", now=ct(2024, 3, 12, 17, 1)).reason is DenyReason.STRATEGY_DAILY_STOP
    pc.on_closed("ibs", "ES", price=4990.0, when=ct(2024, 3, 12, 17, 1), reason="daily_stop")
    assert pc.can_open("ibs", "NQ", now=ct(2024, 3, 12, 17, 2))


def test_mark_with_next_day_time_rolls_before_booking(make, clock, ct) -> None:
    pc = make()
    pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    pc.mark("ibs", "ES", 5002.0, ct(2024, 3, 12, 16, 59))
    pc.mark("ibs", "ES", 5003.0, ct(2024, 3, 12, 17, 0))
    assert pc.trading_day == date(2024, 3, 13)
    assert pc.status().strategies["ibs"].pnl.total == 50.0  # only the move since the 16:59 mark
