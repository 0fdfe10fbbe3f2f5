"""The thin Backtrader adapter: each Backtrader step hands its symbol's new bar to the
``InstrumentStep``. Nothing is decided here."""

from __future__ import annotations

import time
from collections.abc import Callable

import backtrader as bt

from multialpha.domain import BarGroup
from multialpha.strategy.alpha import BarEvent
from multialpha.strategy.step import InstrumentStep


class StepAdapter(bt.Strategy):
    params = (("step", None), ("current", None))

    def __init__(self) -> None:
        self.step: InstrumentStep = self.p.step
        self.current: Callable[[], BarGroup | None] = self.p.current  # the bar time being stepped
        self.data_ = self.getdatabyname(self.step.symbol)
        self._seen = 0

    def prenext(self) -> None:  # other symbols may not have started yet: ours still counts
        self.next()

    def next(self) -> None:
        arrival_ns = time.perf_counter_ns()
        n = len(self.data_)
        if n == 0 or n == self._seen:
            return  # no new bar for this symbol at this bar time
        self._seen = n
        group = self.current()
        if group is None:
            return
        bar = group.bars[self.step.symbol]
        self.step.on_bar(BarEvent(group.close_time, group.trading_day, group.close_minute, bar.open,
                                  bar.high, bar.low, bar.close, bar.volume, group.historical, arrival_ns))
