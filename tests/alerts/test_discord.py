"""DiscordNotifier against a real local HTTP server standing in for Discord."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest

from multialpha.alerts import Alert, DiscordNotifier, Level, LogNotifier, build_webhook, make_notifier
from multialpha.alerts.discord import COLOURS, MAX_FIELDS, MAX_TITLE_CHARS
from multialpha.execution import Reply, WebhookSink

MakeSink = Callable[..., WebhookSink]
SECRET_PATH = "/api/webhooks/1234/t0ken-s3cret"
DISCORD_MESSAGE = {"id": "1", "type": 0, "content": ""}


def test_discord_notifier_posts_embed_with_title_message_fields(make_sink: MakeSink) -> None:
    sink = make_sink()
    notifier = DiscordNotifier(f"{sink.url}{SECRET_PATH}", timeout_secs=2.0)
    notifier.notify(Level.CRITICAL, "Daily stop hit", "ibs_a halted for the day", {"strategy": "ibs_a", "pnl": "-1200"})
    assert notifier.close(timeout_secs=5) is True
    [record] = sink.received
    body = record["body"]
    assert record["path"] == SECRET_PATH
    assert body["username"] == "multialpha"
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert embed["title"] == "Daily stop hit"
    assert embed["description"] == "ibs_a halted for the day"
    assert embed["color"] == COLOURS[Level.CRITICAL]
    assert [(f["name"], f["value"]) for f in embed["fields"]] == [("strategy", "ibs_a"), ("pnl", "-1200")]
    assert (notifier.delivered, notifier.failed, notifier.dropped) == (1, 0, 0)


def test_discord_notifier_colours_differ_by_level(make_sink: MakeSink) -> None:
    sink = make_sink()
    notifier = DiscordNotifier(sink.url, timeout_secs=2.0)
    for level in Level:
        notifier.notify(level, level.value, "m")
    assert notifier.close(timeout_secs=5) is True
    colours = [r["body"]["embeds"][0]["color"] for r in sink.received]
    assert colours == [COLOURS[level] for level in Level] and len(set(colours)) == 3


def test_discord_notifier_when_server_stalls_and_queue_full_then_drops_without_blocking(
        make_sink: MakeSink) -> None:
    sink = make_sink(Reply(200, body=DISCORD_MESSAGE, delay_secs=1.0))
    notifier = DiscordNotifier(sink.url, queue_size=2, timeout_secs=5.0)
    notifier.notify(Level.INFO, "first", "m")
    assert sink.wait_for(1, timeout_secs=5)  # the worker is now stuck on the stalled reply
    started = time.monotonic()
    for n in range(5):
        notifier.notify(Level.INFO, f"later-{n}", "m")
    assert time.monotonic() - started < 0.1
    assert notifier.dropped == 3
    assert notifier.close(timeout_secs=10) is True  # drains what was queued
    assert [r["body"]["embeds"][0]["title"] for r in sink.received] == ["first", "later-0", "later-1"]
    assert (notifier.delivered, notifier.dropped) == (3, 3)


def test_discord_notifier_close_drains_queue(make_sink: MakeSink) -> None:
    sink = make_sink()
    notifier = DiscordNotifier(sink.url, timeout_secs=2.0)
    for n in range(20):
        notifier.notify(Level.INFO, f"alert-{n}", "m")
    assert notifier.close(timeout_secs=10) is True
    assert [r["body"]["embeds"][0]["title"] for r in sink.received] == [f"alert-{n}" for n in range(20)]
    assert notifier.pending == 0


def test_discord_notifier_when_rate_limited_then_retries(make_sink: MakeSink) -> None:
    sink = make_sink(Reply(429, headers={"Retry-After": "0.05"}, body={"retry_after": 0.05, "global": False}))
    notifier = DiscordNotifier(sink.url, timeout_secs=2.0)
    notifier.notify(Level.WARNING, "burst", "m")
    assert notifier.close(timeout_secs=5) is True
    assert [r["status"] for r in sink.received] == [429, 200]
    assert (notifier.delivered, notifier.failed) == (1, 0)


def test_discord_notifier_when_server_errors_then_counts_failure_never_raises(
        make_sink: MakeSink, closed_port: int, caplog: pytest.LogCaptureFixture) -> None:
    sink = make_sink(Reply(500))
    with caplog.at_level(logging.DEBUG, logger="multialpha"):
        for url in (f"{sink.url}{SECRET_PATH}", f"http://127.0.0.1:{closed_port}{SECRET_PATH}"):
            notifier = DiscordNotifier(url, timeout_secs=1.0)
            notifier.notify(Level.CRITICAL, "worker crashed", "m")
            assert notifier.close(timeout_secs=5) is True
            assert (notifier.delivered, notifier.failed) == (0, 1)
    # a secret check, not a wording check: no record from this package may carry the token
    assert all("s3cret" not in record.getMessage() for record in caplog.records)


def test_make_notifier_when_no_url_then_log_notifier(make_sink: MakeSink) -> None:
    assert isinstance(make_notifier(None, queue_size=10), LogNotifier)
    assert isinstance(make_notifier("  ", queue_size=10), LogNotifier)
    notifier = make_notifier(make_sink().url, queue_size=10)
    assert isinstance(notifier, DiscordNotifier) and notifier.queue_size == 10
    assert notifier.close(timeout_secs=5) is True


def test_discord_notifier_when_url_empty_then_raises() -> None:
    with pytest.raises(ValueError):
        DiscordNotifier("")


def test_build_webhook_cuts_text_to_discord_limits_without_sending() -> None:
    fields = {f"f{n}": "v" for n in range(40)}
    alert = Alert.create(Level.WARNING, "t" * 300, "", fields)
    webhook = build_webhook("http://127.0.0.1:9/hook", alert, username="multialpha", timeout_secs=1.0)
    [embed] = webhook.json["embeds"]
    assert len(embed["title"]) == MAX_TITLE_CHARS and embed["title"].endswith("\u2026")
    assert len(embed["fields"]) == MAX_FIELDS
    assert embed["description"] is None
    assert webhook.timeout == 1.0 and webhook.rate_limit_retry is False
