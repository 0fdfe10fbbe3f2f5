"""``ProgressReporter``: what ``multialpha run`` and ``demo`` show while they work.

Called once per bar time (cheap: a counter and a clock read; it writes at most every
``min_interval_secs``). On a terminal it redraws one status line; otherwise (a log file, the
journal) it prints a plain line every ``every_bar_times`` bar times, and at least every
``plain_interval_secs`` while bar times come in (so a live daemon prints one per hourly bar).

    replay  12,345/26,112 bar times (47.3%)  2024-09-12 14:00Z trading  1,850/s  ETA 0:00:07
    paper   1,204 bar times  last bar 2024-09-12 14:00Z trading  feed connected, silent 3s
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sized
from datetime import datetime
from typing import TextIO

from multialpha.feeds.source import FeedStatus

CLEAR_TO_EOL = "\x1b[K"


class ProgressReporter:
    def __init__(self, *, label: str, total: int | None = None, stream: TextIO | None = None,
                 tty: bool | None = None, min_interval_secs: float = 2.0, every_bar_times: int = 500,
                 plain_interval_secs: float = 60.0, feed: Callable[[], FeedStatus | None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.total, self._feed = label, total, feed
        self.stream = stream if stream is not None else sys.stderr
        self.tty = _isatty(self.stream) if tty is None else tty
        self.min_interval_secs, self.every, self.plain_interval_secs = min_interval_secs, every_bar_times, plain_interval_secs
        self._clock = clock
        self.done = 0
        self._started = clock()
        self._last_at: float | None = None  # when a line was last written
        self._last_done = 0
        self._rate: float | None = None  # bar times per second over the last interval
        self._line = ""
        self._drawn = False

    @classmethod
    def for_source(cls, source: object, *, label: str, stream: TextIO | None = None) -> ProgressReporter:
        """A reporter with the source's bar-time count as the total when it knows it (replay files),
        and its feed status on each line when it has one."""
        total = len(source) if isinstance(source, Sized) else None
        status = getattr(source, "status", None)
        return cls(label=label, total=total or None, stream=stream, feed=status if callable(status) else None)

    def bar_time(self, close_time: datetime, *, historical: bool) -> None:
        """One bar time was processed (the feed's status is read only when a line is written)."""
        self.done += 1
        now = self._clock()
        since = now - (self._started if self._last_at is None else self._last_at)
        last = self.done == self.total
        if self.tty:
            due = last or since >= self.min_interval_secs
        else:
            due = last or self.done - self._last_done >= self.every or since >= self.plain_interval_secs
        if not due:
            return
        if since > 0:
            self._rate = (self.done - self._last_done) / since
        self._line = self._describe(close_time, historical, None if self._feed is None else self._feed())
        self._write(self._line)
        self._last_at, self._last_done = now, self.done

    def finish(self) -> None:
        """End the status line (a terminal) or print the last count if it was not shown."""
        if self.tty:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
            self._drawn = False
        elif self.done != self._last_done and self._line:
            self._write(self._line.split("  ", 1)[0] + f"  done: {self.done:,} bar times")
            self._last_done = self.done

    def _describe(self, close_time: datetime, historical: bool, feed: FeedStatus | None) -> str:
        phase = "warm-up" if historical else "trading"
        at = close_time.strftime("%Y-%m-%d %H:%MZ")
        if self.total:
            pct = 100.0 * self.done / self.total
            parts = [f"{self.label}  {self.done:,}/{self.total:,} bar times ({pct:.1f}%)", f"{at} {phase}"]
            if self._rate:
                parts.append(f"{self._rate:,.0f}/s")
                parts.append(f"ETA {_hms(max(0, self.total - self.done) / self._rate)}")
            return "  ".join(parts)
        parts = [f"{self.label}  {self.done:,} bar times", f"last bar {at} {phase}"]
        if feed is not None and feed.live:
            text = "feed " + ("connected" if feed.connected else "DISCONNECTED")
            if feed.silence_secs is not None:
                text += f", silent {feed.silence_secs:.0f}s"
            if feed.stale:
                text += " (STALE)"
            parts.append(text)
        return "  ".join(parts)

    def _write(self, line: str) -> None:
        if self.tty:
            self.stream.write("\r" + line + CLEAR_TO_EOL)
            self._drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _hms(secs: float) -> str:
    whole = int(round(secs))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
