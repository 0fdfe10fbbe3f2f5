"""AlertPolicy: duplicates collapsed with a count, per-kind rate limits, the mode marker."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest

from multialpha.alerts import AlertPolicy, AlertSpec, Level, RecordingNotifier, marker_for_mode


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


def titles(rec: RecordingNotifier) -> list[str]:
    return [a.title for a in rec.alerts]


def test_same_title_within_window_is_sent_once_then_summarised_with_count(clock: Clock) -> None:
    rec = RecordingNotifier()
    policy = AlertPolicy(rec, dedup_window_secs=300, clock=clock)
    for n in range(4):
        policy.notify(Level.WARNING, "Order failed: ibs_a ES buy", f"HTTP 500 #{n}")
        clock.t += 10
    assert titles(rec) == ["Order failed: ibs_a ES buy"]
    clock.t += 300
    policy.flush()
    assert titles(rec) == ["Order failed: ibs_a ES buy", "Order failed: ibs_a ES buy (x4)"]
    summary = rec.alerts[1]
    assert summary.level is Level.WARNING
    assert "3 more time(s)" in summary.message and "HTTP 500 #3" in summary.message
    assert policy.counts.duplicates == 3


def test_same_title_after_window_is_sent_again(clock: Clock) -> None:
    rec = RecordingNotifier()
    policy = AlertPolicy(rec, dedup_window_secs=60, clock=clock)
    policy.notify(Level.INFO, "Entry ibs_a ES", "1")
    clock.t += 61
    policy.notify(Level.INFO, "Entry ibs_a ES", "2")
    assert [a.message for a in rec.alerts] == ["1", "2"]


def test_per_key_limit_holds_back_the_rest_and_summarises_them(clock: Clock) -> None:
    rec = RecordingNotifier()
    policy = AlertPolicy(rec, max_per_key=3, per_key_window_secs=600, dedup_window_secs=0, clock=clock)
    for symbol in ["ES", "NQ", "CL", "GC", "SI"]:
        policy.send(AlertSpec.of(Level.CRITICAL, f"Order of unknown outcome: ibs_a {symbol} buy", "timeout",
                                 key="unknown_order:ibs_a"))
    policy.send(AlertSpec.of(Level.CRITICAL, "Order of unknown outcome: ibs_b ES buy", "timeout",
                             key="unknown_order:ibs_b"))  # another kind: not limited
    assert len(rec.alerts) == 4
    clock.t += 600
    policy.flush()
    summary = rec.alerts[-1]
    assert summary.title == "2 alert(s) held back: unknown_order:ibs_a"
    assert summary.level is Level.CRITICAL
    assert "ibs_a GC" in summary.message and "ibs_a SI" in summary.message
    assert policy.counts.rate_limited == 2
    policy.send(AlertSpec.of(Level.CRITICAL, "Order of unknown outcome: ibs_a ZB buy", "t", key="unknown_order:ibs_a"))
    assert rec.alerts[-1].title.endswith("ZB buy")  # the window has moved on


@pytest.mark.parametrize(("mode", "prefix"), [("paper", "[PAPER] "), ("replay", ""), ("live", "")])
def test_every_title_carries_the_mode_marker_summaries_too(clock: Clock, mode: str, prefix: str) -> None:
    rec = RecordingNotifier()
    policy = AlertPolicy(rec, marker=marker_for_mode(mode), dedup_window_secs=60, clock=clock)
    policy.notify(Level.INFO, "multialpha started", "m")
    policy.notify(Level.INFO, "multialpha started", "m")
    clock.t += 60
    policy.flush()
    assert titles(rec) == [f"{prefix}multialpha started", f"{prefix}multialpha started (x2)"]


def test_close_sends_pending_summaries_and_closes_the_notifier(clock: Clock) -> None:
    class Closing(RecordingNotifier):
        closed = False

        def close(self, timeout_secs: float = 0.0) -> bool:
            self.closed = True
            return True

    rec = Closing()
    policy = AlertPolicy(rec, clock=clock).start(interval_secs=0.01)
    policy.notify(Level.INFO, "Halted: account", "a")
    policy.notify(Level.INFO, "Halted: account", "b")
    assert policy.close(timeout_secs=2) is True
    assert titles(rec) == ["Halted: account", "Halted: account (x2)"] and rec.closed


def test_notifier_that_raises_never_reaches_the_caller(clock: Clock) -> None:
    class Broken:
        def notify(self, level: Level, title: str, message: str, fields: Mapping[str, str] | None = None) -> None:
            raise RuntimeError("queue gone")

    AlertPolicy(Broken(), clock=clock).notify(Level.CRITICAL, "t", "m")


def test_concurrent_senders_each_alert_counted_once(clock: Clock) -> None:
    rec = RecordingNotifier()
    policy = AlertPolicy(rec, max_per_key=1000, clock=clock)

    def burst(worker: int) -> None:
        for n in range(200):
            policy.notify(Level.INFO, f"t{n % 20}", f"{worker}")

    threads = [threading.Thread(target=burst, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rec.alerts) == 20
    assert policy.counts.duplicates == 800 - 20
