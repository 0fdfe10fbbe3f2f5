"""``multialpha demo``: the sample data replayed through the daemon into a local webhook sink."""

from __future__ import annotations

import os
import re
import socket
from datetime import date
from pathlib import Path
from typing import TextIO

import yaml

from multialpha.config import load_app_config, secrets_of
from multialpha.errors import ConfigError
from multialpha.execution.sink import WebhookSink
from multialpha.runner.logs import setup_logging
from multialpha.runner.runner import MultiAlphaRunner, RunOptions
from multialpha.runner.summary import format_summary

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def free_local_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_environment(config: Path, workdir: Path, sink_url: str) -> dict[str, str]:
    """The environment the demo runs with: sample data, demo models, the demo's portfolio files
    (``<workdir>/config``), a scratch state file and every strategy's webhook pointed at the
    local sink (``<sink>/<strategy>``)."""
    env = dict(os.environ)
    env.setdefault("MULTIALPHA_DATA", str(workdir / "data"))
    env.setdefault("MULTIALPHA_MODELS", str(workdir / "models"))
    env.setdefault("MULTIALPHA_CONFIG_DIR", str(workdir / "config"))  # the demo's exported portfolio files
    env["MULTIALPHA_STATE"] = str(workdir / "state" / "multialpha.sqlite")
    env["DISCORD_WEBHOOK_URL"] = ""
    env.setdefault("MULTIALPHA_HEALTH_PORT", str(free_local_port()))  # never collides with a service
    doc = yaml.safe_load(config.read_text()) or {}
    for name, raw in (doc.get("strategies") or {}).items():
        m = _VAR.search(str((raw or {}).get("broker_account", "")))
        if m:
            env[m.group(1)] = f"{sink_url}/{name}"
    return env


def run_demo(*, config: str | Path, workdir: str | Path, start: date | None, end: date | None,
             out: TextIO) -> int:
    config, workdir = Path(config).resolve(), Path(workdir).resolve()
    for sub in ("data", "models"):
        if not (workdir / sub).is_dir():
            raise ConfigError(
                f"{workdir / sub} is missing; create the demo inputs with `make demo`, or with "
                f"`multialpha-research sample-data --out {workdir}/data` and "
                f"`multialpha-research train-all --data {workdir}/data --out {workdir}/models "
                f"--holdout-start 2024-07-01`")
    state = workdir / "state"
    if state.exists():  # every demo run starts flat, with no halts and an empty outbox
        for f in state.iterdir():
            f.unlink()
    state.mkdir(exist_ok=True)
    sink_log = workdir / "webhooks.jsonl"
    sink_log.unlink(missing_ok=True)
    with WebhookSink(sink_log) as sink:
        env = demo_environment(config, workdir, sink.url)
        cfg = load_app_config(config, env=env)
        log_file = workdir / "multialpha.log"
        setup_logging("INFO", secrets_of(cfg), file=log_file)
        print(f"daemon log: {log_file}", file=out)
        print(f"webhook sink listening on {sink.url}, recording to {sink_log}", file=out)
        print(f"replaying {env['MULTIALPHA_DATA']} (orders from {start}) with models from "
              f"{env['MULTIALPHA_MODELS']}", file=out, flush=True)
        runner = MultiAlphaRunner(cfg, options=RunOptions(start=start, end=end, show_progress=True))
        report = runner.run()
        received = sink.received
    print(format_summary(report, received), file=out)
    return 70 if report.failed else 0
