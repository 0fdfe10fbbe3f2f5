"""IbsStrategy: long-only internal-bar-strength mean reversion on hourly futures bars.

One instance per (strategy, symbol) inside its worker's Cerebro. Each bar of its symbol is
one ordered list of steps, taken at the bar's close:

1. warm-up bars only build history: no decisions, no orders;
2. in a position: mark it, then flatten if the coordinator says so, else apply the exit rules;
3. flat: the IBS rule, then the ML filter, then the coordinator, then the order.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime

import backtrader as bt
import numpy as np

from multialpha.domain import Action, BarGroup, OrderIntent, OrderStatus, make_intent_id
from multialpha.strategy import rules
from multialpha.strategy.context import InstrumentContext
from multialpha.strategy.exits import ExitReason
from multialpha.strategy.position import ClosedTrade, OpenPosition

log = logging.getLogger(__name__)


def _ns(ts: datetime) -> int:
    return int(ts.timestamp()) * 1_000_000_000 + ts.microsecond * 1000


class IbsStrategy(bt.Strategy):
    params = (("ctx", None),)

    def __init__(self) -> None:
        self.ctx: InstrumentContext = self.p.ctx
        self.data_ = self.getdatabyname(self.ctx.symbol)
        self._seen = 0
        self._arrival_ns = 0
        ledger = self.ctx.ledger
        restored = [p for p in ledger.open_positions(self.ctx.strategy) if p.symbol == self.ctx.symbol]
        self.position_: OpenPosition | None = restored[0] if restored else None
        # A bar already acted on before a restart (an entry or exit at that bar time is on
        # record) is not acted on again when it is processed a second time; nor is one this
        # instrument was done with before a crash later in the same bar time, whose effects
        # (a daily stop, a slot freed or taken) it must not see.
        self._done_through = max([t for t in (ledger.last_exit_time(self.ctx.strategy, self.ctx.symbol),
                                              self.position_.entry_time if self.position_ else None,
                                              ledger.evaluated_before_restart(self.ctx.strategy, self.ctx.symbol))
                                  if t], default=None)
        p = self.ctx.params
        self._start_min, self._end_min = p.session_start_min, p.session_end_min
        self._auto_close_min, self._stop_kind = p.auto_close_min, p.stop_kind

    def prenext(self) -> None:  # other symbols may not have started yet: ours still counts
        self.next()

    def next(self) -> None:
        self._arrival_ns = time.perf_counter_ns()
        n = len(self.data_)
        if n == 0 or n == self._seen:
            return  # no new bar for this symbol at this bar time
        self._seen = n
        group = self.ctx.inbox.current
        if group is None or group.historical:
            return
        if self._done_through is not None and group.close_time <= self._done_through:
            self.ctx.ledger.evaluated(self.ctx.strategy, self.ctx.symbol, group.close_time)
            return
        d = self.data_
        high, low, close = float(d.high[0]), float(d.low[0]), float(d.close[0])
        ibs = rules.ibs_value(high, low, close)
        if self.position_ is not None:
            self._manage(group, close, ibs)
        else:
            self._consider_entry(group, close, ibs)
        self.ctx.ledger.evaluated(self.ctx.strategy, self.ctx.symbol, group.close_time)

    # -- in a position ---------------------------------------------------------------------
    def _manage(self, group: BarGroup, close: float, ibs: float) -> None:
        pos = self.position_
        assert pos is not None
        ctx, p = self.ctx, self.ctx.params
        if pos.bars_held < 0:  # restored after a restart: count this symbol's bars since the entry
            pos.bars_held = int(np.count_nonzero(ctx.history.bars(ctx.symbol).close_ts >
                                                 _ns(pos.entry_time))) - 1
        pos.bars_held += 1
        ctx.coordinator.mark(ctx.strategy, ctx.symbol, close, group.close_time)
        reason: ExitReason | None
        if ctx.coordinator.must_flatten(ctx.strategy):
            reason = self._flatten_reason()
        else:
            code = rules.exit_code(close, ibs, group.close_minute, pos.bars_held, pos.stop, pos.target,
                                   p.ibs_exit_low, p.ibs_exit_high, p.max_holding_bars, self._auto_close_min)
            reason = ExitReason.from_code(code)
        if reason is not None:
            self._exit(group, close, reason)

    def _flatten_reason(self) -> ExitReason:
        status = self.ctx.coordinator.status()
        scopes = (status.account, status.strategies[self.ctx.strategy])
        if any(sc.flatten_requested for sc in scopes):
            return ExitReason.HALT_FLATTEN
        return ExitReason.DAILY_STOP

    def _exit(self, group: BarGroup, close: float, reason: ExitReason) -> None:
        pos = self.position_
        assert pos is not None
        ctx = self.ctx
        intent = self._intent(group, Action.EXIT, pos.quantity, close, pos.ml_score, reason.value)
        result = ctx.router.submit(intent, arrival_ns=self._arrival_ns)
        if result.status is not OrderStatus.SENT:
            # An exit must happen: keep the position and try again on the next bar. A second
            # exit for a position already closed is harmless at the broker; a missed one is not.
            ctx.stats.exit_retries += 1
            return
        pnl = ctx.coordinator.on_closed(ctx.strategy, ctx.symbol, price=close, when=group.close_time,
                                        reason=reason.value)
        trade = ClosedTrade(ctx.strategy, ctx.symbol, pos.quantity, pos.entry_time, pos.entry_price,
                            group.close_time, close, pnl, reason.value, pos.ml_score,
                            pos.entry_intent_id, intent.intent_id, pos.features)
        ctx.ledger.closed(trade)
        ctx.stats.exits[reason.value] += 1
        ctx.stats.realized_pnl += pnl
        if pnl > 0:
            ctx.stats.wins += 1
        else:
            ctx.stats.losses += 1
        self.position_ = None

    # -- flat ------------------------------------------------------------------------------
    def _consider_entry(self, group: BarGroup, close: float, ibs: float) -> None:
        ctx, p = self.ctx, self.ctx.params
        if ctx.exit_only:
            return
        if not rules.entry_signal(ibs, group.close_minute, p.ibs_entry_low, p.ibs_entry_high,
                                  self._start_min, self._end_min):
            return
        ctx.stats.signals += 1
        score: float | None = None
        features: dict[str, float] = {}
        if p.use_ml_filter and ctx.bundle is not None:
            names = ctx.bundle.features
            row = ctx.features.row(ctx.symbol, names)  # the engine's values at this bar, O(1)
            if not np.all(np.isfinite(row)):
                ctx.stats.features_not_ready += 1
                return
            score = ctx.bundle.score(row)
            if not ctx.bundle.accepts(score):
                ctx.stats.ml_rejected += 1
                return
            features = {n: float(v) for n, v in zip(names, row, strict=True)}  # kept with the position
        ctx.stats.ml_passed += 1
        decision = ctx.coordinator.can_open(ctx.strategy, ctx.symbol, group.close_time)
        if not decision.allowed:
            ctx.stats.blocked[str(decision.reason)] += 1
            return
        self._enter(group, close, score, features)

    def _enter(self, group: BarGroup, close: float, score: float | None, features: dict[str, float]) -> None:
        ctx, p = self.ctx, self.ctx.params
        intent = self._intent(group, Action.BUY, p.quantity, close, score, "ibs_entry")
        result = ctx.router.submit(intent, arrival_ns=self._arrival_ns)
        if result.status is OrderStatus.FAILED:
            ctx.coordinator.release(ctx.strategy, ctx.symbol)
            ctx.stats.entry_failed += 1
            return
        # SENT, or UNKNOWN: an entry of unknown outcome is managed as open, because the exit
        # that follows is harmless if the entry never reached the broker.
        atr = ctx.features[ctx.symbol].atr()  # research's atr_series at this bar
        pos = OpenPosition(
            strategy=ctx.strategy, symbol=ctx.symbol, quantity=p.quantity, entry_price=close,
            entry_time=group.close_time, entry_intent_id=intent.intent_id,
            stop=rules.stop_price(close, atr, self._stop_kind, p.stop_pct, p.stop_atr_mult),
            target=rules.take_profit_price(close, atr, self._stop_kind, p.tp_pct, p.tp_atr_mult),
            atr=atr, ml_score=score, features=features)
        ctx.coordinator.on_opened(ctx.strategy, ctx.symbol, price=close, quantity=p.quantity,
                                  when=group.close_time)
        ctx.ledger.opened(pos)
        ctx.stats.entries += 1
        self.position_ = pos

    def _intent(self, group: BarGroup, action: Action, quantity: int, price: float,
                score: float | None, reason: str) -> OrderIntent:
        ctx = self.ctx
        return OrderIntent(
            intent_id=make_intent_id(ctx.strategy, ctx.symbol, group.close_time, action),
            strategy=ctx.strategy, symbol=ctx.symbol, ticker=ctx.ticker, action=action,
            quantity=quantity, price=price, signal_time=group.close_time,
            ml_score=None if score is None or math.isnan(score) else score, reason=reason)
