"""Fixtures for the alerts tests: a real local HTTP server standing in for Discord."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from multialpha.execution import Reply, ResponsePlan, WebhookSink


@pytest.fixture
def make_sink(tmp_path: Path) -> Iterator[Callable[..., WebhookSink]]:
    sinks: list[WebhookSink] = []

    def _make(*replies: Reply, default: Reply | None = None) -> WebhookSink:
        # Discord answers a POST made with ?wait=true with the created message as JSON.
        ok = Reply(200, body={"id": "1", "type": 0, "content": ""})
        plan = ResponsePlan(replies, default=default if default is not None else ok)
        sink = WebhookSink(tmp_path / f"discord{len(sinks)}.jsonl", plan=plan)
        sinks.append(sink)
        return sink.start()

    yield _make
    for sink in sinks:
        sink.stop()


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
