"""PortfolioCoordinator: the one gate every entry passes, shared by all strategy workers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from multialpha.calendar import trading_day as trading_day_of
from multialpha.clock import Clock
from multialpha.contracts import ContractSpec
from multialpha.portfolio._values import to_decimal, utc
from multialpha.portfolio.book import DailyPnl, Key, PnlBook, check_quantity
from multialpha.portfolio.decision import Decision, DenyReason, EntryFacts, entry_denial
from multialpha.portfolio.errors import PortfolioError
from multialpha.portfolio.events import CoordinatorEvent, EventKind, EventQueue
from multialpha.portfolio.limits import (
    ACCOUNT,
    AccountLimits,
    ScopeControl,
    StrategyLimits,
    TradingState,
    index_strategies,
)
from multialpha.portfolio.snapshot import SavedState, dump_state, load_state, pnl_parts
from multialpha.portfolio.stats import StatsBook
from multialpha.portfolio.status import (
    CoordinatorStatus,
    ReservationStatus,
    ScopeStatus,
    pnl_status,
    position_status,
)


class PortfolioCoordinator:
    """Entry limits, daily stops, halts and the day's P&L for every strategy of the process.

    Synchronous and free of I/O: time comes from the injected clock or the ``now``/``when``
    arguments. One re-entrant lock makes every public method atomic. ``on_event`` is called on
    the caller's thread after the lock is released and must not block (hand the event to a
    queue); an exception it raises is logged and counted, never raised into the trading thread.
    Every method first rolls the trading day forward to the time it is given (or the clock's).
    """

    def __init__(self, strategies: Iterable[StrategyLimits], account: AccountLimits,
                 contracts: Mapping[str, ContractSpec], clock: Clock,
                 on_event: Callable[[CoordinatorEvent], None] | None = None) -> None:
        self._limits = limits = index_strategies(strategies, contracts)
        self._account = account
        self._stop_loss: dict[str, Decimal | None] = {
            name: _money_or_none(lim.daily_stop_loss) for name, lim in limits.items()}
        self._stop_loss[ACCOUNT] = _money_or_none(account.daily_stop_loss)
        self._contracts = dict(contracts)
        self._clock = clock
        self._lock = threading.RLock()
        self._day: date = trading_day_of(utc(clock.now(), name="clock.now()"))
        self._ledger = PnlBook(self._contracts, limits)
        self._reserved: dict[Key, datetime] = {}
        self._controls = {ACCOUNT: ScopeControl(), **{name: ScopeControl() for name in limits}}
        self._stats = StatsBook(limits)
        self._events = EventQueue(on_event)
        self._unknown: frozenset[str] = frozenset()
        self._held_symbols: set[tuple[str, str]] = set()  # (account, symbol) with an exit unconfirmed
        # (account, symbol) -> when and by which strategy a position in it was last closed: held for
        # the other strategies of the account through that bar time, whether the exit is confirmed
        # yet or not (so a replay gives the same answer every time)
        self._closed_at: dict[tuple[str, str], tuple[datetime, str]] = {}

    # -- day ----------------------------------------------------------------------------------
    def roll(self, now: datetime | None = None) -> bool:
        """Advance to the trading day of ``now``; True if a new day started. Never goes back."""
        with self._atomic():
            return self._roll(self._now(now))

    @property
    def trading_day(self) -> date:
        """The current trading day as of the last roll (reading it does not roll)."""
        with self._lock:
            return self._day

    # -- entries ------------------------------------------------------------------------------
    def can_open(self, strategy: str, symbol: str, now: datetime | None = None) -> Decision:
        """Check an entry; when allowed, the slot stays reserved until ``on_opened`` or ``release``."""
        with self._atomic():
            at = self._now(now)
            self._roll(at)
            lim = self._strategy(strategy)
            acct, ctl = self._controls[ACCOUNT], self._controls[strategy]
            key = (strategy, symbol)
            reason = self._orders_unknown_denial(lim, symbol, at) or entry_denial(EntryFacts(
                account_state=acct.state, strategy_state=ctl.state,
                # a daily stop blocks entries for the day, and after it while its flatten is pending
                account_stopped=acct.stop_flatten, strategy_stopped=ctl.stop_flatten,
                symbol_allowed=symbol in lim.symbols,
                already_open=key in self._reserved or self._ledger.get(strategy, symbol) is not None,
                held_on_account=self._held_on_account(lim, symbol, at),
                strategy_count=self._ledger.count(strategy) + self._reserved_count(strategy),
                strategy_max=lim.max_positions,
                account_count=self._ledger.count() + len(self._reserved),
                account_max=self._account.max_positions,
            ))
            self._stats.record_entry(strategy, reason)
            if reason is None:
                self._reserved[key] = at
            self._emit(EventKind.ENTRY_ALLOWED if reason is None else EventKind.ENTRY_DENIED, at,
                       scope=strategy, symbol=symbol, reason=None if reason is None else reason.value)
            return Decision(reason is None, reason, strategy, symbol, at)

    def release(self, strategy: str, symbol: str) -> None:
        """The entry was abandoned: free its reservation (nothing happens if there is none)."""
        with self._atomic():
            self._roll(self._now(None))
            self._strategy(strategy)
            self._reserved.pop((strategy, symbol), None)

    def on_opened(self, strategy: str, symbol: str, *, price: float, quantity: int,
                  when: datetime) -> None:
        """The reserved entry filled: it becomes an open position; the entry commission is booked today."""
        when = utc(when, name="when")
        px = to_decimal(price, name="price")
        check_quantity(quantity)
        with self._atomic():
            self._roll(when)
            self._strategy(strategy)
            if (strategy, symbol) not in self._reserved:
                raise PortfolioError(f"strategy {strategy}: {symbol} opened without a reservation "
                                     "from can_open")
            del self._reserved[(strategy, symbol)]
            self._ledger.open(strategy, symbol, price=px, quantity=quantity, when=when, day=self._day)
            self._emit(EventKind.POSITION_OPENED, when, scope=strategy, symbol=symbol,
                       price=float(px), quantity=quantity)
            self._check_stops(strategy, when)

    # -- open positions and exits -------------------------------------------------------------
    def mark(self, strategy: str, symbol: str, price: float, when: datetime) -> None:
        """Update the position's last price (stale marks are ignored) and evaluate the daily stops."""
        when = utc(when, name="when")
        px = to_decimal(price, name="price")
        with self._atomic():
            self._roll(when)
            self._strategy(strategy)
            self._ledger.mark(strategy, symbol, price=px, when=when)
            self._check_stops(strategy, when)

    def on_closed(self, strategy: str, symbol: str, *, price: float, when: datetime,
                  reason: str) -> float:
        """Book an exit; never refused for an open position. Returns the trade's net P&L in USD."""
        when = utc(when, name="when")
        px = to_decimal(price, name="price")
        with self._atomic():
            self._roll(when)
            self._strategy(strategy)
            trade = self._ledger.close(strategy, symbol, price=px)
            account = self._limits[strategy].account
            if account is not None:
                self._closed_at[(account, symbol)] = (when, strategy)
            self._end_pending_flattens(strategy)
            self._stats.record_exit(strategy, reason)
            pos = trade.position
            self._emit(EventKind.POSITION_CLOSED, when, scope=strategy, symbol=symbol, reason=reason,
                       price=float(px), quantity=pos.quantity, entry_price=float(pos.entry_price),
                       net_pnl=float(trade.net_pnl), today_pnl=float(trade.today_pnl))
            self._check_stops(strategy, when)
            return float(trade.net_pnl)

    def must_flatten(self, strategy: str) -> bool:
        """True while this strategy's or the account's daily stop or flatten-halt is in force."""
        return self.flatten_reason(strategy) is not None

    def flatten_reason(self, strategy: str) -> str | None:
        """Why every position of ``strategy`` must close now: ``"halt_flatten"`` (an operator's
        flatten-halt on it or the account), ``"daily_stop"`` (its or the account's daily stop, until
        every position in scope is closed, even past the day roll), or None."""
        with self._atomic():
            self._roll(self._now(None))
            self._strategy(strategy)
            acct, ctl = self._controls[ACCOUNT], self._controls[strategy]
            if acct.halt_flatten or ctl.halt_flatten:
                return "halt_flatten"
            if acct.stop_flatten or ctl.stop_flatten:
                return "daily_stop"
            return None

    def set_orders_unknown(self, strategies: Iterable[str]) -> None:
        """Strategies with an order of unknown outcome: no entries for them until an operator
        settles it (``orders resolve``); exits go on."""
        with self._atomic():
            names = frozenset(strategies)
            for name in names:
                self._strategy(name)
            self._unknown = names

    def void(self, strategy: str, symbol: str) -> None:
        """An entry known not to have reached the broker: its position is removed without a trade."""
        with self._atomic():
            now = self._now(None)
            self._roll(now)
            self._strategy(strategy)
            self._ledger.void(strategy, symbol, today=self._day)
            self._end_pending_flattens(strategy)
            self._emit(EventKind.POSITION_CLOSED, now, scope=strategy, symbol=symbol, reason="voided",
                       net_pnl=0.0, today_pnl=0.0)

    def hold_symbol(self, strategy: str, symbol: str, held: bool) -> None:
        """While held, no strategy on ``strategy``'s broker account may enter ``symbol`` (an exit of
        it is not confirmed: a late resend would close a new position too)."""
        with self._atomic():
            key = (self._strategy(strategy).account or strategy, symbol)
            if held:
                self._held_symbols.add(key)
            else:
                self._held_symbols.discard(key)

    # -- manual control -----------------------------------------------------------------------
    def set_state(self, scope: str, state: TradingState | str, reason: str) -> None:
        """Move a strategy or the account ("account") to another state; leaving HALTED ends a flatten."""
        new = TradingState(state)
        with self._atomic():
            now = self._now(None)
            self._roll(now)
            self._change_state(scope, new, reason, now, flatten=False)

    def flatten(self, scope: str, reason: str) -> None:
        """Halt ``scope`` and require its strategies to close their positions until it is resumed.

        ``flatten("account", ...)`` is flatten-all. On a scope that is already HALTED this only
        adds the flatten requirement.
        """
        with self._atomic():
            now = self._now(None)
            self._roll(now)
            ctl = self._control(scope)
            if ctl.state is TradingState.HALTED and ctl.flatten:
                return
            self._change_state(scope, TradingState.HALTED, reason, now, flatten=True)

    # -- views and persistence ----------------------------------------------------------------
    @property
    def event_errors(self) -> int:
        """How many times ``on_event`` raised."""
        return self._events.errors

    def status(self) -> CoordinatorStatus:
        with self._atomic():
            now = self._now(None)
            self._roll(now)
            positions = tuple(position_status(self._ledger, p) for p in self._ledger.positions())
            reservations = tuple(ReservationStatus(s, sym, at)
                                 for (s, sym), at in sorted(self._reserved.items()))
            return CoordinatorStatus(
                at=now, trading_day=self._day, account=self._scope_status(ACCOUNT),
                strategies={n: self._scope_status(n) for n in sorted(self._limits)},
                positions=positions, reservations=reservations)

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-serialisable state for the state store; pending reservations are left out."""
        with self._atomic():
            self._roll(self._now(None))
            state = SavedState(self._day, self._ledger, self._controls, self._stats)
            # for readers (``status``); a restarted daemon works it out again from the outbox
            return {**dump_state(state, self._dailies()), "entries_held": sorted(self._unknown)}

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Replace all state with a ``snapshot()`` result and drop pending reservations.

        StateError if the snapshot is malformed; ConfigError if it names unconfigured strategies.
        """
        with self._atomic():
            state = load_state(snapshot, tuple(self._limits), self._contracts)
            self._day, self._ledger, self._controls, self._stats = (
                state.day, state.ledger, state.controls, state.stats)
            self._reserved = {}

    # -- internals (call with the lock held) --------------------------------------------------
    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """Hold the lock for the body, then deliver the events it queued (even if it raised)."""
        events: list[CoordinatorEvent] = []
        try:
            with self._lock:
                try:
                    yield
                finally:
                    events = self._events.take()
        finally:
            self._events.deliver(events)

    def _emit(self, kind: EventKind, at: datetime, *, scope: str | None = None,
              symbol: str | None = None, reason: str | None = None, **data: Any) -> None:
        self._events.add(kind, at, self._day, scope=scope, symbol=symbol, reason=reason, **data)

    def _now(self, now: datetime | None) -> datetime:
        return utc(self._clock.now() if now is None else now, name="now")

    def _strategy(self, name: str) -> StrategyLimits:
        try:
            return self._limits[name]
        except KeyError:
            raise PortfolioError(f"unknown strategy {name!r}; configured: {sorted(self._limits)}") from None

    def _control(self, scope: str) -> ScopeControl:
        if scope != ACCOUNT:
            self._strategy(scope)
        return self._controls[scope]

    def _reserved_count(self, strategy: str) -> int:
        return sum(1 for s, _ in self._reserved if s == strategy)

    def _held_on_account(self, lim: StrategyLimits, symbol: str, now: datetime) -> bool:
        """Another strategy trading the same broker account holds or is entering ``symbol``, or
        closed it in this bar time (``now``)."""
        if lim.account is None:
            return False
        if self._closed_by_other(lim, symbol, now):
            return True
        others = [(s, symbol) for s, other in self._limits.items()
                  if s != lim.name and other.account == lim.account]
        return any(k in self._reserved or self._ledger.get(*k) is not None for k in others)

    def _closed_by_other(self, lim: StrategyLimits, symbol: str, now: datetime) -> bool:
        closed = None if lim.account is None else self._closed_at.get((lim.account, symbol))
        return closed is not None and closed[0] == now and closed[1] != lim.name

    def _orders_unknown_denial(self, lim: StrategyLimits, symbol: str, now: datetime) -> DenyReason | None:
        if lim.name in self._unknown:
            return DenyReason.ORDERS_UNKNOWN
        # An exit closed in this bar time is refused as held on the account whether it is
        # confirmed yet or not: the reason must not depend on how fast the gateway answered.
        if (lim.account or lim.name, symbol) in self._held_symbols and not self._closed_by_other(lim, symbol, now):
            return DenyReason.EXIT_UNCONFIRMED
        return None

    def _end_pending_flattens(self, strategy: str) -> None:
        for scope in (strategy, ACCOUNT):
            ctl = self._controls[scope]
            if ctl.flatten_pending and self._ledger.count(None if scope == ACCOUNT else scope) == 0:
                ctl.flatten_pending = False

    def _roll(self, now: datetime) -> bool:
        day = trading_day_of(now)
        if day <= self._day:
            return False  # a late event from a day already closed is booked to the current day
        previous = self._day
        pnl = {scope: {k: float(v) for k, v in pnl_parts(d).items()} for scope, d in self._dailies().items()}
        stats = {ACCOUNT: self._stats.today().to_dict(),
                 **{n: self._stats.today(n).to_dict() for n in sorted(self._limits)}}
        self._ledger.roll()
        for scope, ctl in self._controls.items():
            # The stop clears with the day; its flatten does not while positions remain in scope.
            ctl.flatten_pending = ctl.stop_flatten and self._ledger.count(None if scope == ACCOUNT else scope) > 0
            ctl.clear_stop()
        self._stats.roll()
        self._day = day
        self._emit(EventKind.DAY_ROLLED, now, previous_day=previous.isoformat(), pnl=pnl, stats=stats)
        return True

    def _dailies(self) -> dict[str, DailyPnl]:
        return {ACCOUNT: self._ledger.account_daily(),
                **{n: self._ledger.daily(n) for n in sorted(self._limits)}}

    def _check_stops(self, strategy: str, when: datetime) -> None:
        for scope, daily in ((strategy, self._ledger.daily(strategy)), (ACCOUNT, self._ledger.account_daily())):
            ctl, limit = self._controls[scope], self._stop_loss[scope]
            if limit is None or ctl.stopped or daily.total > -limit:
                continue
            ctl.stopped_at, ctl.stop_pnl = when, daily.total
            self._stats.record_stop(None if scope == ACCOUNT else scope)
            self._emit(EventKind.DAILY_STOP_HIT, when, scope=scope,
                       daily_pnl=float(daily.total), daily_stop_loss=float(limit))

    def _change_state(self, scope: str, new: TradingState, reason: str, now: datetime, *,
                      flatten: bool) -> None:
        ctl = self._control(scope)
        old = ctl.state
        ctl.change(scope, new, reason, now, flatten=flatten)
        self._emit(EventKind.STATE_CHANGED, now, scope=scope, reason=reason,
                   old=old.value, new=new.value, flatten=flatten)

    def _scope_status(self, name: str) -> ScopeStatus:
        ctl, acct = self._controls[name], self._controls[ACCOUNT]
        strategy = None if name == ACCOUNT else self._limits[name]
        daily = self._ledger.account_daily() if strategy is None else self._ledger.daily(name)
        stats_name = None if strategy is None else name
        return ScopeStatus(
            name=name, state=ctl.state, state_reason=ctl.state_reason, state_since=ctl.state_since,
            flatten_requested=ctl.flatten, stopped=ctl.stopped, stopped_at=ctl.stopped_at,
            must_flatten=ctl.flattening or acct.flattening, pnl=pnl_status(daily, self._stop_loss[name]),
            open_positions=self._ledger.count(stats_name),
            reserved=len(self._reserved) if strategy is None else self._reserved_count(name),
            max_positions=self._account.max_positions if strategy is None else strategy.max_positions,
            symbols=() if strategy is None else tuple(sorted(strategy.symbols)),
            stats_today=self._stats.today(stats_name), stats_run=self._stats.run(stats_name))


def _money_or_none(value: float | None) -> Decimal | None:
    return None if value is None else to_decimal(value, name="daily_stop_loss")

