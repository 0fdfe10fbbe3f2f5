"""TradersPost webhook payloads: a pure function from an intent to JSON-ready data.

Fields (TradersPost's signal JSON, case-sensitive; unknown fields are ignored by it):

* ``ticker``: the contract to trade: an explicit contract month (e.g. ``ESZ2024``) from the
  roll schedule, the same contract the live bars come from.
* ``action``: ``"buy"`` opens the long position, ``"exit"`` closes whatever position is open
  for the ticker (long or short). One webhook per event.
* ``quantity``: contracts; used by TradersPost when the subscription has "use signal
  quantity" enabled. On an exit it equals the position held, so the whole position closes.
* ``orderType``: ``"market"`` unless the strategy asks for a limit. Sent explicitly because
  TradersPost otherwise applies the subscription's default, which for exits is a limit order:
  a stop or daily-stop exit must not sit unfilled at a price the market has left.
* ``signalPrice``: the bar close the decision was taken on; TradersPost uses it to measure
  slippage. Never ``price``: a ``price`` field makes TradersPost send a limit order.
* ``limitPrice``: only on a limit order.
* ``stopLoss``: on an entry, an optional broker-side protective stop
  (``{"type": "stop", "stopPrice": X}``) that protects the position while the daemon is down,
  over the daily break and over weekends.
* ``time``: when the signal fired, ISO-8601 UTC with ``Z`` (used to measure latency).
* ``extras``: free-form metadata TradersPost stores with the signal; here the intent id
  (to match a webhook with the outbox row), strategy, ML score and reason.
"""

from __future__ import annotations

import math
from typing import Any

from multialpha.domain import Action, OrderIntent, OrderType, utc_iso


def _finite(intent: OrderIntent, name: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{intent.intent_id}: {name} must be finite, got {value!r}")
    return number


def build_payload(intent: OrderIntent) -> dict[str, Any]:
    """The webhook body for ``intent``; raises ``ValueError`` on a non-finite number."""
    ml_score = None if intent.ml_score is None else _finite(intent, "ml_score", intent.ml_score)
    price = _finite(intent, "price", intent.price)
    body: dict[str, Any] = {
        "ticker": intent.ticker,
        "action": intent.action.value,
        "quantity": intent.quantity,
        "orderType": intent.order_type.value,
        "signalPrice": price,
    }
    if intent.order_type is OrderType.LIMIT:
        body["limitPrice"] = price
    if intent.stop_loss is not None and intent.action is Action.BUY:
        body["stopLoss"] = {"type": "stop", "stopPrice": _finite(intent, "stop_loss", intent.stop_loss)}
    return {
        **body,
        "time": utc_iso(intent.signal_time),
        "extras": {
            "signal_id": intent.intent_id,
            "strategy": intent.strategy,
            "ml_score": ml_score,
            "reason": intent.reason,
        },
    }
