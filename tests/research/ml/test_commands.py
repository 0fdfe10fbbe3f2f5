"""``multialpha-research train`` / ``train-all``: bad inputs are one error line, never a traceback;
an interrupted study resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from multialpha.research.cli import main
from multialpha.research.ml.study import open_storage, sqlite_url
from optuna.trial import TrialState

from multialpha.features.bars import BarArrays
from multialpha.feeds.replay_files import write_bar_file

from .conftest import CONTRACTS

TINY_FLAGS = ["--holdout-start", "2024-04-01", "--random-trials", "3", "--tpe-trials", "2", "--cpcv-groups", "4",
              "--max-trees", "10", "--min-trades", "20", "--no-report", "--no-progress"]
DAY_NS = 86_400 * 1_000_000_000


@pytest.fixture
def config(tmp_path: Path, data_dir: Path) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(f"""runtime:
  contracts_path: {CONTRACTS}
  data: {{path: {data_dir}, reference_symbols: [ZB, VX]}}
strategies:
  alpha:
    broker_account: ${{ALPHA_WEBHOOK}}
    starting_cash: 100000
    models_path: models/alpha
    max_positions: 3
    daily_stop_loss: 2000
    instruments: [ES, CL]
    strategy_params: {{stop_type: atr, stop_atr_mult: 2.5, tp_atr_mult: 3.0}}
""")
    return path


def _train(config: Path, out: Path, *extra: str, symbol: str = "ES") -> list[str]:
    return ["train", "--config", str(config), "--strategy", "alpha", "--symbol", symbol, "--out", str(out),
            *TINY_FLAGS, *extra]


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _daily(symbol: str, tick: float) -> BarArrays:
    n = 400
    close = np.round((100 + np.cumsum(np.random.default_rng(1).normal(0, 1, n))) / tick) * tick
    ts = np.datetime64("2023-01-03T00:00", "ns").astype(np.int64) + np.arange(n) * DAY_NS
    return BarArrays(symbol, ts, close, close + tick, close - tick, close, np.full(n, 1000.0), tick)


@pytest.mark.parametrize("args, expected", [
    (["--features", "ibs,ibs_foo"], "alpha ES: unknown feature(s) ['ibs_foo']"),
    (["--holdout-start", "2031-01-02"], "alpha ES: no bars in the hold-out from 2031-01-02"),
    (["--holdout-start", "2023-06-15"], "alpha ES: only "),
    (["--train-start", "2024-05-01"], "train start 2024-05-01 must be before the hold-out start 2024-04-01"),
])
def test_bad_option_is_one_error_line_naming_it(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                args: list[str], expected: str) -> None:
    assert main(_train(config, tmp_path / "out", *args)) == 1
    assert expected in _one_error(capsys)


def test_unknown_symbol_is_one_error_naming_it(config: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_train(config, tmp_path / "out", symbol="XYZ")) == 1
    assert "no contract spec for symbol 'XYZ'" in _one_error(capsys)


def test_missing_bar_file_is_one_error_naming_the_directory_and_symbol(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(_train(config, tmp_path / "out", "--data", str(empty))) == 1
    assert f"{empty}: no bar file for 'ES'" in _one_error(capsys)


def test_daily_bars_are_one_error_naming_the_file_and_their_spacing(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    daily = tmp_path / "daily"
    daily.mkdir()
    for symbol, tick in (("ES", 0.25), ("ZB", 0.03125), ("VX", 0.05)):
        write_bar_file(daily / f"{symbol}.csv", _daily(symbol, tick))
    assert main(_train(config, tmp_path / "out", "--data", str(daily))) == 1
    line = _one_error(capsys)
    assert str(daily / "ES.csv") in line and "bars are 24 hours apart, not 1 hour: is this a daily file?" in line


def test_unknown_strategy_and_bad_manifest_are_one_error(config: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--config", str(config), "--strategy", "gamma", "--symbol", "ES",
                 "--out", str(tmp_path)]) == 1
    assert "strategy 'gamma' is not defined" in _one_error(capsys)
    manifest = tmp_path / "pairs.csv"
    manifest.write_text("strategy;symbol\n")
    assert main(["train-all", "--config", str(config), "--manifest", str(manifest), "--out", str(tmp_path)]) == 1
    assert "the header must be 'strategy,symbol'" in _one_error(capsys)


def test_train_all_over_local_workers_reports_a_failed_pair_and_trains_the_rest(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "pairs.yml"
    manifest.write_text("pairs:\n  - {strategy: alpha, symbols: [NQ, CL]}\n")  # no NQ bar file
    code = main(["train-all", "--config", str(config), "--manifest", str(manifest), "--out",
                 str(tmp_path / "out"), "--workers", "2", *TINY_FLAGS])
    captured = capsys.readouterr()
    assert code == 1
    assert "alpha    CL    trained" in captured.out and "1 trained, 0 skipped, 1 failed" in captured.out
    assert captured.err.startswith("error: alpha NQ: ") and "no bar file for 'NQ'" in captured.err
    assert "Traceback" not in captured.err
    summary = json.loads((tmp_path / "out" / "train_summary.json").read_text())
    assert [(row["symbol"], row["status"]) for row in summary] == [("NQ", "failed"), ("CL", "trained")]
    assert summary[1]["bundle"].endswith("alpha/CL_best.json") and summary[1]["holdout"]["filtered"]["trades"] > 0


def test_study_killed_mid_search_resumes_keeping_its_trials(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = _train(config, out)
    i = args.index("--tpe-trials")
    args[i + 1] = "5"  # 8 trials: time to kill it in the middle
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "multialpha.research.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    storage = open_storage(sqlite_url(out / "studies.sqlite3"))
    try:
        before = _wait_for_finished(storage, proc, at_least=2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert not (out / "alpha" / "ES_best.json").exists()
    study_name = optuna.get_all_study_names(storage)[0]
    kept = {t.number: (t.params, t.value) for t in before}

    assert main(args) == 0  # the same command again
    study = optuna.load_study(study_name=study_name, storage=storage)
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 8
    assert all(study.trials[n].params == p and study.trials[n].value == v for n, (p, v) in kept.items())
    params = [tuple(sorted(t.params.items())) for t in finished]
    assert len(set(params)) == len(params)  # the resumed search drew new points, not its first ones again
    meta = json.loads((out / "alpha" / "ES_best.json").read_text())
    assert meta["Search"]["Study"] == study_name and meta["Search"]["Trials"]["finished"] == 8


def _wait_for_finished(storage: optuna.storages.BaseStorage, proc: subprocess.Popen[bytes],
                       at_least: int) -> list[optuna.trial.FrozenTrial]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the search ended before it could be interrupted"
        names = optuna.get_all_study_names(storage)
        if names:
            trials = optuna.load_study(study_name=names[0], storage=storage).get_trials(
                states=(TrialState.COMPLETE, TrialState.PRUNED))
            if len(trials) >= at_least:
                return trials
        time.sleep(0.05)
    raise AssertionError("no trial finished in time")
