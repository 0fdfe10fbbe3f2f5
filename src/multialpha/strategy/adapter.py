"""The thin Backtrader adapter: at each Backtrader step it hands every instrument that has a new
bar to its ``InstrumentStep``, in the worker's symbol order. Nothing is decided here.

One adapter serves all of a worker's instruments: Backtrader gives every strategy every feed of
its Cerebro and re-scans them all on each step, so one strategy per instrument would cost
instruments x feeds per bar time for nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import backtrader as bt

from multialpha.domain import BarGroup
from multialpha.strategy.alpha import BarEvent
from multialpha.strategy.step import InstrumentStep


class StepAdapter(bt.Strategy):
    params = (("steps", ()), ("current", None), ("done", None))

    def __init__(self) -> None:
        steps: Sequence[InstrumentStep] = self.p.steps
        self.current: Callable[[], BarGroup | None] = self.p.current  # the bar time being stepped
        self.done: Callable[[], None] | None = self.p.done  # told when every instrument has stepped
        self.feeds = [(step, self.getdatabyname(step.symbol)) for step in steps]
        self._seen = [0] * len(self.feeds)

    def prenext(self) -> None:  # some symbols may not have started yet: the others still count
        self.next()

    def next(self) -> None:
        group = self.current()
        if group is not None:
            for i, (step, data) in enumerate(self.feeds):
                n = len(data)
                if n == 0 or n == self._seen[i]:
                    continue  # no new bar for this symbol at this bar time
                self._seen[i] = n
                bar = group.bars[step.symbol]
                step.on_bar(BarEvent(group.close_time, group.trading_day, group.close_minute, bar.open,
                                     bar.high, bar.low, bar.close, bar.volume, group.historical,
                                     time.perf_counter_ns()))
        if self.done is not None:
            self.done()
