"""``InstrumentStep``: the per-bar decision sequence of one (strategy, symbol), free of any engine.

Each bar of its symbol is one ordered list of steps, taken at the bar's close:

1. warm-up bars only record the close: no decision, no order, ever;
2. restart guard: a bar time already acted on before a restart is not acted on again;
3. in a position: mark it with the gate; exit if the gate says flatten, else if its contract
   rolls, else by the alpha's exit rules;
4. flat: the alpha's entry rule, the ML filter, the gate (coordinator), the order, the ledger.

Fills are assumed at the signal: an entry is booked open and an exit booked closed as the
order is handed over (its outbox row commits with the fill, in one transaction). Delivery is
the order port's business from there: an entry known not delivered is voided later
(``void``), an exit not confirmed is sent again by the delivery side.

``sweep`` is the second pass the hub runs after every instrument of every strategy has seen a
bar time: if the gate now says flatten (a daily stop fired by a later instrument or another
strategy, an operator's flatten-halt), the position exits in that same bar time.

Backtrader (live), research extraction and the portfolio simulator all drive this class; only
the ports differ.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np

from multialpha.contracts import ContractSpec
from multialpha.domain import (
    Action,
    ClosedTrade,
    OrderIntent,
    OrderStatus,
    Position,
    make_intent_id,
)
from multialpha.strategy.alpha import Alpha, BarEvent
from multialpha.strategy.exits import ExitReason
from multialpha.strategy.ports import Gate, Ledger, MarketView, ModelFilter, OrderPort
from multialpha.strategy.stats import InstrumentStats
from multialpha.strategy.tickers import Tickers


class InstrumentStep:
    def __init__(self, *, strategy: str, symbol: str, tickers: Tickers, alpha: Alpha, contract: ContractSpec,
                 gate: Gate, orders: OrderPort, ledger: Ledger, market: MarketView,
                 model: ModelFilter | None = None, exit_only: bool = False, entry_reason: str = "entry",
                 broker_stop_mult: float = 0.0, stats: InstrumentStats | None = None) -> None:
        self.strategy, self.symbol, self.tickers = strategy, symbol, tickers
        self.alpha, self.contract = alpha, contract
        self.gate, self.orders, self.ledger, self.market = gate, orders, ledger, market
        self.model = model if alpha.params.use_ml_filter else None
        self.exit_only = exit_only  # a held position in a symbol no longer traded: manage its exit only
        self.broker_stop_mult = broker_stop_mult
        self.stats = stats or InstrumentStats()
        self.entry_reason = entry_reason
        restored = [p for p in ledger.open_positions(strategy) if p.symbol == symbol]
        self.position: Position | None = restored[0] if restored else None
        # A bar time already acted on before a restart (an entry or exit at that time is on
        # record) is not acted on again when it is processed a second time; nor is one this
        # instrument was done with before a crash later in the same bar time, whose effects
        # (a daily stop, a slot freed or taken) it must not see.
        self.done_through: datetime | None = max(
            [t for t in (ledger.last_exit_time(strategy, symbol),
                         self.position.entry_time if self.position else None,
                         ledger.evaluated_before_restart(strategy, symbol)) if t], default=None)
        self.last_close = math.nan
        self.last_time: datetime | None = None
        self._exit_tried_at: datetime | None = None
        self._last_day: date | None = None

    @property
    def _last_ticker(self) -> str:
        return self.symbol if self._last_day is None else self.tickers.ticker(self._last_day)

    # -- the per-bar sequence -------------------------------------------------------------------
    def on_bar(self, bar: BarEvent) -> None:
        self.last_close, self.last_time = bar.close, bar.close_time
        self._last_day = bar.trading_day
        if bar.historical:
            return
        if self.done_through is not None and bar.close_time <= self.done_through:
            self.ledger.evaluated(self.strategy, self.symbol, bar.close_time)
            return
        if self.position is not None:
            self._manage(bar)
        else:
            self._consider_entry(bar)
        self.ledger.evaluated(self.strategy, self.symbol, bar.close_time)

    def sweep(self, when: datetime, arrival_ns: int = 0) -> bool:
        """Second pass at bar time ``when``: exit now if the gate says flatten. True if it tried."""
        pos = self.position
        if pos is None or self._exit_tried_at == when or not math.isfinite(self.last_close):
            return False
        reason = self.gate.flatten_reason(self.strategy)
        if reason is None:
            return False
        self._exit(when, self.last_close, reason, arrival_ns)
        return True

    # -- in a position --------------------------------------------------------------------------
    def _manage(self, bar: BarEvent) -> None:
        pos = self.position
        assert pos is not None
        if pos.bars_held < 0:  # restored after a restart: count this symbol's bars since the entry
            pos.bars_held = self.market.bars_since(pos.entry_time) - 1
        pos.bars_held += 1
        pos.ticker = pos.ticker or self.tickers.ticker(bar.trading_day)
        self.gate.mark(self.strategy, self.symbol, bar.close, bar.close_time)
        reason = (self.gate.flatten_reason(self.strategy) or self._roll_reason(bar, pos)
                  or self.alpha.exit_reason(bar, pos))
        if reason is not None:
            self._exit(bar.close_time, bar.close, reason, bar.arrival_ns)

    def _roll_reason(self, bar: BarEvent, pos: Position) -> str | None:
        if self.tickers.rolls_after(bar) or pos.ticker != self.tickers.ticker(bar.trading_day):
            return ExitReason.CONTRACT_ROLL.value
        return None

    def _exit(self, when: datetime, price: float, reason: str, arrival_ns: int) -> None:
        pos = self.position
        assert pos is not None
        self._exit_tried_at = when
        intent = self._intent(when, Action.EXIT, pos.quantity, price, pos.ml_score, reason,
                              ticker=pos.ticker or self._last_ticker)
        with self.ledger.atomic():
            self.orders.submit(intent, arrival_ns=arrival_ns)
            self.close_booked(intent, reason)
        self.orders.committed(intent.intent_id)

    def close_booked(self, intent: OrderIntent, reason: str) -> ClosedTrade:
        """Book the exit ``intent`` (delivered, or settled as delivered by an operator)."""
        pos = self.position
        assert pos is not None
        pnl = self.gate.on_closed(self.strategy, self.symbol, price=intent.price, when=intent.signal_time,
                                  reason=reason)
        trade = ClosedTrade(self.strategy, self.symbol, pos.quantity, pos.entry_time, pos.entry_price,
                            intent.signal_time, intent.price, pnl, reason, pos.ml_score,
                            pos.entry_intent_id, intent.intent_id, pos.features)
        self.ledger.closed(trade)
        # No entry at the bar time of an exit, even one booked outside the bar (a settlement).
        if self.done_through is None or intent.signal_time > self.done_through:
            self.done_through = intent.signal_time
        self.stats.exits[reason] += 1
        self.stats.realized_pnl += pnl
        if pnl > 0:
            self.stats.wins += 1
        else:
            self.stats.losses += 1
        self.position = None
        return trade

    # -- flat -----------------------------------------------------------------------------------
    def _consider_entry(self, bar: BarEvent) -> None:
        if self.exit_only or not self.alpha.entry(bar) or self.tickers.rolls_after(bar):
            return
        st = self.stats
        st.signals += 1
        score: float | None = None
        features: dict[str, float] = {}
        model = self.model
        if model is not None:
            names = model.features
            row = self.market.row(names)  # the engine's values at this bar, O(1)
            if not np.all(np.isfinite(row)):
                st.features_not_ready += 1
                return
            score = model.score(row)
            if not model.accepts(score):
                st.ml_rejected += 1
                return
            features = {n: float(v) for n, v in zip(names, row, strict=True)}  # kept with the position
        st.ml_passed += 1
        decision = self.gate.can_open(self.strategy, self.symbol, bar.close_time)
        if not decision.allowed:
            st.blocked[str(decision.reason)] += 1
            return
        self._enter(bar, score, features)

    def _enter(self, bar: BarEvent, score: float | None, features: dict[str, float]) -> None:
        close = bar.close
        atr = self.market.atr()
        stop = self.alpha.stop_price(close, atr)
        quantity = int(self.alpha.params.quantity)
        ticker = self.tickers.ticker(bar.trading_day)
        intent = self._intent(bar.close_time, Action.BUY, quantity, close, score, self.entry_reason,
                              ticker=ticker, stop_loss=self._broker_stop(close, stop))
        pos = Position(strategy=self.strategy, symbol=self.symbol, quantity=quantity, entry_price=close,
                       entry_time=bar.close_time, entry_intent_id=intent.intent_id, stop=stop,
                       target=self.alpha.target_price(close, atr), atr=atr, ml_score=score,
                       features=features, ticker=ticker)
        with self.ledger.atomic():
            status = self.orders.submit(intent, arrival_ns=bar.arrival_ns)
            if status is OrderStatus.FAILED:  # known not delivered (settled so before a restart)
                self.gate.release(self.strategy, self.symbol)
                self.stats.entry_failed += 1
                return
            # Any other status: an entry not known to have failed is managed as open, because
            # the exit that follows is harmless if the entry never reached the broker.
            self.gate.on_opened(self.strategy, self.symbol, price=close, quantity=quantity,
                                when=bar.close_time)
            self.ledger.opened(pos)
        self.orders.committed(intent.intent_id)
        self.stats.entries += 1
        self.position = pos

    def void(self, entry_intent_id: str) -> bool:
        """The entry ``entry_intent_id`` is known not to have reached the broker: the position it
        opened never existed. True if it was still open and is now gone."""
        pos = self.position
        if pos is None or pos.entry_intent_id != entry_intent_id:
            return False
        self.gate.void(self.strategy, self.symbol)
        self.ledger.voided(self.strategy, self.symbol)
        self.stats.entries -= 1
        self.stats.entry_failed += 1
        self.position = None
        return True

    def _broker_stop(self, entry: float, stop: float) -> float | None:
        """The protective stop sent with the entry: the strategy's stop distance times
        ``broker_stop_mult``, on the tick grid (None when disabled or the alpha has no stop)."""
        if self.broker_stop_mult <= 0 or not math.isfinite(stop) or stop >= entry:
            return None
        tick = self.contract.tick_size
        level = entry - self.broker_stop_mult * (entry - stop)
        return round(math.floor(level / tick + 1e-9) * tick, 10)

    def _intent(self, when: datetime, action: Action, quantity: int, price: float, score: float | None,
                reason: str, *, ticker: str, stop_loss: float | None = None) -> OrderIntent:
        return OrderIntent(
            intent_id=make_intent_id(self.strategy, self.symbol, when, action),
            strategy=self.strategy, symbol=self.symbol, ticker=ticker, action=action,
            quantity=quantity, price=price, signal_time=when,
            ml_score=None if score is None or math.isnan(score) else score, reason=reason,
            stop_loss=stop_loss)
