"""``check`` shows where each effective limit came from when an exported portfolio file applies."""

from __future__ import annotations

import json

import pytest

from multialpha.cli import main

from .conftest import MakeSetup, hourly_bars

FLAT = (5000.0, 5005.0, 4995.0, 5000.0)


def test_check_names_the_portfolio_file_key_of_each_value_and_what_the_file_expects(
        make_setup: MakeSetup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    setup = make_setup(bars={"ES": hourly_bars("ES", [FLAT] * 4), "NQ": hourly_bars("NQ", [FLAT] * 4)},
                       strategies={"t1": {"instruments": ["ES", "NQ"]}}, runtime={"data": {"warmup_bars": 0}})
    config_dir = setup.root / "config"
    config_dir.mkdir()
    (config_dir / "portfolio_optimization_t1.json").write_text(json.dumps({
        "strategy": "t1", "portfolio_constraints": {"max_positions": 1, "daily_stop_loss": 900.0, "symbols": ["NQ"]},
        "expected_performance": {"in_sample": {"sharpe": 2.5, "max_drawdown_usd": 3000.0}, "out_of_sample": None},
        "optimization_date": "2025-02-03", "method": "greedy search", "trials": 40}))
    for name, value in setup.env.items():
        monkeypatch.setenv(name, value)
    code = main(["check", "--config", str(setup.config_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    source = "config/portfolio_optimization_t1.json"
    assert f"symbols          NQ   <- {source}: portfolio_constraints.symbols" in out
    assert f"max_positions    1   <- {source}: portfolio_constraints.max_positions" in out
    assert f"daily_stop_loss  900.0   <- {source}: portfolio_constraints.daily_stop_loss" in out
    assert (f"portfolio file   {source}: optimized 2025-02-03 by greedy search; 40 portfolios tried; "
            "in-sample Sharpe 2.50, max drawdown 3,000 USD") in out
    assert "removed ES" in out
