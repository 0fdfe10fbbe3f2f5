"""``AlertPolicy``: what reaches the operator, in front of any notifier.

* The same title again within ``dedup_window_secs`` is not sent; when the window closes, one
  "title (xN)" alert says how often it came and what the last one said.
* At most ``max_per_key`` alerts of one kind (``AlertSpec.key``, else the title) go out per
  ``per_key_window_secs``; the rest are summarised in one alert when the window has passed.
* In paper mode every title starts with ``[PAPER]``, so a paper alert can never be mistaken for
  a live one.

Suppressed alerts are still logged one by one. Synchronous with an injected clock; ``start``
adds a thread that sends the summaries when their windows close. ``send``/``notify`` never
block on I/O and never raise (the notifier behind is a queue).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from multialpha.alerts import messages
from multialpha.alerts.messages import AlertSpec
from multialpha.alerts.notifier import Level, Notifier

log = logging.getLogger(__name__)
MARKERS = {"paper": "[PAPER]"}  # live has none; replay alerts only reach local sinks
_RANK = {Level.INFO: 0, Level.WARNING: 1, Level.CRITICAL: 2}


def marker_for_mode(mode: str) -> str:
    """The title prefix of every alert in ``mode`` (none in live mode)."""
    return MARKERS.get(str(mode), "")


@dataclass
class PolicyCounts:
    duplicates: int = 0
    rate_limited: int = 0
    sent: int = 0


@dataclass
class _Window:
    opened_at: float
    level: Level
    repeats: int = 0
    last_message: str = ""


@dataclass
class _Held:
    first_at: float
    level: Level
    count: int = 0
    titles: list[str] = field(default_factory=list)


class AlertPolicy:
    """A ``Notifier`` that de-duplicates, rate-limits and marks alerts before ``notifier`` sends them."""

    def __init__(self, notifier: Notifier, *, marker: str = "", dedup_window_secs: float = 300.0,
                 max_per_key: int = 10, per_key_window_secs: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_per_key < 1 or per_key_window_secs <= 0 or dedup_window_secs < 0:
            raise ValueError("max_per_key >= 1, per_key_window_secs > 0 and dedup_window_secs >= 0 are required")
        self.notifier, self.marker = notifier, marker.strip()
        self.dedup_window_secs, self.max_per_key, self.per_key_window_secs = (
            dedup_window_secs, max_per_key, per_key_window_secs)
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._sent: dict[str, deque[float]] = {}
        self._held: dict[str, _Held] = {}
        self.counts = PolicyCounts()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the Notifier interface ---------------------------------------------------------------------
    def notify(self, level: Level, title: str, message: str, fields: Mapping[str, str] | None = None) -> None:
        self.send(AlertSpec.of(level, title, message, fields))

    def send(self, spec: AlertSpec) -> None:
        """Send ``spec`` now, fold it into a later summary, or hold it back; never raises."""
        try:
            out: list[AlertSpec] = []
            with self._lock:
                now = self._clock()
                self._due(now, force=False, out=out)
                if self._admit(spec, now):
                    out.append(spec)
            self._deliver(out)
        except Exception:
            log.exception("alert.policy_failed title=%r", spec.title)

    def flush(self, *, force: bool = False) -> None:
        """Send the summaries whose windows have closed (every pending one with ``force``)."""
        out: list[AlertSpec] = []
        with self._lock:
            self._due(self._clock(), force=force, out=out)
        self._deliver(out)

    # -- background flushing ------------------------------------------------------------------------
    def start(self, interval_secs: float = 1.0) -> AlertPolicy:
        self._thread = threading.Thread(target=self._run, args=(interval_secs,), name="alerts-policy", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout_secs: float = 5.0) -> bool:
        """Stop the flusher, send every pending summary, close the notifier behind (if it can)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_secs)
        self.flush(force=True)
        close = getattr(self.notifier, "close", None)
        return bool(close(timeout_secs)) if close is not None else True

    def _run(self, interval_secs: float) -> None:
        while not self._stop.wait(interval_secs):
            self.flush()

    # -- internals (lock held) ----------------------------------------------------------------------
    def _admit(self, spec: AlertSpec, now: float) -> bool:
        window = self._windows.get(spec.title)
        if window is not None:  # _due closed the expired ones: this one is open
            window.repeats += 1
            window.last_message = spec.message
            window.level = max(window.level, spec.level, key=_RANK.__getitem__)
            self.counts.duplicates += 1
            _log_suppressed("duplicate", spec)
            return False
        key = spec.rate_key
        sent = self._sent.setdefault(key, deque())
        while sent and now - sent[0] >= self.per_key_window_secs:
            sent.popleft()
        if len(sent) >= self.max_per_key:
            held = self._held.setdefault(key, _Held(now, spec.level))
            held.count += 1
            held.level = max(held.level, spec.level, key=_RANK.__getitem__)
            held.titles.append(spec.title)
            self.counts.rate_limited += 1
            _log_suppressed("rate_limited", spec)
            return False
        sent.append(now)
        if self.dedup_window_secs > 0:
            self._windows[spec.title] = _Window(now, spec.level)
        return True

    def _due(self, now: float, *, force: bool, out: list[AlertSpec]) -> None:
        # Both dicts are in opening order (an entry is only added when its key is absent, at the
        # monotonic clock's time): stop at the first one still open, so each call costs only what
        # it closes (a replay opens thousands of windows within one of them).
        while self._windows:
            title, w = next(iter(self._windows.items()))
            if not force and now - w.opened_at < self.dedup_window_secs:
                break
            del self._windows[title]
            if w.repeats:
                out.append(messages.repeated(title=title, level=w.level, repeats=w.repeats,
                                             window_secs=self.dedup_window_secs, last_message=w.last_message))
        while self._held:
            key, h = next(iter(self._held.items()))
            if not force and now - h.first_at < self.per_key_window_secs:
                break
            del self._held[key]
            out.append(messages.rate_limited(key=key, level=h.level, suppressed=h.count,
                                             window_secs=self.per_key_window_secs, titles=h.titles))

    def _deliver(self, specs: list[AlertSpec]) -> None:
        for spec in specs:
            title = f"{self.marker} {spec.title}" if self.marker else spec.title
            self.notifier.notify(spec.level, title, spec.message, dict(spec.fields))
            with self._lock:
                self.counts.sent += 1


def _log_suppressed(reason: str, spec: AlertSpec) -> None:
    log.info("alert.suppressed reason=%s level=%s title=%r message=%r", reason, spec.level.value, spec.title,
             spec.message, extra={"event": "alert_suppressed", "reason": reason})
