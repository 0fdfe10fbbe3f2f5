"""Which exchange contract stands for each of our symbols on each trade date.

A roll rule elsewhere decides the contract: ``contract_for(symbol, trading_day)`` returns the
GLBX raw symbol (e.g. ``"ESZ4"``). The live feed subscribes to those contracts and files of
explicit contracts are stitched with the same rule, so a record counts for a symbol only on
the trade dates its contract is the active one.

The trade date of a record is the CME trading day of the close of the hourly bar that holds
it, the ``trading_day`` its bar group carries. CME's day changes at 17:00 Chicago, always a
UTC clock hour, so every minute of one hourly bar comes from the same contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta

import numpy as np

from multialpha.features.daily import trading_day_ids
from multialpha.feeds.hourly import HOUR_NS, hour_start

ContractFor = Callable[[str, date], str]

_EPOCH = date(1970, 1, 1)
# Databento continuous symbols: ROOT.c.N (calendar), ROOT.v.N (volume), ROOT.n.N (open interest).
_CONTINUOUS = re.compile(r"^(?P<root>[^.]+)\.[cvn]\.\d+$")


def trade_date(ts_ns: int) -> date:
    """CME trading day of the hourly bar holding the instant ``ts_ns`` (the day of its close)."""
    close = hour_start(ts_ns) + HOUR_NS
    return _EPOCH + timedelta(days=int(trading_day_ids(np.array([close], dtype=np.int64))[0]))


def continuous_root(symbol: str) -> str | None:
    """``"ES"`` for a continuous symbol such as ``"ES.c.0"``; None for anything else."""
    match = _CONTINUOUS.match(symbol)
    return match.group("root") if match else None


class ContractBook:
    """Our symbols and the contract rule; answers which symbol a contract's record is for."""

    def __init__(self, symbols: Iterable[str], contract_for: ContractFor) -> None:
        self.symbols = tuple(symbols)
        self._contract_for = contract_for
        self._active: dict[date, dict[str, str]] = {}
        self._day_of_hour: dict[int, date] = {}

    def active(self, day: date) -> dict[str, str]:
        """Contract -> symbol on trading day ``day``."""
        found = self._active.get(day)
        if found is None:
            found = {}
            for symbol in self.symbols:
                contract = self._contract_for(symbol, day)
                if contract in found:
                    raise ValueError(f"contract {contract!r} is the active contract of both "
                                     f"{found[contract]!r} and {symbol!r} on {day}")
                found[contract] = symbol
            self._active[day] = found
        return found

    def day_of(self, ts_ns: int) -> date:
        hour = hour_start(ts_ns)
        day = self._day_of_hour.get(hour)
        if day is None:
            if len(self._day_of_hour) > 10_000:
                self._day_of_hour.clear()
            day = self._day_of_hour[hour] = trade_date(hour)
        return day

    def symbol_of(self, contract: str, ts_ns: int) -> str | None:
        """Our symbol whose active contract at ``ts_ns`` is ``contract``, else None."""
        return self.active(self.day_of(ts_ns)).get(contract)

    def contracts(self, first: date, last: date) -> list[str]:
        """Every contract active on some day from ``first`` to ``last`` (inclusive), sorted."""
        found: set[str] = set()
        day = first
        while day <= last:
            found.update(self.active(day))
            day += timedelta(days=1)
        return sorted(found)
