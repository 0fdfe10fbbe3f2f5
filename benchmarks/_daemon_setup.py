"""What the daemon benchmarks share: sample bars and bundles trained as ``make demo`` trains
them, config variants, and the local webhook sink in its own process."""

from __future__ import annotations

import contextlib
import io
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import NamedTuple

import yaml
from _common import REPO, time_once
from multialpha.research.cli import main as research_main
from multialpha.research.ml.manifest import Pair, config_pairs, load_config
from multialpha.research.sampledata import write_sample_data

CONFIG = REPO / "config.multi_alpha.yml"
CONTRACTS = REPO / "config" / "contracts.yml"
REFERENCES = ("ZB", "VX")
DATA_START, DATA_END, TRAIN_END, SEED, TRAIN_SEED = date(2023, 1, 2), date(2024, 12, 31), date(2024, 7, 1), 7, 11
# The demo's training (the Makefile's DEMO_TRAIN): small trial counts, both cores.
DEMO_TRAINING = ("--random-trials", "2", "--tpe-trials", "2", "--cpcv-groups", "4", "--max-trees", "20",
                 "--min-trades", "30", "--workers", "2")


class Inputs(NamedTuple):
    root: Path
    data: Path
    models: Path
    pairs: list[Pair]  # (strategy, symbol) of every enabled strategy in the repo's config


def prepare_inputs(root: Path) -> tuple[Inputs, float]:
    """Sample data and demo bundles in ``root``, as ``make demo`` makes them; seconds taken."""
    pairs = config_pairs(load_config(CONFIG))
    symbols = sorted({p.symbol for p in pairs} | set(REFERENCES))
    data, models = root / "data", root / "models"

    def make() -> None:
        write_sample_data(data, symbols=symbols, start=DATA_START, end=DATA_END, seed=SEED)
        with contextlib.redirect_stdout(io.StringIO()):  # one line per bundle
            code = research_main(["train-all", "--config", str(CONFIG), "--data", str(data), "--out", str(models),
                                  "--holdout-start", TRAIN_END.isoformat(), "--seed", str(TRAIN_SEED),
                                  "--no-progress", *DEMO_TRAINING])
        if code != 0:
            raise RuntimeError(f"training the demo bundles failed (exit {code})")

    secs = time_once(make)
    return Inputs(root, data, models, list(pairs)), secs


def variant(path: Path, keep: dict[str, Sequence[str]]) -> Path:
    """The repo config with only the strategies in ``keep`` enabled, trading the symbols given."""
    doc = yaml.safe_load(CONFIG.read_text())
    doc["runtime"]["contracts_path"] = str(CONTRACTS)
    doc["runtime"]["rolls_path"] = str(CONTRACTS.with_name("rolls.yml"))
    doc["runtime"]["config_dir"] = str(REPO / doc["runtime"].get("config_dir", "config"))
    for name, block in doc["strategies"].items():
        block["enabled"] = name in keep
        if name in keep:
            block["instruments"] = list(keep[name])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@contextlib.contextmanager
def sink_process(out: Path) -> Iterator[str]:
    """``multialpha webhook-sink`` in its own process (as a remote endpoint would be: its work
    takes no turns on the daemon's interpreter); yields its URL and stops it afterwards."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from multialpha.cli import main; "
                             "sys.exit(main(sys.argv[1:]))", "webhook-sink", "--port", "0", "--out", str(out)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"webhook sink did not start (printed {url!r})")
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
