"""TradersPostClient against a real local HTTP server (``WebhookSink`` with scripted replies)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import requests
from requests.adapters import HTTPAdapter

from multialpha.execution import (
    Action,
    OrderIntent,
    OrderStatus,
    Reply,
    TradersPostClient,
    WebhookSink,
    build_payload,
    make_intent_id,
    parse_retry_after,
    redact_url,
)

BAR = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
SECRET_PATH = "/trading/webhook/0d3c-uuid-s3cret/pw-s3cret"
PAYLOAD = build_payload(OrderIntent(
    intent_id=make_intent_id("ibs_a", "6A", BAR, Action.BUY), strategy="ibs_a", symbol="6A", ticker="6AM2024",
    action=Action.BUY, quantity=1, price=0.6523, signal_time=BAR, ml_score=0.71, reason="ibs<0.2",
))

MakeSink = Callable[..., WebhookSink]


class RecordingSleep:
    """Stands in for ``time.sleep`` so retry tests do not wait; keeps the requested waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, secs: float) -> None:
        self.calls.append(secs)


@pytest.fixture
def recording_sleep() -> RecordingSleep:
    return RecordingSleep()


def _client(sleep: RecordingSleep, **overrides: float) -> TradersPostClient:
    settings: dict = dict(timeout_secs=2.0, max_attempts=3, max_retry_wait_secs=10.0, connect_timeout_secs=1.0)
    settings.update(overrides)
    return TradersPostClient(sleep=sleep, **settings)


def test_deliver_when_200_then_sent_and_body_arrives(make_sink: MakeSink, recording_sleep: RecordingSleep) -> None:
    sink = make_sink()
    result = _client(recording_sleep).deliver(f"{sink.url}/ibs_a", PAYLOAD, label="ibs_a")
    assert (result.status, result.http_status, result.attempts) == (OrderStatus.SENT, 200, 1)
    assert [(r["path"], r["body"]) for r in sink.received] == [("/ibs_a", PAYLOAD)]
    assert recording_sleep.calls == []


def test_deliver_when_429_then_200_then_sent_after_waiting_retry_after(
        make_sink: MakeSink, recording_sleep: RecordingSleep) -> None:
    sink = make_sink(Reply(429, headers={"Retry-After": "1"}), Reply(200))
    result = _client(recording_sleep).deliver(sink.url, PAYLOAD, label="ibs_a")
    assert (result.status, result.http_status, result.attempts) == (OrderStatus.SENT, 200, 2)
    assert recording_sleep.calls == [1.0]
    assert [r["status"] for r in sink.received] == [429, 200]


def test_deliver_when_retry_after_long_then_wait_capped(make_sink: MakeSink, recording_sleep: RecordingSleep) -> None:
    sink = make_sink(Reply(429, headers={"Retry-After": "120"}), Reply(200))
    result = _client(recording_sleep, max_retry_wait_secs=5.0).deliver(sink.url, PAYLOAD, label="ibs_a")
    assert result.status is OrderStatus.SENT
    assert recording_sleep.calls == [5.0]


def test_deliver_when_429_forever_then_failed_after_max_attempts(
        make_sink: MakeSink, recording_sleep: RecordingSleep) -> None:
    sink = make_sink(default=Reply(429))  # no Retry-After: exponential backoff
    result = _client(recording_sleep, max_attempts=4).deliver(sink.url, PAYLOAD, label="ibs_a")
    assert (result.status, result.http_status, result.attempts) == (OrderStatus.FAILED, 429, 4)
    assert len(sink.received) == 4
    assert recording_sleep.calls == [0.5, 1.0, 2.0]


def test_deliver_when_400_then_failed_once_with_body_snippet(
        make_sink: MakeSink, recording_sleep: RecordingSleep) -> None:
    sink = make_sink(Reply(400, body={"success": False, "messageCode": "invalid-action", "message": "bad action"}))
    result = _client(recording_sleep).deliver(sink.url, PAYLOAD, label="ibs_a")
    assert (result.status, result.http_status, result.attempts) == (OrderStatus.FAILED, 400, 1)
    assert "invalid-action" in result.detail
    assert len(sink.received) == 1 and recording_sleep.calls == []


def test_deliver_when_500_then_unknown_and_not_retried(make_sink: MakeSink, recording_sleep: RecordingSleep) -> None:
    sink = make_sink(Reply(500))
    result = _client(recording_sleep).deliver(sink.url, PAYLOAD, label="ibs_a")
    assert (result.status, result.http_status, result.attempts) == (OrderStatus.UNKNOWN, 500, 1)
    assert len(sink.received) == 1 and recording_sleep.calls == []


def test_deliver_when_reply_slower_than_timeout_then_unknown_and_not_retried(
        make_sink: MakeSink, recording_sleep: RecordingSleep) -> None:
    sink = make_sink(Reply(200, delay_secs=2.0))
    started = time.monotonic()
    result = _client(recording_sleep, timeout_secs=0.3).deliver(sink.url, PAYLOAD, label="ibs_a")
    assert (result.status, result.http_status, result.attempts) == (OrderStatus.UNKNOWN, None, 1)
    assert time.monotonic() - started < 1.5
    assert len(sink.received) == 1 and recording_sleep.calls == []


def test_deliver_when_connection_dropped_after_request_then_unknown(
        make_sink: MakeSink, recording_sleep: RecordingSleep) -> None:
    sink = make_sink(Reply(drop=True))
    result = _client(recording_sleep).deliver(sink.url, PAYLOAD, label="ibs_a")
    assert (result.status, result.http_status, result.attempts) == (OrderStatus.UNKNOWN, None, 1)
    assert len(sink.received) == 1 and recording_sleep.calls == []


def test_deliver_when_connection_refused_then_retried_then_failed(
        closed_port: int, recording_sleep: RecordingSleep) -> None:
    result = _client(recording_sleep).deliver(f"http://127.0.0.1:{closed_port}/ibs_a", PAYLOAD, label="ibs_a")
    assert (result.status, result.http_status, result.attempts) == (OrderStatus.FAILED, None, 3)
    assert recording_sleep.calls == [0.5, 1.0]
    assert "refused" in result.detail.lower()


def test_deliver_when_redirect_then_failed_and_not_followed(
        make_sink: MakeSink, recording_sleep: RecordingSleep) -> None:
    sink = make_sink(Reply(307, headers={"Location": "/elsewhere"}))
    result = _client(recording_sleep).deliver(sink.url, PAYLOAD, label="ibs_a")
    assert (result.status, result.http_status, result.attempts) == (OrderStatus.FAILED, 307, 1)
    assert len(sink.received) == 1


def test_deliver_when_url_invalid_then_failed_without_raising(recording_sleep: RecordingSleep) -> None:
    result = _client(recording_sleep).deliver("not-a-url/secret", PAYLOAD, label="ibs_a")
    assert (result.status, result.attempts) == (OrderStatus.FAILED, 1)


@pytest.mark.parametrize("reply", [
    Reply(400, body={"message": f"bad request to {SECRET_PATH}"}),
    Reply(500),
    Reply(200, delay_secs=2.0),
    Reply(drop=True),
])
def test_deliver_never_puts_the_url_in_detail(make_sink: MakeSink, recording_sleep: RecordingSleep,
                                              reply: Reply, caplog: pytest.LogCaptureFixture) -> None:
    sink = make_sink(reply, default=Reply(429))
    url = f"{sink.url}{SECRET_PATH}"
    with caplog.at_level(logging.DEBUG, logger="multialpha"):
        result = _client(recording_sleep, timeout_secs=0.3).deliver(url, PAYLOAD, label="ibs_a")
    assert result.status is not OrderStatus.SENT
    assert "s3cret" not in result.detail and SECRET_PATH not in result.detail
    # a secret check, not a wording check: no record from this package may carry the secret
    assert all("s3cret" not in record.getMessage() for record in caplog.records)


def test_deliver_when_refused_never_puts_the_url_in_detail(closed_port: int, recording_sleep: RecordingSleep) -> None:
    result = _client(recording_sleep).deliver(f"http://127.0.0.1:{closed_port}{SECRET_PATH}", PAYLOAD, label="x")
    assert result.status is OrderStatus.FAILED
    assert "s3cret" not in result.detail


def test_deliver_when_retry_after_then_really_waits_that_long(make_sink: MakeSink) -> None:
    sink = make_sink(Reply(429, headers={"Retry-After": "1"}), Reply(200))
    client = TradersPostClient(timeout_secs=2.0, max_attempts=2, max_retry_wait_secs=5.0)
    started = time.monotonic()
    result = client.deliver(sink.url, PAYLOAD, label="ibs_a")
    waited = time.monotonic() - started
    assert (result.status, result.attempts) == (OrderStatus.SENT, 2)
    assert 1.0 <= waited < 3.0 and result.elapsed_secs >= 1.0
    first, second = (datetime.fromisoformat(r["received_at"]) for r in sink.received)
    assert (second - first).total_seconds() >= 1.0


def test_deliver_when_payload_not_json_serialisable_then_raises(recording_sleep: RecordingSleep) -> None:
    with pytest.raises(ValueError):
        _client(recording_sleep).deliver("http://127.0.0.1:9/x", {"price": float("nan")}, label="x")


def test_client_when_given_a_session_then_urllib3_retries_are_off(recording_sleep: RecordingSleep) -> None:
    session = requests.Session()
    TradersPostClient(timeout_secs=1.0, max_attempts=1, max_retry_wait_secs=1.0, session=session)
    for prefix in ("http://", "https://"):
        adapter = session.get_adapter(prefix + "example.test")
        assert isinstance(adapter, HTTPAdapter) and adapter.max_retries.total == 0


@pytest.mark.parametrize("settings", [
    dict(timeout_secs=0.0, max_attempts=1, max_retry_wait_secs=1.0),
    dict(timeout_secs=1.0, max_attempts=0, max_retry_wait_secs=1.0),
    dict(timeout_secs=1.0, max_attempts=1, max_retry_wait_secs=-1.0),
])
def test_client_when_settings_invalid_then_raises(settings: dict) -> None:
    with pytest.raises(ValueError):
        TradersPostClient(**settings)


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2024, 3, 1, 15, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Fri, 01 Mar 2024 15:00:30 GMT", now) == 30.0
    assert parse_retry_after("Fri, 01 Mar 2024 14:00:00 GMT", now) == 0.0
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-3", now) is None


def test_redact_url_keeps_scheme_and_host_only() -> None:
    assert redact_url("https://webhooks.traderspost.io/trading/webhook/uuid/pw") == "https://webhooks.traderspost.io/***"
    assert redact_url("http://127.0.0.1:8080/x?token=1") == "http://127.0.0.1:8080/***"
    assert redact_url("garbage") == "***"


def test_deliver_when_proxy_in_environment_then_post_goes_through_it(
        make_sink: MakeSink, recording_sleep: RecordingSleep, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = make_sink()  # the host below does not resolve: only the proxy can have answered
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with _client(recording_sleep) as client:
        result = client.deliver("http://orders.example.test/hook", PAYLOAD, label="ibs_a")
    assert result.status is OrderStatus.SENT
    assert [r["path"] for r in proxy.received] == ["/hook"]
