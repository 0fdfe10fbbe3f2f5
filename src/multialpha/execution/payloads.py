"""TradersPost webhook payloads: a pure function from an intent to JSON-ready data.

Fields (TradersPost's signal JSON, case-sensitive; unknown fields are ignored by it):

* ``ticker``: the contract to trade. Explicit contract symbols are preferred over
  continuous ones, whose roll schedule is TradersPost's own.
* ``action``: ``"buy"`` opens the long position, ``"exit"`` closes whatever position is open
  for the ticker (long or short). One webhook per event.
* ``quantity``: contracts; used by TradersPost when the subscription has "use signal
  quantity" enabled. On an exit it equals the position held, so the whole position closes.
* ``price``: the market price when the signal fired (used by TradersPost to measure slippage).
* ``time``: when the signal fired, ISO-8601 UTC with ``Z`` (used to measure latency).
* ``extras``: free-form metadata TradersPost stores with the signal; here the intent id
  (to match a webhook with the outbox row), strategy, ML score and reason.
"""

from __future__ import annotations

import math
from typing import Any

from multialpha.domain import OrderIntent, utc_iso


def _finite(intent: OrderIntent, name: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{intent.intent_id}: {name} must be finite, got {value!r}")
    return number


def build_payload(intent: OrderIntent) -> dict[str, Any]:
    """The webhook body for ``intent``; raises ``ValueError`` on a non-finite number."""
    ml_score = None if intent.ml_score is None else _finite(intent, "ml_score", intent.ml_score)
    return {
        "ticker": intent.ticker,
        "action": intent.action.value,
        "quantity": intent.quantity,
        "price": _finite(intent, "price", intent.price),
        "time": utc_iso(intent.signal_time),
        "extras": {
            "signal_id": intent.intent_id,
            "strategy": intent.strategy,
            "ml_score": ml_score,
            "reason": intent.reason,
        },
    }
