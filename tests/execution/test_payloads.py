from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from multialpha.domain import OrderType
from multialpha.execution import Action, OrderIntent, build_payload, make_intent_id

BAR = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)


def _intent(action: Action, *, price: float = 0.6523, ml_score: float | None = 0.71, quantity: int = 2,
            reason: str = "ibs<0.2", **more: object) -> OrderIntent:
    return OrderIntent(
        intent_id=make_intent_id("ibs_a", "6A", BAR, action), strategy="ibs_a", symbol="6A", ticker="6AM2024",
        action=action, quantity=quantity, price=price, signal_time=BAR, ml_score=ml_score, reason=reason,
        **more,  # type: ignore[arg-type]
    )


def test_build_payload_when_buy_then_exact_traderspost_json() -> None:
    payload = build_payload(_intent(Action.BUY))
    assert json.dumps(payload, sort_keys=True) == json.dumps({
        "ticker": "6AM2024",
        "action": "buy",
        "quantity": 2,
        "orderType": "market",
        "signalPrice": 0.6523,
        "time": "2024-03-01T15:00:00Z",
        "extras": {
            "signal_id": "ibs_a:6A:2024-03-01T15:00:00Z:buy",
            "strategy": "ibs_a",
            "ml_score": 0.71,
            "reason": "ibs<0.2",
        },
    }, sort_keys=True)


def test_build_payload_when_exit_then_exact_traderspost_json() -> None:
    payload = build_payload(_intent(Action.EXIT, price=0.6581, ml_score=None, reason="ibs>0.8"))
    assert json.loads(json.dumps(payload, allow_nan=False)) == {
        "ticker": "6AM2024",
        "action": "exit",
        "quantity": 2,
        "orderType": "market",
        "signalPrice": 0.6581,
        "time": "2024-03-01T15:00:00Z",
        "extras": {
            "signal_id": "ibs_a:6A:2024-03-01T15:00:00Z:exit",
            "strategy": "ibs_a",
            "ml_score": None,
            "reason": "ibs>0.8",
        },
    }


@pytest.mark.parametrize(("price", "ml_score"), [(math.nan, 0.5), (math.inf, 0.5), (1.0, math.nan), (1.0, -math.inf)])
def test_build_payload_when_number_not_finite_then_raises(price: float, ml_score: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        build_payload(_intent(Action.BUY, price=price, ml_score=ml_score))


def test_build_payload_is_pure() -> None:
    intent = _intent(Action.BUY)
    assert build_payload(intent) == build_payload(intent)
    assert build_payload(intent) is not build_payload(intent)


def test_build_payload_when_exit_then_market_order_without_any_limit_price() -> None:
    payload = build_payload(_intent(Action.EXIT, reason="daily_stop"))
    assert payload["orderType"] == "market"
    assert "price" not in payload and "limitPrice" not in payload  # "price" would make TradersPost send a limit


def test_build_payload_when_limit_asked_then_limit_price_is_the_signal_price() -> None:
    payload = build_payload(_intent(Action.BUY, order_type=OrderType.LIMIT))
    assert (payload["orderType"], payload["limitPrice"], payload["signalPrice"]) == ("limit", 0.6523, 0.6523)


def test_build_payload_when_entry_has_protective_stop_then_stop_loss_leg_only_on_entries() -> None:
    entry = build_payload(_intent(Action.BUY, stop_loss=0.6493))
    assert entry["stopLoss"] == {"type": "stop", "stopPrice": 0.6493}
    assert "stopLoss" not in build_payload(_intent(Action.EXIT, stop_loss=0.6493))
