from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from multialpha.execution import (
    Action,
    OrderIntent,
    make_intent_id,
)

BAR = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)


def _intent(**overrides: object) -> OrderIntent:
    fields: dict[str, object] = dict(
        intent_id="ibs_a:6A:2024-03-01T15:00:00Z:buy", strategy="ibs_a", symbol="6A", ticker="6AM2024",
        action=Action.BUY, quantity=1, price=0.6523, signal_time=BAR, ml_score=0.71, reason="ibs<0.2",
    )
    fields.update(overrides)
    return OrderIntent(**fields)


def test_make_intent_id_when_called_then_readable_and_stable() -> None:
    first = make_intent_id("ibs_a", "6A", BAR, Action.BUY)
    assert first == "ibs_a:6A:2024-03-01T15:00:00Z:buy"
    assert make_intent_id("ibs_a", "6A", BAR, Action.BUY) == first
    assert make_intent_id("ibs_a", "6A", BAR, "buy") == first


def test_make_intent_id_when_same_instant_in_other_timezone_then_same_id() -> None:
    chicago_winter = timezone(timedelta(hours=-6))
    assert make_intent_id("ibs_a", "6A", BAR.astimezone(chicago_winter), Action.EXIT) == \
        make_intent_id("ibs_a", "6A", BAR, Action.EXIT)


def test_make_intent_id_when_any_part_differs_then_ids_differ() -> None:
    base = make_intent_id("ibs_a", "6A", BAR, Action.BUY)
    others = {
        make_intent_id("ibs_b", "6A", BAR, Action.BUY),
        make_intent_id("ibs_a", "6B", BAR, Action.BUY),
        make_intent_id("ibs_a", "6A", BAR + timedelta(hours=1), Action.BUY),
        make_intent_id("ibs_a", "6A", BAR + timedelta(microseconds=1), Action.BUY),
        make_intent_id("ibs_a", "6A", BAR, Action.EXIT),
    }
    assert base not in others and len(others) == 5


@pytest.mark.parametrize(("strategy", "symbol"), [("ibs:a", "6A"), ("ibs_a", "6 A"), ("", "6A"), ("ibs_a", "")])
def test_make_intent_id_when_part_could_be_ambiguous_then_raises(strategy: str, symbol: str) -> None:
    with pytest.raises(ValueError):
        make_intent_id(strategy, symbol, BAR, Action.BUY)


def test_make_intent_id_when_naive_time_then_raises() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_intent_id("ibs_a", "6A", datetime(2024, 3, 1, 15, 0), Action.BUY)


def test_order_intent_when_built_then_time_normalised_to_utc() -> None:
    intent = _intent(signal_time=BAR.astimezone(timezone(timedelta(hours=-6))))
    assert intent.signal_time == BAR and intent.signal_time.tzinfo is UTC


@pytest.mark.parametrize("quantity", [0, -1, True, 1.0])
def test_order_intent_when_quantity_not_positive_int_then_raises(quantity: object) -> None:
    with pytest.raises(ValueError, match="quantity"):
        _intent(quantity=quantity)


def test_order_intent_when_naive_time_or_bad_action_then_raises() -> None:
    with pytest.raises(ValueError, match="signal_time"):
        _intent(signal_time=datetime(2024, 3, 1, 15, 0))
    with pytest.raises(ValueError):
        _intent(action="sell")


def test_delivery_status_prints_and_stores_as_the_outbox_status() -> None:
    from multialpha.domain import OrderStatus

    assert str(OrderStatus.UNKNOWN) == "unknown"
    assert {s.value for s in OrderStatus} == {s.value for s in OrderStatus}
