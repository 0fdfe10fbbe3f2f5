"""The gateway misbehaves: rate limits, server errors, replies too slow, no gateway at all."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from multialpha.domain import OrderStatus
from multialpha.execution.sink import Reply, ResponsePlan

from .conftest import DAYS, Market
from .daemon import Daemon, Outcome, Sinks, backlog, free_port, kill, run_to_end

CRITICAL_COLOUR = 0xE74C3C  # the alert's level as Discord shows it


def _first_order(reference: Outcome) -> str:
    first = reference.webhooks[0]["body"]
    assert first["action"] == "buy"  # a flat book's first order is an entry
    return first["extras"]["signal_id"]


def _outbox(outcome: Outcome) -> dict[str, dict]:
    return {r["intent_id"]: r for r in outcome.outbox}


@pytest.mark.slow
def test_rate_limited_then_accepted_is_delivered_once_and_trades_as_without_it(
        market: Market, reference: Outcome, sinks: Sinks, tmp_path: Path):
    sinks.webhooks.plan = ResponsePlan([Reply(429, headers={"Retry-After": "0.2"})])
    daemon = Daemon(market.write_config(tmp_path), sinks.env(), tmp_path / "logs")
    outcome = run_to_end(daemon, sinks, DAYS)

    first = _first_order(reference)
    raw = sinks.webhooks.received
    assert [(r["status"], r["body"]) for r in raw[:2]] == [(429, reference.webhooks[0]["body"]),
                                                          (200, reference.webhooks[0]["body"])]
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

    first = _first_order(reference)
    raw = sinks.webhooks.received
    assert [r["body"]["extras"]["signal_id"] for r in raw].count(first) == 1  # not sent again
    assert [r["body"] for r in raw] == [w["body"] for w in reference.webhooks]
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
    while not backlog(down.state_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert kill(proc) == -9, down.stderr_of_last_run()[-4000:]
    first = _first_order(reference)
    assert backlog(down.state_path) == [(first, OrderStatus.PENDING)]  # committed, being retried

    daemon = Daemon(config, sinks.env(), tmp_path / "logs")
    assert sinks.webhooks.received == []  # so, as the gateway's log shows, it was not delivered
    settled = daemon.command("orders", "resolve", first, "--not-sent", "--by", "desk")
    assert settled.returncode == 0, settled.stderr
    assert backlog(daemon.state_path) == []

    outcome = run_to_end(daemon, sinks, DAYS)
    assert outcome.webhooks == reference.webhooks
    assert outcome.journal == reference.journal
    assert outcome.daily == reference.daily
    assert all(r["status"] is OrderStatus.SENT for r in outcome.outbox)
