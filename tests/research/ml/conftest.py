"""Shared inputs of the training tests: a year of sample bars written once, tiny search settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from multialpha.research.ml.settings import CpcvSettings, ForestSpace, Periods, SearchSettings
from multialpha.research.ml.study import sqlite_url
from multialpha.research.ml.train import PairSpec
from multialpha.research.sampledata import generate_sample_bars

from multialpha.features import BarArrays
from multialpha.feeds.replay_files import write_bar_file
from multialpha.strategy.params import IbsParams

REPO = Path(__file__).resolve().parents[3]
CONTRACTS = REPO / "config" / "contracts.yml"
SYMBOLS = ("ES", "CL", "ZB", "VX")
REFERENCES = ("ZB", "VX")
DATA_START, DATA_END = date(2023, 6, 1), date(2024, 6, 28)
HOLDOUT_START = date(2024, 4, 1)
PARAMS = {**IbsParams.defaults(), "stop_type": "atr", "stop_atr_mult": 2.5, "tp_atr_mult": 3.0}
# Small enough for a pair in a second or two; still CPCV with 3 paths, random then TPE, pruning.
TINY = SearchSettings(random_trials=3, tpe_trials=2, seed=5, cpcv=CpcvSettings(4, 2, 0.01),
                      forest=ForestSpace(n_estimators=(8, 12), max_depth=(2, 5), min_samples_leaf=(10, 40)),
                      min_trades=20, pruner_min_folds=2)


@pytest.fixture(scope="session")
def sample_bars() -> dict[str, BarArrays]:
    return generate_sample_bars(SYMBOLS, start=DATA_START, end=DATA_END, seed=11, contracts_file=CONTRACTS)


@pytest.fixture(scope="session")
def data_dir(sample_bars: dict[str, BarArrays], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bars")
    for symbol, bars in sample_bars.items():
        write_bar_file(root / f"{symbol}.csv", bars)
    return root


MakeSpec = Callable[..., PairSpec]


@pytest.fixture
def make_spec(data_dir: Path, tmp_path: Path) -> MakeSpec:
    """A pair spec on the sample data, studies in a SQLite file under ``tmp_path``."""

    def make(symbol: str = "ES", strategy: str = "alpha", **changes: Any) -> PairSpec:
        out = changes.pop("out_dir", tmp_path / "models")
        spec = PairSpec(strategy=strategy, symbol=symbol, alpha="ibs", params=dict(PARAMS), data_dir=data_dir,
                        contracts_path=CONTRACTS, references=REFERENCES, features=None,
                        periods=Periods(holdout_start=HOLDOUT_START), settings=TINY, out_dir=out,
                        storage=sqlite_url(tmp_path / "studies.sqlite3"), report=False)
        return dataclasses.replace(spec, **changes)

    return make
