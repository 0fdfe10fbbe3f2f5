"""Bar files: finding, round-tripping and rejecting bad ones with the exact location."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from multialpha.errors import DataError
from multialpha.features.bars import BarArrays
from multialpha.feeds.replay_files import (
    BarFileError,
    find_bar_file,
    load_bar_file,
    load_symbols,
    write_bar_file,
)

HOUR_NS = 3600 * 1_000_000_000
T0 = np.datetime64("2024-01-02T14:00", "ns").astype(np.int64)
HEADER = "ts,open,high,low,close,volume"
GOOD = [
    "2024-01-02T14:00:00Z,100.25,101.5,99.75,101.0,1200",
    "2024-01-02T15:00:00Z,101.0,102.0,100.5,101.75,900",
    "2024-01-02T16:00:00Z,101.75,101.75,100.0,100.25,1500",
    "2024-01-02T17:00:00Z,100.25,100.5,99.5,100.0,700",
]


def _globex_hours(n: int) -> np.ndarray:
    """``n`` hour starts from T0 on, leaving out the hours CME Globex is closed: the daily
    16:00-17:00 Chicago halt and Friday 16:00 to Sunday 17:00."""
    hours = pd.DatetimeIndex(T0 + np.arange(3 * n, dtype=np.int64) * HOUR_NS, tz="UTC")
    local = hours.tz_convert("America/Chicago")
    weekend = (((local.day_of_week == 4) & (local.hour >= 16)) | (local.day_of_week == 5)
               | ((local.day_of_week == 6) & (local.hour < 17)))
    return hours.asi8[~weekend & (local.hour != 16)][:n]


def _bars(n: int = 4, symbol: str = "ES") -> BarArrays:
    rng = np.random.default_rng(0)
    close = np.round(100 + np.cumsum(rng.normal(0, 0.5, n)), 2)
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) + 0.25
    low = np.minimum(open_, close) - 0.25
    volume = rng.integers(1, 5000, n).astype(np.float64)
    return BarArrays(symbol, _globex_hours(n), open_, high, low, close, volume)


def _csv(tmp_path: Path, lines: list[str], name: str = "ES.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _error(path: Path) -> BarFileError:
    with pytest.raises(BarFileError) as info:
        load_bar_file(path, "ES")
    return info.value


def _assert_same(a: BarArrays, b: BarArrays) -> None:
    for field in ("ts", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


# --- finding files ---------------------------------------------------------------------------


def test_find_bar_file_returns_the_csv_or_the_parquet(tmp_path: Path) -> None:
    write_bar_file(tmp_path / "ES.csv", _bars())
    write_bar_file(tmp_path / "NQ.parquet", _bars(symbol="NQ"))
    assert find_bar_file(tmp_path, "ES") == tmp_path / "ES.csv"
    assert find_bar_file(tmp_path, "NQ") == tmp_path / "NQ.parquet"


def test_find_bar_file_without_a_file_names_symbol_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no bar file for 'CL'") as info:
        find_bar_file(tmp_path, "CL")
    assert str(tmp_path) in str(info.value)


def test_find_bar_file_with_both_formats_is_ambiguous_and_names_both(tmp_path: Path) -> None:
    write_bar_file(tmp_path / "ES.csv", _bars())
    write_bar_file(tmp_path / "ES.parquet", _bars())
    with pytest.raises(DataError, match=r"ES\.csv, ES\.parquet"):
        find_bar_file(tmp_path, "ES")


def test_find_bar_file_in_a_missing_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        find_bar_file(tmp_path / "nope", "ES")


def test_load_symbols_reads_each_symbol_in_the_order_given(tmp_path: Path) -> None:
    write_bar_file(tmp_path / "ES.csv", _bars())
    write_bar_file(tmp_path / "VX.parquet", _bars(symbol="VX"))
    loaded = load_symbols(tmp_path, ["VX", "ES"])
    assert list(loaded) == ["VX", "ES"] and loaded["VX"].symbol == "VX"
    assert loaded["ES"].tick_size is None


def test_load_symbols_attaches_tick_sizes_and_keeps_them_through_slices(tmp_path: Path) -> None:
    write_bar_file(tmp_path / "ES.csv", _bars())
    write_bar_file(tmp_path / "VX.csv", _bars(symbol="VX"))
    loaded = load_symbols(tmp_path, ["ES", "VX"], tick_sizes={"ES": 0.01})
    assert loaded["ES"].tick_size == 0.01 and loaded["VX"].tick_size is None
    assert loaded["ES"].tail(2).tick_size == 0.01 and loaded["ES"].slice(slice(1, 3)).tick_size == 0.01


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_written_files_load_back_bit_for_bit(tmp_path: Path, suffix: str) -> None:
    bars = _bars(500)
    path = write_bar_file(tmp_path / f"ES{suffix}", bars)
    _assert_same(load_bar_file(path, "ES"), bars)


def test_csv_is_iso_utc_with_integer_volume(tmp_path: Path) -> None:
    path = write_bar_file(tmp_path / "ES.csv", _bars(1))
    first = path.read_text().splitlines()
    assert first[0] == HEADER
    assert first[1].startswith("2024-01-02T14:00:00Z,100.0,")
    assert "." not in first[1].rsplit(",", 1)[1]


def test_csv_offsets_are_converted_to_utc_and_extra_columns_ignored(tmp_path: Path) -> None:
    path = _csv(tmp_path, ["ts,open,high,low,close,volume,note",
                           "2024-01-02T08:00:00-06:00,1,2,0.5,1.5,10,x",
                           "2024-01-02 16:00:00+01:00,1,2,0.5,1.5,10,y"])
    assert load_bar_file(path, "ES").ts.tolist() == [T0, T0 + HOUR_NS]


def test_parquet_accepts_int64_nanoseconds_and_iso_text(tmp_path: Path) -> None:
    bars = _bars()
    for ts in (pa.array(bars.ts, type=pa.int64()),
               pa.array([f"2024-01-02T{14 + k}:00:00Z" for k in range(4)])):
        table = pa.table({"ts": ts, **{c: getattr(bars, c) for c in ("open", "high", "low", "close", "volume")}})
        pq.write_table(table, tmp_path / "ES.parquet")
        _assert_same(load_bar_file(tmp_path / "ES.parquet", "ES"), bars)


def test_trailing_blank_lines_are_fine(tmp_path: Path) -> None:
    assert len(load_bar_file(_csv(tmp_path, [HEADER, *GOOD, "", ""]), "ES")) == 4


def test_loading_twelve_thousand_csv_rows_is_quick(tmp_path: Path) -> None:
    path = write_bar_file(tmp_path / "ES.csv", _bars(12_000))
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        load_bar_file(path, "ES")
        runs.append(time.perf_counter() - t0)
    assert min(runs) < 0.25  # typically ~20 ms; loose for shared test machines


# --- rejecting bad files: where and what ---------------------------------------------------------


def _with_line(k: int, text: str) -> list[str]:
    rows = [HEADER, *GOOD]
    rows[k - 1] = text  # k is the file line number
    return rows


@pytest.mark.parametrize(("line_text", "column", "words"), [
    ("2024-01-02T15:00:00,101.0,102.0,100.5,101.75,900", "ts", "no timezone"),
    ("yesterday,101.0,102.0,100.5,101.75,900", "ts", "not an ISO-8601"),
    (",101.0,102.0,100.5,101.75,900", "ts", "empty"),
    ("2024-01-02T15:30:00Z,101.0,102.0,100.5,101.75,900", "ts", "not on a clock hour"),
    ("2024-01-02T14:00:00Z,101.0,102.0,100.5,101.75,900", "ts", "duplicate ts (same as line 2)"),
    ("2024-01-02T13:00:00Z,101.0,102.0,100.5,101.75,900", "ts", "earlier than the previous bar's (line 2)"),
    ("2024-01-02T15:00:00Z,,102.0,100.5,101.75,900", "open", "open is empty"),
    ("2024-01-02T15:00:00Z,101.0,abc,100.5,101.75,900", "high", "not a finite number: 'abc'"),
    ("2024-01-02T15:00:00Z,101.0,102.0,100.5,inf,900", "close", "not a finite number: 'inf'"),
    ("2024-01-02T15:00:00Z,101.0,102.0,100.5,NaN,900", "close", "not a finite number: 'NaN'"),
    ("2024-01-02T15:00:00Z,101.0,101.5,100.5,101.75,900", "high", "below max(open, close) 101.75"),
    ("2024-01-02T15:00:00Z,101.0,102.0,101.5,101.75,900", "low", "above min(open, close) 101.0"),
    ("2024-01-02T15:00:00Z,101.0,102.0,100.5,101.75,-1", "volume", "volume -1.0 is negative"),
])
def test_a_bad_row_is_reported_with_file_line_ts_and_column(tmp_path: Path, line_text: str, column: str,
                                                             words: str) -> None:
    path = _csv(tmp_path, _with_line(3, line_text))
    err = _error(path)
    assert (err.file, err.line, err.column) == (str(path), 3, column)
    assert err.ts == repr(line_text.split(",")[0])
    assert words in str(err)
    assert f"{path}: line 3: ts " in str(err)


def test_a_price_off_the_tick_grid_is_reported_with_line_ts_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, [HEADER, *GOOD[:2], "2024-01-02T16:00:00Z,101.75,101.8,100.0,100.25,1500",
                           "2024-01-02T17:00:00Z,100.25,100.5,99.5,100.1,700"])
    assert load_bar_file(path, "ES", 0.05).tick_size == 0.05  # on the 0.05 grid
    with pytest.raises(BarFileError) as info:
        load_bar_file(path, "ES", 0.25)
    err = info.value
    assert (err.line, err.ts, err.column) == (4, "'2024-01-02T16:00:00Z'", "high")
    assert "101.8 is not on the tick grid of 0.25" in str(err) and err.more == 0


def test_a_blank_line_between_bars_is_reported(tmp_path: Path) -> None:
    err = _error(_csv(tmp_path, [HEADER, GOOD[0], "", *GOOD[1:]]))
    assert err.line == 3 and "blank line" in str(err)


def test_the_first_problem_in_the_file_is_reported_with_a_count_of_the_same_kind(tmp_path: Path) -> None:
    rows = [HEADER, *GOOD]
    rows[2] = rows[2].replace(",900", ",-5")  # line 3: negative volume
    rows[3] = rows[3].replace("Z,", ",")  # line 4: naive ts
    rows[4] = rows[4].replace(",700", ",-1")  # line 5: negative volume again
    err = _error(_csv(tmp_path, rows))
    assert (err.line, err.column, err.more) == (3, "volume", 1)
    assert "(and 1 more row(s) with this problem)" in str(err)


def test_missing_columns_are_named_on_the_header_line(tmp_path: Path) -> None:
    err = _error(_csv(tmp_path, ["ts,open,high,close", "2024-01-02T14:00:00Z,1,2,1"]))
    assert err.line == 1 and "['low', 'volume']" in str(err)


@pytest.mark.parametrize("lines", [[], [HEADER]])
def test_an_empty_file_is_rejected(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "ES.csv"
    path.write_text("\n".join(lines))
    assert "empty file" in str(_error(path))


def test_a_row_with_too_many_fields_is_reported_with_its_line(tmp_path: Path) -> None:
    err = _error(_csv(tmp_path, _with_line(4, GOOD[2] + ",7")))
    assert err.line == 4


def test_parquet_problems_name_the_row_index(tmp_path: Path) -> None:
    bars = _bars()
    high = bars.high.copy()
    high[2] = bars.low[2] - 1
    table = pa.table({"ts": pa.array(bars.ts).cast(pa.timestamp("ns", tz="UTC")), "open": bars.open,
                      "high": high, "low": bars.low, "close": bars.close, "volume": bars.volume})
    pq.write_table(table, tmp_path / "ES.parquet")
    err = _error(tmp_path / "ES.parquet")
    assert (err.row, err.line, err.column, err.ts) == (2, None, "high", "2024-01-02T16:00:00Z")
    assert "row 2" in str(err)


def test_parquet_timestamps_without_timezone_are_rejected(tmp_path: Path) -> None:
    bars = _bars()
    table = pa.table({"ts": pa.array(bars.ts).cast(pa.timestamp("ns")),
                      **{c: getattr(bars, c) for c in ("open", "high", "low", "close", "volume")}})
    pq.write_table(table, tmp_path / "ES.parquet")
    err = _error(tmp_path / "ES.parquet")
    assert (err.row, err.column) == (0, "ts") and "no timezone" in str(err) and err.more == 3


def test_an_unknown_suffix_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown bar file type"):
        load_bar_file(tmp_path / "ES.txt", "ES")
    with pytest.raises(ValueError, match="unknown bar file type"):
        write_bar_file(tmp_path / "ES.txt", _bars())


def test_a_price_at_or_below_zero_is_refused_unless_the_contract_allows_negative_prices(tmp_path: Path) -> None:
    lines = [HEADER, *GOOD[:2], "2024-01-02T16:00:00Z,0.5,0.75,-1.25,-0.5,1500",
             "2024-01-02T17:00:00Z,-0.5,0.0,-0.75,0.0,700"]
    path = _csv(tmp_path, lines, "CL.csv")
    with pytest.raises(BarFileError) as info:
        load_bar_file(path, "CL", 0.01)
    err = info.value
    assert (err.line, err.ts, err.column, err.more) == (4, "'2024-01-02T16:00:00Z'", "low", 1)
    assert "low -1.25 is not positive, and CL's contract does not allow negative prices" in str(err)
    bars = load_bar_file(path, "CL", 0.01, allows_negative_prices=True)
    assert bars.allows_negative_prices and bars.close.tolist()[2:] == [-0.5, 0.0]
    assert bars.tail(2).allows_negative_prices
    loaded = load_symbols(tmp_path, ["CL"], tick_sizes={"CL": 0.01}, negative_prices={"CL"})
    assert loaded["CL"].allows_negative_prices


# --- bars the exchange could not have printed ----------------------------------------------------


def test_daily_bars_are_refused_as_not_one_hour_apart(tmp_path: Path) -> None:
    days = pd.bdate_range("2024-01-02", periods=30).tz_localize("UTC")  # 18:00 Chicago, the evening before
    lines = [HEADER, *(f"{d:%Y-%m-%dT%H:%M:%SZ},100.0,101.0,99.0,100.5,5000" for d in days)]
    err = _error(_csv(tmp_path, lines))
    assert "bars are 24 hours apart, not 1 hour: is this a daily file?" in str(err)
    assert (err.line, err.ts, err.column) == (3, "'2024-01-03T00:00:00Z'", "ts")
    assert err.more == 22  # 29 gaps: 23 of 24 hours (this one and 22 more), 6 weekends of 72 hours


def test_two_hour_bars_are_refused_and_hourly_bars_with_gaps_are_not(tmp_path: Path) -> None:
    bars = _bars(80)
    err = _error(write_bar_file(tmp_path / "ES.csv", bars.slice(slice(0, None, 2))))
    assert "bars are 2 hours apart, not 1 hour: is this a file of 2-hour bars?" in str(err)
    gappy = bars.slice(slice(0, None, 3)).ts  # every third bar dropped and every hour kept twice
    keep = np.isin(bars.ts, np.union1d(gappy, gappy + HOUR_NS))
    path = write_bar_file(tmp_path / "ES.csv", BarArrays("ES", *(getattr(bars, f)[keep] for f in
                                                                 ("ts", "open", "high", "low", "close", "volume"))))
    assert len(load_bar_file(path, "ES")) == int(keep.sum())


@pytest.mark.parametrize(("line", "words"), [
    ("2024-01-02T22:00:00Z", "daily maintenance halt (16:00-17:00 Chicago)"),  # Tuesday 16:00 CST
    ("2024-07-02T21:00:00Z", "daily maintenance halt (16:00-17:00 Chicago)"),  # Tuesday 16:00 CDT
    ("2024-01-05T22:00:00Z", "closed for the weekend (Friday 16:00 to Sunday 17:00 Chicago)"),  # Friday 16:00
    ("2024-01-06T15:00:00Z", "closed for the weekend"),  # Saturday
    ("2024-01-07T22:00:00Z", "closed for the weekend"),  # Sunday 16:00 CST
])
def test_a_bar_starting_while_globex_is_closed_is_refused(tmp_path: Path, line: str, words: str) -> None:
    rows = [HEADER, *GOOD[:3], f"{line},100.25,100.5,99.5,100.0,700"]
    err = _error(_csv(tmp_path, rows))
    assert (err.line, err.ts, err.column, err.more) == (5, repr(line), "ts", 0)
    assert f"bar starts {'in' if 'halt' in words else 'while'} CME Globex" in str(err) and words in str(err)


def test_the_sunday_17_00_open_and_the_15_00_bar_before_the_halt_are_accepted(tmp_path: Path) -> None:
    rows = [HEADER, "2024-01-05T21:00:00Z,1,2,0.5,1.5,10",  # Friday 15:00 CST, the week's last hour
            "2024-01-07T23:00:00Z,1,2,0.5,1.5,10",  # Sunday 17:00 CST
            "2024-01-08T00:00:00Z,1,2,0.5,1.5,10", "2024-01-08T01:00:00Z,1,2,0.5,1.5,10"]
    assert len(load_bar_file(_csv(tmp_path, rows), "ES")) == 4
