"""Deliver webhook payloads to TradersPost (or any URL) over HTTP, without ever resending an
order the gateway may already have acted on.

Rules, per ``deliver`` call:

* 2xx -> SENT.
* 429 -> wait (``Retry-After`` as delta-seconds or HTTP-date, capped at
  ``max_retry_wait_secs``; exponential backoff when absent) and retry until ``max_attempts``,
  then FAILED. A 429 means the request was refused, so repeating it is safe.
* connection refused, DNS failure, connect timeout (no byte of the request left) -> retry with
  backoff, then FAILED.
* read timeout, connection dropped after the request was sent, 5xx -> UNKNOWN, not retried:
  the gateway may have placed the order, and a second POST could place it twice.
* any other 4xx (and 3xx, which is not followed) -> FAILED, not retried.

The URL carries the webhook's secret, so it never appears in a log line or in ``detail``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError
from urllib3.util.retry import Retry

from multialpha.domain import DeliveryResult, OrderStatus
from multialpha.redaction import root_cause, scrub_url

log = logging.getLogger(__name__)

BACKOFF_BASE_SECS = 0.5
BACKOFF_CAP_SECS = 4.0
BODY_SNIPPET_CHARS = 200
USER_AGENT = "multialpha-webhook"


class WebhookClient(Protocol):
    """What the order router needs from an outbound webhook transport."""

    def deliver(self, url: str, payload: Mapping[str, Any], *, label: str) -> DeliveryResult: ...


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class _Kind(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    RATE_LIMITED = "rate_limited"  # 429: refused, safe to repeat
    NOT_SENT = "not_sent"  # connect-stage failure: safe to repeat


_FINAL_STATUS = {
    _Kind.SENT: OrderStatus.SENT,
    _Kind.FAILED: OrderStatus.FAILED,
    _Kind.UNKNOWN: OrderStatus.UNKNOWN,
    _Kind.RATE_LIMITED: OrderStatus.FAILED,
    _Kind.NOT_SENT: OrderStatus.FAILED,
}


@dataclass(frozen=True)
class _Attempt:
    kind: _Kind
    http_status: int | None
    detail: str
    retry_after_secs: float | None = None


def _failed_before_sending(exc: requests.exceptions.ConnectionError) -> bool:
    # With urllib3 retries off, connect-stage failures (refused, DNS, connect timeout) reach
    # requests wrapped in MaxRetryError; errors after the connection was up arrive as
    # ProtocolError/OSError, and those may follow a fully sent request.
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, ConnectTimeoutError)


def _snippet(response: requests.Response) -> str:
    try:
        text = response.text
    except Exception:  # undecodable body: the status alone must do
        return ""
    return re.sub(r"\s+", " ", text[:BODY_SNIPPET_CHARS]).strip()


class TradersPostClient:
    """Synchronous webhook sender; ``deliver`` never raises for an HTTP or network outcome."""

    def __init__(
        self,
        *,
        timeout_secs: float,
        max_attempts: int,
        max_retry_wait_secs: float,
        connect_timeout_secs: float = 3.0,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        if not timeout_secs > 0 or not connect_timeout_secs > 0:
            raise ValueError("timeout_secs and connect_timeout_secs must be > 0")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if max_retry_wait_secs < 0:
            raise ValueError(f"max_retry_wait_secs must be >= 0, got {max_retry_wait_secs}")
        self.timeout_secs = timeout_secs
        self.max_attempts = max_attempts
        self.max_retry_wait_secs = max_retry_wait_secs
        self.connect_timeout_secs = connect_timeout_secs
        self._sleep = sleep
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        # requests reads the proxy and CA-bundle environment on every request (a scan of the whole
        # environment, about 1 ms); it does not change while the daemon runs: read once per URL.
        self._env_reader: requests.Session | None = None
        self._env: dict[str, dict[str, Any]] = {}
        if self._owns_session:
            self._env_reader, self._session.trust_env = requests.Session(), False
        # urllib3 must not repeat a POST behind our back; only this class decides retries.
        adapter = HTTPAdapter(max_retries=Retry(total=0, read=False, redirect=False, raise_on_status=False))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        if self._owns_session:
            self._session.close()
        if self._env_reader is not None:
            self._env_reader.close()

    def _environment(self, url: str) -> dict[str, Any]:
        """Proxies, CA bundle and client certificate for ``url`` from the environment, as requests
        would read them on each request."""
        if self._env_reader is None:
            return {}
        settings = self._env.get(url)
        if settings is None:
            found = self._env_reader.merge_environment_settings(url, {}, None, None, None)
            settings = self._env[url] = {k: found[k] for k in ("proxies", "verify", "cert")}
        return settings

    def __enter__(self) -> TradersPostClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def deliver(self, url: str, payload: Mapping[str, Any], *, label: str) -> DeliveryResult:
        """POST ``payload`` as JSON to ``url``; ``label`` (e.g. the strategy) names it in logs.

        Raises ``ValueError``/``TypeError`` only if ``payload`` is not JSON-serialisable.
        """
        body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode("utf-8")
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            attempt = self._attempt(url, body)
            retryable = attempt.kind in (_Kind.RATE_LIMITED, _Kind.NOT_SENT)
            if retryable and attempts < self.max_attempts:
                wait = self._wait_secs(attempt, attempts)
                log.debug("webhook_retry label=%s attempt=%d kind=%s wait_secs=%.3f",
                          label, attempts, attempt.kind.value, wait)
                self._sleep(wait)
                continue
            detail = attempt.detail
            if retryable and attempts > 1:
                detail = f"{detail} (after {attempts} attempts)"
            result = DeliveryResult(
                status=_FINAL_STATUS[attempt.kind],
                http_status=attempt.http_status,
                attempts=attempts,
                detail=scrub_url(detail, url),
                elapsed_secs=time.monotonic() - started,
            )
            self._log_outcome(label, result)
            return result

    def _wait_secs(self, attempt: _Attempt, attempts: int) -> float:
        if attempt.retry_after_secs is not None:
            return min(attempt.retry_after_secs, self.max_retry_wait_secs)
        backoff = BACKOFF_BASE_SECS * 2 ** (attempts - 1)
        return min(backoff, BACKOFF_CAP_SECS, self.max_retry_wait_secs)

    def _attempt(self, url: str, body: bytes) -> _Attempt:
        try:
            response = self._session.post(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    # A fresh connection per order: a pooled connection the server already
                    # closed fails mid-send, and that failure cannot be told from a lost reply.
                    "Connection": "close",
                },
                timeout=(self.connect_timeout_secs, self.timeout_secs),
                allow_redirects=False,
                **self._environment(url),
            )
        except requests.exceptions.ConnectTimeout:
            return _Attempt(_Kind.NOT_SENT, None, "connect timeout")
        except requests.exceptions.ReadTimeout:
            return _Attempt(_Kind.UNKNOWN, None, f"no reply within {self.timeout_secs:g}s after sending")
        except requests.exceptions.SSLError as exc:
            # TLS fails during the handshake, before the request; repeating will not fix it.
            return _Attempt(_Kind.FAILED, None, f"TLS error: {root_cause(exc)}")
        except requests.exceptions.ConnectionError as exc:
            if _failed_before_sending(exc):
                return _Attempt(_Kind.NOT_SENT, None, f"connection failed: {root_cause(exc)}")
            return _Attempt(_Kind.UNKNOWN, None, f"connection lost after sending: {root_cause(exc)}")
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            return _Attempt(_Kind.UNKNOWN, None, f"reply broken after sending: {root_cause(exc)}")
        except (requests.exceptions.URLRequired, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL,
                requests.exceptions.InvalidHeader) as exc:
            return _Attempt(_Kind.FAILED, None, f"invalid webhook URL or header ({type(exc).__name__})")
        except requests.exceptions.RequestException as exc:
            return _Attempt(_Kind.UNKNOWN, None, f"request error: {type(exc).__name__}")
        with response:
            return self._classify(response)

    def _classify(self, response: requests.Response) -> _Attempt:
        code = response.status_code
        if 200 <= code < 300:
            return _Attempt(_Kind.SENT, code, f"HTTP {code}")
        if code == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
            return _Attempt(_Kind.RATE_LIMITED, code, "HTTP 429 rate limited", retry_after)
        snippet = _snippet(response)
        text = f"HTTP {code}: {snippet}" if snippet else f"HTTP {code}"
        if code >= 500:
            return _Attempt(_Kind.UNKNOWN, code, text)
        if 300 <= code < 400:
            return _Attempt(_Kind.FAILED, code, f"HTTP {code}: redirect not followed")
        return _Attempt(_Kind.FAILED, code, text)

    @staticmethod
    def _log_outcome(label: str, result: DeliveryResult) -> None:
        level = logging.INFO if result.status is OrderStatus.SENT else logging.ERROR
        log.log(
            level,
            "webhook_delivery label=%s status=%s http_status=%s attempts=%d elapsed_secs=%.3f detail=%r",
            label, result.status.value, result.http_status, result.attempts, result.elapsed_secs,
            result.detail,
            extra={
                "event": "webhook_delivery",
                "label": label,
                "delivery_status": result.status.value,
                "http_status": result.http_status,
                "attempts": result.attempts,
                "elapsed_secs": result.elapsed_secs,
            },
        )
