"""runtime.health, runtime.log_format and the alert policy keys: defaults, and bad values named."""

from __future__ import annotations

from typing import Any

import pytest

from multialpha.config import load_app_config
from multialpha.errors import ConfigError


def test_ops_keys_when_omitted_then_defaults_apply(write_config: Any, doc: dict[str, Any],
                                                   env: dict[str, str]) -> None:
    rt = load_app_config(write_config(doc), env=env).runtime
    assert (rt.health.host, rt.health.port, rt.health.stall_secs) == ("127.0.0.1", 8787, 300.0)
    assert rt.log_format == "text"
    assert (rt.alerts.dedup_window_secs, rt.alerts.max_per_key, rt.alerts.per_key_window_secs) == (300.0, 10, 600.0)


def test_ops_keys_when_set_then_loaded(write_config: Any, doc: dict[str, Any], env: dict[str, str]) -> None:
    doc["runtime"] = {"log_format": "JSON", "health": {"host": "::1", "port": 0, "stall_secs": 90},
                      "alerts": {"dedup_window_secs": 0, "max_per_key": 3, "per_key_window_secs": 60}}
    rt = load_app_config(write_config(doc), env=env).runtime
    assert rt.log_format == "json"
    assert (rt.health.host, rt.health.port, rt.health.stall_secs) == ("::1", 0, 90.0)
    assert (rt.alerts.dedup_window_secs, rt.alerts.max_per_key) == (0.0, 3)


@pytest.mark.parametrize(("runtime", "key"), [
    pytest.param({"health": {"port": 70000}}, "runtime.health.port", id="port out of range"),
    pytest.param({"health": {"port": -1}}, "runtime.health.port", id="negative port"),
    pytest.param({"health": {"host": "example.com"}}, "runtime.health.host", id="host name, not an address"),
    pytest.param({"health": {"stall_secs": 0}}, "runtime.health.stall_secs", id="zero stall limit"),
    pytest.param({"health": {"interval": 3}}, "runtime.health.interval", id="unknown key"),
    pytest.param({"log_format": "xml"}, "runtime.log_format", id="unknown log format"),
    pytest.param({"alerts": {"max_per_key": 0}}, "runtime.alerts.max_per_key", id="no alerts per key"),
    pytest.param({"alerts": {"per_key_window_secs": 0}}, "runtime.alerts.per_key_window_secs",
                 id="empty rate window"),
])
def test_ops_keys_when_value_bad_then_error_names_key(write_config: Any, doc: dict[str, Any], env: dict[str, str],
                                                      runtime: dict[str, Any], key: str) -> None:
    doc["runtime"] = runtime
    with pytest.raises(ConfigError) as caught:
        load_app_config(write_config(doc), env=env)
    assert caught.value.key == key
