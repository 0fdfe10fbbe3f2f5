"""The health assessment: which states are ok, degraded (503, no restart) or failing (restart)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from multialpha.feeds.source import FeedStatus
from multialpha.runner.health import (
    HealthPolicy,
    HealthSnapshot,
    OutboxCounts,
    ProblemCode,
    Verdict,
    WorkerHealth,
    assess,
)

NOW = datetime(2024, 7, 2, 15, 0, 5, tzinfo=UTC)
LIVE_FEED = FeedStatus(live=True, connected=True, last_bar_time=NOW - timedelta(seconds=5), silence_secs=1.0)


def healthy(**changes: Any) -> HealthSnapshot:
    base = HealthSnapshot(
        now=NOW, mode="paper", version="0.1.0", started_at=NOW - timedelta(hours=3),
        workers=(WorkerHealth("ibs_a", "running", True), WorkerHealth("ibs_b", "running", True)),
        feed=LIVE_FEED, last_bars={"ES": NOW - timedelta(seconds=5)}, trading={"account": "active"},
        bar_times=700, running=True)
    return dataclasses.replace(base, **changes)


def test_assess_when_everything_runs_then_ok_with_no_problems() -> None:
    report = assess(healthy())
    assert (report.verdict, report.problems, report.healthy, report.watchdog_ok) == (Verdict.OK, (), True, True)
    assert report.reason() == "ok"


@pytest.mark.parametrize(("changes", "code", "verdict"), [
    pytest.param({"feed": dataclasses.replace(LIVE_FEED, stale=True, silence_secs=400.0)},
                 ProblemCode.FEED_STALE, Verdict.FAILING, id="stale feed"),
    pytest.param({"feed": dataclasses.replace(LIVE_FEED, connected=False)},
                 ProblemCode.FEED_DISCONNECTED, Verdict.DEGRADED, id="feed reconnecting"),
    pytest.param({"bar_time_started_at": NOW - timedelta(seconds=301)},
                 ProblemCode.BAR_TIME_STALLED, Verdict.FAILING, id="bar time stuck"),
    pytest.param({"workers": (WorkerHealth("ibs_a", "running", False),)},
                 ProblemCode.WORKER_DEAD, Verdict.FAILING, id="worker thread died"),
    pytest.param({"workers": (WorkerHealth("ibs_a", "failed", False, "bundle ES: bad hash"),)},
                 ProblemCode.STRATEGY_FAILED, Verdict.DEGRADED, id="strategy failed"),
    pytest.param({"outbox": OutboxCounts(unknown=1)}, ProblemCode.ORDERS_UNKNOWN, Verdict.DEGRADED,
                 id="order of unknown outcome"),
    pytest.param({"outbox": OutboxCounts(pending=3, oldest_pending_at=NOW - timedelta(seconds=200))},
                 ProblemCode.ORDERS_WAITING, Verdict.DEGRADED, id="orders waiting for the gateway"),
    pytest.param({"running": False}, ProblemCode.NOT_STARTED, Verdict.DEGRADED, id="still starting"),
])
def test_assess_when_one_thing_wrong_then_problem_and_verdict_name_it(
        changes: dict[str, Any], code: ProblemCode, verdict: Verdict) -> None:
    report = assess(healthy(**changes))
    assert [p.code for p in report.problems] == [code]
    assert report.verdict is verdict
    assert report.healthy is False
    assert report.watchdog_ok is (verdict is not Verdict.FAILING)


def test_assess_when_bar_time_in_progress_within_limit_then_ok() -> None:
    report = assess(healthy(bar_time_started_at=NOW - timedelta(seconds=20)), HealthPolicy(stall_secs=30))
    assert report.verdict is Verdict.OK


def test_assess_when_replay_files_then_feed_is_never_stale_or_disconnected() -> None:
    files = FeedStatus(live=False, connected=False, last_bar_time=NOW - timedelta(days=300))
    assert assess(healthy(feed=files, mode="replay")).verdict is Verdict.OK


def test_assess_when_several_problems_then_worst_first_and_verdict_is_worst() -> None:
    report = assess(healthy(outbox=OutboxCounts(unknown=2),
                            feed=dataclasses.replace(LIVE_FEED, stale=True)))
    assert [p.code for p in report.problems] == [ProblemCode.FEED_STALE, ProblemCode.ORDERS_UNKNOWN]
    assert report.verdict is Verdict.FAILING


def test_report_to_dict_gives_ages_states_and_counts() -> None:
    snap = healthy(outbox=OutboxCounts(pending=1, unknown=0, oldest_pending_at=NOW - timedelta(seconds=4)),
                   trading={"account": "active", "ibs_b": "halted"})
    body = assess(snap).to_dict()
    assert body["status"] == "ok" and body["healthy"] is True
    assert body["mode"] == "paper" and body["version"] == "0.1.0"
    assert body["uptime_secs"] == 3 * 3600
    assert body["workers"]["ibs_a"] == {"state": "running", "alive": True, "error": None}
    assert body["last_bar_age_secs"] == {"ES": 5.0}
    assert body["outbox"] == {"pending": 1, "unknown": 0, "oldest_pending_age_secs": 4.0}
    assert body["trading"] == {"account": "active", "ibs_b": "halted"}
    assert body["feed"]["connected"] is True and body["feed"]["stale"] is False
    assert body["hub"] == {"running": True, "bar_times": 700, "bar_time_in_progress_secs": None}
