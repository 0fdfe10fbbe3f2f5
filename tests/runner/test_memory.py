"""A long-running daemon's memory stays flat: Backtrader keeps no bar history of its own."""

from __future__ import annotations

from multialpha.runner import MultiAlphaRunner

from .conftest import MakeSetup, hourly_bars

FLAT = (5000.0, 5005.0, 4995.0, 5000.0)


def test_months_of_bars_leave_backtrader_lines_holding_a_bar_each(make_setup: MakeSetup):
    n = 600  # a month of hourly bars: without the bound every line would hold all of them
    setup = make_setup(bars={"ES": hourly_bars("ES", [FLAT] * n), "NQ": hourly_bars("NQ", [FLAT] * n)},
                       strategies={"t1": {"instruments": ["ES", "NQ"]}}, runtime={"data": {"warmup_bars": 10}})
    runner = MultiAlphaRunner(setup.config())
    report = runner.run()
    assert report.bar_times == n
    assert [w.bars_held_in_memory() <= 2 * len(w.strategy.symbols) for w in runner.workers] == [True]
