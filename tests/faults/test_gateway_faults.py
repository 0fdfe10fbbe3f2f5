"""The gateway misbehaves: rate limits, server errors, replies too slow, no gateway at all."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from multialpha.domain import OrderStatus
from multialpha.execution.sink import Reply, ResponsePlan

from .conftest import DAYS, Market
from .daemon import Daemon, Outcome, Sinks, by_webhook, free_port, in_flight, kill, run_to_end

CRITICAL_COLOUR = 0xE74C3C  # the alert's level as Discord shows it


def _first_order(sinks: Sinks) -> str:
    """The order that got the gateway's first (scripted) reply: an entry, as the book starts flat."""
    first = sinks.webhooks.received[0]["body"]
    assert first["action"] == "buy"
    return first["extras"]["signal_id"]


def _outbox(outcome: Outcome) -> dict[str, dict]:
    return {r["intent_id"]: r for r in outcome.outbox}


@pytest.mark.slow
def test_rate_limited_then_accepted_is_delivered_once_and_trades_as_without_it(
        market: Market, reference: Outcome, sinks: Sinks, tmp_path: Path):
    sinks.webhooks.plan = ResponsePlan([Reply(429, headers={"Retry-After": "0.2"})])
    daemon = Daemon(market.write_config(tmp_path), sinks.env(), tmp_path / "logs")
    outcome = run_to_end(daemon, sinks, DAYS)

    first = _first_order(sinks)
    first_body = sinks.webhooks.received[0]["body"]
    raw = [r for r in sinks.webhooks.received if r["path"] == sinks.webhooks.received[0]["path"]]
    assert [(r["status"], r["body"]) for r in raw[:2]] == [(429, first_body), (200, first_body)]
    assert outcome.webhooks == reference.webhooks  # accepted: every order once
    row = _outbox(outcome)[first]
    assert (row["status"], row["attempts"], row["http_status"]) == (OrderStatus.SENT, 2, 200)
    assert all(r["status"] is OrderStatus.SENT for r in outcome.outbox)
    assert outcome.journal == reference.journal
    assert outcome.daily == reference.daily


@pytest.mark.slow
@pytest.mark.parametrize("reply, webhook", [
    (Reply(500), {}),
    (Reply(200, delay_secs=1.5), {"timeout_secs": 0.5}),
], ids=["server-error-500", "reply-slower-than-timeout"])
def test_entry_of_unknown_outcome_is_never_resent_is_alerted_and_listed_for_the_operator(
        market: Market, reference: Outcome, sinks: Sinks, tmp_path: Path, reply: Reply, webhook: dict):
    sinks.webhooks.plan = ResponsePlan([reply])
    daemon = Daemon(market.write_config(tmp_path, webhook=webhook), sinks.env(), tmp_path / "logs")
    outcome = run_to_end(daemon, sinks, DAYS)

    first = _first_order(sinks)
    raw = sinks.webhooks.received
    assert [r["body"]["extras"]["signal_id"] for r in raw].count(first) == 1  # not sent again
    assert [r["body"] for r in by_webhook(raw)] == [w["body"] for w in reference.webhooks]
    row = _outbox(outcome)[first]
    assert row["status"] is OrderStatus.UNKNOWN and row["attempts"] == 1
    assert row["http_status"] == (500 if reply.status == 500 else None)
    others = [r for r in outcome.outbox if r["intent_id"] != first]
    assert others and all(r["status"] is OrderStatus.SENT for r in others)

    alerts = [e for e in sinks.alert_embeds()
              if {"name": "intent", "value": first} in [{k: f[k] for k in ("name", "value")}
                                                        for f in e.get("fields", [])]]
    assert len(alerts) == 1 and alerts[0]["color"] == CRITICAL_COLOUR

    status = daemon.command("status", "--json")
    assert status.returncode == 0, status.stderr
    attention = json.loads(status.stdout)["orders_needing_attention"]
    assert [(o["intent_id"], o["status"]) for o in attention] == [(first, "unknown")]

    # An entry of unknown outcome is managed as open, so the books go on exactly as if it
    # had been delivered: the same exits, the same trades, the same P&L.
    assert outcome.journal == reference.journal
    assert outcome.daily == reference.daily


@pytest.mark.slow
def test_gateway_unreachable_killed_while_retrying_then_settled_not_sent_is_delivered_once_on_restart(
        market: Market, reference: Outcome, sinks: Sinks, tmp_path: Path):
    config = market.write_config(tmp_path, webhook={"max_attempts": 4, "max_retry_wait_secs": 5.0})
    down = Daemon(config, sinks.env(webhooks_url=f"http://127.0.0.1:{free_port()}"), tmp_path / "logs")
    proc = down.start()
    deadline = time.monotonic() + 60
    while not in_flight(down.state_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert kill(proc) == -9, down.stderr_of_last_run()[-4000:]
    tried = in_flight(down.state_path)
    assert tried and set(tried) <= {w["body"]["extras"]["signal_id"] for w in reference.webhooks}

    daemon = Daemon(config, sinks.env(), tmp_path / "logs")
    assert sinks.webhooks.received == []  # so, as the gateway's log shows, none was delivered
    for intent_id in tried:  # committed, being retried: settled as the gateway's log shows
        settled = daemon.command("orders", "resolve", intent_id, "--not-sent", "--by", "desk")
        assert settled.returncode == 0, settled.stderr
    assert in_flight(daemon.state_path) == []

    outcome = run_to_end(daemon, sinks, DAYS)
    assert outcome.webhooks == reference.webhooks
    assert outcome.journal == reference.journal
    assert outcome.daily == reference.daily
    assert all(r["status"] is OrderStatus.SENT for r in outcome.outbox)
