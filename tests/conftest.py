"""Fixtures shared by every room's tests: real local HTTP servers on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from multialpha.execution import Reply, ResponsePlan, WebhookSink


@pytest.fixture
def make_webhook_sink(tmp_path: Path) -> Iterator[Callable[..., WebhookSink]]:
    """Start sinks with scripted replies; every sink is stopped at teardown."""
    sinks: list[WebhookSink] = []

    def _make(*replies: Reply, default: Reply | None = None) -> WebhookSink:
        sink = WebhookSink(tmp_path / f"sink{len(sinks)}.jsonl", plan=ResponsePlan(replies, default=default))
        sinks.append(sink)
        return sink.start()

    yield _make
    for sink in sinks:
        sink.stop()


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
