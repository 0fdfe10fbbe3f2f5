"""Log formats: json is one object per line (tracebacks included), and secrets never reach the file."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from multialpha.runner.logs import formatter_for, setup_logging

SECRET = "https://webhooks.traderspost.io/trading/webhook/abc/s3cret-token"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for h in root.handlers:
        h.close()
    root.handlers[:], root.level = handlers, level


def test_json_format_writes_one_object_per_line_with_event_extras_and_traceback(
        tmp_path: Path, restore_root: None) -> None:
    path = tmp_path / "daemon.log"
    setup_logging("INFO", [SECRET], file=path, fmt="json")
    log = logging.getLogger("multialpha.test")
    log.info("order.routed intent=%s status=%s", "ibs_a-ES-1", "sent", extra={"strategy": "ibs_a"})
    try:
        raise ConnectionError(f"POST {SECRET} refused")
    except ConnectionError:
        log.exception("order.failed url=%s", SECRET)
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["event"] == "order.routed" and first["level"] == "INFO" and first["logger"] == "multialpha.test"
    assert first["message"] == "order.routed intent=ibs_a-ES-1 status=sent"
    assert first["strategy"] == "ibs_a"
    assert second["event"] == "order.failed" and "ConnectionError" in second["exc"]
    assert "s3cret-token" not in path.read_text()


def test_text_format_keeps_the_key_value_line(tmp_path: Path, restore_root: None) -> None:
    path = tmp_path / "daemon.log"
    setup_logging("INFO", [SECRET], file=path)
    logging.getLogger("multialpha.test").warning("webhook.slow url=%s secs=%.1f", SECRET, 4.2)
    line = path.read_text()
    assert " WARNING " in line and "webhook.slow url=https://webhooks.traderspost.io/*** secs=4.2" in line


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log format"):
        formatter_for("xml")
