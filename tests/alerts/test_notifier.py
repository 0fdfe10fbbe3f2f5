from __future__ import annotations

import threading
import time

from multialpha.alerts import Alert, AlertQueue, Level, LogNotifier, RecordingNotifier


class _FlakyQueue(AlertQueue):
    """Fails every alert whose title starts with 'bad'; can be held to fill the queue."""

    def __init__(self, queue_size: int) -> None:
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()
        self.sent: list[str] = []
        super().__init__(queue_size=queue_size, name="flaky")

    def _deliver(self, alert: Alert) -> None:
        self.started.set()
        self.release.wait(10)
        if alert.title.startswith("bad"):
            raise RuntimeError("gateway down")
        self.sent.append(alert.title)


def test_log_notifier_when_any_input_then_never_raises() -> None:
    notifier = LogNotifier()
    notifier.notify(Level.CRITICAL, "halt", "daily stop hit", {"strategy": "ibs_a"})
    notifier.notify("not-a-level", "t", "m")
    assert notifier.close() is True


def test_recording_notifier_keeps_alerts() -> None:
    notifier = RecordingNotifier()
    notifier.notify(Level.WARNING, "stale feed", "no bar for 5 min", {"symbol": "6A"})
    assert [(a.level, a.title, dict(a.fields)) for a in notifier.alerts] == [
        (Level.WARNING, "stale feed", {"symbol": "6A"})]


def test_alert_queue_when_delivery_fails_then_counted_not_raised() -> None:
    queue = _FlakyQueue(queue_size=10)
    for title in ("ok-1", "bad-1", "ok-2"):
        queue.notify(Level.INFO, title, "m")
    assert queue.close(timeout_secs=5) is True
    assert (queue.sent, queue.failed, queue.delivered, queue.dropped) == (["ok-1", "ok-2"], 1, 2, 0)


def test_alert_queue_when_full_then_newest_dropped_without_blocking() -> None:
    queue = _FlakyQueue(queue_size=2)
    queue.release.clear()
    queue.notify(Level.INFO, "first", "m")
    assert queue.started.wait(5)  # the worker holds "first" and is stuck delivering it
    started = time.monotonic()
    for n in range(5):
        queue.notify(Level.INFO, f"later-{n}", "m")
    assert time.monotonic() - started < 0.1
    assert queue.dropped == 3
    queue.release.set()
    assert queue.close(timeout_secs=5) is True
    assert queue.sent == ["first", "later-0", "later-1"]


def test_alert_queue_when_closed_then_further_alerts_dropped() -> None:
    queue = _FlakyQueue(queue_size=2)
    assert queue.close(timeout_secs=5) is True
    queue.notify(Level.INFO, "late", "m")
    assert queue.dropped == 1 and queue.sent == []
