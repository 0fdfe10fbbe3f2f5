from multialpha.domain import Bar
from multialpha.feeds.hourly import HourlyAggregator

from .dbn_records import HOUR, MINUTE, fixed, ns

T0 = ns(2024, 3, 5, 14)


def _add(agg, symbol, ts, o, h, low, c, v=1):
    return agg.add(symbol, ts, fixed(o), fixed(h), fixed(low), fixed(c), v)


def test_minutes_of_one_hour_make_one_bar_when_a_later_hour_arrives():
    agg = HourlyAggregator({"ES": 0.25})
    assert _add(agg, "ES", T0, "10", "11", "9.5", "10.5", 3) == []
    assert _add(agg, "ES", T0 + 30 * MINUTE, "10.5", "12", "10", "11", 4) == []
    assert _add(agg, "ES", T0 + 59 * MINUTE, "11", "11.25", "8.75", "9", 5) == []
    done = _add(agg, "ES", T0 + HOUR, "9", "9", "9", "9", 1)
    assert [h.ts_ns for h in done] == [T0]
    assert done[0].bars == {"ES": Bar(10.0, 12.0, 8.75, 9.0, 12.0)}


def test_a_later_hour_of_any_symbol_completes_the_hour_for_every_symbol():
    agg = HourlyAggregator()
    _add(agg, "ES", T0, "1", "1", "1", "1")
    _add(agg, "ZB", T0 + 5 * MINUTE, "2", "2", "2", "2")
    done = _add(agg, "ZB", T0 + HOUR + MINUTE, "3", "3", "3", "3")
    assert sorted(done[0].bars) == ["ES", "ZB"]


def test_an_hour_without_trades_gives_no_bar_and_no_invented_volume():
    agg = HourlyAggregator()
    _add(agg, "ES", T0, "1", "1", "1", "1")
    _add(agg, "ZB", T0 + 2 * HOUR, "2", "2", "2", "2")  # hour T0+1h: nothing traded
    done = _add(agg, "ES", T0 + 3 * HOUR, "3", "3", "3", "3")
    assert [h.ts_ns for h in done] == [T0 + 2 * HOUR]
    assert list(done[0].bars) == ["ZB"]


def test_a_record_at_or_before_the_symbols_last_minute_is_a_duplicate_and_dropped():
    agg = HourlyAggregator()
    _add(agg, "ES", T0, "1", "2", "1", "2", 5)
    _add(agg, "ES", T0 + MINUTE, "2", "3", "2", "3", 5)
    _add(agg, "ES", T0 + MINUTE, "2", "3", "2", "3", 5)  # replayed after a reconnect
    _add(agg, "ES", T0, "1", "2", "1", "2", 5)
    assert agg.duplicates == 2
    (hour,) = agg.flush()
    assert hour.bars["ES"].volume == 10.0


def test_a_record_for_a_closed_hour_is_late_counted_and_never_emitted():
    agg = HourlyAggregator()
    _add(agg, "ES", T0, "1", "1", "1", "1")
    assert [h.ts_ns for h in agg.close_through(T0 + HOUR)] == [T0]
    assert _add(agg, "ZB", T0 + 59 * MINUTE, "2", "2", "2", "2") == []
    assert agg.late == 1
    assert agg.flush() == []


def test_close_through_closes_an_empty_hour_so_its_records_are_late():
    agg = HourlyAggregator()
    agg.close_through(T0 + HOUR + 5 * 10**9)  # the clock passed 15:00 + grace with no data
    assert _add(agg, "ES", T0 + 10 * MINUTE, "1", "1", "1", "1") == []
    assert agg.late == 1
    _add(agg, "ES", T0 + HOUR, "1", "1", "1", "1")
    assert agg.late == 1


def test_close_through_before_the_hour_end_keeps_the_hour_open():
    agg = HourlyAggregator()
    _add(agg, "ES", T0, "1", "1", "1", "1")
    assert agg.close_through(T0 + HOUR - 1) == []
    _add(agg, "ES", T0 + 59 * MINUTE, "2", "2", "2", "2")
    (hour,) = agg.close_through(T0 + HOUR)
    assert hour.bars["ES"].close == 2.0


def test_open_from_refuses_hours_delivered_elsewhere():
    agg = HourlyAggregator(open_from_ns=T0 + HOUR)
    assert _add(agg, "ES", T0 + 30 * MINUTE, "1", "1", "1", "1") == []
    assert agg.late == 1


def test_hour_records_aggregate_like_minutes():
    agg = HourlyAggregator()
    _add(agg, "ES", T0, "1", "2", "0.5", "1.5", 7)
    (hour,) = _add(agg, "ES", T0 + HOUR, "1.5", "1.5", "1.5", "1.5", 1)
    assert hour.bars["ES"] == Bar(1.0, 2.0, 0.5, 1.5, 7.0)
