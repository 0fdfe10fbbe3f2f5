"""`multialpha check` shows where /health and /metrics listen and what the alert policy does."""

from __future__ import annotations

import io
from pathlib import Path

import yaml

from multialpha.runner.check import run_check

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, runtime: dict[str, object]) -> Path:
    doc = {"runtime": {"contracts_path": str(REPO / "config/contracts.yml"), "rolls_path": str(REPO / "config/rolls.yml"),
                       "state_path": str(tmp_path / "state.sqlite"), **runtime},
           "strategies": {"ibs_a": {"broker_account": "http://127.0.0.1:9/hook", "starting_cash": 100000,
                                    "models_path": str(tmp_path / "models"), "max_positions": 2,
                                    "daily_stop_loss": 1000, "instruments": ["ES"]}}}
    path = tmp_path / "config.multi_alpha.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _header(path: Path) -> dict[str, str]:
    out = io.StringIO()
    run_check(path, allow_unverified_models=False, out=out)  # the missing bundle is a problem; the header is shown
    return {line[:12].strip(): line[12:] for line in out.getvalue().splitlines() if line[:12].strip()}


def test_check_shows_health_endpoint_stall_limit_log_format_and_alert_limits(tmp_path: Path) -> None:
    header = _header(_config(tmp_path, {"log_format": "json", "health": {"port": 9100, "stall_secs": 120},
                                        "alerts": {"max_per_key": 4}}))
    assert header["health"] == ("http://127.0.0.1:9100/health and /metrics; a bar time stalled after 120s; "
                                "logs INFO json")
    assert header["alerts"].endswith("repeats collapsed within 300s, at most 4 of a kind per 600s")


def test_check_when_port_zero_then_says_the_endpoint_is_off(tmp_path: Path) -> None:
    assert _header(_config(tmp_path, {"health": {"port": 0}}))["health"].startswith("off (runtime.health.port 0)")
