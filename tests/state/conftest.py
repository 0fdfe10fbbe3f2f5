from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from multialpha.clock import ManualClock
from multialpha.domain import Action, make_intent_id
from multialpha.state import OutboxIntent, StateStore

T0 = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2024, 3, 1, 21, 0, tzinfo=UTC))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "multialpha.sqlite"


@pytest.fixture
def store(store_path: Path, clock: ManualClock) -> Iterator[StateStore]:
    with StateStore.open(store_path, clock=clock) as opened:
        yield opened


def _intent(strategy: str = "ibs_a", symbol: str = "6A", *, hours: int = 0, action: str = "buy",
           quantity: int = 1, price: object = 0.6543, payload: dict | None = None) -> OutboxIntent:
    when = T0 + timedelta(hours=hours)
    return OutboxIntent(
        intent_id=make_intent_id(strategy, symbol, when, action),
        strategy=strategy,
        symbol=symbol,
        action=Action(action),
        quantity=quantity,
        price=price,  # type: ignore[arg-type]
        signal_time=when,
        payload={"ticker": f"{symbol}M2024", "action": action} if payload is None else payload,
    )


@pytest.fixture
def intent():  # noqa: ANN201 - a factory: intent(strategy, symbol, hours=..., action=...)
    return _intent
