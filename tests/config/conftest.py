"""Real config files in tmp_path: a valid document to start from and a writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

SECRET_HOOK = "https://webhooks.traderspost.io/trading/webhook/0f3c9a/s3cr3t-t0ken"
CONFIG_NAME = "config.multi_alpha.yml"

WriteConfig = Callable[..., Path]


@pytest.fixture
def secret() -> str:
    """The webhook URL the ``env`` fixture provides; it must never be shown."""
    return SECRET_HOOK


@pytest.fixture
def env() -> dict[str, str]:
    return {"TRADERSPOST_IBS_A_WEBHOOK": SECRET_HOOK}


@pytest.fixture
def doc() -> dict[str, Any]:
    """A minimal valid document; tests change one thing in it."""
    return {
        "strategies": {
            "ibs_a": {
                "broker_account": "${TRADERSPOST_IBS_A_WEBHOOK}",
                "starting_cash": 150000,
                "models_path": "models/ibs_a",
                "max_positions": 4,
                "daily_stop_loss": 2500,
                "instruments": ["6A", "6B"],
            },
        },
    }


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write a document (dict or raw YAML text) to ``tmp_path/<name>`` and return its path."""

    def write(content: dict[str, Any] | str, name: str = CONFIG_NAME) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text)
        return path

    return write
