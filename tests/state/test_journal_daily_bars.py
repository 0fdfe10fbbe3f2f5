"""Trade journal, per-day P&L and stops, snapshots, last bar times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from multialpha.clock import ManualClock
from multialpha.state import ACCOUNT_SCOPE, NotFound, StateStore

T0 = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
DAY = date(2024, 3, 1)


def _trade(exit_intent_id: str = "ibs_a:ES:2024-03-01T18:00:00Z:exit", **overrides):
    fields = dict(
        strategy="ibs_a", symbol="ES", quantity=1, entry_time=T0, entry_price=4500.25,
        exit_time=T0 + timedelta(hours=3), exit_price=Decimal("4510.50"), pnl_cents=51_250 - 450,
        exit_reason="ibs_exit", trading_day=DAY, entry_intent_id="ibs_a:ES:2024-03-01T15:00:00Z:buy",
        exit_intent_id=exit_intent_id, ml_score=0.62, features={"ibs": 0.12, "rsi2": float("nan")},
    )
    fields.update(overrides)
    return fields


def test_record_when_same_exit_intent_twice_then_one_row(store: StateStore) -> None:
    assert store.journal.record(**_trade()) is True
    assert store.journal.record(**_trade(pnl_cents=1)) is False
    trades = store.journal.all()
    assert len(trades) == 1 and trades[0].pnl_cents == 50_800


def test_record_then_values_round_trip_exactly(store: StateStore) -> None:
    store.journal.record(**_trade())
    trade = store.journal.get("ibs_a:ES:2024-03-01T18:00:00Z:exit")
    assert trade is not None
    assert trade.entry_price == Decimal("4500.25") and trade.exit_price == Decimal("4510.50")
    assert trade.exit_time == T0 + timedelta(hours=3) and trade.trading_day == DAY
    assert trade.features == {"ibs": 0.12, "rsi2": None}  # NaN has no JSON form: stored as null


def test_all_and_for_day_then_filter_by_strategy_and_exchange_day(store: StateStore) -> None:
    store.journal.record(**_trade("a1"))
    store.journal.record(**_trade("b1", strategy="ibs_b"))
    store.journal.record(**_trade("a2", trading_day=DAY + timedelta(days=1), exit_time=T0 + timedelta(days=1)))
    assert [t.exit_intent_id for t in store.journal.all()] == ["a1", "b1", "a2"]
    assert [t.exit_intent_id for t in store.journal.all("ibs_a")] == ["a1", "a2"]
    assert [t.exit_intent_id for t in store.journal.for_day(DAY)] == ["a1", "b1"]
    assert [t.exit_intent_id for t in store.journal.for_day(DAY, "ibs_b")] == ["b1"]


def test_record_when_pnl_not_integer_cents_then_refused(store: StateStore) -> None:
    with pytest.raises(TypeError, match="pnl_cents"):
        store.journal.record(**_trade(pnl_cents=12.5))
    with pytest.raises(TypeError, match="trading_day"):
        store.journal.record(**_trade(trading_day=T0))
    assert store.journal.all() == []


def test_add_realized_then_totals_in_integer_cents_per_scope(store: StateStore) -> None:
    assert store.daily.add_realized(DAY, "ibs_a", 12_345) == 12_345
    assert store.daily.add_realized(DAY, "ibs_a", -20_000) == -7_655
    assert store.daily.add_realized(DAY, ACCOUNT_SCOPE, -7_655) == -7_655
    assert store.daily.get(DAY, "ibs_a").realized_cents == -7_655  # type: ignore[union-attr]
    assert store.daily.get(DAY + timedelta(days=1), "ibs_a") is None
    assert [r.scope for r in store.daily.for_day(DAY)] == [ACCOUNT_SCOPE, "ibs_a"]


def test_mark_stopped_then_first_trigger_time_kept_until_cleared(store: StateStore) -> None:
    first = store.daily.mark_stopped(DAY, ACCOUNT_SCOPE, T0)
    again = store.daily.mark_stopped(DAY, ACCOUNT_SCOPE, T0 + timedelta(hours=1))
    assert first.stopped and again.stopped_at == T0
    cleared = store.daily.clear_stopped(DAY, ACCOUNT_SCOPE)
    assert not cleared.stopped and cleared.stopped_at is None
    with pytest.raises(NotFound):
        store.daily.clear_stopped(DAY, "never")


def test_set_stats_then_replaced(store: StateStore) -> None:
    store.daily.set_stats(DAY, "ibs_a", {"entries": 2, "denied": {"max_positions": 1}})
    assert store.daily.set_stats(DAY, "ibs_a", {"entries": 3}).stats == {"entries": 3}


def test_snapshot_then_latest_saved_is_loaded(store: StateStore, clock: ManualClock) -> None:
    assert store.daily.load_snapshot("coordinator") is None
    store.daily.save_snapshot("coordinator", DAY, {"positions": [], "version": 1})
    clock.advance(timedelta(minutes=1))
    store.daily.save_snapshot("coordinator", DAY, '{"positions": [["ibs_a", "ES"]], "version": 1}')
    snap = store.daily.load_snapshot("coordinator")
    assert snap is not None
    assert snap.data == {"positions": [["ibs_a", "ES"]], "version": 1}
    assert snap.trading_day == DAY and snap.saved_at == clock.now()


def test_bars_touch_then_latest_kept_and_never_moves_back(store: StateStore) -> None:
    store.bars.touch("ES", T0)
    store.bars.touch("ES", T0 - timedelta(hours=1))
    store.bars.touch_many({"NQ": T0 + timedelta(hours=1), "ES": T0 + timedelta(hours=2)})
    assert store.bars.all() == {"ES": T0 + timedelta(hours=2), "NQ": T0 + timedelta(hours=1)}
    with pytest.raises(ValueError):
        store.bars.touch("ES", datetime(2024, 3, 1))


def test_last_exit_time_is_the_latest_exit_of_that_strategy_and_symbol(store) -> None:
    from datetime import UTC, date, datetime

    base = dict(quantity=1, entry_price="1", exit_price="2", pnl_cents=100, exit_reason="ibs_exit",
                trading_day=date(2024, 3, 5), entry_intent_id="e")
    for i, (strategy, symbol, hour) in enumerate([("a", "ES", 15), ("a", "ES", 18), ("a", "NQ", 20), ("b", "ES", 21)]):
        store.journal.record(strategy=strategy, symbol=symbol, entry_time=datetime(2024, 3, 5, 14, tzinfo=UTC),
                             exit_time=datetime(2024, 3, 5, hour, tzinfo=UTC), exit_intent_id=f"x{i}", **base)
    assert store.journal.last_exit_time("a", "ES") == datetime(2024, 3, 5, 18, tzinfo=UTC)
    assert store.journal.last_exit_time("a", "CL") is None
