"""Stats and block rate, the status picture, and events (delivered outside the lock)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from multialpha.portfolio import AccountLimits, EventKind, PortfolioCoordinator, StrategyLimits, TradingState

STRATEGIES = {"ibs": {"symbols": {"ES", "NQ"}, "max_positions": 1, "daily_stop_loss": 300.0},
              "trend": {"symbols": {"CL"}}}


def test_stats_count_requests_allowed_blocked_by_reason_and_block_rate(make, clock) -> None:
    pc = make(**STRATEGIES)
    pc.can_open("ibs", "ES")  # allowed
    pc.can_open("ibs", "ES")  # already open
    pc.can_open("ibs", "NQ")  # strategy max
    pc.can_open("ibs", "CL")  # symbol not allowed
    pc.can_open("trend", "CL")  # allowed
    stats = pc.status().stats_run
    assert (stats.entries_requested, stats.entries_allowed, stats.blocked) == (5, 2, 3)
    assert dict(stats.entries_blocked) == {"already_open": 1, "strategy_max_positions": 1,
                                           "symbol_not_allowed": 1}
    assert stats.block_rate == 0.6
    ibs = pc.status().strategies["ibs"].stats_run
    assert (ibs.entries_requested, ibs.block_rate) == (4, 0.75)


def test_stats_count_exits_by_reason_and_stop_triggers(make, clock) -> None:
    pc = make(**STRATEGIES)
    for price, reason in ((5001.0, "target"), (4999.0, "time"), (4990.0, "target")):
        pc.can_open("ibs", "ES")
        pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
        pc.on_closed("ibs", "ES", price=price, when=clock.now(), reason=reason)
    stats = pc.status().stats_today
    assert dict(stats.exits) == {"target": 2, "time": 1}
    assert stats.stop_triggers == 1  # 45.5 - 54.5 - 504.5 = -513.5 after the third trade


def test_stats_per_day_reset_on_roll_while_run_totals_keep_counting(make, clock) -> None:
    pc = make(**STRATEGIES)
    pc.can_open("ibs", "ES")
    pc.can_open("ibs", "ES")
    clock.advance(timedelta(days=1))
    pc.release("ibs", "ES")
    pc.can_open("ibs", "NQ")
    status = pc.status()
    assert (status.stats_today.entries_requested, status.stats_today.blocked) == (1, 0)
    assert (status.stats_run.entries_requested, status.stats_run.blocked) == (3, 1)
    assert status.stats_today.block_rate == 0.0


def test_block_rate_is_zero_before_any_request(make) -> None:
    assert make().status().stats_run.block_rate == 0.0


def test_status_shows_positions_pnl_against_stops_flags_and_states(make, clock) -> None:
    pc = make(account={"daily_stop_loss": 1000.0, "max_positions": 4}, **STRATEGIES)
    pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=2, when=clock.now())
    pc.mark("ibs", "ES", 4998.0, clock.now() + timedelta(minutes=1))
    pc.can_open("trend", "CL")
    pc.set_state("trend", TradingState.REDUCING, "review")
    status = pc.status()
    assert status.trading_day.isoformat() == "2024-03-12" and status.at == clock.now()
    [pos] = status.positions
    assert (pos.quantity, pos.last_mark, pos.unrealized, pos.unrealized_today) == (2, 4998.0, -200.0, -200.0)
    ibs = status.strategies["ibs"]
    assert (ibs.pnl.realized, ibs.pnl.unrealized, ibs.pnl.total) == (-4.5, -200.0, -204.5)
    assert (ibs.pnl.daily_stop_loss, ibs.pnl.stop_headroom) == (300.0, 95.5)
    assert (ibs.stopped, ibs.must_flatten, ibs.open_positions, ibs.max_positions) == (False, False, 1, 1)
    trend = status.strategies["trend"]
    assert (trend.state, trend.state_reason, trend.reserved, trend.pnl.daily_stop_loss) == (
        TradingState.REDUCING, "review", 1, None)
    assert (status.account.pnl.total, status.account.pnl.stop_headroom) == (-204.5, 795.5)
    assert status.account.max_positions == 4
    plain = json.loads(json.dumps(status.to_dict()))
    assert plain["strategies"]["trend"]["state"] == "reducing"
    assert plain["positions"][0]["entry_time"] == clock.now().isoformat()
    assert plain["account"]["stats_run"]["block_rate"] == 0.0


def test_events_report_each_change_in_sequence(make, clock, events) -> None:
    pc = make(**STRATEGIES)
    pc.can_open("ibs", "ES")
    pc.can_open("ibs", "NQ")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    pc.on_closed("ibs", "ES", price=5001.0, when=clock.now(), reason="target")
    assert [e.kind for e in events] == [EventKind.ENTRY_ALLOWED, EventKind.ENTRY_DENIED,
                                        EventKind.POSITION_OPENED, EventKind.POSITION_CLOSED]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[1].reason == "strategy_max_positions"
    closed = events[3]
    assert (closed.scope, closed.symbol, closed.reason, closed.data["net_pnl"]) == ("ibs", "ES", "target", 45.5)
    json.dumps([e.to_dict() for e in events])


def test_on_event_runs_outside_the_lock(contracts, clock) -> None:
    seen: list[bool] = []

    def handler(event) -> None:
        # Another thread must be able to use the coordinator while the handler runs.
        other = threading.Thread(target=lambda: seen.append(pc.must_flatten("ibs") is False))
        other.start()
        other.join(timeout=2)
        seen.append(not other.is_alive())

    pc = PortfolioCoordinator([StrategyLimits("ibs", frozenset({"ES"}))], AccountLimits(), contracts,
                              clock, on_event=handler)
    assert pc.can_open("ibs", "ES")
    assert seen == [True, True]


def test_on_event_failure_is_counted_and_does_not_break_the_call(contracts, clock) -> None:
    def handler(event) -> None:
        raise RuntimeError("alert queue full")

    pc = PortfolioCoordinator([StrategyLimits("ibs", frozenset({"ES"}))], AccountLimits(), contracts,
                              clock, on_event=handler)
    assert pc.can_open("ibs", "ES")
    pc.on_opened("ibs", "ES", price=5000.0, quantity=1, when=clock.now())
    assert pc.event_errors == 2
    assert pc.status().strategies["ibs"].open_positions == 1
