"""Daily stop: by realized loss, by unrealized loss via marks, account-wide; exits never blocked."""

from __future__ import annotations

from datetime import timedelta

from multialpha.portfolio import DenyReason, EventKind

MINUTE = timedelta(minutes=1)


def _open(pc, clock, strategy: str, symbol: str, price: float, quantity: int = 1) -> None:
    assert pc.can_open(strategy, symbol)
    pc.on_opened(strategy, symbol, price=price, quantity=quantity, when=clock.now())


def test_can_open_when_daily_stop_hit_by_realized_loss_then_denies(make, clock) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 500.0})
    _open(pc, clock, "ibs", "ES", 5000.0)
    net = pc.on_closed("ibs", "ES", price=4990.0, when=clock.now(), reason="stop")
    assert net == -504.5  # -10 * 50 - 2 * 2.25
    assert pc.must_flatten("ibs")
    assert pc.can_open("ibs", "NQ").reason is DenyReason.STRATEGY_DAILY_STOP
    ibs = pc.status().strategies["ibs"]
    assert ibs.stopped and ibs.stopped_at == clock.now()
    assert ibs.pnl.total == -504.5 and ibs.pnl.stop_headroom == -4.5


def test_daily_stop_when_loss_stays_above_limit_then_not_hit(make, clock) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 500.0})
    _open(pc, clock, "ibs", "ES", 5000.0)
    pc.on_closed("ibs", "ES", price=4990.25, when=clock.now(), reason="stop")  # -492.0
    assert not pc.must_flatten("ibs")
    assert pc.can_open("ibs", "NQ")


def test_mark_when_unrealized_loss_hits_stop_then_flatten_deny_and_exits_still_counted(
        make, clock, events) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 500.0})
    _open(pc, clock, "ibs", "ES", 5000.0)  # entry commission -2.25 today
    clock.advance(MINUTE)
    pc.mark("ibs", "ES", 4990.25, clock.now())  # -487.5 - 2.25 = -489.75
    assert not pc.must_flatten("ibs")
    clock.advance(MINUTE)
    pc.mark("ibs", "ES", 4990.0, clock.now())  # -500 - 2.25 = -502.25
    hit_at = clock.now()
    assert pc.must_flatten("ibs")
    assert pc.can_open("ibs", "NQ").reason is DenyReason.STRATEGY_DAILY_STOP
    clock.advance(MINUTE)
    net = pc.on_closed("ibs", "ES", price=4989.0, when=clock.now(), reason="daily_stop")
    assert net == -554.5
    ibs = pc.status().strategies["ibs"]
    assert (ibs.pnl.realized, ibs.pnl.unrealized, ibs.pnl.total) == (-554.5, 0.0, -554.5)
    assert ibs.stopped_at == hit_at and pc.must_flatten("ibs")
    [hit] = [e for e in events if e.kind is EventKind.DAILY_STOP_HIT]
    assert (hit.scope, hit.at, hit.data["daily_pnl"], hit.data["daily_stop_loss"]) == (
        "ibs", hit_at, -502.25, 500.0)


def test_daily_stop_once_hit_stays_for_the_day_even_if_pnl_recovers(make, clock) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 500.0})
    _open(pc, clock, "ibs", "ES", 5000.0)
    pc.mark("ibs", "ES", 4980.0, clock.now())
    clock.advance(MINUTE)
    pc.mark("ibs", "ES", 5020.0, clock.now())
    assert pc.status().strategies["ibs"].pnl.total > 0
    assert pc.must_flatten("ibs")
    assert pc.status().stats_today.stop_triggers == 1


def test_account_daily_stop_across_two_strategies_flattens_every_strategy(make, clock) -> None:
    pc = make(account={"daily_stop_loss": 600.0},
              ibs={"symbols": {"ES"}, "daily_stop_loss": 1000.0},
              trend={"symbols": {"NQ", "CL"}, "daily_stop_loss": 1000.0},
              idle={"symbols": {"GC"}})
    _open(pc, clock, "ibs", "ES", 5000.0)
    _open(pc, clock, "trend", "NQ", 18000.0)
    pc.mark("ibs", "ES", 4994.0, clock.now())  # -300 - 2.25
    assert not pc.must_flatten("ibs")
    pc.mark("trend", "NQ", 17985.0, clock.now())  # -300 - 2.25; account -604.5
    status = pc.status()
    assert status.account.stopped and status.account.pnl.total == -604.5
    assert not status.strategies["ibs"].stopped  # its own stop is not hit...
    assert all(pc.must_flatten(s) for s in ("ibs", "trend", "idle"))  # ...but the account's is
    assert pc.can_open("trend", "CL").reason is DenyReason.ACCOUNT_DAILY_STOP
    assert pc.can_open("idle", "GC").reason is DenyReason.ACCOUNT_DAILY_STOP
    assert pc.on_closed("ibs", "ES", price=4994.0, when=clock.now(), reason="flatten") == -304.5
    assert pc.on_closed("trend", "NQ", price=17985.0, when=clock.now(), reason="flatten") == -304.5
    assert pc.status().account.pnl.total == -609.0


def test_account_daily_stop_when_both_stops_hit_then_account_reason_wins(make, clock) -> None:
    pc = make(account={"daily_stop_loss": 100.0}, ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 100.0})
    _open(pc, clock, "ibs", "ES", 5000.0)
    pc.mark("ibs", "ES", 4990.0, clock.now())
    assert pc.can_open("ibs", "NQ").reason is DenyReason.ACCOUNT_DAILY_STOP
    assert pc.status().stats_today.stop_triggers == 2  # the strategy's and the account's


def test_entry_filled_after_stop_hit_is_booked_and_must_be_flattened(make, clock) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}, "daily_stop_loss": 500.0})
    assert pc.can_open("ibs", "NQ")  # reserved before the stop
    _open(pc, clock, "ibs", "ES", 5000.0)
    pc.mark("ibs", "ES", 4980.0, clock.now())
    pc.on_opened("ibs", "NQ", price=18000.0, quantity=1, when=clock.now())
    assert pc.must_flatten("ibs") and pc.status().strategies["ibs"].open_positions == 2


def test_strategy_without_daily_stop_is_never_stopped_by_its_own_loss(make, clock) -> None:
    pc = make(ibs={"symbols": {"ES", "NQ"}})
    _open(pc, clock, "ibs", "ES", 5000.0)
    pc.mark("ibs", "ES", 4000.0, clock.now())
    assert not pc.must_flatten("ibs") and pc.can_open("ibs", "NQ")
