"""The three commands end to end on sample bar files: optimize, export, the daemon reads the
export, simulate; bad input gives one line naming it, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from multialpha.research.cli import main
from multialpha.research.portfolio.export import read_search

from multialpha.config import load_app_config, resolve_strategies
from multialpha.feeds.replay_files import write_bar_file

from .conftest import CONTRACTS, SAMPLE_PARAMS

SYMBOLS = ("ES", "NQ", "CL", "GC")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, sample_bars) -> Path:
    root = tmp_path_factory.mktemp("portfolio_commands")
    (root / "data").mkdir()
    for s in SYMBOLS:
        write_bar_file(root / "data" / f"{s}.csv", sample_bars[s])
    doc = {"runtime": {"contracts_path": str(CONTRACTS), "rolls_path": str(CONTRACTS.with_name("rolls.yml")),
                       "config_dir": "config", "data": {"reference_symbols": []}},
           "portfolio": {"max_positions": 3},
           "strategies": {"ibs_t": {"broker_account": "${HOOK}", "starting_cash": 100000, "models_path": "models/ibs_t",
                                    "max_positions": 2, "daily_stop_loss": 2000, "instruments": list(SYMBOLS),
                                    "strategy_params": {**SAMPLE_PARAMS, "use_ml_filter": False}}}}
    (root / "config.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def searched(workdir: Path) -> Path:
    code = main(["optimize-portfolio", "--config", str(workdir / "config.yml"), "--data", str(workdir / "data"),
                 "--out", str(workdir / "search"), "--split", "2023-04-03", "--max-positions", "1", "2", "3",
                 "--daily-stop-loss", "800", "1500", "--max-drawdown", "8000", "--breach-level", "3000",
                 "--max-breaches", "3", "--capital", "50000"])
    assert code == 0
    return workdir / "search" / "portfolio_search.json"


def test_optimize_writes_the_search_the_path_both_periods_and_the_report(searched: Path) -> None:
    doc = read_search(searched)
    assert doc["data_range"]["train_end"] == "2023-04-03"
    assert doc["chosen"]["max_positions"] in (1, 2, 3) and doc["chosen"]["daily_stop_loss"] in (800.0, 1500.0)
    assert set(doc["performance"]) == {"in_sample", "out_of_sample"}
    assert doc["performance"]["in_sample"]["max_drawdown_usd"] < 8000
    assert doc["trials"] >= len(doc["path"]) > 0
    assert 0.0 <= doc["performance"]["in_sample"]["deflated_sharpe"] <= 1.0
    assert [r["convention"] for r in doc["conventions"]["in_sample"]] == [
        "mark_to_market", "exit_dates", "final_pnl_at_forced_close", "calendar_days"]
    out = searched.parent
    for name in ("report.md", "equity_drawdown.png", "positions.png", "greedy_path.png"):
        assert (out / name).stat().st_size > 0
    assert "## In sample and out of sample" in (out / "report.md").read_text()


def test_the_daemon_trades_the_exported_file(searched: Path, workdir: Path, capsys) -> None:
    assert main(["export-portfolio-config", "--search", str(searched), "--config-dir", str(workdir / "config")]) == 0
    exported = json.loads((workdir / "config" / "portfolio_optimization_ibs_t.json").read_text())
    chosen = read_search(searched)["chosen"]["strategies"]["ibs_t"]
    assert exported["portfolio_constraints"] == {"max_positions": chosen["max_positions"],
                                                 "daily_stop_loss": chosen["daily_stop_loss"],
                                                 "symbols": chosen["symbols"]}
    assert exported["trials"] == read_search(searched)["trials"]
    assert set(exported["expected_performance"]) == {"scope", "in_sample", "out_of_sample"}
    [resolved] = resolve_strategies(load_app_config(workdir / "config.yml", env={"HOOK": "http://127.0.0.1:9/x"}))
    assert resolved.symbols == tuple(chosen["symbols"])
    assert resolved.max_positions.value == chosen["max_positions"]
    assert resolved.daily_stop_loss.value == chosen["daily_stop_loss"]
    assert resolved.daily_stop_loss.source == "config/portfolio_optimization_ibs_t.json: portfolio_constraints.daily_stop_loss"

    capsys.readouterr()
    assert main(["simulate", "--config", str(workdir / "config.yml"), "--data", str(workdir / "data"),
                 "--portfolio-dir", str(workdir / "config"), "--start", "2023-04-03",
                 "--out", str(workdir / "sim")]) == 0
    out = capsys.readouterr().out
    assert "portfolio_optimization_ibs_t.json" in out and "Sharpe" in out
    assert (workdir / "sim" / "trades.csv").exists()


@pytest.mark.parametrize(("args", "fragment"), [
    (["optimize-portfolio", "--data", "{root}/nowhere", "--out", "{root}/x"], "nowhere"),
    (["optimize-portfolio", "--data", "{root}/data", "--out", "{root}/x", "--strategy", "nope"], "nope"),
    (["export-portfolio-config", "--search", "{root}/missing.json"], "run optimize-portfolio first"),
])
def test_bad_input_gives_one_line_naming_it_and_no_traceback(workdir: Path, capsys, args: list[str],
                                                          fragment: str) -> None:
    argv = [a.format(root=workdir) for a in args]
    if argv[0] != "export-portfolio-config":
        argv += ["--config", str(workdir / "config.yml")]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("error: ") and fragment in err and err.count("\n") == 1


def test_a_date_that_is_not_one_is_a_usage_error(workdir: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["optimize-portfolio", "--config", str(workdir / "config.yml"), "--data", str(workdir / "data"),
              "--out", str(workdir / "x"), "--split", "2023-13-01"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--split" in err and "Traceback" not in err
