"""Bar start times an hourly CME bar file cannot hold (checked by ``replay_files``).

* **Spacing.** Some consecutive bars must be the bar size, one hour, apart (longer gaps at the
  daily halt, weekends, holidays and quiet hours are fine). A file with no two bars one hour
  apart holds other bars: a daily file loaded as hourly is 24 hours apart; the error names its
  most common gap (ties go to the shorter). A file of fewer than 25 bars is not judged.
* **Globex is closed.** CME Globex trades from Sunday 17:00 to Friday 16:00 America/Chicago
  and halts for maintenance every day from 16:00 to 17:00 (CFE's VX pauses in the same hour).
  An hour-aligned bar starting at 16:00 Chicago, or between Friday 16:00 and Sunday 17:00,
  covers only closed time: the exchange could not have printed it. Such a bar usually means
  a timezone error, or bars stamped with their end instead of their start.
  (Before 19 November 2012 CME equity index futures traded 16:00-16:15 and halted at 15:15
  instead; hourly bars of those years starting at 16:00 are refused too.)
"""

from __future__ import annotations

import numpy as np

from multialpha.features.bars import BAR_SECONDS, NS_PER_SECOND
from multialpha.features.daily import NS_PER_DAY, NS_PER_HOUR, exchange_offset_ns

_BAR_NS = BAR_SECONDS * NS_PER_SECOND
HALT_START, SESSION_OPEN = 16, 17  # Chicago hours: the daily halt is [16:00, 17:00)
FRIDAY, SATURDAY, SUNDAY = 4, 5, 6
MIN_GAPS_JUDGED = 24  # a file this short says too little about its bar size to refuse it


def off_spacing(ts_ns: np.ndarray, comparable: np.ndarray) -> tuple[np.ndarray, str] | None:
    """The rows after the file's most common gap and what is wrong, or None when some bars are
    one bar apart. ``comparable[k]`` says whether rows k and k + 1 both have a valid ts."""
    gaps = np.diff(ts_ns)[comparable]
    gaps = gaps[gaps > 0]
    if gaps.shape[0] < MIN_GAPS_JUDGED or np.any(gaps == _BAR_NS):
        return None
    values, counts = np.unique(gaps, return_counts=True)
    common = int(values[int(np.argmax(counts))])  # the shortest of the most common
    if common == _BAR_NS:
        return None
    rows = np.zeros(ts_ns.shape[0], dtype=bool)
    rows[1:] = comparable & (np.diff(ts_ns) == common)
    hours = common / NS_PER_HOUR
    size = f"{hours:g} hours" if hours != 1 else "1 hour"
    guess = "is this a daily file?" if common >= 24 * NS_PER_HOUR else f"is this a file of {hours:g}-hour bars?"
    return rows, f"bars are {size} apart, not 1 hour: {guess}"


def closed_times(ts_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bar starts in the weekend close, bar starts in the daily 16:00-17:00 halt), Chicago time."""
    local = ts_ns + exchange_offset_ns(ts_ns)
    hour = (local // NS_PER_HOUR) % 24
    weekday = (local // NS_PER_DAY + 3) % 7  # 0 = Monday
    weekend = (((weekday == FRIDAY) & (hour >= HALT_START)) | (weekday == SATURDAY)
               | ((weekday == SUNDAY) & (hour < SESSION_OPEN)))
    return weekend, (hour == HALT_START) & ~weekend
