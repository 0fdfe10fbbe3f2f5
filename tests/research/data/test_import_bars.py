"""import-bars: vendor CSV and parquet, any time zone, minute or hourly, into checked hourly bar files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from multialpha.research.cli import main

from multialpha.feeds.replay_files import load_bar_file

CONTRACTS = Path(__file__).resolve().parents[3] / "config" / "contracts.yml"
HOUR_NS = 3600 * 1_000_000_000
COMMON = ",Open,High,Low,Close,Volume"


def _utc(text: str) -> int:
    return int(np.datetime64(text, "ns").astype(np.int64))


def _csv(tmp_path: Path, lines: list[str], name: str = "vendor.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(source: Path, out: Path, *options: str, symbol: str = "ES") -> int:
    return main(["import-bars", str(source), "--symbol", symbol, "--out", str(out),
                 "--contracts", str(CONTRACTS), *options])


def test_common_layout_in_new_york_time_crosses_the_dst_change_to_utc_hours(tmp_path, capsys) -> None:
    # Friday in standard time (UTC-5), Sunday evening in daylight time (UTC-4).
    source = _csv(tmp_path, [COMMON,
                             "2024-03-08 15:00:00,5150.25,5152.0,5149.5,5151.0,1200",
                             "2024-03-08 16:00:00,5151.0,5153.0,5150.0,5152.5,900",
                             "2024-03-10 18:00:00,5140.0,5141.25,5139.0,5140.5,800",
                             "2024-03-10 19:00:00,5140.5,5143.0,5140.0,5142.75,650"])
    assert _run(source, tmp_path / "data", "--tz", "America/New_York") == 0
    bars = load_bar_file(tmp_path / "data" / "ES.csv", "ES", 0.25)
    assert bars.ts.tolist() == [_utc("2024-03-08T20:00"), _utc("2024-03-08T21:00"),
                                _utc("2024-03-10T22:00"), _utc("2024-03-10T23:00")]
    assert bars.close.tolist() == [5151.0, 5152.5, 5140.5, 5142.75]
    out = capsys.readouterr().out
    assert "4 rows" in out and "4 hourly bars of ES" in out
    assert "2024-03-08T20:00:00Z .. 2024-03-10T23:00:00Z" in out
    assert "ts=#1, open=Open" in out and "America/New_York" in out and "dropped nothing" in out


def test_named_columns_with_date_and_time_stamped_at_the_bar_end(tmp_path) -> None:
    source = _csv(tmp_path, ["Date,Time,O,H,L,C,Vol,OpenInt",
                             "01/02/2024,09:00,1.10500,1.10600,1.10450,1.10550,5000,1",
                             "01/02/2024,10:00,1.10550,1.10700,1.10500,1.10650,4000,1"])
    code = _run(source, tmp_path / "data", "--symbol", "6E", "--columns",
                "ts=Date+Time,open=O,high=H,low=L,close=C,volume=Vol", "--ts-format", "%m/%d/%Y %H:%M",
                "--tz", "America/Chicago", "--timestamp-is", "bar-end", "--input-bar", "1h")
    assert code == 0
    bars = load_bar_file(tmp_path / "data" / "6E.csv", "6E", 0.00005)
    assert bars.ts.tolist() == [_utc("2024-01-02T14:00"), _utc("2024-01-02T15:00")]  # 08:00 CT start
    assert bars.volume.tolist() == [5000.0, 4000.0]


def test_parquet_with_a_naive_index_in_chicago_time_writes_parquet(tmp_path, capsys) -> None:
    index = pd.DatetimeIndex(["2024-07-01 08:00", "2024-07-01 09:00", "2024-07-01 10:00"])
    frame = pd.DataFrame({"Open": [80.0, 80.5, 80.25], "High": [80.6, 80.75, 80.3],
                          "Low": [79.9, 80.2, 79.8], "Close": [80.5, 80.25, 80.0],
                          "Volume": [1500, 1200, 900]}, index=index)
    source = tmp_path / "cl.parquet"
    frame.to_parquet(source)
    assert _run(source, tmp_path / "data", "--symbol", "CL", "--tz", "America/Chicago",
                "--format", "parquet") == 0
    bars = load_bar_file(tmp_path / "data" / "CL.parquet", "CL", 0.01)
    assert bars.ts.tolist() == [_utc("2024-07-01T13:00"), _utc("2024-07-01T14:00"), _utc("2024-07-01T15:00")]
    assert bars.high.tolist() == [80.6, 80.75, 80.3]
    assert "ts=index" in capsys.readouterr().out  # pandas' unnamed index holds the timestamps


def test_parquet_timestamps_with_a_zone_need_no_tz_and_refuse_one(tmp_path, capsys) -> None:
    frame = pd.DataFrame({"ts": pd.to_datetime(["2024-07-01 08:00", "2024-07-01 09:00"]).tz_localize(
        "America/Chicago"), "open": [80.0, 80.5], "high": [80.6, 80.75], "low": [79.9, 80.2],
        "close": [80.5, 80.25], "volume": [1500.0, 1200.0]})
    source = tmp_path / "cl.parquet"
    frame.to_parquet(source, index=False)
    assert _run(source, tmp_path / "a", "--symbol", "CL") == 0
    assert load_bar_file(tmp_path / "a" / "CL.csv", "CL").ts[0] == _utc("2024-07-01T13:00")
    assert _run(source, tmp_path / "b", "--symbol", "CL", "--tz", "America/Chicago") == 1
    assert "ts already carries its time zone" in capsys.readouterr().err


def _minute_file(tmp_path: Path, start: str, minutes: list[int]) -> Path:
    t0 = pd.Timestamp(start)
    lines = [COMMON]
    for k, m in enumerate(minutes):
        price = 5000.0 + 0.25 * k
        lines.append(f"{(t0 + pd.Timedelta(minutes=m)).isoformat()}Z,{price},{price + 0.5},"
                     f"{price - 0.25},{price + 0.25},{10 + k}")
    return _csv(tmp_path, lines)


def test_minute_bars_become_hourly_bars_with_no_hour_invented(tmp_path, capsys) -> None:
    # 14:00-14:59 complete, nothing in the 15:00 hour, three bars in the 16:00 hour ending 17:00
    minutes = [*range(60), 120, 121, 179]
    source = _minute_file(tmp_path, "2024-03-12 14:00", minutes)
    assert _run(source, tmp_path / "data") == 0
    bars = load_bar_file(tmp_path / "data" / "ES.csv", "ES", 0.25)
    assert bars.ts.tolist() == [_utc("2024-03-12T14:00"), _utc("2024-03-12T16:00")]
    assert bars.open.tolist() == [5000.0, 5015.0]
    assert bars.high.tolist() == [5000.0 + 0.25 * 59 + 0.5, 5015.5 + 0.5]
    assert bars.low.tolist() == [4999.75, 5014.75]
    assert bars.close.tolist() == [5000.25 + 0.25 * 59, 5015.5 + 0.25]
    assert bars.volume.tolist() == [sum(range(10, 70)), 70 + 71 + 72]
    out = capsys.readouterr().out
    assert "63 rows" in out and "input 1m (detected" in out and "aggregated into hourly bars" in out


def test_a_first_hour_cut_mid_hour_is_dropped_and_reported_unless_kept(tmp_path, capsys) -> None:
    source = _minute_file(tmp_path, "2024-03-12 13:30", list(range(90)))  # 13:30 .. 14:59
    assert _run(source, tmp_path / "a") == 0
    assert load_bar_file(tmp_path / "a" / "ES.csv", "ES").ts.tolist() == [_utc("2024-03-12T14:00")]
    out = capsys.readouterr().out
    assert "hour 2024-03-12T13:00:00Z: the input starts mid-hour, at 2024-03-12T13:30:00Z" in out
    assert _run(source, tmp_path / "b", "--keep-partial-edges") == 0
    assert len(load_bar_file(tmp_path / "b" / "ES.csv", "ES")) == 2


def test_off_grid_prices_are_refused_naming_the_line_unless_snapped(tmp_path, capsys) -> None:
    source = _csv(tmp_path, [COMMON,
                             "2024-03-12T14:00:00Z,5150.25,5152.0,5149.5,5151.0,1200",
                             "2024-03-12T15:00:00Z,5151.0,5153.1,5150.0,5152.5,900",
                             "2024-03-12T16:00:00Z,5152.5,5153.0,5150.07,5151.0,700"])
    assert _run(source, tmp_path / "a") == 1
    err = capsys.readouterr().err
    assert err == ("error: " + str(source) + ": line 3: ts '2024-03-12T15:00:00Z': column 'High': high "
                   "5153.1 is not on the tick grid of 0.25; round prices to it with --snap-to-tick\n")
    assert _run(source, tmp_path / "b", "--snap-to-tick") == 0
    out = capsys.readouterr().out
    assert "snapped 2 of 12 prices to the 0.25 grid; largest adjustment 0.1 (0.40 ticks) at line 3, " \
           "column 'High'" in out
    bars = load_bar_file(tmp_path / "b" / "ES.csv", "ES", 0.25)
    assert bars.high[1] == 5153.0 and bars.low[2] == 5150.0


def test_ambiguous_local_times_resolve_by_file_order_when_asked(tmp_path, capsys) -> None:
    # 24-hour FX data through the fall-back night: 01:00 happens twice in New York.
    source = _csv(tmp_path, [COMMON,
                             "2023-11-05 00:00:00,1.07,1.0705,1.0695,1.07,10",
                             "2023-11-05 01:00:00,1.07,1.0705,1.0695,1.07,11",
                             "2023-11-05 01:00:00,1.07,1.0705,1.0695,1.07,12",
                             "2023-11-05 02:00:00,1.07,1.0705,1.0695,1.07,13",
                             "2023-11-05 18:00:00,1.07,1.0705,1.0695,1.07,14",  # Globex reopens at 17:00 Chicago
                             "2023-11-05 19:00:00,1.07,1.0705,1.0695,1.07,15"])
    assert _run(source, tmp_path / "data", "--symbol", "6E", "--tz", "America/New_York",
                "--ambiguous", "infer") == 0
    bars = load_bar_file(tmp_path / "data" / "6E.csv", "6E")
    assert bars.ts.tolist() == [_utc("2023-11-05T23:00"), _utc("2023-11-06T00:00")]
    # the four night hours, 04:00-07:00 UTC once resolved, fall in the weekend close
    assert "4 hour(s) starting while CME Globex is closed (weekend, or the daily 16:00-17:00 Chicago halt), " \
           "the first 2023-11-05T04:00:00Z" in capsys.readouterr().out


@pytest.mark.parametrize(("how", "expected"), [("shift-forward", 3), ("drop", 2)])
def test_nonexistent_local_times_shift_forward_or_drop_when_asked(tmp_path, capsys, how, expected) -> None:
    source = _csv(tmp_path, [COMMON,
                             "2024-03-10 01:00:00,1.07,1.0705,1.0695,1.07,10",
                             "2024-03-10 02:00:00,1.07,1.0705,1.0695,1.07,11",  # clocks jump 02:00 -> 03:00
                             "2024-03-10 04:00:00,1.07,1.0705,1.0695,1.07,12",
                             "2024-03-10 19:00:00,1.07,1.0705,1.0695,1.07,13"])  # open: 18:00 Chicago
    assert _run(source, tmp_path / "data", "--symbol", "6E", "--tz", "America/New_York",
                "--nonexistent", how, "--input-bar", "1h") == 0
    bars = load_bar_file(tmp_path / "data" / "6E.csv", "6E")
    assert bars.ts.tolist() == [_utc("2024-03-10T23:00")]
    out = capsys.readouterr().out
    assert f"{expected} hour(s) starting while CME Globex is closed" in out
    if how == "drop":
        assert "1 row(s) at local times that do not exist (--nonexistent drop), the first at line 3" in out


def test_epoch_milliseconds_are_read_as_utc_instants(tmp_path) -> None:
    start_ms = _utc("2024-03-12T14:00") // 1_000_000
    source = _csv(tmp_path, ["time,open,high,low,close,volume",
                             f"{start_ms},5150.25,5152.0,5149.5,5151.0,1200",
                             f"{start_ms + 3_600_000},5151.0,5153.0,5150.0,5152.5,900"])
    assert _run(source, tmp_path / "data", "--ts-format", "epoch-ms") == 0
    assert load_bar_file(tmp_path / "data" / "ES.csv", "ES").ts.tolist() == [
        _utc("2024-03-12T14:00"), _utc("2024-03-12T15:00")]


def test_an_existing_bar_file_is_replaced_only_with_overwrite(tmp_path, capsys) -> None:
    source = _csv(tmp_path, [COMMON, "2024-03-12T14:00:00Z,5150.25,5152.0,5149.5,5151.0,1200",
                             "2024-03-12T15:00:00Z,5151.0,5153.0,5150.0,5152.5,900"])
    assert _run(source, tmp_path / "data") == 0
    assert _run(source, tmp_path / "data") == 1
    assert capsys.readouterr().err.endswith("ES.csv exists; pass --overwrite to replace it\n")
    assert _run(source, tmp_path / "data", "--overwrite") == 0
