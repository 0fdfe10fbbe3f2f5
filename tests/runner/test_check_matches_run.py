"""``check`` finds every problem ``run`` would refuse to start with, with the same message, and
``run`` refuses bad input with that message and its documented exit code, never a traceback."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from multialpha.cli import main
from multialpha.state import StateStore

from .conftest import MakeSetup, Setup, hourly_bars

FLAT = (5000.0, 5005.0, 4995.0, 5000.0)
ENTRY = (5000.0, 5010.0, 4990.0, 4991.0)


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """``run`` in-process installs its log handler on the root logger: put the test's back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _setup(make_setup: MakeSetup) -> Setup:
    bars = {"ES": hourly_bars("ES", [FLAT] * 3 + [ENTRY] + [FLAT] * 4),
            "NQ": hourly_bars("NQ", [(17000.0, 17010.0, 16990.0, 17000.0)] * 8)}
    return make_setup(bars=bars, strategies={"t1": {"instruments": ["ES", "NQ"],
                                                    "params": {"session_start": "00:00", "session_end": "23:59"}}},
                      runtime={"data": {"warmup_bars": 3}})


def _edit_csv(setup: Setup, symbol: str, line: int, new: str | None) -> None:
    path = setup.root / "data" / f"{symbol}.csv"
    lines = path.read_text().splitlines()
    if new is None:
        del lines[line - 1]
    else:
        lines[line - 1] = new
    path.write_text("\n".join(lines) + "\n")


def _row(setup: Setup, symbol: str, line: int) -> list[str]:
    return (setup.root / "data" / f"{symbol}.csv").read_text().splitlines()[line - 1].split(",")


def _bad_value(column: int, value: str) -> Callable[[Setup], None]:
    def apply(setup: Setup) -> None:
        row = _row(setup, "NQ", 4)
        row[column] = value
        _edit_csv(setup, "NQ", 4, ",".join(row))
    return apply


def _duplicate_ts(setup: Setup) -> None:
    row3 = _row(setup, "NQ", 3)
    row = _row(setup, "NQ", 4)
    row[0] = row3[0]
    _edit_csv(setup, "NQ", 4, ",".join(row))


def _swap_rows(setup: Setup) -> None:
    a, b = _row(setup, "NQ", 4), _row(setup, "NQ", 5)
    _edit_csv(setup, "NQ", 4, ",".join(b))
    _edit_csv(setup, "NQ", 5, ",".join(a))


def _wrong_columns(setup: Setup) -> None:
    _edit_csv(setup, "NQ", 1, "time,open,high,low,close,volume")


def _no_zone(setup: Setup) -> None:
    row = _row(setup, "NQ", 4)
    row[0] = row[0].replace("Z", "").replace("+00:00", "")
    _edit_csv(setup, "NQ", 4, ",".join(row))


def _store(setup: Setup) -> Path:
    return setup.root / "state" / "multialpha.sqlite"


def _corrupt_store(setup: Setup) -> None:
    StateStore.open(_store(setup)).close()
    data = bytearray(_store(setup).read_bytes())
    data[4096:8192] = os.urandom(4096)
    _store(setup).write_bytes(bytes(data))


def _foreign_store(setup: Setup) -> None:
    _store(setup).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(_store(setup))
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.commit()
    conn.close()


def _empty_store(setup: Setup) -> None:
    _store(setup).parent.mkdir(parents=True, exist_ok=True)
    _store(setup).write_bytes(b"")


def _truncated_store(setup: Setup) -> None:
    StateStore.open(_store(setup)).close()
    _store(setup).write_bytes(_store(setup).read_bytes()[:50])


def _unwritable_state(setup: Setup) -> None:
    blocker = setup.root / "blocked"
    blocker.write_text("a file where the state directory should be")
    _set_runtime(setup, state_path=str(blocker / "state" / "multialpha.sqlite"))


def _databento(setup: Setup) -> None:
    _set_runtime(setup, data={"source": "databento", "databento": {"api_key": "db-test-key"}})


def _strategy_gone_with_positions(setup: Setup) -> None:
    with StateStore.open(_store(setup)) as store:
        store.positions.open("gone", "ES", quantity=1, entry_time=_utc(), entry_price="5000",
                             signal_id="gone:ES:2024-03-05T15:00:00Z:buy")


def _utc():
    from datetime import UTC, datetime

    return datetime(2024, 3, 5, 15, tzinfo=UTC)


def _set_runtime(setup: Setup, **changes: object) -> None:
    doc = yaml.safe_load(setup.config_path.read_text())
    for key, value in changes.items():
        if isinstance(value, dict):
            doc["runtime"][key] = {**doc["runtime"].get(key, {}), **value}
        else:
            doc["runtime"][key] = value
    setup.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))


BAD_INPUTS = {
    "nan-price": (_bad_value(4, "nan"), 70),
    "duplicate-ts": (_duplicate_ts, 70),
    "out-of-order-ts": (_swap_rows, 70),
    "high-below-low": (_bad_value(2, "16900.0"), 70),
    "off-grid-price": (_bad_value(4, "17000.1"), 70),
    "wrong-columns": (_wrong_columns, 70),
    "ts-without-zone": (_no_zone, 70),
    "corrupt-store": (_corrupt_store, 75),
    "foreign-store": (_foreign_store, 75),
    "empty-store": (_empty_store, 75),
    "truncated-store": (_truncated_store, 75),
    "unwritable-state-path": (_unwritable_state, 75),
    "databento-source": (_databento, 78),
    "positions-of-a-strategy-no-longer-configured": (_strategy_gone_with_positions, 78),
}


@pytest.mark.parametrize("breaks", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_check_fails_with_the_message_run_refuses_with(make_setup: MakeSetup, capsys: pytest.CaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch, breaks: str):
    setup = _setup(make_setup)
    apply, exit_code = BAD_INPUTS[breaks]
    apply(setup)
    for name, value in setup.env.items():
        monkeypatch.setenv(name, value)
    before = {p: p.read_bytes() for p in (setup.root / "state").glob("*")} if (setup.root / "state").is_dir() else {}

    assert main(["check", "--config", str(setup.config_path)]) == 1
    checked = capsys.readouterr().out
    problems = [line.split("PROBLEM ", 1)[1] for line in checked.splitlines() if "PROBLEM " in line]
    assert problems, checked
    after = {p: p.read_bytes() for p in (setup.root / "state").glob("*")} if (setup.root / "state").is_dir() else {}
    assert after == before  # check writes nothing

    assert main(["run", "--config", str(setup.config_path)]) == exit_code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert problems[0] in err
    assert setup.sink.received == []


def test_check_reports_every_bad_file_not_only_the_first(make_setup: MakeSetup, capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch):
    setup = _setup(make_setup)
    _bad_value(4, "nan")(setup)
    (setup.root / "data" / "ES.csv").write_text("")
    for name, value in setup.env.items():
        monkeypatch.setenv(name, value)
    assert main(["check", "--config", str(setup.config_path)]) == 1
    out = capsys.readouterr().out
    assert "ES.csv" in out and "NQ.csv" in out and "check failed: 2 problem(s)" in out


def test_replay_refuses_a_non_local_webhook_before_anything_starts(make_setup: MakeSetup,
                                                                   capsys: pytest.CaptureFixture,
                                                                   monkeypatch: pytest.MonkeyPatch):
    setup = _setup(make_setup)
    monkeypatch.setenv("HOOK_T1", "https://webhooks.traderspost.io/trading/webhook/abc/secret")
    assert main(["run", "--config", str(setup.config_path)]) == 78
    err = capsys.readouterr().err
    assert "strategies.t1.broker_account" in err and "replay never sends to a non-local URL" in err
    assert "secret" not in err
    assert not _store(setup).exists()  # refused before the state store was touched
    assert main(["check", "--config", str(setup.config_path)]) == 1
    assert "replay never sends to a non-local URL" in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_paper_and_live_refuse_replay_files(make_setup: MakeSetup, capsys: pytest.CaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch, mode: str):
    setup = _setup(make_setup)
    for name, value in setup.env.items():
        monkeypatch.setenv(name, value)
    assert main(["run", "--config", str(setup.config_path), "--mode", mode]) == 78
    assert f"mode {mode} needs a live data source" in capsys.readouterr().err
    assert setup.sink.received == []
