from datetime import date

import databento_dbn as dbn
import numpy as np
import pytest

from multialpha.feeds.dbn_bars import DbnDataError, read_dbn_bars

from .dbn_records import HOUR, MINUTE, hourly_reference, ns, ohlcv, random_minutes, write_dbn

DAY0 = date(2024, 12, 11)
DAYS = (DAY0, date(2024, 12, 20))
T0 = ns(2024, 12, 12, 14)


def _contract_for(symbol, day):
    return f"{symbol}H5" if day >= date(2024, 12, 13) else f"{symbol}Z4"


def _same_bars(a, b):
    assert a.symbol == b.symbol
    np.testing.assert_array_equal(a.ts, b.ts)
    for col in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(a, col), getattr(b, col), err_msg=col)


def test_minute_file_gives_the_same_bars_as_the_hourly_file_of_the_same_trades(tmp_path):
    minutes = sorted(random_minutes(11, T0, 300, skip=range(60, 120)) + random_minutes(12, T0, 300, base="18000"),
                     key=lambda r: (r.ts_event, r.instrument_id))
    maps = {"ES.c.0": [(*DAYS, 11)], "NQ.c.0": [(*DAYS, 12)]}
    m1 = read_dbn_bars(write_dbn(tmp_path / "m.dbn", minutes, stype_in=dbn.SType.CONTINUOUS, mappings=maps),
                       tick_sizes={"ES": 0.25, "NQ": 0.25})
    h1 = read_dbn_bars(write_dbn(tmp_path / "h.dbn.zst", hourly_reference(minutes), schema=dbn.Schema.OHLCV_1H,
                                 stype_in=dbn.SType.CONTINUOUS, mappings=maps, compress=True),
                       tick_sizes={"ES": 0.25, "NQ": 0.25})
    assert sorted(m1) == ["ES", "NQ"]
    assert len(m1["ES"]) == 4  # 14:00, 16:00, 17:00, 18:00: no trade at all in the 15:00 hour
    assert m1["ES"].ts.tolist() == [T0, T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR]
    assert m1["ES"].tick_size == 0.25
    for s in ("ES", "NQ"):
        _same_bars(m1[s], h1[s])


def test_explicit_contracts_are_stitched_per_trade_date_with_the_roll_rule(tmp_path):
    # 21:00 UTC is Thursday's last hour; 22:00 UTC opens Friday's session, when ESH5 takes over.
    z = [ohlcv(1, ns(2024, 12, 12, 21, i), "6000", "6001", "5999", "6000.5", 10) for i in (0, 59)]
    z += [ohlcv(1, ns(2024, 12, 12, 22, 5), "6010", "6010", "6010", "6010", 99)]  # not active any more
    h = [ohlcv(2, ns(2024, 12, 12, 21, 30), "6050", "6050", "6050", "6050", 77)]  # not active yet
    h += [ohlcv(2, ns(2024, 12, 12, 22, 5), "6060", "6061", "6059", "6060.25", 20)]
    records = sorted(z + h, key=lambda r: (r.ts_event, r.instrument_id))
    path = write_dbn(tmp_path / "es.dbn", records, mappings={"ESZ4": [(*DAYS, 1)], "ESH5": [(*DAYS, 2)]})
    es = read_dbn_bars(path, symbols=["ES"], contract_for=_contract_for)["ES"]
    assert es.ts.tolist() == [ns(2024, 12, 12, 21), ns(2024, 12, 12, 22)]
    assert es.close.tolist() == [6000.5, 6060.25]
    assert es.volume.tolist() == [20.0, 20.0]


def test_explicit_contracts_without_the_roll_rule_are_refused(tmp_path):
    path = write_dbn(tmp_path / "es.dbn", random_minutes(1, T0, 5), mappings={"ESZ4": [(*DAYS, 1)]})
    with pytest.raises(DbnDataError, match="es.dbn: holds explicit contracts .*ESZ4.*contract_for"):
        read_dbn_bars(path)


def test_wrong_schema_is_refused_naming_it(tmp_path):
    trades = [dbn.TradeMsg(publisher_id=1, instrument_id=1, ts_event=T0, price=1, size=1, action=dbn.Action.TRADE,
                           side=dbn.Side.NONE, depth=0, flags=0, ts_recv=T0, ts_in_delta=0, sequence=1)]
    path = write_dbn(tmp_path / "t.dbn", trades, schema=dbn.Schema.TRADES, mappings={"ESZ4": [(*DAYS, 1)]})
    with pytest.raises(DbnDataError, match="t.dbn: schema trades; expected ohlcv-1m or ohlcv-1h"):
        read_dbn_bars(path, symbols=["ES"], contract_for=_contract_for)


def test_unknown_symbol_is_refused_naming_what_the_file_holds(tmp_path):
    path = write_dbn(tmp_path / "es.dbn", random_minutes(1, T0, 5), stype_in=dbn.SType.CONTINUOUS,
                     mappings={"ES.c.0": [(*DAYS, 1)]})
    with pytest.raises(DbnDataError, match=r"unknown symbol\(s\) \['NQ'\]; the file holds \['ES'\]"):
        read_dbn_bars(path, symbols=["NQ"])


def test_contract_never_active_gives_no_bars_error_naming_the_symbol(tmp_path):
    path = write_dbn(tmp_path / "cl.dbn", random_minutes(1, T0, 5), mappings={"CLF5": [(*DAYS, 1)]})
    with pytest.raises(DbnDataError, match=r"no bars for symbol\(s\) \['ES'\]; the data holds CLF5"):
        read_dbn_bars(path, symbols=["ES"], contract_for=_contract_for)


def test_empty_file_and_file_without_records_are_refused(tmp_path):
    empty = tmp_path / "empty.dbn"
    empty.write_bytes(b"")
    with pytest.raises(DbnDataError, match="empty.dbn: empty file"):
        read_dbn_bars(empty)
    header_only = write_dbn(tmp_path / "none.dbn", [], stype_in=dbn.SType.CONTINUOUS,
                            mappings={"ES.c.0": [(*DAYS, 1)]})
    with pytest.raises(DbnDataError, match="none.dbn: no OHLCV records"):
        read_dbn_bars(header_only)


def test_a_file_that_is_not_dbn_is_refused(tmp_path):
    junk = tmp_path / "junk.dbn"
    junk.write_bytes(b"ts,open,high,low,close,volume\n")
    with pytest.raises(DbnDataError, match="junk.dbn: not a readable DBN file"):
        read_dbn_bars(junk)
    with pytest.raises(DbnDataError, match="missing.dbn: DBN file not found"):
        read_dbn_bars(tmp_path / "missing.dbn")


def test_minutes_map_to_bar_hours_by_utc_clock_hour_labelled_by_start(tmp_path):
    recs = [ohlcv(1, T0 + 59 * MINUTE, "1", "1", "1", "1", 1), ohlcv(1, T0 + HOUR, "2", "2", "2", "2", 1)]
    path = write_dbn(tmp_path / "es.dbn", recs, stype_in=dbn.SType.CONTINUOUS, mappings={"ES.c.0": [(*DAYS, 1)]})
    assert read_dbn_bars(path)["ES"].ts.tolist() == [T0, T0 + HOUR]
