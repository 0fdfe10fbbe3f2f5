"""Every bad value gives one ConfigError naming the file, the dotted key and (when safe) the value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from multialpha.config import DataSource, load_app_config
from multialpha.errors import ConfigError

Change = Callable[[dict[str, Any]], None]


def _strategy(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["strategies"]["ibs_a"]


def _set(path: str, value: Any) -> Change:
    """A change that sets ``doc[a][b]...`` for dotted ``path``, creating sections on the way."""
    *parents, last = path.split(".")

    def change(doc: dict[str, Any]) -> None:
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return change


def _load_error(write_config: Any, doc: dict[str, Any], env: dict[str, str], change: Change) -> ConfigError:
    change(doc)
    path = write_config(doc)
    with pytest.raises(ConfigError) as caught:
        load_app_config(path, env=env)
    assert str(caught.value).startswith(f"{path}: ")
    return caught.value


BAD_VALUES = [
    pytest.param(_set("strategies.ibs_a.max_positions", "four"), "strategies.ibs_a.max_positions",
                 "'four'", id="wrong type"),
    pytest.param(_set("strategies.ibs_a.max_positions", -2), "strategies.ibs_a.max_positions",
                 "-2", id="negative max_positions"),
    pytest.param(_set("strategies.ibs_a.daily_stop_loss", 0), "strategies.ibs_a.daily_stop_loss",
                 "0", id="zero daily stop"),
    pytest.param(_set("strategies.ibs_a.starting_cash", float("nan")), "strategies.ibs_a.starting_cash",
                 "nan", id="nan cash"),
    pytest.param(_set("runtime.mode", "yolo"), "runtime.mode", "'yolo'", id="bad mode"),
    pytest.param(_set("strategies.ibs_a.instruments", ["6A", "es"]), "strategies.ibs_a.instruments[1]",
                 "'es'", id="bad symbol"),
    pytest.param(_set("strategies.ibs_a.instruments", ["6A", "6B", "6A"]), "strategies.ibs_a.instruments",
                 "duplicate symbol(s) 6A", id="duplicate instruments"),
    pytest.param(_set("strategies.ibs_a.instruments", []), "strategies.ibs_a.instruments",
                 "at least 1 item", id="no instruments"),
    pytest.param(_set("runtime.data.reference_symbols", ["ZB", "TOOLONGX"]),
                 "runtime.data.reference_symbols[1]", "'TOOLONGX'", id="bad reference symbol"),
    pytest.param(_set("runtime.exchange_timezone", "Mars/Olympus"), "runtime.exchange_timezone",
                 "'Mars/Olympus'", id="unknown time zone"),
    pytest.param(_set("runtime.exchange_timezone", "America/New_York"), "runtime.exchange_timezone",
                 "only America/Chicago is supported", id="a zone other than CME's"),
    pytest.param(_set("runtime.on_strategy_failure", "ignore"), "runtime.on_strategy_failure", "'ignore'",
                 id="unknown failure policy"),
    pytest.param(_set("strategies.ibs_a.broker_stop_mult", -1), "strategies.ibs_a.broker_stop_mult", "-1",
                 id="negative protective stop multiple"),
    pytest.param(_set("runtime.webhook.timeout_secs", 0), "runtime.webhook.timeout_secs", "0",
                 id="zero timeout"),
    pytest.param(_set("runtime.webhook.max_attempts", 0), "runtime.webhook.max_attempts", "0",
                 id="no attempts"),
    pytest.param(_set("runtime.data.warmup_bars", -1), "runtime.data.warmup_bars", "-1", id="negative warmup"),
    pytest.param(_set("runtime.data.source", "databento"), "runtime.data.databento",
                 "required when source is databento", id="databento without settings"),
    pytest.param(_set("runtime.data", {"start": "2024-03-01", "end": "2024-02-01"}), "runtime.data.end",
                 "before start", id="end before start"),
    pytest.param(_set("runtime.state_path", ""), "runtime.state_path", "must not be empty", id="empty path"),
    pytest.param(_set("runtime.log_level", "LOUD"), "runtime.log_level", "'LOUD'", id="bad log level"),
    pytest.param(_set("portfolio.max_positions", 0), "portfolio.max_positions", "0", id="bad account limit"),
    pytest.param(_set("strategies.ibs_a.strategy_params", [1, 2]), "strategies.ibs_a.strategy_params",
                 "dictionary", id="params not a mapping"),
    pytest.param(_set("strategies.ibs_a.enabled", "maybe"), "strategies.ibs_a.enabled", "'maybe'",
                 id="enabled not a bool"),
]


@pytest.mark.parametrize(("change", "key", "fragment"), BAD_VALUES)
def test_load_when_value_bad_then_error_names_file_key_and_value(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], change: Change, key: str,
        fragment: str) -> None:
    error = _load_error(write_config, doc, env, change)
    assert error.key == key
    assert fragment in str(error)


@pytest.mark.parametrize(("change", "key", "hint"), [
    pytest.param(_set("strategies.ibs_a.max_position", 3), "strategies.ibs_a.max_position",
                 "did you mean 'max_positions'", id="strategy key"),
    pytest.param(_set("runtime.webhook.timeout", 3), "runtime.webhook.timeout", "did you mean 'timeout_secs'",
                 id="nested runtime key"),
    pytest.param(_set("portfolio.max_pos", 3), "portfolio.max_pos", "did you mean 'max_positions'",
                 id="portfolio key"),
    pytest.param(_set("strategy", {}), "strategy", "did you mean 'strategies'", id="top-level key"),
])
def test_load_when_key_unknown_then_error_says_unknown_key_and_suggests_one(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], change: Change, key: str,
        hint: str) -> None:
    error = _load_error(write_config, doc, env, change)
    assert error.key == key
    assert "unknown key" in str(error)
    assert hint in str(error)


def test_load_when_strategy_name_invalid_then_error_names_it(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    def rename(d: dict[str, Any]) -> None:
        d["strategies"]["IBS-A"] = d["strategies"].pop("ibs_a")

    error = _load_error(write_config, doc, env, rename)
    assert error.key == "strategies.IBS-A"
    assert "not a valid strategy name" in str(error)


def test_load_when_no_strategy_enabled_then_error_names_strategies(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    error = _load_error(write_config, doc, env, _set("strategies.ibs_a.enabled", False))
    assert error.key == "strategies"
    assert "no strategy is enabled" in str(error)


@pytest.mark.parametrize("strategies", [{}, None])
def test_load_when_strategies_empty_or_null_then_error_names_strategies(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], strategies: Any) -> None:
    error = _load_error(write_config, doc, env, _set("strategies", strategies))
    assert error.key == "strategies"


def test_load_when_strategies_section_missing_then_error_says_required(
        write_config: Any, env: dict[str, str]) -> None:
    error = _load_error(write_config, {"runtime": {}}, env, lambda d: None)
    assert error.key == "strategies"
    assert "required key is missing" in str(error)


def test_load_when_enabled_strategy_lacks_broker_account_then_error_names_that_key(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    error = _load_error(write_config, doc, env, lambda d: _strategy(d).pop("broker_account"))
    assert error.key == "strategies.ibs_a.broker_account"
    assert "required when the strategy is enabled" in str(error)


def test_load_when_required_strategy_key_missing_then_error_names_it(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    error = _load_error(write_config, doc, env, lambda d: _strategy(d).pop("models_path"))
    assert error.key == "strategies.ibs_a.models_path"
    assert "required key is missing" in str(error)


def test_load_when_values_are_strings_of_numbers_then_they_are_coerced(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    _strategy(doc).update(max_positions="3", daily_stop_loss="1250.5")
    doc["runtime"] = {"log_level": "debug", "data": {"start": "2024-01-02", "source": "databento",
                                                    "databento": {"api_key": "k"}}}
    cfg = load_app_config(write_config(doc), env=env)
    assert cfg.strategies["ibs_a"].max_positions == 3
    assert cfg.strategies["ibs_a"].daily_stop_loss == 1250.5
    assert cfg.runtime.log_level == "DEBUG"
    assert cfg.runtime.data.start == date(2024, 1, 2)
    assert cfg.runtime.data.source is DataSource.DATABENTO
    assert cfg.runtime.data.databento is not None
    assert cfg.runtime.data.databento.dataset == "GLBX.MDP3"
