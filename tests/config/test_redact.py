from __future__ import annotations

import logging
import sys
from typing import Any

import pytest

from multialpha.config import RedactingFilter, load_app_config, redact_text, redact_url, secrets_of

HOOK = "https://webhooks.traderspost.io/trading/webhook/0f3c9a/s3cr3t-t0ken"


@pytest.mark.parametrize(("url", "shown"), [
    (HOOK, "https://webhooks.traderspost.io/***"),
    ("https://user:pw@discord.com:443/api/webhooks/1/abc?x=1", "https://discord.com:443/***"),
    ("not a url", "***"),
    ("", "***"),
    ("http://[::1", "***"),
])
def test_redact_url_keeps_scheme_and_host_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_replaces_every_occurrence_of_every_secret() -> None:
    text = f"POST {HOOK} failed; retrying {HOOK} with key db-KEY-123"
    assert redact_text(text, [HOOK, "db-KEY-123", ""]) == (
        "POST https://webhooks.traderspost.io/*** failed; retrying https://webhooks.traderspost.io/*** "
        "with key ***")


def test_redact_text_when_secret_contains_another_then_longest_is_replaced_whole() -> None:
    assert redact_text(f"{HOOK}", ["s3cr3t", HOOK]) == "https://webhooks.traderspost.io/***"


def _record(msg: str, args: Any = (), **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("multialpha.test", logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_filter_when_secret_in_args_then_record_message_and_args_are_scrubbed() -> None:
    record = _record("posting to %s (attempt %d)", (HOOK, 2))
    assert RedactingFilter([HOOK]).filter(record) is True
    assert record.getMessage() == "posting to https://webhooks.traderspost.io/*** (attempt 2)"
    assert HOOK not in repr(record.args)
    assert HOOK not in str(record.msg)


def test_filter_when_secret_in_message_then_message_is_scrubbed() -> None:
    record = _record(f"bad response from {HOOK}")
    RedactingFilter([HOOK]).filter(record)
    assert record.getMessage() == "bad response from https://webhooks.traderspost.io/***"


def test_filter_when_args_do_not_fit_format_then_parts_are_scrubbed_without_raising() -> None:
    record = _record("posting to %s and %s", (HOOK,))
    RedactingFilter([HOOK]).filter(record)
    assert record.args == ("https://webhooks.traderspost.io/***",)


def test_filter_when_no_secret_present_then_record_is_untouched() -> None:
    record = _record("order %s sent", ("ES",))
    RedactingFilter([HOOK]).filter(record)
    assert (record.msg, record.args) == ("order %s sent", ("ES",))


def test_filter_when_secret_in_extra_field_or_traceback_then_both_are_scrubbed() -> None:
    try:
        raise ConnectionError(f"HTTPSConnectionPool: Max retries exceeded with url: {HOOK}")
    except ConnectionError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("multialpha.test", logging.ERROR, __file__, 1, "send failed", (), exc_info)
    record.__dict__["url"] = HOOK
    RedactingFilter([HOOK]).filter(record)
    assert record.__dict__["url"] == "https://webhooks.traderspost.io/***"
    assert record.exc_text is not None
    assert HOOK not in record.exc_text
    assert "ConnectionError" in record.exc_text


def test_secrets_of_collects_every_secret_in_the_config(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], secret: str) -> None:
    discord = "https://discord.com/api/webhooks/1/d-s3cret"
    doc["runtime"] = {"alerts": {"discord_webhook_url": discord},
                      "data": {"source": "databento", "databento": {"api_key": "db-KEY-123"}}}
    spare = dict(doc["strategies"]["ibs_a"], enabled=False, broker_account="https://h.io/spare-s3cret")
    doc["strategies"]["spare"] = spare
    cfg = load_app_config(write_config(doc), env=env)
    assert sorted(secrets_of(cfg)) == sorted([secret, "https://h.io/spare-s3cret", discord, "db-KEY-123"])


def test_secrets_of_when_no_optional_secrets_then_only_broker_accounts(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], secret: str) -> None:
    assert secrets_of(load_app_config(write_config(doc), env=env)) == [secret]
