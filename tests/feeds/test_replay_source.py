from datetime import UTC, date, datetime

import numpy as np

from multialpha.features.bars import BarArrays
from multialpha.feeds.replay_source import ReplaySource

H = 3_600_000_000_000


def _bars(symbol, starts_ns, base=100.0):
    n = len(starts_ns)
    c = base + np.arange(n, dtype=float)
    return BarArrays(symbol, np.asarray(starts_ns, dtype=np.int64), c, c + 1, c - 1, c, np.full(n, 10.0))


def _ns(y, m, d, h):
    return int(datetime(y, m, d, h, tzinfo=UTC).timestamp()) * 1_000_000_000


def test_groups_are_time_ordered_and_hold_every_symbol_of_that_bar_time():
    t0 = _ns(2024, 3, 5, 14)
    src = ReplaySource({"ES": _bars("ES", [t0, t0 + H, t0 + 3 * H]), "ZB": _bars("ZB", [t0 + H, t0 + 2 * H])},
                       warmup_bars=0)
    groups = list(src.groups())
    assert [g.ts_ns for g in groups] == [t0, t0 + H, t0 + 2 * H, t0 + 3 * H]
    assert [sorted(g.bars) for g in groups] == [["ES"], ["ES", "ZB"], ["ZB"], ["ES"]]
    assert groups[1].bars["ES"].close == 101.0
    assert groups[0].close_time == datetime(2024, 3, 5, 15, tzinfo=UTC)
    assert groups[0].close_minute == 9 * 60  # 15:00 UTC is 09:00 in Chicago (CST)


def test_warmup_bars_are_historical_and_orders_start_after_them():
    t0 = _ns(2024, 3, 5, 14)
    src = ReplaySource({"ES": _bars("ES", [t0 + i * H for i in range(6)])}, warmup_bars=2)
    flags = [g.historical for g in src.groups()]
    assert flags == [True, True, False, False, False, False]


def test_start_date_keeps_only_warmup_bars_before_it():
    t0 = _ns(2024, 3, 4, 14)  # Monday
    times = [t0 + i * H for i in range(48)]
    src = ReplaySource({"ES": _bars("ES", times)}, warmup_bars=3, start=date(2024, 3, 5))
    groups = list(src.groups())
    hist = [g for g in groups if g.historical]
    assert len(hist) == 3
    first_live = next(g for g in groups if not g.historical)
    assert first_live.trading_day == date(2024, 3, 5)
    assert all(g.trading_day < date(2024, 3, 5) for g in hist)


def test_resume_after_a_processed_bar_time_makes_it_and_earlier_ones_warmup():
    t0 = _ns(2024, 3, 5, 14)
    times = [t0 + i * H for i in range(10)]
    src = ReplaySource({"ES": _bars("ES", times)}, warmup_bars=2, resume_after_ns=times[6])
    groups = list(src.groups())
    assert [g.ts_ns for g in groups if not g.historical] == times[7:]
    assert [g.ts_ns for g in groups if g.historical] == times[5:7]
