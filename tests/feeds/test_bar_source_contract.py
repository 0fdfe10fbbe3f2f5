"""Every ``BarSource`` implementation through one suite."""

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from multialpha.features.bars import BarArrays
from multialpha.features.daily import exchange_minutes, trading_day_ids
from multialpha.feeds.replay_files import write_bar_file
from multialpha.feeds.replay_source import ReplaySource
from multialpha.feeds.source import BarSource, FeedStatus
from multialpha.feeds.warmup import FileHistory

from .dbn_gateway import LocalGateway
from .dbn_records import HOUR, ns, ohlcv, random_minutes

START = ns(2024, 3, 5, 8)


def _file_bars(symbol, hours):
    c = np.arange(hours, dtype=float) + 100.0
    return BarArrays(symbol, START + HOUR * np.arange(hours, dtype=np.int64), c, c + 1, c - 1, c, np.full(hours, 5.0))


def _replay(tmp_path, gateway, make_source):
    return ReplaySource({"ES": _file_bars("ES", 8), "NQ": _file_bars("NQ", 6)}, warmup_bars=3), 8


def _live(tmp_path, gateway: LocalGateway, make_source):
    for s in ("ES", "NQ"):
        write_bar_file(tmp_path / f"{s}.csv", _file_bars(s, 5))  # 08:00 .. 12:00
    gateway.publish(*random_minutes(101, ns(2024, 3, 5, 13), 100),  # 13:00 .. 14:39
                    ohlcv(201, ns(2024, 3, 5, 14, 50), "1", "1", "1", "1", 1),
                    ohlcv(101, ns(2024, 3, 5, 15, 0), "1", "1", "1", "1", 1),
                    ohlcv(101, ns(2024, 3, 5, 16, 0), "1", "1", "1", "1", 1))
    source = make_source(datetime(2024, 3, 5, 14, 40, tzinfo=UTC), history=FileHistory(tmp_path), warmup_bars=3,
                         collect=False)
    return source, 6  # 3 warm-up, 13:00 replayed, 14:00 and 15:00 live


@pytest.fixture(params=[_replay, _live], ids=["replay", "databento-live"])
def source_and_count(request, tmp_path, gateway, make_source):
    return request.param(tmp_path, gateway, make_source)


def _take(source: BarSource, n: int):
    out = []
    timer = threading.Timer(5.0, source.close)  # a hung source fails the test instead of hanging it
    timer.start()
    for group in source.groups():
        out.append(group)
        if len(out) == n:
            break
    timer.cancel()
    return out


def test_groups_are_strictly_time_ordered_with_consecutive_seq(source_and_count):
    source, n = source_and_count
    groups = _take(source, n)
    assert [g.seq for g in groups] == list(range(n))
    assert all(a.ts_ns < b.ts_ns for a, b in zip(groups, groups[1:], strict=False))


def test_warmup_groups_come_first_and_live_ones_after(source_and_count):
    source, n = source_and_count
    flags = [g.historical for g in _take(source, n)]
    assert flags == sorted(flags, reverse=True) and flags[0] and not flags[-1]


def test_group_fields_follow_the_bar_time(source_and_count):
    source, n = source_and_count
    for g in _take(source, n):
        close = np.array([g.ts_ns + HOUR], dtype=np.int64)
        assert g.ts_ns % HOUR == 0
        assert g.close_time == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(close[0]) // 1000)
        assert (g.trading_day - datetime(1970, 1, 1).date()).days == int(trading_day_ids(close)[0])
        assert g.close_minute == int(exchange_minutes(close)[0])
        assert g.bars and set(g.bars) <= set(source.symbols)


def test_status_reports_the_last_bar_and_close_is_idempotent(source_and_count):
    source, n = source_and_count
    _take(source, 1)
    status = source.status()
    assert isinstance(status, FeedStatus) and status.live == source.is_live
    assert status.last_bar_time is not None
    source.close()
    source.close()  # idempotent
    assert not source.status().connected
