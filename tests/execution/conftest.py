"""Fixtures for the execution tests: real local HTTP servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from multialpha.execution import WebhookSink


@pytest.fixture
def make_sink(make_webhook_sink: Callable[..., WebhookSink]) -> Callable[..., WebhookSink]:
    return make_webhook_sink
