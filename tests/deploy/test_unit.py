"""The systemd unit: notify + watchdog, no restart loops on the exit codes a restart cannot fix, hardening."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from multialpha.errors import ConfigError, StateError, UsageError

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "multialpha.service"


def section(name: str) -> dict[str, list[str]]:
    """Every ``key=value`` of one section (systemd allows a key more than once)."""
    keys: dict[str, list[str]] = {}
    current = None
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
        elif current == name:
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def service() -> dict[str, str]:
    """The [Service] keys set once; keys set several times joined by newlines."""
    return {k: "\n".join(v) for k, v in section("Service").items()}


def test_unit_is_notify_with_watchdog_and_environment_file() -> None:
    s = service()
    assert s["Type"] == "notify"
    assert s["WatchdogSec"] == "10min"
    assert s["EnvironmentFile"] == "/etc/multialpha/env"
    assert s["Restart"] == "on-failure"


def test_unit_does_not_restart_on_exit_codes_the_daemon_uses_for_config_state_and_usage() -> None:
    codes = {int(c) for c in service()["RestartPreventExitStatus"].split()}
    assert {ConfigError.exit_code, StateError.exit_code, UsageError.exit_code} <= codes
    assert codes == {64, 75, 78}


def test_unit_is_hardened_and_writes_only_its_state_and_cache() -> None:
    s = service()
    assert s["ProtectSystem"] == "strict" and s["ProtectHome"] == "yes" and s["PrivateTmp"] == "yes"
    assert s["NoNewPrivileges"] == "yes"
    assert s["StateDirectory"] == "multialpha" and s["CacheDirectory"] == "multialpha"
    assert set(s["ReadWritePaths"].split()) == {"/var/lib/multialpha", "/var/cache/multialpha"}
    assert set(s["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert s["SystemCallFilter"] == "@system-service"
    assert "NUMBA_CACHE_DIR=/var/cache/multialpha/numba" in s["Environment"].splitlines()
    assert "MemoryDenyWriteExecute" not in s  # numba compiles to machine code at run time


def test_state_path_in_env_example_is_inside_the_state_directory() -> None:
    env = (UNIT.parent / "env.example").read_text().splitlines()
    state = next(line.split("=", 1)[1] for line in env if line.startswith("MULTIALPHA_STATE="))
    assert state.startswith("/var/lib/multialpha/")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_reports_nothing(tmp_path: Path) -> None:
    # The venv does not exist on this machine: verify a copy whose ExecStart is an existing binary.
    copy = tmp_path / "multialpha.service"
    copy.write_text("\n".join("ExecStart=/bin/true" if line.startswith("ExecStart=") else line
                              for line in UNIT.read_text().splitlines()) + "\n")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0
    assert result.stderr.strip() == "" and result.stdout.strip() == ""
