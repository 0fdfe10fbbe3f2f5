"""ProgressReporter: a redrawn line on a terminal, plain lines elsewhere, never more often than asked."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from multialpha.feeds.source import FeedStatus
from multialpha.runner.progress import CLEAR_TO_EOL, ProgressReporter

T0 = datetime(2024, 7, 1, 14, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_terminal_redraws_at_most_every_interval_with_rate_and_eta() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ProgressReporter(label="replay", total=1000, stream=out, tty=True, clock=clock)
    for n in range(256):
        clock.t += 1 / 64  # 64 bar times per second (exact in binary)
        progress.bar_time(T0 + timedelta(hours=n), historical=n < 200)
    draws = out.getvalue().split("\r")[1:]
    assert len(draws) == 2  # at 2 s and 4 s
    assert draws[0].startswith("replay  128/1,000 bar times (12.8%)  2024-07-06 21:00Z warm-up  64/s")
    assert draws[1] == ("replay  256/1,000 bar times (25.6%)  2024-07-12 05:00Z trading  64/s  ETA 0:00:12"
                        + CLEAR_TO_EOL)
    progress.finish()
    assert out.getvalue().endswith("\n")


def test_terminal_shows_the_last_bar_time_even_between_intervals() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ProgressReporter(label="replay", total=3, stream=out, tty=True, clock=clock)
    for n in range(3):
        progress.bar_time(T0 + timedelta(hours=n), historical=False)
    assert "3/3 bar times (100.0%)" in out.getvalue()


def test_not_a_terminal_prints_a_plain_line_every_n_bar_times() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ProgressReporter(label="replay", total=1200, stream=out, tty=False, every_bar_times=500, clock=clock)
    for n in range(1100):
        clock.t += 0.001
        progress.bar_time(T0 + timedelta(hours=n), historical=False)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert [line.split("  ")[1] for line in lines[:2]] == ["500/1,200 bar times (41.7%)",
                                                           "1,000/1,200 bar times (83.3%)"]
    assert lines[-1] == "replay  done: 1,100 bar times"
    assert "\r" not in out.getvalue()


def test_live_line_shows_last_bar_and_feed_at_least_once_a_minute() -> None:
    out, clock = io.StringIO(), Clock()
    feed = [FeedStatus(live=True, connected=True, last_bar_time=T0, silence_secs=3.0)]
    progress = ProgressReporter(label="paper", stream=out, tty=False, clock=clock, feed=lambda: feed[0])
    clock.t = 3600.0
    progress.bar_time(T0, historical=False)
    feed[0] = FeedStatus(live=True, connected=False, last_bar_time=T0, silence_secs=200.0, stale=True)
    clock.t = 7200.0
    progress.bar_time(T0 + timedelta(hours=1), historical=False)
    assert out.getvalue().splitlines() == [
        "paper  1 bar times  last bar 2024-07-01 14:00Z trading  feed connected, silent 3s",
        "paper  2 bar times  last bar 2024-07-01 15:00Z trading  feed DISCONNECTED, silent 200s (STALE)",
    ]


def test_for_source_takes_the_total_from_a_sized_source() -> None:
    class Files:
        def __len__(self) -> int:
            return 26_112

        def status(self) -> FeedStatus:
            return FeedStatus(live=False, connected=True, last_bar_time=None)

    out = io.StringIO()
    files = ProgressReporter.for_source(Files(), label="replay", stream=out)
    assert files.total == 26_112
    assert ProgressReporter.for_source(object(), label="paper", stream=out).total is None
