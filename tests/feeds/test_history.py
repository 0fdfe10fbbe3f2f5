import numpy as np

from multialpha.domain import Bar
from multialpha.feeds.history import BarHistory

H = 3_600_000_000_000


def test_tail_is_the_last_capacity_bars_in_order_after_wrapping():
    hist = BarHistory(["ES"], capacity=4)
    for i in range(10):
        hist.append("ES", i * H, Bar(i, i + 1, i - 1, i + 0.5, 100 + i))
    tail = hist.bars("ES")
    assert list(tail.ts) == [6 * H, 7 * H, 8 * H, 9 * H]
    assert list(tail.close) == [6.5, 7.5, 8.5, 9.5]
    assert hist.count("ES") == 10


def test_tail_before_full_has_only_the_bars_seen():
    hist = BarHistory(["ES", "ZB"], capacity=5)
    assert len(hist.bars("ZB")) == 0
    hist.append("ES", 0, Bar(1, 2, 0, 1, 10))
    hist.append("ES", H, Bar(1, 2, 0, 1.5, 10))
    assert list(hist.bars("ES").close) == [1.0, 1.5]
    assert np.all(np.diff(hist.bars("ES").ts) > 0)
