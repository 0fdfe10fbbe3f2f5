"""Discord alerts through an incoming webhook, sent from a background queue.

The webhook URL embeds its token, so it is never logged: errors are reported with the URL
reduced to ``scheme://host/***``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping

from discord_webhook import DiscordEmbed, DiscordWebhook

from multialpha.alerts.notifier import Alert, AlertQueue, Level, LogNotifier
from multialpha.redaction import root_cause, scrub_url

COLOURS = {Level.INFO: 0x3498DB, Level.WARNING: 0xF39C12, Level.CRITICAL: 0xE74C3C}

# Discord's embed limits; longer text is cut rather than rejected.
MAX_TITLE_CHARS = 256
MAX_DESCRIPTION_CHARS = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME_CHARS = 256
MAX_FIELD_VALUE_CHARS = 1024

# A repeated alert is harmless, so a 429 is retried, briefly: the queue must keep moving.
MAX_ATTEMPTS = 3
MAX_RATE_LIMIT_WAIT_SECS = 5.0


class DiscordDeliveryError(Exception):
    """Discord answered with a status other than 200/204."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def build_webhook(url: str, alert: Alert, *, username: str, timeout_secs: float) -> DiscordWebhook:
    """The Discord message for ``alert``: one embed coloured by level, fields inline."""
    embed = DiscordEmbed(
        title=_cut(alert.title or alert.level.value.upper(), MAX_TITLE_CHARS),
        description=_cut(alert.message, MAX_DESCRIPTION_CHARS) or None,
        color=COLOURS[alert.level],
    )
    for name, value in alert.fields[:MAX_FIELDS]:
        embed.add_embed_field(name=_cut(name or "-", MAX_FIELD_NAME_CHARS),
                              value=_cut(value or "-", MAX_FIELD_VALUE_CHARS))
    embed.set_timestamp(alert.created_at)
    webhook = DiscordWebhook(
        url=url,
        username=username,
        timeout=timeout_secs,
        rate_limit_retry=False,  # retried here, with a cap, instead of the library's unbounded loop
        allowed_mentions={"parse": []},  # an alert text must never ping @everyone
    )
    webhook.add_embed(embed)
    return webhook


def _retry_after_secs(headers: Mapping[str, str], content: bytes) -> float:
    """Seconds to wait after a 429: the header, else Discord's JSON ``retry_after``; capped."""
    value: object = headers.get("Retry-After")
    if value is None:
        try:
            body = json.loads(content.decode("utf-8"))
        except ValueError:
            body = None
        value = body.get("retry_after") if isinstance(body, dict) else None
    try:
        seconds = float(str(value))
    except ValueError:
        return 1.0
    if not math.isfinite(seconds) or seconds < 0:
        return 1.0
    return min(seconds, MAX_RATE_LIMIT_WAIT_SECS)


class DiscordNotifier(AlertQueue):
    """Posts alerts to a Discord webhook from a daemon thread; ``notify`` never blocks."""

    def __init__(self, url: str, *, queue_size: int = 1000, timeout_secs: float = 5.0,
                 username: str = "multialpha") -> None:
        if not url or not url.strip():
            raise ValueError("Discord webhook URL is empty")
        if not timeout_secs > 0:
            raise ValueError(f"timeout_secs must be > 0, got {timeout_secs}")
        self._url = url.strip()
        self.timeout_secs = timeout_secs
        self.username = username
        super().__init__(queue_size=queue_size, name="discord")

    def _deliver(self, alert: Alert) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            webhook = build_webhook(self._url, alert, username=self.username, timeout_secs=self.timeout_secs)
            response = webhook.api_post_request()
            status = response.status_code
            if status in (200, 204):
                return
            if status == 429 and attempt < MAX_ATTEMPTS:
                time.sleep(_retry_after_secs(response.headers, response.content))
                continue
            raise DiscordDeliveryError(status)

    def _describe_error(self, exc: BaseException) -> str:
        # Built from the innermost cause, never from str(exc): requests quotes the URL.
        if isinstance(exc, DiscordDeliveryError):
            return str(exc)
        return scrub_url(f"{type(exc).__name__}: {root_cause(exc)}", self._url)


def make_notifier(url: str | None, queue_size: int = 1000) -> LogNotifier | DiscordNotifier:
    """A Discord notifier for ``url``, or a log-only one when no URL is configured."""
    if url is None or not url.strip():
        return LogNotifier()
    return DiscordNotifier(url, queue_size=queue_size)
