"""Execution: order intents, TradersPost payloads and delivery, and a local webhook sink."""

from multialpha.domain import (
    Action,
    DeliveryResult,
    OrderIntent,
    OrderStatus,
    make_intent_id,
    utc_iso,
)
from multialpha.execution.payloads import build_payload
from multialpha.execution.sink import Reply, ResponsePlan, WebhookSink, read_sink_log, serve_forever
from multialpha.execution.traderspost import TradersPostClient, WebhookClient, parse_retry_after
from multialpha.redaction import redact_url

__all__ = [
    "Action",
    "DeliveryResult",
    "OrderStatus",
    "OrderIntent",
    "Reply",
    "ResponsePlan",
    "TradersPostClient",
    "WebhookClient",
    "WebhookSink",
    "build_payload",
    "make_intent_id",
    "parse_retry_after",
    "read_sink_log",
    "redact_url",
    "serve_forever",
    "utc_iso",
]
