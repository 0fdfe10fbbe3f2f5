"""import-bars refuses bad input with one error naming the file, line, ts and column, and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from multialpha.research.cli import main

CONTRACTS = Path(__file__).resolve().parents[3] / "config" / "contracts.yml"
COMMON = ",Open,High,Low,Close,Volume"
GOOD = ["2024-03-12 10:00:00,5150.25,5152.0,5149.5,5151.0,1200",
        "2024-03-12 11:00:00,5151.0,5153.0,5150.0,5152.5,900",
        "2024-03-12 12:00:00,5152.5,5153.0,5150.0,5151.0,700"]


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], *options: str,
             symbol: str = "ES") -> str:
    """The one error line import-bars prints for ``lines``, after checking exit 1 and no output."""
    source = tmp_path / "vendor.csv"
    source.write_text("\n".join(lines) + "\n")
    code = main(["import-bars", str(source), "--symbol", symbol, "--out", str(tmp_path / "data"),
                 "--contracts", str(CONTRACTS), *options])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert not (tmp_path / "data" / f"{symbol}.csv").exists()
    return captured.err.removeprefix("error: ").removesuffix("\n").replace(str(source), "vendor.csv")


def test_missing_column(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [",Open,High,Low,Close", *(g.rsplit(",", 1)[0] for g in GOOD)],
                   "--tz", "America/New_York")
    assert err == ("vendor.csv: line 1: no column for volume; found ['#1', 'Open', 'High', 'Low', 'Close']; "
                   "name it with --columns volume=COLUMN")


def test_column_named_in_the_mapping_but_absent(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, *GOOD], "--tz", "America/New_York", "--columns", "volume=Vol")
    assert err.startswith("vendor.csv: line 1: no column 'Vol' (given for volume in --columns)")


def test_unparseable_timestamp(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, GOOD[0], "12/03/2024 11:00,5151.0,5153.0,5150.0,5152.5,900"],
                   "--tz", "America/New_York")
    assert err == ("vendor.csv: line 3: ts '12/03/2024 11:00': column '#1': ts is not an ISO-8601 timestamp "
                   "(e.g. 2024-01-02 09:30:00); give other layouts with --ts-format")


def test_naive_timestamps_without_a_time_zone(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, *GOOD])
    assert err == ("vendor.csv: line 2: ts '2024-03-12 10:00:00': column '#1': ts has no time zone; say "
                   "which with --tz (e.g. America/New_York, America/Chicago or UTC)")


def test_ambiguous_dst_time(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, "2023-11-05 00:00:00,1.07,1.0705,1.0695,1.07,10",
                                      "2023-11-05 01:00:00,1.07,1.0705,1.0695,1.07,11",
                                      "2023-11-05 01:00:00,1.07,1.0705,1.0695,1.07,12"],
                   "--tz", "America/New_York", symbol="6E")
    assert err == ("vendor.csv: line 3: ts '2023-11-05 01:00:00': column '#1': local time 2023-11-05 "
                   "01:00:00 is ambiguous in America/New_York: clocks go back and it happens twice; say "
                   "which with --ambiguous infer|earlier|later (and 1 more row(s) with this problem)")


def test_nonexistent_dst_time(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, "2024-03-10 02:30:00,1.07,1.0705,1.0695,1.07,10"],
                   "--tz", "America/New_York", symbol="6E")
    assert err == ("vendor.csv: line 2: ts '2024-03-10 02:30:00': column '#1': local time 2024-03-10 "
                   "02:30:00 does not exist in America/New_York: clocks go forward past it; say what to "
                   "do with --nonexistent shift-forward|drop")


def test_ambiguous_time_resolved_the_same_way_twice_is_a_duplicate(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, "2023-11-05 01:00:00,1.07,1.0705,1.0695,1.07,11",
                                      "2023-11-05 01:00:00,1.07,1.0705,1.0695,1.07,12"],
                   "--tz", "America/New_York", "--ambiguous", "earlier", "--input-bar", "1h", symbol="6E")
    assert err == ("vendor.csv: line 3: ts '2023-11-05 01:00:00': column '#1': duplicate ts "
                   "2023-11-05T05:00:00Z (the same instant as line 2)")


def test_duplicate_timestamp(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, GOOD[0], GOOD[1], GOOD[1]], "--tz", "America/New_York")
    assert err == ("vendor.csv: line 4: ts '2024-03-12 11:00:00': column '#1': duplicate ts "
                   "2024-03-12T15:00:00Z (the same instant as line 3)")


def test_rows_out_of_order(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, GOOD[1], GOOD[0], GOOD[2]], "--tz", "America/New_York")
    assert err.startswith("vendor.csv: line 3: ts '2024-03-12 10:00:00': column '#1': ts "
                          "2024-03-12T14:00:00Z is earlier than line 2's")


def test_high_below_low(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, GOOD[0], "2024-03-12 11:00:00,5151.0,5149.0,5150.0,5152.5,900"],
                   "--tz", "America/New_York")
    assert err == ("vendor.csv: line 3: ts '2024-03-12 11:00:00': column 'High': high 5149.0 is below "
                   "low 5150.0")


def test_a_word_where_a_price_belongs(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, GOOD[0], "2024-03-12 11:00:00,n/a,5153.0,5150.0,5152.5,900"],
                   "--tz", "America/New_York")
    assert err == ("vendor.csv: line 3: ts '2024-03-12 11:00:00': column 'Open': open is not a finite "
                   "number: 'n/a'")


def test_unknown_symbol_in_contracts(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, *GOOD], "--tz", "America/New_York", symbol="XX")
    assert err == f"{CONTRACTS}: no contract spec for symbol 'XX'; add it to the contracts file"


def test_daily_bars(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, "2024-03-11,5150.25,5152.0,5149.5,5151.0,1200",
                                      "2024-03-12,5151.0,5153.0,5150.0,5152.5,900"], "--tz", "America/Chicago")
    assert err == ("vendor.csv: rows are mostly 24h apart: hourly bar files are built from hourly or "
                   "finer bars")


def test_hourly_bars_off_the_clock_hour(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, "2024-03-12T10:30:00Z,5150.25,5152.0,5149.5,5151.0,1200",
                                      "2024-03-12T11:30:00Z,5151.0,5153.0,5150.0,5152.5,900"])
    assert err == ("vendor.csv: line 2: ts '2024-03-12T10:30:00Z': column '#1': bar start "
                   "2024-03-12T10:30:00Z is not on a clock hour (1h bars); for bars stamped at their end "
                   "pass --timestamp-is bar-end (and 1 more row(s) with this problem)")


def test_a_malformed_column_mapping(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, *GOOD], "--columns", "ts=Date,price=Close")
    assert err == "--columns: unknown field 'price' in 'price=Close'; fields are ts, open, high, low, close, volume"


def test_an_unknown_time_zone(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, *GOOD], "--tz", "America/Nowhere")
    assert err.startswith("--tz: unknown time zone 'America/Nowhere'")


def test_an_existing_bar_file_is_kept_without_overwrite(tmp_path, capsys) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ES.parquet").write_bytes(b"")
    err = _refused(tmp_path, capsys, [COMMON, *GOOD], "--tz", "America/New_York")
    assert err.endswith("already holds ES.parquet; a data directory keeps one bar file per symbol: "
                        "remove it or write --format parquet")


def test_a_timestamp_beyond_what_bar_files_hold(tmp_path, capsys) -> None:
    err = _refused(tmp_path, capsys, [COMMON, "2300-01-02 10:00:00,5150.25,5152.0,5149.5,5151.0,1200"],
                   "--tz", "UTC")
    assert err == ("vendor.csv: line 2: ts '2300-01-02 10:00:00': column '#1': ts is outside the years "
                   "1678-2261")
