"""Fixtures for the alerts tests: a real local HTTP server standing in for Discord."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from multialpha.execution import Reply, WebhookSink

# Discord answers a POST made with ?wait=true with the created message as JSON.
DISCORD_OK = Reply(200, body={"id": "1", "type": 0, "content": ""})


@pytest.fixture
def make_sink(make_webhook_sink: Callable[..., WebhookSink]) -> Callable[..., WebhookSink]:
    def _make(*replies: Reply, default: Reply | None = None) -> WebhookSink:
        return make_webhook_sink(*replies, default=default if default is not None else DISCORD_OK)

    return _make
