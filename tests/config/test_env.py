from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from multialpha.config import expand, load_app_config, substitute_env
from multialpha.errors import ConfigError


def test_expand_when_variable_set_then_substitutes_its_value() -> None:
    assert expand("${HOST}/hook", {"HOST": "https://x.io"}) == "https://x.io/hook"


def test_expand_when_variable_unset_and_default_given_then_uses_default() -> None:
    assert expand("${MULTIALPHA_DATA:-data/sample}", {}) == "data/sample"


def test_expand_when_variable_set_and_default_given_then_variable_wins() -> None:
    assert expand("${MULTIALPHA_DATA:-data/sample}", {"MULTIALPHA_DATA": "/srv/bars"}) == "/srv/bars"


def test_expand_when_variable_set_but_empty_then_value_is_empty_string() -> None:
    assert expand("${EMPTY}", {"EMPTY": ""}) == ""
    assert expand("${EMPTY:-fallback}", {"EMPTY": ""}) == ""


def test_expand_when_default_is_empty_then_value_is_empty_string() -> None:
    assert expand("${DISCORD_WEBHOOK_URL:-}", {}) == ""


def test_expand_when_dollar_dollar_brace_then_literal_dollar_brace() -> None:
    assert expand("cost $${NOT_A_VAR} and ${A}", {"A": "1"}) == "cost ${NOT_A_VAR} and 1"


def test_expand_when_no_reference_then_text_unchanged() -> None:
    assert expand("plain $HOME and $$ text", {}) == "plain $HOME and $$ text"


def test_expand_when_variable_missing_then_error_names_variable_and_key() -> None:
    with pytest.raises(ConfigError) as caught:
        expand("${TRADERSPOST_IBS_A_WEBHOOK}", {}, file="config.multi_alpha.yml",
               key="strategies.ibs_a.broker_account")
    assert str(caught.value) == ("config.multi_alpha.yml: strategies.ibs_a.broker_account: "
                                 "environment variable TRADERSPOST_IBS_A_WEBHOOK is not set")
    assert caught.value.key == "strategies.ibs_a.broker_account"


@pytest.mark.parametrize("text", ["${}", "${1ABC}", "${A B}", "${unterminated"])
def test_expand_when_reference_malformed_then_error_names_key(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        expand(text, {}, file="c.yml", key="runtime.state_path")
    assert "runtime.state_path" in str(caught.value)


def test_substitute_env_when_tree_nested_then_only_string_values_change() -> None:
    tree: dict[str, Any] = {"a": {"b": ["${X}", 4, None, True]}, "${X}": "${X:-d}"}
    assert substitute_env(tree, {"X": "7"}) == {"a": {"b": ["7", 4, None, True]}, "${X}": "7"}


def test_substitute_env_when_missing_inside_list_then_key_path_has_index() -> None:
    with pytest.raises(ConfigError) as caught:
        substitute_env({"strategies": {"ibs_a": {"instruments": ["6A", "${SYM}"]}}}, {}, file="c.yml")
    assert caught.value.key == "strategies.ibs_a.instruments[1]"
    assert "SYM" in str(caught.value)


def test_load_when_variable_missing_then_error_names_file_variable_and_key(
        write_config: Any, doc: dict[str, Any]) -> None:
    path: Path = write_config(doc)
    with pytest.raises(ConfigError) as caught:
        load_app_config(path, env={})
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "strategies.ibs_a.broker_account" in message
    assert "TRADERSPOST_IBS_A_WEBHOOK is not set" in message


def test_load_when_whole_scalar_substituted_then_coerced_to_field_type(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    doc["strategies"]["ibs_a"]["max_positions"] = "${MAX_POS}"
    doc["runtime"] = {"fail_fast": "${FAIL_FAST:-false}"}
    cfg = load_app_config(write_config(doc), env={**env, "MAX_POS": "3"})
    assert cfg.strategies["ibs_a"].max_positions == 3
    assert cfg.runtime.fail_fast is False


def test_load_when_dollar_dollar_brace_then_value_keeps_literal(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    doc["strategies"]["ibs_a"]["strategy_params"] = {"label": "$${NOT_A_VAR}"}
    cfg = load_app_config(write_config(doc), env=env)
    assert cfg.strategies["ibs_a"].strategy_params == {"label": "${NOT_A_VAR}"}


def test_load_when_discord_variable_empty_then_alerts_have_no_url(
        write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    doc["runtime"] = {"alerts": {"discord_webhook_url": "${DISCORD_WEBHOOK_URL:-}"}}
    cfg = load_app_config(write_config(doc), env={**env, "DISCORD_WEBHOOK_URL": ""})
    assert cfg.runtime.alerts.discord_webhook_url is None


def test_load_when_secret_variable_set_but_empty_then_error_is_not_about_missing_variable(
        write_config: Any, doc: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_app_config(write_config(doc), env={"TRADERSPOST_IBS_A_WEBHOOK": ""})
    assert caught.value.key == "strategies.ibs_a.broker_account"
    assert "is empty" in str(caught.value)
