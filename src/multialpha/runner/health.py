"""Is the daemon healthy? One assessment, read by ``/health`` and by the systemd watchdog.

The runner supplies a ``HealthSnapshot`` (plain values, gathered without blocking trading);
``assess`` turns it into a ``HealthReport`` with a verdict and the problems behind it:

* ``ok``: nothing needs a human. ``/health`` answers 200.
* ``degraded``: a human should look, but restarting would not help: a strategy failed (its
  positions are managed by the hub and it stays halted), orders of unknown outcome hold its
  entries, orders wait too long in the outbox (the gateway is failing), the market feed is
  disconnected but not yet stale. ``/health`` answers 503; the watchdog keeps pinging.
* ``failing``: the daemon cannot do its job and a restart is the remedy: the market feed is
  stale (silent beyond its limit), a bar time has been in progress longer than
  ``runtime.health.stall_secs`` (a stuck worker or hub), a worker's thread died while it was
  supposed to run. ``/health`` answers 503 and the watchdog stops pinging, so systemd restarts
  the service (crash-only: start-up recovers from the state store).

Restarting for a failed strategy would only loop (its bundle is still bad, it is still halted),
so that stays ``degraded``: the alert and the 503 bring the human.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from multialpha.feeds.source import FeedStatus


class Verdict(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    FAILING = "failing"


class ProblemCode(StrEnum):
    FEED_STALE = "feed_stale"
    FEED_DISCONNECTED = "feed_disconnected"
    BAR_TIME_STALLED = "bar_time_stalled"
    WORKER_DEAD = "worker_dead"
    STRATEGY_FAILED = "strategy_failed"
    ORDERS_UNKNOWN = "orders_unknown"
    ORDERS_WAITING = "orders_waiting"
    NOT_STARTED = "not_started"


# What each problem means for the verdict; the worst one wins.
SEVERITY: Mapping[ProblemCode, Verdict] = {
    ProblemCode.FEED_STALE: Verdict.FAILING,
    ProblemCode.BAR_TIME_STALLED: Verdict.FAILING,
    ProblemCode.WORKER_DEAD: Verdict.FAILING,
    ProblemCode.FEED_DISCONNECTED: Verdict.DEGRADED,
    ProblemCode.STRATEGY_FAILED: Verdict.DEGRADED,
    ProblemCode.ORDERS_UNKNOWN: Verdict.DEGRADED,
    ProblemCode.ORDERS_WAITING: Verdict.DEGRADED,
    ProblemCode.NOT_STARTED: Verdict.DEGRADED,
}
_RANK = {Verdict.OK: 0, Verdict.DEGRADED: 1, Verdict.FAILING: 2}


@dataclass(frozen=True)
class WorkerHealth:
    """One strategy worker. ``state`` is its lifecycle value (created, ready, running, ...)."""

    name: str
    state: str
    thread_alive: bool  # its thread is running (False before start and after it ended)
    error: str | None = None


@dataclass(frozen=True)
class OutboxCounts:
    pending: int = 0  # committed, not yet delivered
    unknown: int = 0  # delivery outcome unknown: an operator must settle them
    oldest_pending_at: datetime | None = None  # when the oldest PENDING row was committed


@dataclass(frozen=True)
class HealthSnapshot:
    """Everything the assessment looks at, as plain values; times are timezone-aware UTC."""

    now: datetime
    mode: str  # replay | paper | live
    version: str
    started_at: datetime
    workers: tuple[WorkerHealth, ...] = ()
    feed: FeedStatus | None = None  # None before the bar source exists
    last_bars: Mapping[str, datetime] = field(default_factory=dict)  # symbol -> close time of its last bar
    outbox: OutboxCounts = field(default_factory=OutboxCounts)
    trading: Mapping[str, str] = field(default_factory=dict)  # scope ("account" or a strategy) -> state
    bar_time_started_at: datetime | None = None  # the hub is inside a bar time since then; None when idle
    bar_times: int = 0  # bar times fully processed since start
    running: bool = False  # the workers were started (False while loading, warming up the process)


@dataclass(frozen=True)
class HealthPolicy:
    stall_secs: float = 300.0  # runtime.health.stall_secs
    max_order_wait_secs: float = 120.0  # a PENDING order older than this: the gateway is not keeping up


@dataclass(frozen=True)
class Problem:
    code: ProblemCode
    detail: str

    @property
    def severity(self) -> Verdict:
        return SEVERITY[self.code]


@dataclass(frozen=True)
class HealthReport:
    verdict: Verdict
    problems: tuple[Problem, ...]
    snapshot: HealthSnapshot

    @property
    def healthy(self) -> bool:
        """``/health`` answers 200 only when this is True."""
        return self.verdict is Verdict.OK

    @property
    def watchdog_ok(self) -> bool:
        """The watchdog pings only when this is True: everything short of ``failing``."""
        return self.verdict is not Verdict.FAILING

    def reason(self) -> str:
        """The problems in one line (``ok`` when there are none)."""
        return "; ".join(f"{p.code.value}: {p.detail}" for p in self.problems) or "ok"

    def to_dict(self) -> dict[str, Any]:
        """The ``/health`` body."""
        s = self.snapshot
        return {
            "status": self.verdict.value,
            "healthy": self.healthy,
            "problems": [{"code": p.code.value, "severity": p.severity.value, "detail": p.detail}
                         for p in self.problems],
            "mode": s.mode,
            "version": s.version,
            "started_at": s.started_at.isoformat(),
            "uptime_secs": round(_secs(s.now, s.started_at), 3),
            "now": s.now.isoformat(),
            "workers": {w.name: {"state": w.state, "alive": w.thread_alive, "error": w.error} for w in s.workers},
            "feed": None if s.feed is None else _feed(s.feed),
            "last_bar_age_secs": {sym: round(_secs(s.now, t), 3) for sym, t in sorted(s.last_bars.items())},
            "outbox": {"pending": s.outbox.pending, "unknown": s.outbox.unknown,
                       "oldest_pending_age_secs": None if s.outbox.oldest_pending_at is None
                       else round(_secs(s.now, s.outbox.oldest_pending_at), 3)},
            "trading": dict(sorted(s.trading.items())),
            "hub": {"running": s.running, "bar_times": s.bar_times,
                    "bar_time_in_progress_secs": None if s.bar_time_started_at is None
                    else round(_secs(s.now, s.bar_time_started_at), 3)},
        }


class HealthProvider(Protocol):
    def __call__(self) -> HealthSnapshot:
        """The daemon's state now; called from the HTTP and watchdog threads, must not block trading."""
        ...


def assess(snapshot: HealthSnapshot, policy: HealthPolicy | None = None) -> HealthReport:
    """The verdict and every problem, worst first."""
    policy = policy or HealthPolicy()
    s = snapshot
    problems: list[Problem] = []
    add = problems.append
    if not s.running:
        add(Problem(ProblemCode.NOT_STARTED, "the strategy workers are not running yet"))
    feed = s.feed
    if feed is not None and feed.live:
        silence = "" if feed.silence_secs is None else f" for {feed.silence_secs:.0f}s"
        if feed.stale:
            add(Problem(ProblemCode.FEED_STALE, f"the market feed has been silent{silence}"))
        elif not feed.connected:
            add(Problem(ProblemCode.FEED_DISCONNECTED, "the market feed is not connected"))
    if s.bar_time_started_at is not None:
        busy = _secs(s.now, s.bar_time_started_at)
        if busy > policy.stall_secs:
            add(Problem(ProblemCode.BAR_TIME_STALLED,
                        f"a bar time has been in progress for {busy:.0f}s (limit {policy.stall_secs:.0f}s)"))
    for w in s.workers:
        if w.state == "running" and not w.thread_alive and s.running:
            add(Problem(ProblemCode.WORKER_DEAD, f"strategy {w.name}: its thread ended while running"))
        elif w.state == "failed":
            add(Problem(ProblemCode.STRATEGY_FAILED, f"strategy {w.name}: {w.error or 'failed'}"))
    if s.outbox.unknown:
        add(Problem(ProblemCode.ORDERS_UNKNOWN,
                    f"{s.outbox.unknown} order(s) of unknown outcome: settle with `multialpha orders resolve`"))
    if s.outbox.oldest_pending_at is not None:
        waited = _secs(s.now, s.outbox.oldest_pending_at)
        if waited > policy.max_order_wait_secs:
            add(Problem(ProblemCode.ORDERS_WAITING,
                        f"{s.outbox.pending} order(s) waiting for delivery, the oldest for {waited:.0f}s"))
    problems.sort(key=lambda p: -_RANK[p.severity])
    verdict = max((p.severity for p in problems), key=_RANK.__getitem__, default=Verdict.OK)
    return HealthReport(verdict, tuple(problems), snapshot)


def _secs(now: datetime, then: datetime) -> float:
    return max(0.0, (now - then).total_seconds())


def _feed(feed: FeedStatus) -> dict[str, Any]:
    return {"live": feed.live, "connected": feed.connected, "stale": feed.stale,
            "silence_secs": None if feed.silence_secs is None else round(feed.silence_secs, 3),
            "last_bar_time": None if feed.last_bar_time is None else feed.last_bar_time.isoformat(),
            "detail": feed.detail}
