from datetime import UTC, date, datetime

import databento_dbn as dbn

from multialpha.feeds.hourly import HourlyAggregator
from multialpha.feeds.live_bars import LiveBarBuilder, to_ns
from multialpha.feeds.symbology import ContractBook

from .dbn_records import HOUR, MINUTE, ns, ohlcv

T0 = ns(2024, 3, 5, 14)
NOW = datetime(2024, 3, 5, 16, 30, tzinfo=UTC)


def _builder(**kwargs):
    book = ContractBook(["ES"], lambda symbol, day: "ESM4" if day >= date(2024, 3, 14) else "ESH4")
    b = LiveBarBuilder(book, HourlyAggregator(), grace_secs=5.0, **kwargs)
    b.on_record(dbn.SymbolMappingMsg(publisher_id=1, instrument_id=7, ts_event=T0, stype_in=dbn.SType.RAW_SYMBOL,
                                     stype_in_symbol="ESH4", stype_out=dbn.SType.RAW_SYMBOL,
                                     stype_out_symbol="ESH4", start_ts=T0, end_ts=T0))
    return b


def _system(code, ts=T0):
    return dbn.SystemMsg(ts_event=ts, msg=str(code), code=code)


def test_end_of_interval_at_the_hour_end_completes_the_hour():
    b = _builder()
    b.on_record(ohlcv(7, T0 + 59 * MINUTE, "1", "1", "1", "1", 1))
    assert b.on_record(_system(dbn.SystemCode.END_OF_INTERVAL, T0 + 59 * MINUTE)) == []
    (hour,) = b.on_record(_system(dbn.SystemCode.END_OF_INTERVAL, T0 + HOUR))
    assert hour.ts_ns == T0 and hour.bars["ES"].close == 1.0


def test_the_clock_closes_nothing_until_the_replay_completed():
    b = _builder()
    b.on_record(ohlcv(7, T0, "1", "1", "1", "1", 1))
    assert b.on_clock(NOW) == []
    b.on_record(_system(dbn.SystemCode.REPLAY_COMPLETED))
    (hour,) = b.on_clock(NOW)
    assert hour.ts_ns == T0


def test_the_clock_waits_for_the_grace_after_the_hour_end():
    b = _builder(replaying=False)
    b.on_record(ohlcv(7, T0, "1", "1", "1", "1", 1))
    assert b.on_clock(datetime(2024, 3, 5, 15, 0, 4, tzinfo=UTC)) == []
    assert len(b.on_clock(datetime(2024, 3, 5, 15, 0, 5, tzinfo=UTC))) == 1


def test_records_without_a_mapping_or_of_an_inactive_contract_are_counted_not_used():
    b = _builder()
    b.on_record(ohlcv(99, T0, "1", "1", "1", "1", 1))
    b.on_record(dbn.SymbolMappingMsg(publisher_id=1, instrument_id=8, ts_event=T0, stype_in=dbn.SType.RAW_SYMBOL,
                                     stype_in_symbol="ESM4", stype_out=dbn.SType.RAW_SYMBOL,
                                     stype_out_symbol="ESM4", start_ts=T0, end_ts=T0))
    b.on_record(ohlcv(8, T0, "1", "1", "1", "1", 1))
    assert (b.unmapped, b.inactive, b.last_minute_ns) == (1, 1, T0)
    assert b.on_record(dbn.ErrorMsg(ts_event=T0, err="Unknown symbol XYZ")) == []
    assert b.gateway_errors == ["Unknown symbol XYZ"]


def test_to_ns_is_exact_to_the_microsecond():
    assert to_ns(datetime(2024, 3, 5, 14, 0, 0, 123456, tzinfo=UTC)) == T0 + 123_456_000
