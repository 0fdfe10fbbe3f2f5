import math

import pytest

from multialpha.strategy import rules, rules_jit
from multialpha.strategy.rules import (
    EXIT_AUTO_CLOSE,
    EXIT_IBS,
    EXIT_MAX_BARS,
    EXIT_NONE,
    EXIT_STOP,
    EXIT_TAKE_PROFIT,
    STOP_ATR,
    STOP_NONE,
    STOP_PERCENT,
)

NAN = math.nan


@pytest.mark.parametrize("impl", [rules, rules_jit], ids=["python", "compiled"])
class TestRules:
    def test_ibs_value_when_close_at_low_then_zero_and_flat_bar_then_half(self, impl):
        assert impl.ibs_value(10.0, 8.0, 8.0, 0.25) == 0.0
        assert impl.ibs_value(10.0, 8.0, 9.5, 0.25) == 0.75
        assert impl.ibs_value(9.0, 9.0, 9.0, 0.25) == 0.5

    @pytest.mark.parametrize(("low", "high", "close", "tick"), [
        (1.07, 1.07025, 1.07005, 0.00005),  # 6E: one tick up a five-tick bar
        (1.0832, 1.08345, 1.08325, 0.00005),
        (0.0066805, 0.0066830, 0.0066810, 0.0000005),  # 6J
        (78.41, 78.46, 78.42, 0.01),  # CL
        (23.105, 23.13, 23.11, 0.005),  # SI
    ])
    def test_ibs_value_when_exactly_one_fifth_in_ticks_then_entry_band_edge_is_inside(
            self, impl, low, high, close, tick):
        # In floating point (close - low) / (high - low) lands a hair off 0.2 for such bars.
        assert impl.ibs_value(high, low, close, tick) == 0.2
        assert impl.entry_signal(impl.ibs_value(high, low, close, tick), 600, 0.0, 0.2, 510, 900)

    def test_stop_and_target_when_entry_price_negative_then_distance_from_price(self, impl):
        # CL settled at -37.63 on 2020-04-20: a 1% stop sits below, a 1.5% target above.
        assert impl.stop_price(-37.63, NAN, STOP_PERCENT, 0.01, 2.0) == pytest.approx(-38.0063)
        assert impl.take_profit_price(-37.63, NAN, STOP_PERCENT, 0.015, 3.0) == pytest.approx(-37.06555)

    def test_in_window_when_window_wraps_midnight_then_both_sides_inside(self, impl):
        assert impl.in_window(510, 510, 900)  # 08:30 inside 08:30-15:00
        assert not impl.in_window(901, 510, 900)
        assert impl.in_window(1380, 1200, 180)  # 23:00 inside 20:00-03:00
        assert impl.in_window(60, 1200, 180)
        assert not impl.in_window(600, 1200, 180)

    def test_entry_signal_needs_low_ibs_and_session_window(self, impl):
        assert impl.entry_signal(0.1, 600, 0.0, 0.2, 510, 900)
        assert impl.entry_signal(0.2, 600, 0.0, 0.2, 510, 900)  # band is inclusive
        assert not impl.entry_signal(0.21, 600, 0.0, 0.2, 510, 900)
        assert not impl.entry_signal(0.1, 1000, 0.0, 0.2, 510, 900)

    def test_stop_and_target_levels_by_kind(self, impl):
        assert impl.stop_price(100.0, 2.0, STOP_PERCENT, 0.01, 2.0) == pytest.approx(99.0)
        assert impl.stop_price(100.0, 2.0, STOP_ATR, 0.01, 2.5) == 95.0
        assert math.isnan(impl.stop_price(100.0, 2.0, STOP_NONE, 0.01, 2.5))
        assert math.isnan(impl.stop_price(100.0, NAN, STOP_ATR, 0.01, 2.5))
        assert impl.take_profit_price(100.0, 2.0, STOP_PERCENT, 0.015, 3.0) == pytest.approx(101.5)
        assert impl.take_profit_price(100.0, 2.0, STOP_ATR, 0.015, 3.0) == 106.0
        assert math.isnan(impl.take_profit_price(100.0, 2.0, STOP_ATR, 0.015, 0.0))

    def test_exit_code_priority_stop_then_target_then_ibs_then_bars_then_auto_close(self, impl):
        args = dict(exit_low=0.8, exit_high=1.0, max_holding_bars=5, auto_close_min=900)
        def code(close, ibs, minute, held, stop=95.0, target=106.0):
            return impl.exit_code(close, ibs, minute, held, stop, target, args["exit_low"], args["exit_high"],
                                  args["max_holding_bars"], args["auto_close_min"])
        assert code(94.0, 0.9, 950, 9) == EXIT_STOP
        assert code(107.0, 0.9, 950, 9) == EXIT_TAKE_PROFIT
        assert code(100.0, 0.9, 950, 9) == EXIT_IBS
        assert code(100.0, 0.5, 950, 9) == EXIT_MAX_BARS
        assert code(100.0, 0.5, 950, 1) == EXIT_AUTO_CLOSE
        assert code(100.0, 0.5, 600, 1) == EXIT_NONE
        assert code(100.0, 0.5, 1080, 1) == EXIT_NONE  # 18:00 is the next session: no auto close
        assert code(94.0, 0.5, 600, 1, stop=NAN, target=NAN) == EXIT_NONE
