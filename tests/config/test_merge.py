from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from multialpha.config import Sourced, load_app_config, merge_params, resolve_strategies
from multialpha.errors import ConfigError

DEFAULTS: dict[str, Any] = {
    "ibs_entry_high": 0.2,
    "max_holding_bars": 24,
    "stop_type": "atr",
    "use_ml": True,
    "ml_model": None,
}


def _write_json(tmp_path: Path, name: str, content: Any) -> None:
    path = tmp_path / "config" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))


def test_merge_when_no_layers_then_every_value_is_the_class_default() -> None:
    merged = merge_params(DEFAULTS, [])
    assert merged == {name: Sourced(value, "class default") for name, value in DEFAULTS.items()}


def test_merge_when_layers_overlap_then_the_highest_layer_wins_and_is_named() -> None:
    merged = merge_params(DEFAULTS, [
        ("yaml", {"ibs_entry_high": 0.1, "max_holding_bars": 12}),
        ("instrument", {"ibs_entry_high": 0.15}),
    ])
    assert merged["ibs_entry_high"] == Sourced(0.15, "instrument")
    assert merged["max_holding_bars"] == Sourced(12, "yaml")
    assert merged["stop_type"] == Sourced("atr", "class default")


def test_merge_when_int_given_for_float_default_then_value_becomes_float() -> None:
    merged = merge_params(DEFAULTS, [("yaml", {"ibs_entry_high": 1})])
    assert merged["ibs_entry_high"].value == 1.0
    assert isinstance(merged["ibs_entry_high"].value, float)


def test_merge_when_default_is_none_then_any_value_is_accepted() -> None:
    model = object()
    assert merge_params(DEFAULTS, [("bundle", {"ml_model": model})])["ml_model"] == Sourced(model, "bundle")


@pytest.mark.parametrize(("name", "value"), [
    ("max_holding_bars", 2.5),
    ("max_holding_bars", True),
    ("ibs_entry_high", "0.2"),
    ("ibs_entry_high", False),
    ("use_ml", 1),
    ("stop_type", 3),
])
def test_merge_when_value_type_mismatches_default_then_error_names_source_key_and_value(
        name: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        merge_params(DEFAULTS, [("config/ibs_a_instrument_params.json: 6A", {name: value})])
    assert str(caught.value).startswith(f"config/ibs_a_instrument_params.json: 6A: {name}: expected")
    assert f"(got {value!r})" in str(caught.value)


def test_merge_when_keys_unknown_then_one_error_lists_them_all_by_source() -> None:
    with pytest.raises(ConfigError) as caught:
        merge_params(DEFAULTS, [("yaml", {"ibs_entry_hi": 0.1, "colour": "red"}),
                                ("instrument", {"bogus": 1})])
    lines = str(caught.value).splitlines()
    assert lines[0] == "2 parameter problems:"
    assert lines[1].strip().startswith("yaml: unknown parameter(s) ibs_entry_hi, colour")
    assert "did you mean 'ibs_entry_high'" in lines[1]
    assert lines[2].strip() == "instrument: unknown parameter(s) bogus"


def test_resolve_when_no_optional_files_then_values_come_from_yaml(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    [resolved] = resolve_strategies(load_app_config(write_config(doc), env=env))
    assert resolved.symbols == ("6A", "6B")
    assert resolved.symbols_source == "config.multi_alpha.yml: strategies.ibs_a.instruments"
    assert resolved.max_positions == Sourced(4, "config.multi_alpha.yml: strategies.ibs_a.max_positions")
    assert resolved.daily_stop_loss == Sourced(2500.0, "config.multi_alpha.yml: strategies.ibs_a.daily_stop_loss")
    assert resolved.instrument_params_source is None
    assert resolved.portfolio_file is None
    assert resolved.notes == ()


def test_resolve_returns_enabled_strategies_only_in_file_order(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    first = doc["strategies"]["ibs_a"]
    doc["strategies"] = {"zeta": dict(first), "off": {**first, "enabled": False}, "alpha": dict(first)}
    assert [r.name for r in resolve_strategies(load_app_config(write_config(doc), env=env))] == ["zeta", "alpha"]


def test_resolve_when_portfolio_file_present_then_it_sets_symbols_and_limits_with_notes(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    _write_json(tmp_path, "portfolio_optimization_ibs_a.json",
                {"symbols": ["6A", "CL", "ES"], "max_positions": 3, "daily_stop_loss": 2500.0})
    [resolved] = resolve_strategies(load_app_config(write_config(doc), env=env))
    source = "config/portfolio_optimization_ibs_a.json"
    assert resolved.symbols == ("6A", "CL", "ES")
    assert resolved.symbols_source == f"{source}: symbols"
    assert resolved.max_positions == Sourced(3, f"{source}: max_positions")
    assert resolved.daily_stop_loss == Sourced(2500.0, f"{source}: daily_stop_loss")
    assert resolved.portfolio_file == tmp_path / source
    assert resolved.notes == (
        f"ibs_a: instruments in config.multi_alpha.yml overridden by {source}: added CL, ES; removed 6B",
        f"ibs_a: max_positions 4 in config.multi_alpha.yml overridden by 3 from {source}",
    )


def test_resolve_when_instrument_params_name_untraded_symbol_then_note_not_error(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    _write_json(tmp_path, "ibs_a_instrument_params.json", {"6A": {"ibs_entry_high": 0.1}, "ZN": {}})
    [resolved] = resolve_strategies(load_app_config(write_config(doc), env=env))
    assert resolved.notes == ("ibs_a: config/ibs_a_instrument_params.json has params for ZN, "
                              "which ibs_a does not trade; ignored",)


def test_params_when_every_layer_sets_a_value_then_precedence_is_default_yaml_instrument_bundle(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    doc["strategies"]["ibs_a"]["strategy_params"] = {"ibs_entry_high": 0.3, "max_holding_bars": 12,
                                                     "stop_type": "percent"}
    _write_json(tmp_path, "ibs_a_instrument_params.json",
                {"6A": {"ibs_entry_high": 0.25, "max_holding_bars": 6}})
    [resolved] = resolve_strategies(load_app_config(write_config(doc), env=env))
    bundle = ("models/ibs_a/6A_best.json", {"ibs_entry_high": 0.22})
    merged = merge_params(DEFAULTS, [*resolved.param_layers("6A"), bundle])
    assert merged["ibs_entry_high"] == Sourced(0.22, "models/ibs_a/6A_best.json")
    assert merged["max_holding_bars"] == Sourced(6, "config/ibs_a_instrument_params.json: 6A")
    assert merged["stop_type"] == Sourced("percent", "config.multi_alpha.yml: strategies.ibs_a.strategy_params")
    assert merged["use_ml"] == Sourced(True, "class default")
    other = merge_params(DEFAULTS, resolved.param_layers("6B"))
    assert other["max_holding_bars"] == Sourced(12, "config.multi_alpha.yml: strategies.ibs_a.strategy_params")


def test_params_when_instrument_file_names_unknown_param_then_error_names_file_symbol_and_param(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    _write_json(tmp_path, "ibs_a_instrument_params.json", {"6B": {"ibs_entry_hihg": 0.1}})
    [resolved] = resolve_strategies(load_app_config(write_config(doc), env=env))
    with pytest.raises(ConfigError) as caught:
        merge_params(DEFAULTS, resolved.param_layers("6B"))
    assert str(caught.value) == ("config/ibs_a_instrument_params.json: 6B: unknown parameter(s) "
                                 "ibs_entry_hihg (did you mean 'ibs_entry_high'?)")


def test_params_when_yaml_strategy_params_has_unknown_name_then_error_names_yaml_key(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    doc["strategies"]["ibs_a"]["strategy_params"] = {"warp_speed": 9}
    [resolved] = resolve_strategies(load_app_config(write_config(doc), env=env))
    with pytest.raises(ConfigError) as caught:
        merge_params(DEFAULTS, resolved.param_layers("6A"))
    assert str(caught.value).startswith(
        "config.multi_alpha.yml: strategies.ibs_a.strategy_params: unknown parameter(s) warp_speed")


def test_resolved_strategy_params_are_read_only(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    doc["strategies"]["ibs_a"]["strategy_params"] = {"ibs_entry_high": 0.3}
    [resolved] = resolve_strategies(load_app_config(write_config(doc), env=env))
    with pytest.raises(TypeError):
        resolved.strategy_params["ibs_entry_high"] = 0.9  # type: ignore[index]
