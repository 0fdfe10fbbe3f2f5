"""The outbox: one row per signal, and the delivery lifecycle."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from multialpha.clock import ManualClock
from multialpha.domain import ORDER_TRANSITIONS, OrderStatus, make_intent_id
from multialpha.errors import IllegalTransition
from multialpha.state import NotFound, StateStore

S = OrderStatus
LEGAL_BY_MARK = {
    (S.PENDING, S.PENDING), (S.PENDING, S.SENT), (S.PENDING, S.FAILED), (S.PENDING, S.UNKNOWN),
}


def _reach(store: StateStore, intent_id: str, status: OrderStatus) -> None:
    """Drive a fresh PENDING row to ``status`` by legal moves only."""
    if status is not S.PENDING:
        store.outbox.mark(intent_id, status)


def test_transition_table_is_as_documented() -> None:
    expected = {
        S.PENDING: {S.PENDING, S.SENT, S.FAILED, S.UNKNOWN},
        S.UNKNOWN: {S.SENT, S.FAILED},
        S.SENT: set(),
        S.FAILED: set(),
    }
    assert dict(ORDER_TRANSITIONS) == expected
    assert S.SENT.is_final and S.FAILED.is_final and not S.UNKNOWN.is_final


def test_add_when_same_signal_twice_then_one_row_and_first_kept(store: StateStore, intent) -> None:
    first = intent(quantity=1)
    assert store.outbox.add(first) is True
    store.outbox.mark(first.intent_id, S.SENT, http_status=200, attempts=1)
    assert store.outbox.add(intent(quantity=3)) is False
    rows = store.outbox.all()
    assert len(rows) == 1
    assert rows[0].quantity == 1 and rows[0].status is S.SENT and rows[0].attempts == 1


def test_add_then_row_holds_exact_values(store: StateStore, intent, clock: ManualClock) -> None:
    new = intent(price=4500.25)
    store.outbox.add(new)
    row = store.outbox.get(new.intent_id)
    assert row is not None
    assert row.status is S.PENDING and row.attempts == 0 and row.http_status is None
    assert row.price == Decimal("4500.25") and row.quantity == 1
    assert row.signal_time == new.signal_time and row.signal_time.tzinfo is UTC
    assert row.payload == {"ticker": "6AM2024", "action": "buy"}
    assert row.created_at == clock.now() and row.updated_at == clock.now()


@pytest.mark.parametrize("old,new", list(itertools.product(S, S)), ids=lambda s: s.value)
def test_mark_when_any_pair_then_only_table_moves_are_allowed(store: StateStore, intent, old, new) -> None:
    row = intent()
    store.outbox.add(row)
    _reach(store, row.intent_id, old)
    if (old, new) in LEGAL_BY_MARK:
        assert store.outbox.mark(row.intent_id, new).status is new
    else:
        with pytest.raises(IllegalTransition):
            store.outbox.mark(row.intent_id, new)
        assert store.outbox.get(row.intent_id).status is old  # type: ignore[union-attr]


@pytest.mark.parametrize("old", list(S), ids=lambda s: s.value)
@pytest.mark.parametrize("sent", [True, False])
def test_resolve_when_only_unknown_then_operator_settles_it(store: StateStore, intent, old, sent) -> None:
    row = intent()
    store.outbox.add(row)
    _reach(store, row.intent_id, old)
    if old is S.UNKNOWN:
        resolved = store.outbox.resolve(row.intent_id, sent=sent, by="alice", detail="checked gateway log")
        assert resolved.status is (S.SENT if sent else S.FAILED)
        assert resolved.resolved_by == "alice" and resolved.detail == "checked gateway log"
    else:
        with pytest.raises(IllegalTransition, match="only unknown"):
            store.outbox.resolve(row.intent_id, sent=sent, by="alice")
        assert store.outbox.get(row.intent_id).resolved_by is None  # type: ignore[union-attr]


def test_mark_when_pending_retry_then_attempts_and_outcome_recorded(store: StateStore, intent, clock) -> None:
    row = intent()
    store.outbox.add(row)
    clock.advance(timedelta(seconds=5))
    retried = store.outbox.mark(row.intent_id, S.PENDING, http_status=429, detail="rate limited", attempts=1)
    assert (retried.status, retried.attempts, retried.http_status) == (S.PENDING, 1, 429)
    assert retried.updated_at == clock.now() and retried.created_at < retried.updated_at
    with pytest.raises(ValueError, match="cannot go down"):
        store.outbox.mark(row.intent_id, S.PENDING, attempts=0)
    assert store.outbox.mark(row.intent_id, S.SENT, http_status=200, attempts=2).attempts == 2


def test_mark_when_unknown_intent_id_then_not_found(store: StateStore) -> None:
    with pytest.raises(NotFound):
        store.outbox.mark("nope", S.SENT)
    with pytest.raises(NotFound):
        store.outbox.resolve("nope", sent=True, by="alice")


def test_backlog_then_pending_and_unknown_oldest_first(store: StateStore, intent) -> None:
    ids = []
    for hours, status in enumerate([S.SENT, S.PENDING, S.UNKNOWN, S.FAILED, S.PENDING]):
        row = intent(hours=hours)
        store.outbox.add(row)
        _reach(store, row.intent_id, status)
        ids.append(row.intent_id)
    assert [r.intent_id for r in store.outbox.backlog()] == [ids[1], ids[2], ids[4]]
    assert [r.intent_id for r in store.outbox.by_status(S.SENT, S.FAILED)] == [ids[0], ids[3]]
    assert store.outbox.by_status() == []
    assert [r.intent_id for r in store.outbox.all()] == ids


def test_add_when_payload_holds_a_url_then_refused(store: StateStore, intent) -> None:
    with pytest.raises(ValueError, match="URL"):
        store.outbox.add(intent(payload={"note": "https://webhooks.example/trading/webhook/abc/secret"}))
    with pytest.raises(ValueError, match="secret-looking key"):
        store.outbox.add(intent(payload={"webhook_url": "redacted"}))
    assert store.outbox.all() == []


def test_mark_when_detail_holds_a_url_then_it_is_redacted(store: StateStore, intent) -> None:
    row = intent()
    store.outbox.add(row)
    detail = ("HTTPSConnectionPool(host='h', port=443): Max retries exceeded with url: "
              "/trading/webhook/uuid/password (https://h/trading/webhook/uuid/password)")
    stored = store.outbox.mark(row.intent_id, S.UNKNOWN, detail=detail)
    assert "password" not in (stored.detail or "")
    assert "uuid" not in (stored.detail or "")
    assert "Max retries exceeded" in (stored.detail or "")


def test_make_intent_id_then_same_signal_same_id_in_any_timezone() -> None:
    utc = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    chicago = utc.astimezone(timezone(timedelta(hours=-6)))
    assert make_intent_id("ibs_a", "6A", utc, "buy") == "ibs_a:6A:2024-03-01T15:00:00Z:buy"
    assert make_intent_id("ibs_a", "6A", chicago, "buy") == make_intent_id("ibs_a", "6A", utc, "buy")
    with pytest.raises(ValueError):
        make_intent_id("ibs:a", "6A", utc, "buy")
    with pytest.raises(ValueError):
        make_intent_id("ibs_a", "6A", datetime(2024, 3, 1, 15), "buy")
    with pytest.raises(ValueError):
        make_intent_id("ibs_a", "6A", utc, "sell")


def test_add_when_naive_signal_time_then_refused(store: StateStore, intent) -> None:
    row = intent()
    naive = type(row)(**{**row.__dict__, "signal_time": datetime(2024, 3, 1, 15)})
    with pytest.raises(ValueError, match="no timezone"):
        store.outbox.add(naive)


def test_sweep_in_flight_when_attempted_then_unknown_and_never_attempted_stays_pending(
        store: StateStore, intent) -> None:
    tried, queued = intent(quantity=1), intent(quantity=1, action="exit")
    store.outbox.add(tried)
    store.outbox.add(queued)
    store.outbox.mark(tried.intent_id, S.PENDING, attempts=1)  # its POST had started
    swept = store.outbox.sweep_in_flight("in flight when the daemon stopped")
    assert [r.intent_id for r in swept] == [tried.intent_id]
    assert store.outbox.get(tried.intent_id).status is S.UNKNOWN  # type: ignore[union-attr]
    assert store.outbox.get(queued.intent_id).status is S.PENDING  # type: ignore[union-attr]
