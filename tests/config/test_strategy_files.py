"""The optional JSON files next to the config: read through resolve_strategies, errors name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from multialpha.config import load_app_config, load_portfolio_optimization, resolve_strategies
from multialpha.errors import ConfigError

PORTFOLIO_FILE = "config/portfolio_optimization_ibs_a.json"
PARAMS_FILE = "config/ibs_a_instrument_params.json"


def _write(tmp_path: Path, name: str, content: Any) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))


def _resolve_error(write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> ConfigError:
    cfg = load_app_config(write_config(doc), env=env)
    with pytest.raises(ConfigError) as caught:
        resolve_strategies(cfg)
    return caught.value


@pytest.mark.parametrize("name", [PORTFOLIO_FILE, PARAMS_FILE])
def test_when_json_malformed_then_error_names_file_line_and_column(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path, name: str) -> None:
    _write(tmp_path, name, '{\n  "symbols": ["6A",\n  "max_positions": 3\n}\n')
    error = _resolve_error(write_config, doc, env)
    assert str(error).startswith(f"{name}: invalid JSON at line 3, column 18")


@pytest.mark.parametrize("name", [PORTFOLIO_FILE, PARAMS_FILE])
def test_when_json_key_repeated_then_error_names_file_and_key(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path, name: str) -> None:
    _write(tmp_path, name, '{"6A": {}, "6A": {}}')
    error = _resolve_error(write_config, doc, env)
    assert str(error) == f"{name}: duplicate key '6A'"


@pytest.mark.parametrize(("content", "key", "fragment"), [
    pytest.param({"symbols": ["6A"], "max_positions": "three", "daily_stop_loss": 1000}, "max_positions",
                 "'three'", id="wrong type"),
    pytest.param({"symbols": ["6A", "6a"], "max_positions": 1, "daily_stop_loss": 1000}, "symbols[1]",
                 "'6a'", id="bad symbol"),
    pytest.param({"symbols": [], "max_positions": 1, "daily_stop_loss": 1000}, "symbols",
                 "at least 1 item", id="no symbols"),
    pytest.param({"symbols": ["6A"], "daily_stop_loss": 1000}, "max_positions", "required key is missing",
                 id="missing limit"),
    pytest.param({"symbols": ["6A"], "max_positions": 1, "daily_stop_loss": 1000, "sharpe": 2},
                 "sharpe", "unknown key", id="unknown key"),
])
def test_when_portfolio_file_invalid_then_error_names_file_and_json_key(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path, content: Any,
        key: str, fragment: str) -> None:
    _write(tmp_path, PORTFOLIO_FILE, content)
    error = _resolve_error(write_config, doc, env)
    assert error.file == PORTFOLIO_FILE
    assert error.key == key
    assert fragment in str(error)


@pytest.mark.parametrize(("content", "key", "fragment"), [
    pytest.param({"6A": [1, 2]}, "6A", "dictionary", id="params not an object"),
    pytest.param({"6a": {"x": 1}}, "6a", "not a valid symbol", id="bad symbol"),
])
def test_when_instrument_params_file_invalid_then_error_names_file_and_json_key(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path, content: Any,
        key: str, fragment: str) -> None:
    _write(tmp_path, PARAMS_FILE, content)
    error = _resolve_error(write_config, doc, env)
    assert error.file == PARAMS_FILE
    assert error.key == key
    assert fragment in str(error)


def test_when_instrument_params_file_not_an_object_then_error_names_file(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    _write(tmp_path, PARAMS_FILE, [1, 2])
    error = _resolve_error(write_config, doc, env)
    assert str(error).startswith(f"{PARAMS_FILE}: ")
    assert "dictionary" in str(error)


def test_when_portfolio_file_has_optional_fields_then_they_are_kept(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    content = {"symbols": ["6A"], "max_positions": 1, "daily_stop_loss": 900,
               "expected_performance": {"sharpe": 1.4, "max_drawdown_usd": 12000},
               "optimization_date": "2024-06-30", "optimization_method": "greedy"}
    _write(tmp_path, PORTFOLIO_FILE, content)
    loaded = load_portfolio_optimization(tmp_path / PORTFOLIO_FILE, shown=PORTFOLIO_FILE)
    assert loaded is not None
    assert loaded.expected_performance == {"sharpe": 1.4, "max_drawdown_usd": 12000}
    assert (loaded.optimization_date, loaded.optimization_method) == ("2024-06-30", "greedy")


EXPORTED = {"strategy": "ibs_a",
            "portfolio_constraints": {"max_positions": 2, "daily_stop_loss": 1800.0, "symbols": ["6B", "6A"]},
            "expected_performance": {"in_sample": {"sharpe": 1.9, "max_drawdown_usd": 4100.0},
                                     "out_of_sample": {"sharpe": 0.7, "max_drawdown_usd": 5200.0}},
            "optimization_date": "2025-01-31", "method": "greedy", "data_range": {"start": "2023-01-03"},
            "trials": 812, "search": {"objective": "sharpe"}}


def test_when_portfolio_file_has_the_exported_shape_then_its_constraints_apply_and_name_their_key(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    _write(tmp_path, PORTFOLIO_FILE, EXPORTED)
    [resolved] = resolve_strategies(load_app_config(write_config(doc), env=env))
    assert resolved.symbols == ("6B", "6A")  # the file's order: the order entries are decided in
    assert resolved.symbols_source == f"{PORTFOLIO_FILE}: portfolio_constraints.symbols"
    assert (resolved.max_positions.value, resolved.max_positions.source) == (
        2, f"{PORTFOLIO_FILE}: portfolio_constraints.max_positions")
    assert (resolved.daily_stop_loss.value, resolved.daily_stop_loss.source) == (
        1800.0, f"{PORTFOLIO_FILE}: portfolio_constraints.daily_stop_loss")
    assert resolved.portfolio is not None
    assert resolved.portfolio.summary() == (
        "optimized 2025-01-31 by greedy; data start 2023-01-03; 812 portfolios tried; in-sample Sharpe 1.90, "
        "max drawdown 4,100 USD; out-of-sample Sharpe 0.70, max drawdown 5,200 USD")


@pytest.mark.parametrize(("content", "key", "fragment"), [
    pytest.param({**EXPORTED, "symbols": ["6A"]}, "symbols", "mixes the two shapes", id="both shapes"),
    pytest.param({**EXPORTED, "portfolio_constraints": {"max_positions": 0, "daily_stop_loss": 900, "symbols": ["6A"]}},
                 "portfolio_constraints.max_positions", "greater than or equal to 1", id="bad limit"),
    pytest.param({**EXPORTED, "portfolio_constraints": {"daily_stop_loss": 900, "symbols": ["6A"]}},
                 "portfolio_constraints.max_positions", "required key is missing", id="missing limit"),
    pytest.param({**EXPORTED, "strategy": "ibs_b"}, "strategy", "not 'ibs_a'", id="another strategy's file"),
    pytest.param({**EXPORTED, "sharpe": 3}, "sharpe", "unknown key", id="unknown key"),
])
def test_when_exported_portfolio_file_invalid_then_error_names_file_and_json_key(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path, content: Any,
        key: str, fragment: str) -> None:
    _write(tmp_path, PORTFOLIO_FILE, content)
    error = _resolve_error(write_config, doc, env)
    assert error.file == PORTFOLIO_FILE
    assert error.key == key
    assert fragment in str(error)
