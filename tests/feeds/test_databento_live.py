import threading
from datetime import UTC, date, datetime, timedelta

import databento_dbn as dbn
import numpy as np
import pytest

from multialpha.clock import ManualClock
from multialpha.domain import Bar
from multialpha.features.bars import BarArrays
from multialpha.feeds.databento_live import DatabentoLiveSource
from multialpha.feeds.dbn_bars import read_dbn_bars
from multialpha.feeds.live_client import DatabentoConnector
from multialpha.feeds.replay_files import write_bar_file
from multialpha.feeds.warmup import FileHistory

from .conftest import quarterly
from .dbn_records import HOUR, MINUTE, hourly_reference, ns, ohlcv, random_minutes, write_dbn

ES, NQ = 101, 201  # instrument ids of ESH4 and NQH4 on the local gateway
ESM, NQM = 102, 202  # the June contracts


def _by_ts(*lists):
    return sorted((r for rs in lists for r in rs), key=lambda r: (r.ts_event, r.instrument_id))


def _eoi(end_ns):
    return dbn.SystemMsg(ts_event=end_ns, msg="End of interval", code=dbn.SystemCode.END_OF_INTERVAL)


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_minutes_become_one_hourly_group_when_a_later_hour_arrives(gateway, make_source):
    t0 = ns(2024, 3, 5, 14)
    source, groups = make_source(_utc(2024, 3, 5, 14, 0, 30))
    gateway.wait_for(gateway.started_sessions)
    gateway.publish(ohlcv(ES, t0, "5000", "5001", "4999.75", "5000.5", 3),
                    ohlcv(NQ, t0 + 7 * MINUTE, "18000", "18010", "17990", "18005", 2),
                    ohlcv(ES, t0 + 59 * MINUTE, "5000.5", "5003", "5000.25", "5002.75", 4))
    assert groups.none_within(0.2)  # the hour is not over yet
    gateway.publish(ohlcv(NQ, t0 + HOUR, "18005", "18005", "18005", "18005", 1))
    (group,) = groups.take()
    assert group.ts_ns == t0 and group.seq == 0 and not group.historical
    assert group.close_time == _utc(2024, 3, 5, 15)
    assert group.trading_day == date(2024, 3, 5) and group.close_minute == 9 * 60
    assert group.bars == {"ES": Bar(5000.0, 5003.0, 4999.75, 5002.75, 7.0),
                          "NQ": Bar(18000.0, 18010.0, 17990.0, 18005.0, 2.0)}
    session = gateway.started_sessions()[0]
    assert session.symbols == ["ESH4", "NQH4"]
    assert session.subscriptions[0]["schema"] == "ohlcv-1m"
    assert session.subscriptions[0]["stype_in"] == "raw_symbol"
    assert session.start_ns == t0  # replay from the start of the hour in progress
    assert source.first_live_time == _utc(2024, 3, 5, 15)


def test_a_days_minutes_through_the_live_feed_equal_the_historical_hourly_bars(gateway, make_source, tmp_path):
    day_open = ns(2024, 3, 4, 23)  # Tuesday's session opens 17:00 CST
    es = random_minutes(ES, day_open, 23 * 60, skip=range(300, 420))  # two hours without an ES trade
    nq = random_minutes(NQ, day_open, 23 * 60, base="18000", skip=range(0, 45))
    minutes = _by_ts(es, nq)
    source, groups = make_source(_utc(2024, 3, 4, 23, 0, 5))
    gateway.wait_for(gateway.started_sessions)
    gateway.publish(*minutes, _eoi(day_open + 23 * HOUR))  # the gateway closes the last interval
    live = groups.take(23)
    assert [g.ts_ns for g in live] == [day_open + i * HOUR for i in range(23)]
    assert [g.seq for g in live] == list(range(23))
    assert all(g.trading_day == date(2024, 3, 5) for g in live)
    assert [sorted(g.bars) for g in live[5:7]] == [["NQ"], ["NQ"]]  # no ES bar: no trade, no bar

    hourly = hourly_reference(minutes)  # what Databento's ohlcv-1h holds for the same trades
    path = write_dbn(tmp_path / "day.dbn", hourly, schema=dbn.Schema.OHLCV_1H, stype_in=dbn.SType.CONTINUOUS,
                     mappings={"ES.c.0": [(date(2024, 3, 4), date(2024, 3, 6), ES)],
                               "NQ.c.0": [(date(2024, 3, 4), date(2024, 3, 6), NQ)]})
    historical = read_dbn_bars(path, tick_sizes={"ES": 0.25, "NQ": 0.25})
    for symbol in ("ES", "NQ"):
        rows = [(g.ts_ns, g.bars[symbol]) for g in live if symbol in g.bars]
        np.testing.assert_array_equal(historical[symbol].ts, [t for t, _ in rows])
        for i, col in enumerate(("open", "high", "low", "close", "volume")):
            np.testing.assert_array_equal(getattr(historical[symbol], col), [b[i] for _, b in rows])


def test_dst_week_hours_stay_utc_aligned_and_carry_chicago_session_fields(gateway, make_source):
    clock = ManualClock(_utc(2024, 3, 8, 21, 0, 10))  # Friday 15:00 CST, the last hour of the week
    source, groups = make_source(clock)
    gateway.wait_for(gateway.started_sessions)
    gateway.publish(ohlcv(ES, ns(2024, 3, 8, 21, 30), "5100", "5101", "5099", "5100.25", 9))
    gateway.wait_for(lambda: source.last_minute_ns == ns(2024, 3, 8, 21, 30))
    clock.set(_utc(2024, 3, 8, 22, 0, 2))  # past 16:00 CST plus the grace: the hour is over
    (friday,) = groups.take()
    clock.set(_utc(2024, 3, 10, 22, 0, 30))  # Sunday 17:00 CDT: clocks moved, the session opens
    gateway.publish(ohlcv(ES, ns(2024, 3, 10, 22, 0), "5110", "5112", "5108", "5111", 5),
                    ohlcv(ES, ns(2024, 3, 10, 23, 0), "5111", "5111", "5111", "5111", 1))
    (sunday,) = groups.take()
    assert (friday.ts_ns, friday.close_minute, friday.trading_day) == (ns(2024, 3, 8, 21), 16 * 60, date(2024, 3, 8))
    assert (sunday.ts_ns, sunday.close_minute, sunday.trading_day) == (ns(2024, 3, 10, 22), 18 * 60, date(2024, 3, 11))
    assert friday.bars["ES"].close == 5100.25 and sunday.bars["ES"].close == 5111.0


def test_roll_resubscribes_to_the_new_contract_and_ignores_the_old_one(gateway, make_source):
    clock = ManualClock(_utc(2024, 3, 13, 20, 30))  # Wednesday 15:30 CDT; ESM4 from Thursday's session
    source, groups = make_source(clock, symbols=("ES",))
    gateway.publish(*random_minutes(ES, ns(2024, 3, 13, 20), 30))
    gateway.wait_for(gateway.started_sessions)
    assert gateway.started_sessions()[0].symbols == ["ESH4"]
    gateway.publish(*random_minutes(ES, ns(2024, 3, 13, 20, 30), 30, seed=2))
    gateway.wait_for(lambda: source.last_minute_ns == ns(2024, 3, 13, 20, 59))
    clock.set(_utc(2024, 3, 13, 21, 0, 2))  # the 21:00 UTC hour already closes in Thursday's session
    (wednesday,) = groups.take()
    gateway.wait_for(lambda: len(gateway.started_sessions()) == 2)
    second = gateway.started_sessions()[1]
    assert second.symbols == ["ESH4", "ESM4"]  # the days from the last minute received to today
    assert second.start_ns == ns(2024, 3, 13, 20, 59)  # replay from the last minute received
    gateway.publish(ohlcv(ES, ns(2024, 3, 13, 22, 0), "5200", "5200", "5200", "5200", 50),  # old contract
                    ohlcv(ESM, ns(2024, 3, 13, 22, 0), "5250", "5251", "5249", "5250.5", 20),
                    ohlcv(ESM, ns(2024, 3, 13, 23, 0), "5250.5", "5250.5", "5250.5", "5250.5", 1))
    (thursday,) = groups.take()
    assert wednesday.ts_ns == ns(2024, 3, 13, 20) and wednesday.trading_day == date(2024, 3, 13)
    assert thursday.ts_ns == ns(2024, 3, 13, 22) and thursday.trading_day == date(2024, 3, 14)
    assert thursday.bars == {"ES": Bar(5250.0, 5251.0, 5249.0, 5250.5, 20.0)}
    assert source.dropped["inactive_contract"] >= 1


def test_dropped_connection_recovers_by_replay_with_no_duplicate_bar(gateway, make_source):
    t0 = ns(2024, 3, 5, 14)
    before = _by_ts(random_minutes(ES, t0, 31), random_minutes(NQ, t0, 31, base="18000"))
    after = _by_ts(random_minutes(ES, t0, 60, seed=1)[31:], random_minutes(NQ, t0, 60, base="18000", seed=1)[31:])
    source, groups = make_source(_utc(2024, 3, 5, 14, 0, 30))
    gateway.wait_for(gateway.started_sessions)
    gateway.publish(*before)
    gateway.wait_for(lambda: source.last_minute_ns == t0 + 30 * MINUTE)
    gateway.drop()
    gateway.wait_for(lambda: len(gateway.started_sessions()) == 2)
    assert gateway.started_sessions()[1].start_ns == t0 + 30 * MINUTE  # the 14:30 minutes come again
    gateway.publish(*after, ohlcv(ES, t0 + HOUR, "1", "1", "1", "1", 1))
    (group,) = groups.take()
    expected = {s: sum(r.volume for r in before + after if r.instrument_id == iid) for s, iid in (("ES", ES), ("NQ", NQ))}
    assert {s: b.volume for s, b in group.bars.items()} == expected  # each minute counted once
    assert source.dropped["duplicate"] == 2 and source.reconnects == 1


def test_late_record_after_reconnect_is_counted_and_time_never_runs_backwards(gateway, make_source):
    t0 = ns(2024, 3, 5, 14)
    clock = ManualClock(_utc(2024, 3, 5, 14, 0, 30))
    source, groups = make_source(clock, reconnect_delay_secs=0.3)
    gateway.wait_for(gateway.started_sessions)
    gateway.publish(ohlcv(ES, t0 + 58 * MINUTE, "1", "1", "1", "1", 1),
                    ohlcv(ES, t0 + 59 * MINUTE, "2", "2", "2", "2", 1))
    gateway.wait_for(lambda: source.last_minute_ns == t0 + 59 * MINUTE)
    gateway.drop()
    # While the feed is down: NQ's 14:59 minute is published and the clock closes 14:00.
    gateway.publish(ohlcv(NQ, t0 + 59 * MINUTE, "9", "9", "9", "9", 1))
    clock.set(_utc(2024, 3, 5, 15, 0, 2))
    (first,) = groups.take()
    gateway.wait_for(lambda: len(gateway.started_sessions()) == 2)
    gateway.publish(ohlcv(NQ, t0 + HOUR, "10", "10", "10", "10", 1), ohlcv(NQ, t0 + 2 * HOUR, "11", "11", "11", "11", 1))
    (second,) = groups.take()
    assert (first.ts_ns, sorted(first.bars)) == (t0, ["ES"])
    assert (second.ts_ns, sorted(second.bars)) == (t0 + HOUR, ["NQ"])
    assert source.dropped["late"] == 1 and source.dropped["duplicate"] == 1


def test_slow_start_yields_nothing_until_data_then_the_bar(gateway, make_source):
    t0 = ns(2024, 3, 5, 14)
    clock = ManualClock(_utc(2024, 3, 5, 14, 20))
    source, groups = make_source(clock)
    gateway.wait_for(gateway.started_sessions)
    assert groups.none_within(0.3)
    assert source.status().connected and not source.status().stale
    clock.set(_utc(2024, 3, 5, 14, 40))
    gateway.publish(ohlcv(ES, t0 + 40 * MINUTE, "3", "4", "2", "3.5", 2))
    gateway.wait_for(lambda: source.last_minute_ns == t0 + 40 * MINUTE)
    assert groups.none_within(0.1)
    clock.set(_utc(2024, 3, 5, 15, 0, 1, 500_000))  # 15:00 plus the 1 s grace
    (group,) = groups.take()
    assert group.ts_ns == t0 and not group.historical and group.bars["ES"].close == 3.5


def test_silent_feed_is_reported_stale_until_a_record_arrives(gateway, make_source):
    gateway.heartbeat_secs = None  # the gateway goes quiet: not even heartbeats
    clock = ManualClock(_utc(2024, 3, 5, 14, 20))
    source, groups = make_source(clock, max_silence_secs=60.0)
    gateway.wait_for(lambda: source.status().connected)
    clock.advance(timedelta(seconds=61))
    status = source.status()
    assert status.stale and status.silence_secs == 61.0 and status.live and status.connected
    gateway.publish(ohlcv(ES, ns(2024, 3, 5, 14, 20), "1", "1", "1", "1", 1))
    gateway.wait_for(lambda: not source.status().stale)


def test_warmup_from_bar_files_then_replayed_hours_then_live(gateway, make_source, tmp_path):
    starts = [ns(2024, 3, 5, 8) + i * HOUR for i in range(5)]  # 08:00 .. 12:00, files end at 13:00
    c = np.arange(5, dtype=float) + 5000.0
    for symbol in ("ES", "NQ"):
        write_bar_file(tmp_path / f"{symbol}.csv", BarArrays(symbol, np.array(starts, dtype=np.int64), c, c + 1,
                                                             c - 1, c, np.full(5, 10.0)))
    gateway.publish(*_by_ts(random_minutes(ES, ns(2024, 3, 5, 13), 80)))  # 13:00 .. 14:19 on the gateway
    clock = ManualClock(_utc(2024, 3, 5, 14, 20))
    source, groups = make_source(clock, history=FileHistory(tmp_path), warmup_bars=3)
    warm = groups.take(4)
    assert [g.ts_ns for g in warm] == starts[2:] + [ns(2024, 3, 5, 13)]
    assert [g.historical for g in warm] == [True] * 4  # the replayed 13:00 hour closed before start
    assert [g.seq for g in warm] == [0, 1, 2, 3]
    assert gateway.started_sessions()[0].start_ns == ns(2024, 3, 5, 13)  # replay from the files' end
    gateway.publish(ohlcv(ES, ns(2024, 3, 5, 15), "1", "1", "1", "1", 1))
    (live,) = groups.take()
    assert (live.ts_ns, live.historical, live.seq) == (ns(2024, 3, 5, 14), False, 4)
    assert source.first_live_time == _utc(2024, 3, 5, 15)


def test_close_ends_a_blocked_groups_promptly(gateway, make_source):
    source, groups = make_source(_utc(2024, 3, 5, 14, 20))
    gateway.wait_for(gateway.started_sessions)
    assert groups.none_within(0.1)
    source.close()
    assert groups.ended.wait(1.0)
    assert not source.status().connected


def test_unreachable_gateway_is_retried_and_reported(make_source, gateway):
    gateway.stop()
    source, groups = make_source(_utc(2024, 3, 5, 14, 20))
    gateway.wait_for(lambda: "cannot connect" in source.status().detail)
    assert not source.status().connected


@pytest.mark.parametrize("kwargs", [{"warmup_bars": 3}, {"poll_secs": 0}, {"max_silence_secs": -1}])
def test_bad_arguments_are_refused_at_construction(make_source, kwargs):
    with pytest.raises(ValueError):
        make_source(_utc(2024, 3, 5, 14, 20), **kwargs)


def test_groups_can_be_iterated_only_once(make_source):
    source, groups = make_source(_utc(2024, 3, 5, 14, 20))
    with pytest.raises(RuntimeError, match="only once"):
        source.groups()


def test_wrong_api_key_is_refused_by_the_gateway_and_reported(gateway):
    source = DatabentoLiveSource(["ES"], connector=DatabentoConnector("db-WRONGKEY0000000000000000000000", gateway="127.0.0.1",
                                                                      port=gateway.port),
                                 contract_for=quarterly, clock=ManualClock(_utc(2024, 3, 5, 14, 20)), poll_secs=0.02)
    groups = iter(source.groups())
    consumer = threading.Thread(target=lambda: list(groups), daemon=True)
    consumer.start()
    try:
        gateway.wait_for(lambda: "Authentication failed" in source.status().detail)
        assert not source.status().connected and gateway.started_sessions() == []
    finally:
        source.close()
    consumer.join(timeout=1)
    assert not consumer.is_alive()
