from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest

from multialpha.config import RuntimeMode, load_app_config
from multialpha.errors import ConfigError


def test_load_when_valid_then_paths_are_absolute_against_config_directory(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    doc["runtime"] = {"data": {"path": "bars"}, "state_path": "/var/lib/multialpha/state.sqlite",
                      "contracts_path": "../shared/contracts.yml"}
    cfg = load_app_config(write_config(doc, name="deploy/config.multi_alpha.yml"), env=env)
    base = tmp_path / "deploy"
    assert cfg.base_dir == base
    assert cfg.source_file == base / "config.multi_alpha.yml"
    assert cfg.runtime.data.path == base / "bars"
    assert cfg.runtime.state_path == Path("/var/lib/multialpha/state.sqlite")
    assert cfg.runtime.contracts_path == tmp_path / "shared/contracts.yml"
    assert cfg.strategies["ibs_a"].models_path == base / "models/ibs_a"


def test_load_when_path_keys_omitted_then_defaults_also_resolve_against_config_directory(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path) -> None:
    cfg = load_app_config(write_config(doc), env=env)
    assert cfg.runtime.state_path == tmp_path / "state/multialpha.sqlite"
    assert cfg.runtime.contracts_path == tmp_path / "config/contracts.yml"
    assert cfg.runtime.config_dir == tmp_path / "config"
    assert cfg.runtime.data.path == tmp_path / "data/sample"


def test_load_when_config_given_by_relative_path_then_base_dir_is_absolute(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(doc)
    monkeypatch.chdir(tmp_path)
    cfg = load_app_config("config.multi_alpha.yml", env=env)
    assert cfg.base_dir == tmp_path
    assert cfg.runtime.state_path.is_absolute()


def test_load_when_sections_omitted_then_schema_defaults_apply(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    cfg = load_app_config(write_config(doc), env=env)
    assert cfg.runtime.mode is RuntimeMode.REPLAY
    assert cfg.runtime.exchange_timezone == "America/Chicago"
    assert cfg.runtime.exchange_tz == ZoneInfo("America/Chicago")
    assert cfg.runtime.data.warmup_bars == 600
    assert cfg.runtime.data.reference_symbols == ()
    assert cfg.runtime.webhook.max_attempts == 4
    assert cfg.runtime.alerts.discord_webhook_url is None
    assert cfg.portfolio.max_positions is None
    assert cfg.strategies["ibs_a"].strategy == "ibs"
    assert cfg.strategies["ibs_a"].strategy_params == {}


def test_load_when_several_strategies_then_file_order_is_kept(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    first = doc["strategies"]["ibs_a"]
    doc["strategies"] = {"zeta": dict(first), "alpha": dict(first), "mid": {**first, "enabled": False}}
    cfg = load_app_config(write_config(doc), env=env)
    assert list(cfg.strategies) == ["zeta", "alpha", "mid"]
    assert list(cfg.enabled_strategies()) == ["zeta", "alpha"]


def test_load_when_strategy_disabled_then_broker_account_is_optional(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    spare = {k: v for k, v in doc["strategies"]["ibs_a"].items() if k != "broker_account"}
    doc["strategies"]["spare"] = {**spare, "enabled": False}
    cfg = load_app_config(write_config(doc), env=env)
    assert cfg.strategies["spare"].broker_account is None


def test_loaded_config_is_frozen(write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    cfg = load_app_config(write_config(doc), env=env)
    with pytest.raises(pydantic.ValidationError):
        cfg.strategies["ibs_a"].max_positions = 10
    with pytest.raises(TypeError):
        cfg.strategies["other"] = cfg.strategies["ibs_a"]  # type: ignore[index]


def test_load_when_file_missing_then_error_names_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    with pytest.raises(ConfigError) as caught:
        load_app_config(missing, env={})
    assert str(caught.value) == f"{missing}: file not found"


def test_load_when_yaml_malformed_then_error_names_file_line_and_column(write_config: Any) -> None:
    path = write_config("strategies:\n  ibs_a:\n    max_positions: [4\n    enabled: true\n")
    with pytest.raises(ConfigError) as caught:
        load_app_config(path, env={})
    message = str(caught.value)
    assert message.startswith(f"{path}: invalid YAML at line 4, column 12")


def test_load_when_yaml_key_repeated_then_error_names_key_and_line(write_config: Any) -> None:
    path = write_config("strategies:\n  ibs_a:\n    max_positions: 4\n    max_positions: 5\n")
    with pytest.raises(ConfigError) as caught:
        load_app_config(path, env={})
    assert "line 4" in str(caught.value)
    assert "duplicate key 'max_positions'" in str(caught.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", ""])
def test_load_when_top_level_not_a_mapping_then_error_names_file(write_config: Any, text: str) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_app_config(path, env={})
    assert str(caught.value).startswith(str(path))
    assert "mapping" in str(caught.value)


def test_load_when_several_errors_then_one_error_lists_each_on_its_own_line(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    doc["runtime"] = {"mode": "yolo", "webhook": {"timeout_secs": 0}}
    doc["strategies"]["ibs_a"]["max_positions"] = -1
    path = write_config(doc)
    with pytest.raises(ConfigError) as caught:
        load_app_config(path, env=env)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{path}: 3 problems:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "runtime.mode", "runtime.webhook.timeout_secs", "strategies.ibs_a.max_positions"]


def test_repr_and_str_of_loaded_config_never_show_secrets(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], secret: str) -> None:
    discord = "https://discord.com/api/webhooks/123/discord-s3cret"
    doc["runtime"] = {"alerts": {"discord_webhook_url": discord},
                      "data": {"source": "databento", "databento": {"api_key": "db-KEY-123"}}}
    cfg = load_app_config(write_config(doc), env=env)
    for text in (repr(cfg), str(cfg), repr(cfg.strategies["ibs_a"]), str(cfg.runtime.alerts)):
        assert secret not in text
        assert discord not in text
        assert "db-KEY-123" not in text
    assert cfg.strategies["ibs_a"].broker_account is not None
    assert cfg.strategies["ibs_a"].broker_account.get_secret_value() == secret


@pytest.mark.parametrize("change", [
    pytest.param(lambda s: s.update(broker_account=123), id="secret of wrong type"),
    pytest.param(lambda s: s.update(broker_account="ftp://${TRADERSPOST_IBS_A_WEBHOOK}"), id="bad scheme"),
    pytest.param(lambda s: s.update(broker_acount=s.pop("broker_account")), id="secret under misspelt key"),
    pytest.param(lambda s: s.update(starting_cash="${TRADERSPOST_IBS_A_WEBHOOK}",
                                    broker_account="https://example.com/${TRADERSPOST_IBS_A_WEBHOOK}"),
                 id="secret pasted into another key"),
    pytest.param(lambda s: s.update(max_positions=0), id="unrelated error"),
])
def test_error_messages_never_show_secret_values(
        write_config: Any, doc: dict[str, Any], env: dict[str, str], secret: str, change: Any) -> None:
    change(doc["strategies"]["ibs_a"])
    with pytest.raises(ConfigError) as caught:
        load_app_config(write_config(doc), env=env)
    assert secret not in str(caught.value)
    assert "s3cr3t-t0ken" not in str(caught.value)
    assert "strategies.ibs_a" in str(caught.value)


def test_with_mode_when_valid_then_copy_runs_in_that_mode_and_original_is_unchanged(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    cfg = load_app_config(write_config(doc), env=env)
    paper = cfg.with_mode("paper")
    assert paper.runtime.mode is RuntimeMode.PAPER
    assert cfg.runtime.mode is RuntimeMode.REPLAY
    assert paper.strategies == cfg.strategies


def test_with_mode_when_unknown_then_error_names_runtime_mode(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    cfg = load_app_config(write_config(doc), env=env)
    with pytest.raises(ConfigError) as caught:
        cfg.with_mode("yolo")
    assert caught.value.key == "runtime.mode"
    assert "'yolo'" in str(caught.value)
