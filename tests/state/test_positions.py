"""Open positions: the ledger of record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from multialpha.state import NotFound, PositionAlreadyOpen, StateStore

T0 = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)


def _open(store: StateStore, strategy: str = "ibs_a", symbol: str = "ES", **extra):
    fields = dict(quantity=2, entry_time=T0, entry_price=4500.25, signal_id=f"{strategy}:{symbol}:x:buy",
                  entry_atr=12.75, ml_score=0.61, extra={"stop": Decimal("4480.5")})
    fields.update(extra)
    return store.positions.open(strategy, symbol, **fields)


def test_open_then_get_returns_exact_values(store: StateStore) -> None:
    opened = _open(store)
    got = store.positions.get("ibs_a", "ES")
    assert got == opened
    assert got.entry_price == Decimal("4500.25") and got.entry_atr == Decimal("12.75")
    assert got.quantity == 2 and got.ml_score == 0.61 and got.extra == {"stop": "4480.5"}
    assert got.entry_time == T0 and got.entry_time.tzinfo is UTC


def test_open_when_already_open_then_raises_and_keeps_first(store: StateStore) -> None:
    _open(store)
    with pytest.raises(PositionAlreadyOpen, match="ibs_a ES"):
        _open(store, quantity=5)
    assert store.positions.get("ibs_a", "ES").quantity == 2  # type: ignore[union-attr]


def test_open_when_other_strategy_same_symbol_then_both_open(store: StateStore) -> None:
    _open(store, "ibs_a", "ES")
    _open(store, "ibs_b", "ES")
    assert [(p.strategy, p.symbol) for p in store.positions.all()] == [("ibs_a", "ES"), ("ibs_b", "ES")]
    assert [p.strategy for p in store.positions.all("ibs_b")] == ["ibs_b"]


def test_close_then_returns_position_and_removes_it(store: StateStore) -> None:
    opened = _open(store)
    assert store.positions.close("ibs_a", "ES") == opened
    assert store.positions.get("ibs_a", "ES") is None
    with pytest.raises(NotFound):
        store.positions.close("ibs_a", "ES")


def test_update_extra_then_replaced(store: StateStore) -> None:
    _open(store)
    assert store.positions.update_extra("ibs_a", "ES", {"bars_held": 3}).extra == {"bars_held": 3}
    with pytest.raises(NotFound):
        store.positions.update_extra("ibs_a", "NQ", {})


@pytest.mark.parametrize(
    "bad",
    [
        {"entry_time": datetime(2024, 3, 1, 15)},
        {"quantity": 0},
        {"quantity": 1.0},
        {"quantity": True},
        {"entry_price": float("nan")},
        {"entry_price": "abc"},
        {"signal_id": ""},
    ],
    ids=["naive-time", "zero-qty", "float-qty", "bool-qty", "nan-price", "text-price", "no-signal"],
)
def test_open_when_value_invalid_then_refused_and_nothing_written(store: StateStore, bad) -> None:
    with pytest.raises((ValueError, TypeError)):
        _open(store, **bad)
    assert store.positions.all() == []


def test_open_when_strategy_named_account_then_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="account"):
        _open(store, "account")


def test_open_when_entry_time_not_utc_then_stored_as_same_instant_in_utc(store: StateStore) -> None:
    chicago = T0.astimezone(timezone(timedelta(hours=-6)))
    assert _open(store, entry_time=chicago).entry_time == T0
