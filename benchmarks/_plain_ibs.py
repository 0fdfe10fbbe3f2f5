"""The IBS rules written for Backtrader alone: a plain ``Cerebro`` and ``bt.Strategy`` that
implement the rules themselves (IBS and ATR from whole ticks, the session window, stop /
take-profit / IBS exit / holding limit / auto-close in that order, fills at the signal bar's close
through the broker with cheat-on-close, futures commission per contract and side), none of the
daemon's machinery: what a user would write instead, the baseline of the benchmarks."""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import backtrader as bt
import pandas as pd

from multialpha.contracts import ContractSpec
from multialpha.features import BarArrays
from multialpha.strategy.params import IbsParams

CHICAGO = ZoneInfo("America/Chicago")


class Trade(NamedTuple):
    entry: str
    entry_price: float
    exit: str
    exit_price: float
    pnl: float


def utc_iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class PlainIbs(bt.Strategy):  # type: ignore[misc]
    """The IBS rules written for Backtrader alone (see the module docstring)."""

    params = (("rules", None), ("tick", 0.25))

    def __init__(self) -> None:
        p: IbsParams = self.p.rules
        self.rules = p
        self.trs: deque[int] = deque(maxlen=14)
        self.prev_close: int | None = None
        self.holding: dict[str, Any] | None = None
        self.fills: list[tuple[str, float, float]] = []  # (time, price, size)
        self.pnls: list[float] = []
        self.start_min, self.end_min = p.session_start_min, p.session_end_min

    def notify_order(self, order: Any) -> None:
        if order.status == order.Completed:
            when = bt.num2date(order.executed.dt).replace(tzinfo=UTC)
            self.fills.append((utc_iso(when), order.executed.price, order.executed.size))

    def notify_trade(self, trade: Any) -> None:
        if trade.isclosed:
            self.pnls.append(round(trade.pnlcomm, 4))

    def next(self) -> None:
        p, tick = self.rules, self.p.tick
        d = self.data
        hi, lo, cl = (math.floor(x / tick + 0.5) for x in (d.high[0], d.low[0], d.close[0]))
        if self.prev_close is not None:
            self.trs.append(max(hi, self.prev_close) - min(lo, self.prev_close))
        self.prev_close = cl
        atr = sum(self.trs) * tick / 14 if len(self.trs) == 14 else math.nan
        ibs = (cl - lo) / (hi - lo) if hi > lo else 0.5
        local = d.datetime.datetime(0).replace(tzinfo=UTC).astimezone(CHICAGO)
        minute = local.hour * 60 + local.minute
        close = d.close[0]
        if self.holding is not None:
            h = self.holding
            h["bars"] += 1
            stop, target = h["stop"], h["target"]
            if ((stop == stop and close <= stop) or (target == target and close >= target)
                    or p.ibs_exit_low <= ibs <= p.ibs_exit_high
                    or (p.max_holding_bars > 0 and h["bars"] >= p.max_holding_bars)
                    or (p.auto_close_min >= 0 and p.auto_close_min <= minute < 17 * 60)):
                self.close()
                self.holding = None
            return
        start, end = self.start_min, self.end_min
        in_window = start <= minute <= end if start <= end else (minute >= start or minute <= end)
        if p.ibs_entry_low <= ibs <= p.ibs_entry_high and in_window:
            self.buy(size=p.quantity)
            stop = target = math.nan
            if p.stop_type == "atr" and math.isfinite(atr):
                stop = close - p.stop_atr_mult * atr if p.stop_atr_mult > 0 else math.nan
                target = close + p.tp_atr_mult * atr if p.tp_atr_mult > 0 else math.nan
            elif p.stop_type == "percent":
                stop = close - abs(close) * p.stop_pct if p.stop_pct > 0 else math.nan
                target = close + abs(close) * p.tp_pct if p.tp_pct > 0 else math.nan
            self.holding = {"bars": 0, "stop": stop, "target": target}


def backtrader_run(bars: BarArrays, params: IbsParams, contract: ContractSpec) -> list[Trade]:
    close_times = pd.to_datetime(bars.close_ts, utc=True).tz_localize(None)
    frame = pd.DataFrame({"open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close,
                          "volume": bars.volume}, index=close_times)
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.broker.setcash(1e12)
    cerebro.broker.set_coc(True)  # a market order fills at the close of the bar that sent it
    cerebro.broker.setcommission(commission=contract.commission_per_side, margin=1.0,
                                 mult=contract.point_value, commtype=bt.CommInfoBase.COMM_FIXED)
    cerebro.addstrategy(PlainIbs, rules=params, tick=contract.tick_size)
    strat = cerebro.run()[0]
    fills = strat.fills
    buys, sells = fills[0::2], fills[1::2]
    return [Trade(b[0], b[1], s[0], s[1], pnl) for b, s, pnl in zip(buys, sells, strat.pnls, strict=False)]


