"""train-demo refuses data it cannot learn from with one named error and exit 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from multialpha.research.cli import main

from multialpha.features.bars import BarArrays
from multialpha.feeds.replay_files import write_bar_file

CONTRACTS = Path(__file__).resolve().parents[3] / "config" / "contracts.yml"
DAY_NS = 86_400 * 1_000_000_000
TICKS = {"ES": 0.25, "ZB": 0.03125, "VX": 0.05}


def _daily_bars(symbol: str, days: int, seed: int) -> BarArrays:
    rng = np.random.default_rng(seed)
    tick = TICKS[symbol]
    close = np.round((100 + np.cumsum(rng.normal(0, 1, days))) / tick) * tick
    open_ = np.r_[close[0], close[:-1]]
    ts = np.datetime64("2023-01-03T00:00", "ns").astype(np.int64) + np.arange(days) * DAY_NS
    return BarArrays(symbol, ts, open_, np.maximum(open_, close) + tick, np.minimum(open_, close) - tick,
                     close, np.full(days, 1000.0), tick)


def test_daily_bars_are_refused_naming_the_symbol_and_their_spacing(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for k, symbol in enumerate(TICKS):
        write_bar_file(data / f"{symbol}.csv", _daily_bars(symbol, 500, k))
    config = tmp_path / "config.yml"
    config.write_text("strategies:\n  ibs_a:\n    instruments: [ES]\n")
    code = main(["train-demo", "--data", str(data), "--config", str(config), "--contracts", str(CONTRACTS),
                 "--out", str(tmp_path / "models"), "--train-end", "2024-03-01"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"error: {data / 'ES.csv'}: line 3: ")
    assert "bars are 24 hours apart, not 1 hour: is this a daily file?" in err
    assert err.count("\n") == 1
