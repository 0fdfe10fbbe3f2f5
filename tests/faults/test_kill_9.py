"""kill -9 at random moments, restart, repeat: the gateway gets every order exactly once and the
books end exactly as after one uninterrupted run.

More kills: ``MULTIALPHA_FAULT_KILLS=200 .venv/bin/pytest -q tests/faults/test_kill_9.py``;
another schedule: ``MULTIALPHA_FAULT_SEED=N``.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from multialpha.domain import OrderStatus
from multialpha.execution.sink import Reply, ResponsePlan
from multialpha.runner.recovery import CHECKPOINT
from multialpha.state import StateStore

from .conftest import DAYS, Market
from .daemon import (
    DAEMON_TIMEOUT_SECS,
    STARTED_ALERT,
    Daemon,
    Outcome,
    Sinks,
    cli_in_process,
    kill,
    read_store,
    settle_in_flight,
)

KILLS = int(os.environ.get("MULTIALPHA_FAULT_KILLS", "30"))
SEED = int(os.environ.get("MULTIALPHA_FAULT_SEED", "20240108"))
POLL_SECS = 0.002
SLOW_REPLY_SECS = 0.4  # below the webhook timeout: the order is delivered, the daemon waits
RETRY_AFTER_SECS = 0.3  # three of these fit in the daemon's retries (max_attempts 4)
RATE_LIMITED = Reply(429, headers={"Retry-After": str(RETRY_AFTER_SECS)})


def _wait(cond: Callable[[], bool], proc, timeout_secs: float = 60.0) -> bool:
    """True once ``cond`` holds; False if the daemon ended first (or after the timeout)."""
    deadline = time.monotonic() + timeout_secs
    while time.monotonic() < deadline:
        if cond():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(POLL_SECS)
    return False


def _started(sinks: Sinks, alerts_before: int) -> Callable[[], bool]:
    def cond() -> bool:
        embeds = [e for r in sinks.alerts.received[alerts_before:] for e in r["body"].get("embeds", [])]
        return any(e.get("title") == STARTED_ALERT for e in embeds)
    return cond


def _checkpoint(path: Path) -> object:
    """The last bar time the store says was fully processed."""
    if not path.exists():
        return None
    with StateStore.open(path, create=False) as store:
        snap = store.daily.load_snapshot(CHECKPOINT)
        return None if snap is None else snap.data["ts_ns"]


class KillSchedule:
    """Where the next kill lands: during start-up, during the warm-up replay, at a random moment
    of trading, within milliseconds of a webhook reaching the gateway, while the gateway holds
    its reply (the order is certainly in flight), or while the gateway rate-limits (the order
    is committed and waiting for its retry, and certainly not delivered). Delays are drawn so
    that the kills left spread over the trading left."""

    PLANS = ("start-up", "warm-up", "trading", "at a POST", "during a slow POST", "rate limited")
    WEIGHTS = (0.17, 0.13, 0.2, 0.2, 0.15, 0.15)

    def __init__(self, rng: random.Random, reference: Outcome, kills: int) -> None:
        self.rng = rng
        self.t = reference.timings
        self.total_posts = len(reference.webhooks)
        self.kills = kills

    def pick(self, finished: bool) -> str:
        if finished:  # the replay is over: kills can only land in start-up and warm-up now
            return self.rng.choice(self.PLANS[:2])
        return self.rng.choices(self.PLANS, self.WEIGHTS)[0]

    def plan_replies(self, plan: str, sinks: Sinks, k: int) -> None:
        """The gateway's replies for this run: the k-th request is slow or rate-limited."""
        if plan == "during a slow POST":
            sinks.webhooks.plan = ResponsePlan([Reply(200)] * (k - 1) + [Reply(200, delay_secs=SLOW_REPLY_SECS)])
        elif plan == "rate limited":  # killed before the retries run out: never FAILED
            sinks.webhooks.plan = ResponsePlan([Reply(200)] * (k - 1), default=RATE_LIMITED)
        else:
            sinks.webhooks.plan = ResponsePlan()

    def posts_ahead(self, done: int, posts_so_far: int) -> int:
        """How many more webhooks to let through before the kill."""
        left = max(1, self.total_posts - posts_so_far)
        return self.rng.randint(1, max(1, 2 * left // max(1, self.kills - done)))

    def trading_delay(self, done: int, posts_so_far: int) -> float:
        left = self.t["trading_secs"] * max(0.05, 1 - posts_so_far / self.total_posts)
        return self.rng.uniform(0, 2 * left / max(1, self.kills - done))

    def wait_for_the_moment(self, plan: str, proc, sinks: Sinks, *, done: int, posts_before: int,
                            alerts_before: int, k: int) -> None:
        rng, started = self.rng, _started(sinks, alerts_before)
        if plan == "start-up":
            _wait(lambda: False, proc, rng.uniform(0.0, self.t["startup_secs"] * 1.1))
        elif plan == "warm-up":
            if _wait(started, proc):
                time.sleep(rng.uniform(0.0, self.t["warmup_secs"]))
        elif plan == "trading":
            if _wait(started, proc):
                _wait(lambda: False, proc, self.t["warmup_secs"] + self.trading_delay(done, posts_before))
        elif _wait(lambda: sinks.webhooks.wait_for(posts_before + k, POLL_SECS), proc):
            time.sleep(rng.uniform(0.0, 0.003) if plan == "at a POST" else
                       rng.uniform(0.02, SLOW_REPLY_SECS - 0.05) if plan == "during a slow POST" else
                       rng.uniform(0.0, RETRY_AFTER_SECS - 0.05))


def _diff(got: list[dict], want: list[dict]) -> str:
    ids = [r["body"]["extras"]["signal_id"] for r in got]
    ref = [r["body"]["extras"]["signal_id"] for r in want]
    twice = sorted(i for i, n in Counter(ids).items() if n > 1)
    return (f"\nsent twice: {twice}\nnever sent: {sorted(set(ref) - set(ids))}"
            f"\nnot in the reference: {sorted(set(ids) - set(ref))}")


@pytest.mark.slow
def test_kill_9_at_random_moments_then_restart_sends_every_order_once_and_books_match(
        market: Market, reference: Outcome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    rng = random.Random(SEED)
    schedule = KillSchedule(rng, reference, KILLS)
    config = market.write_config(tmp_path)
    with Sinks(tmp_path) as sinks:
        daemon = Daemon(config, sinks.env(), tmp_path / "logs")
        for name, value in sinks.env().items():  # the operator's shell has the daemon's environment
            monkeypatch.setenv(name, value)
        state = daemon.state_path
        phases: Counter[str] = Counter()
        plans: Counter[str] = Counter()
        settled: Counter[str] = Counter()
        kills, finished, t0 = 0, False, time.monotonic()
        while kills < KILLS:
            plan = schedule.pick(finished)
            posts_before, alerts_before = len(sinks.webhooks.received), len(sinks.alerts.received)
            checkpoint_before = _checkpoint(state)
            k = schedule.posts_ahead(kills, posts_before)
            schedule.plan_replies(plan, sinks, k)
            proc = daemon.start()
            schedule.wait_for_the_moment(plan, proc, sinks, done=kills, posts_before=posts_before,
                                         alerts_before=alerts_before, k=k)
            rc = kill(proc)
            schedule.plan_replies("none", sinks, 0)
            if rc != -9:  # it got to the end before the kill landed
                assert rc == 0, f"run {daemon.runs} exited {rc}:\n{daemon.stderr_of_last_run()[-4000:]}"
                finished = True
                continue
            kills += 1
            plans[plan] += 1
            sinks.quiesce()
            received = sinks.received()
            ids = [r["body"]["extras"]["signal_id"] for r in received]
            assert len(ids) == len(set(ids)), f"after kill {kills} ({plan}): an order reached the gateway twice"
            if len(sinks.webhooks.received) > posts_before or _checkpoint(state) != checkpoint_before:
                phases["trading"] += 1
            elif _started(sinks, alerts_before)():
                phases["warm-up"] += 1
            else:
                phases["start-up"] += 1
            for sent in settle_in_flight(config, state, received, cli_in_process).values():
                settled["in flight, found at the gateway: --sent" if sent else
                        "in flight, not at the gateway: --not-sent"] += 1

        rc = daemon.start().wait(timeout=DAEMON_TIMEOUT_SECS)  # and now, to the end
        assert rc == 0, f"run {daemon.runs} exited {rc}:\n{daemon.stderr_of_last_run()[-4000:]}"
        report = (f"{kills} kills in {time.monotonic() - t0:.0f}s over {daemon.runs} runs (seed {SEED}); "
                  f"landed in: {dict(phases)}; planned as: {dict(plans)}; settled: {dict(settled)}")
        print(report)
        sinks.quiesce()
        final = read_store(state, DAYS)
        got = sinks.received()

    assert got == reference.webhooks, report + _diff(got, reference.webhooks)  # once each, same order per webhook
    assert final["journal"] == reference.journal, report
    assert final["daily"] == reference.daily, report
    assert final["coordinator"]["daily_pnl"] == reference.coordinator["daily_pnl"], report
    assert final["positions"] == reference.positions, report
    assert {r["intent_id"]: (r["status"], r["payload"]) for r in final["outbox"]} == {
        r["intent_id"]: (OrderStatus.SENT, r["payload"]) for r in reference.outbox}, report
    ignore = ("stats",)  # counts of entry requests: a bar processed twice asks twice
    assert ({k: v for k, v in final["coordinator"].items() if k not in ignore}
            == {k: v for k, v in reference.coordinator.items() if k not in ignore}), report
