"""A position carried over trading-day rolls: each day books its own change; the days add up."""

from __future__ import annotations

from datetime import date

from multialpha.portfolio import EventKind


def _day_totals(events, strategy: str) -> dict[str, float]:
    return {e.data["previous_day"]: e.data["pnl"][strategy]["total"]
            for e in events if e.kind is EventKind.DAY_ROLLED}


def test_carried_position_pnl_split_across_days_sums_to_net_pnl(make, clock, events, ct) -> None:
    pc = make(ibs={"symbols": {"CL"}})
    # Day 2024-03-12: open 2 CL at 75.00, last mark before the roll 75.40
    pc.can_open("ibs", "CL", now=ct(2024, 3, 12, 9, 0))
    pc.on_opened("ibs", "CL", price=75.00, quantity=2, when=ct(2024, 3, 12, 9, 0))
    pc.mark("ibs", "CL", 75.50, ct(2024, 3, 12, 15, 0))
    pc.mark("ibs", "CL", 75.40, ct(2024, 3, 12, 16, 59))
    # Day 2024-03-13: one mark at 75.10
    pc.roll(ct(2024, 3, 12, 17, 0))
    pc.mark("ibs", "CL", 75.10, ct(2024, 3, 13, 10, 0))
    assert pc.status().strategies["ibs"].pnl.unrealized == -600.0  # (75.10 - 75.40) * 1000 * 2
    # Day 2024-03-14: no mark; day 2024-03-15: closed at 74.90
    pc.roll(ct(2024, 3, 13, 17, 0))
    pc.roll(ct(2024, 3, 14, 17, 0))
    net = pc.on_closed("ibs", "CL", price=74.90, when=ct(2024, 3, 15, 8, 0), reason="exit")
    clock.set(ct(2024, 3, 15, 12, 0))
    last_day = pc.status().strategies["ibs"].pnl.total

    days = _day_totals(events, "ibs")
    assert days == {"2024-03-12": 795.0,  # (75.40 - 75.00) * 2000 - 5 entry commission
                    "2024-03-13": -600.0,  # (75.10 - 75.40) * 2000
                    "2024-03-14": 0.0}
    assert last_day == -405.0  # (74.90 - 75.10) * 2000 - 5 exit commission
    assert net == -210.0 == sum(days.values()) + last_day


def test_carried_position_keeps_entry_price_and_day_in_status(make, clock, ct) -> None:
    pc = make(ibs={"symbols": {"ES"}})
    pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    pc.mark("ibs", "ES", 5010.0, clock.now())
    clock.set(ct(2024, 3, 13, 9, 0))
    pc.mark("ibs", "ES", 5012.0, clock.now())
    [pos] = pc.status().positions
    assert (pos.entry_price, pos.entry_day, pos.last_mark) == (5000.0, date(2024, 3, 12), 5012.0)
    assert (pos.unrealized, pos.unrealized_today) == (600.0, 100.0)


def test_carried_position_never_marked_today_contributes_nothing_today(make, clock, ct) -> None:
    pc = make(ibs={"symbols": {"ES"}})
    pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    pc.mark("ibs", "ES", 4990.0, clock.now())
    clock.set(ct(2024, 3, 13, 9, 0))
    pnl = pc.status().strategies["ibs"].pnl
    assert (pnl.realized, pnl.unrealized, pnl.total) == (0.0, 0.0, 0.0)
