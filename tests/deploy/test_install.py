"""deploy/install.sh: a dry run changes nothing and names every step; a staged install is idempotent
and never touches an existing secrets file."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "install.sh"


def install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False)


def tree(root: Path) -> dict[str, tuple[int, bytes | None]]:
    return {str(p.relative_to(root)): (stat.S_IMODE(p.stat().st_mode), p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def test_dry_run_prints_every_step_and_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "target"
    result = install("--dry-run", "--root", str(root))
    assert result.returncode == 0, result.stderr
    assert not root.exists()
    out = result.stdout
    assert "dry run: nothing will be changed" in out
    assert f"would run: install -d -m 0750 {root}/var/lib/multialpha" in out
    assert f"/opt/multialpha/venv/bin/python -m pip install --quiet --upgrade {REPO}" in out
    assert re.search(rf"would run: install -m 0600 (-o root -g root )?{REPO}/deploy/env.example {root}/etc/multialpha/env",
                     out)
    assert f"would run: install -m 0644 {REPO}/deploy/multialpha.service {root}/etc/systemd/system/multialpha.service" in out
    assert "systemctl enable --now multialpha" in out  # the next steps


def test_dry_run_on_the_real_paths_changes_nothing() -> None:
    unit = Path("/etc/systemd/system/multialpha.service")
    before = unit.exists()
    result = install("--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would run: install -m 0644" in result.stdout and "/etc/systemd/system/multialpha.service" in result.stdout
    assert unit.exists() is before


def test_staged_install_sets_modes_and_running_it_again_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "target"
    assert install("--root", str(root), "--skip-venv").returncode == 0
    env = root / "etc/multialpha/env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "var/lib/multialpha").stat().st_mode) == 0o750
    assert (root / "etc/systemd/system/multialpha.service").read_text() == (REPO / "deploy/multialpha.service").read_text()
    assert (root / "etc/multialpha/config/rolls.yml").is_file()
    assert stat.S_IMODE((root / "usr/local/sbin/multialpha-ctl").stat().st_mode) == 0o755
    first = tree(root)
    again = install("--root", str(root), "--skip-venv")
    assert again.returncode == 0
    assert tree(root) == first
    assert f"keep {env} (exists)" in again.stdout


def test_existing_secrets_file_is_kept_and_its_mode_tightened(tmp_path: Path) -> None:
    root = tmp_path / "target"
    env = root / "etc/multialpha/env"
    env.parent.mkdir(parents=True)
    env.write_text("TRADERSPOST_IBS_A_WEBHOOK=https://example.invalid/real-token\n")
    env.chmod(0o644)
    result = install("--root", str(root), "--skip-venv")
    assert result.returncode == 0, result.stderr
    assert env.read_text() == "TRADERSPOST_IBS_A_WEBHOOK=https://example.invalid/real-token\n"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "real-token" not in result.stdout


def test_unknown_option_is_a_usage_error() -> None:
    result = install("--frobnicate")
    assert result.returncode == 64 and "unknown option" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="checks the refusal a non-root user gets")
def test_real_install_as_non_root_is_refused() -> None:
    result = install()
    assert result.returncode == 64 and "run as root" in result.stderr


def test_ctl_refuses_commands_other_than_the_operator_ones() -> None:
    result = subprocess.run(["bash", str(REPO / "deploy" / "multialpha-ctl"), "run"], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 64 and "usage" in result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
@pytest.mark.parametrize("script", ["install.sh", "multialpha-ctl"])
def test_deploy_scripts_pass_shellcheck(script: str) -> None:
    result = subprocess.run(["shellcheck", str(REPO / "deploy" / script)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stdout
