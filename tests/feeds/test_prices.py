import pytest

from multialpha.feeds.prices import PriceGrid, tick_units


@pytest.mark.parametrize(("tick", "fixed", "text"), [
    (0.25, 4500_250_000_000, "4500.25"),
    (0.00005, 653_550_000, "0.65355"),  # 6A: 13071 ticks, whose float product would drift
    (0.015625, 110_984_375_000, "110.984375"),  # ZN: 1/64
    (0.01, -37_630_000_000, "-37.63"),  # a negative crude print
])
def test_to_float_when_on_grid_then_equals_the_decimal_text_parsed(tick, fixed, text):
    assert PriceGrid(tick).to_float(fixed) == float(text)


def test_to_float_when_off_grid_then_snaps_to_the_nearest_tick_half_up():
    grid = PriceGrid(0.25)
    assert grid.to_float(4500_120_000_000) == 4500.0
    assert grid.to_float(4500_125_000_000) == 4500.25
    assert grid.to_float(4500_130_000_000) == 4500.25


def test_to_float_without_tick_size_then_converts_exactly():
    assert PriceGrid(None).to_float(653_551_234) == 0.653551234


def test_tick_units_when_finer_than_a_nanounit_then_refuses():
    assert tick_units(0.00005) == 50_000
    with pytest.raises(ValueError, match="tick size 1e-10"):
        tick_units(1e-10)
