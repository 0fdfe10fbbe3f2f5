"""Entry and exit counters, for the whole run and for the current trading day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from multialpha.portfolio.decision import DenyReason


@dataclass(frozen=True)
class Stats:
    """Counters at one moment. ``block_rate`` = blocked / requested (0.0 before any request)."""

    entries_requested: int = 0
    entries_allowed: int = 0
    entries_blocked: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    exits: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    stop_triggers: int = 0

    @property
    def blocked(self) -> int:
        return sum(self.entries_blocked.values())

    @property
    def block_rate(self) -> float:
        return self.blocked / self.entries_requested if self.entries_requested else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data; ``blocked`` and ``block_rate`` are derived and ignored by ``from_dict``."""
        return {
            "entries_requested": self.entries_requested,
            "entries_allowed": self.entries_allowed,
            "entries_blocked": dict(sorted(self.entries_blocked.items())),
            "blocked": self.blocked,
            "block_rate": self.block_rate,
            "exits": dict(sorted(self.exits.items())),
            "stop_triggers": self.stop_triggers,
        }


class _Counter:
    def __init__(self) -> None:
        self.requested = 0
        self.allowed = 0
        self.blocked: dict[str, int] = {}
        self.exits: dict[str, int] = {}
        self.stops = 0

    def entry(self, reason: DenyReason | None) -> None:
        self.requested += 1
        if reason is None:
            self.allowed += 1
        else:
            self.blocked[reason.value] = self.blocked.get(reason.value, 0) + 1

    def exit(self, reason: str) -> None:
        self.exits[reason] = self.exits.get(reason, 0) + 1

    def view(self) -> Stats:
        return Stats(self.requested, self.allowed, MappingProxyType(dict(self.blocked)),
                     MappingProxyType(dict(self.exits)), self.stops)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> _Counter:
        counter = cls()
        counter.requested = int(raw["entries_requested"])
        counter.allowed = int(raw["entries_allowed"])
        counter.blocked = {DenyReason(k).value: int(v) for k, v in raw["entries_blocked"].items()}
        counter.exits = {str(k): int(v) for k, v in raw["exits"].items()}
        counter.stops = int(raw["stop_triggers"])
        return counter


class StatsBook:
    """Totals and per-strategy counters, each for the run and for the current trading day.

    A strategy's stop triggers count its own daily stop; the account's daily stop counts in the
    totals only.
    """

    def __init__(self, strategies: Iterable[str]) -> None:
        self._names = tuple(strategies)
        self._run, self._day = _Counter(), _Counter()
        self._run_by = {n: _Counter() for n in self._names}
        self._day_by = {n: _Counter() for n in self._names}

    def _all(self, strategy: str | None) -> list[_Counter]:
        counters = [self._run, self._day]
        if strategy is not None:
            counters += [self._run_by[strategy], self._day_by[strategy]]
        return counters

    def record_entry(self, strategy: str, reason: DenyReason | None) -> None:
        for c in self._all(strategy):
            c.entry(reason)

    def record_exit(self, strategy: str, reason: str) -> None:
        for c in self._all(strategy):
            c.exit(reason)

    def record_stop(self, strategy: str | None) -> None:
        """A daily stop triggered: a strategy's, or the account's when ``strategy`` is None."""
        for c in self._all(strategy):
            c.stops += 1

    def roll(self) -> None:
        self._day = _Counter()
        self._day_by = {n: _Counter() for n in self._names}

    def run(self, strategy: str | None = None) -> Stats:
        return (self._run if strategy is None else self._run_by[strategy]).view()

    def today(self, strategy: str | None = None) -> Stats:
        return (self._day if strategy is None else self._day_by[strategy]).view()

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self._run.view().to_dict(),
            "today": self._day.view().to_dict(),
            "run_by_strategy": {n: self._run_by[n].view().to_dict() for n in sorted(self._names)},
            "today_by_strategy": {n: self._day_by[n].view().to_dict() for n in sorted(self._names)},
        }

    def load(self, raw: Mapping[str, Any]) -> None:
        """Replace all counters with a ``to_dict`` result; unsaved strategies start at zero."""
        unknown = sorted((set(raw["run_by_strategy"]) | set(raw["today_by_strategy"])) - set(self._names))
        if unknown:
            raise ValueError(f"saved stats name strategies that are not configured: {unknown}")
        run, day = _Counter.from_dict(raw["run"]), _Counter.from_dict(raw["today"])
        run_by = {n: _Counter.from_dict(raw["run_by_strategy"][n]) if n in raw["run_by_strategy"]
                  else _Counter() for n in self._names}
        day_by = {n: _Counter.from_dict(raw["today_by_strategy"][n]) if n in raw["today_by_strategy"]
                  else _Counter() for n in self._names}
        self._run, self._day, self._run_by, self._day_by = run, day, run_by, day_by
