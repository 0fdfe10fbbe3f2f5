"""Which contract an instrument's orders name, from the one roll schedule (``config/rolls.yml``).

An entry names the contract active on its trade date (TradersPost ``ESZ2024``) and the position
remembers it: its exit always goes to the contract held. A position is not carried into a roll:
it exits (reason ``contract_roll``) at the bar closing at or after 15:00 Chicago on the last
trade date of its contract, while that contract still trades; no entry is taken then. If it is
still open when the new contract is active (no such bar that day, e.g. an early close, or the
daemon was down), it exits at the first bar after.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from multialpha.calendar import next_trade_date
from multialpha.rolls import RollSchedule
from multialpha.strategy.alpha import BarEvent

ROLL_EXIT_MINUTE = 15 * 60  # the last hour before the 16:00 close: the held contract still trades
SESSION_END_MINUTE = 17 * 60


class Tickers(Protocol):
    def ticker(self, trading_day: date) -> str:
        """The contract orders name on ``trading_day``."""
        ...

    def rolls_after(self, bar: BarEvent) -> bool:
        """True for a bar in the last hour of its contract (the next trade date rolls)."""
        ...


class RollTickers:
    def __init__(self, schedule: RollSchedule, symbol: str) -> None:
        self._schedule, self._symbol = schedule, symbol
        self._cache: dict[date, str] = {}

    def ticker(self, trading_day: date) -> str:
        t = self._cache.get(trading_day)
        if t is None:
            if len(self._cache) > 64:
                self._cache.clear()
            t = self._cache[trading_day] = self._schedule.active_contract(self._symbol, trading_day).traderspost_ticker
        return t

    def rolls_after(self, bar: BarEvent) -> bool:
        if not ROLL_EXIT_MINUTE <= bar.close_minute < SESSION_END_MINUTE:
            return False
        following = next_trade_date(bar.trading_day + timedelta(days=1))
        return self.ticker(following) != self.ticker(bar.trading_day)


class ContinuousTicker:
    """One name for every date and no rolls (continuous research data, or a broker symbol that
    rolls on its own)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def ticker(self, trading_day: date) -> str:
        return self._name

    def rolls_after(self, bar: BarEvent) -> bool:
        return False
