"""Which contract month each symbol trades on a trade date: the one roll rule, read from
``config/rolls.yml``.

Orders name an explicit contract (TradersPost ``ESZ2024``) and the live feed subscribes to
that same contract (Databento GLBX.MDP3 raw symbol ``ESZ4``), both from ``active_contract``.

A rule gives the contract months traded, the contract's deadline (its last trade date, or its
first notice day for physically delivered contracts) and how long before the deadline the next
contract takes over. Day counts are CME trade dates (``multialpha.calendar``). The roll date is
the first trade date of the new contract: from the 17:00 Chicago open of that trade date on,
``active_contract`` names the new contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from multialpha.calendar import is_trade_date, next_trade_date, previous_trade_date, trade_dates_before
from multialpha.errors import ConfigError

DEFAULT_ROLLS_FILE = Path("config") / "rolls.yml"
MONTH_CODES = "FGHJKMNQUVXZ"  # January .. December
WEDNESDAY, FRIDAY = 2, 4  # date.weekday()


@dataclass(frozen=True, order=True)
class ContractMonth:
    """One futures contract: a root and its contract (delivery) month."""

    root: str  # "ES"
    year: int  # 2024
    month: int  # 12

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"{self.root}: contract month {self.month} is not 1-12")

    @property
    def month_code(self) -> str:
        """CME month code, e.g. "Z" for December."""
        return MONTH_CODES[self.month - 1]

    @property
    def databento_symbol(self) -> str:
        """GLBX.MDP3 raw symbol: root, month code, last digit of the year, e.g. "ESZ4"."""
        return f"{self.root}{self.month_code}{self.year % 10}"

    @property
    def traderspost_ticker(self) -> str:
        """TradersPost futures ticker: root, month code, four-digit year, e.g. "ESZ2024"."""
        return f"{self.root}{self.month_code}{self.year}"

    def __str__(self) -> str:
        return self.traderspost_ticker


# -- deadline dates ------------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def _month_before(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def _month_after(year: int, month: int) -> tuple[int, int]:
    return (year, month + 1) if month < 12 else (year + 1, 1)


def _on_or_before(day: date) -> date:
    """The last trade date on or before ``day``."""
    return day if is_trade_date(day) else previous_trade_date(day)


def _third_friday(year: int, month: int) -> date:
    return _nth_weekday(year, month, FRIDAY, 3)


def _third_wednesday(year: int, month: int) -> date:
    return _nth_weekday(year, month, WEDNESDAY, 3)


def _day_25_prior_month(year: int, month: int) -> date:
    return _on_or_before(date(*_month_before(year, month), 25))


def _prior_month_end(year: int, month: int) -> date:
    return _on_or_before(date(year, month, 1) - timedelta(days=1))


def _vix_expiry(year: int, month: int) -> date:
    friday = _on_or_before(_third_friday(*_month_after(year, month)))
    return _on_or_before(friday - timedelta(days=30))


# name -> (the date of a contract month, what it is); the YAML names them.
DATES = {
    "third_friday": (_third_friday, "the third Friday of the contract month"),
    "third_wednesday": (_third_wednesday, "the third Wednesday of the contract month"),
    "day_25_prior_month": (_day_25_prior_month,
                           "the last trade date on or before the 25th of the month before the contract month"),
    "prior_month_end": (_prior_month_end, "the last trade date of the month before the contract month"),
    "vix_expiry": (_vix_expiry, "the Wednesday 30 days before the third Friday of the next month (each moved "
                                "to the trade date before when it is not one)"),
}
DEADLINES = ("last_trade", "first_notice")
ROLL_UNITS = ("calendar_days_before", "trade_days_before")


@dataclass(frozen=True)
class RollRule:
    """One class of contracts: months traded, deadline and roll offset (see config/rolls.yml)."""

    name: str
    months: tuple[int, ...]  # contract months traded, 1-12, increasing
    deadline: str  # "last_trade" or "first_notice"
    reference: str  # a key of DATES: the date the deadline is counted from
    trade_days_before: int  # the deadline is this many trade dates before it (0: on or before it)
    roll_unit: str  # a ROLL_UNITS entry
    roll_days: int

    def deadline_of(self, year: int, month: int) -> date:
        """The deadline (last trade date or first notice day) of contract month ``year``-``month``."""
        day = DATES[self.reference][0](year, month)
        if self.trade_days_before == 0:
            return _on_or_before(day)
        return trade_dates_before(day, self.trade_days_before)

    def roll_of(self, year: int, month: int) -> date:
        """The first trade date of the contract after ``year``-``month``."""
        deadline = self.deadline_of(year, month)
        if self.roll_unit == "calendar_days_before":
            return next_trade_date(deadline - timedelta(days=self.roll_days))
        return trade_dates_before(deadline, self.roll_days)


class RollSchedule:
    """The contract each symbol trades on any trade date."""

    def __init__(self, rules: Mapping[str, RollRule], *, file: str | Path | None = None) -> None:
        self._rules = dict(rules)
        self.file = None if file is None else Path(file)
        self._roll = lru_cache(maxsize=4096)(self._roll_uncached)

    @property
    def symbols(self) -> list[str]:
        return sorted(self._rules)

    def rule(self, symbol: str) -> RollRule:
        try:
            return self._rules[symbol]
        except KeyError:
            raise ConfigError(f"no roll rule for symbol {symbol!r}; add it to the rolls file",
                              file=self.file) from None

    def active_contract(self, symbol: str, trading_day: date) -> ContractMonth:
        """The contract ``symbol`` trades on ``trading_day``."""
        self.rule(symbol)
        contract = self._contract_before(symbol, trading_day)
        while self._roll(contract) <= trading_day:
            contract = self._next(contract)
        return contract

    def next_roll(self, symbol: str, trading_day: date) -> tuple[date, ContractMonth]:
        """The first roll after ``trading_day``: its date (the new contract's first trade date)
        and the new contract."""
        active = self.active_contract(symbol, trading_day)
        return self._roll(active), self._next(active)

    def roll_dates(self, symbol: str, start: date, end: date) -> list[tuple[date, ContractMonth]]:
        """Every contract ``symbol`` trades on some day of [start, end], oldest first, each with its
        first trade date as the active contract (the first one's is on or before ``start``)."""
        if end < start:
            raise ValueError(f"{symbol}: end {end} is before start {start}")
        contract = self.active_contract(symbol, start)
        out = [(self._roll(self._previous(contract)), contract)]
        while self._roll(contract) <= end:
            out.append((self._roll(contract), self._next(contract)))
            contract = self._next(contract)
        return out

    def deadline(self, contract: ContractMonth) -> date:
        """``contract``'s last trade date or first notice day, as its rule defines it."""
        return self.rule(contract.root).deadline_of(contract.year, contract.month)

    # -- walking the contract months ---------------------------------------------------------

    def _roll_uncached(self, contract: ContractMonth) -> date:
        return self.rule(contract.root).roll_of(contract.year, contract.month)

    def _next(self, c: ContractMonth) -> ContractMonth:
        months = self._rules[c.root].months
        later = [m for m in months if m > c.month]
        return ContractMonth(c.root, c.year, later[0]) if later else ContractMonth(c.root, c.year + 1, months[0])

    def _previous(self, c: ContractMonth) -> ContractMonth:
        months = self._rules[c.root].months
        earlier = [m for m in months if m < c.month]
        return ContractMonth(c.root, c.year, earlier[-1]) if earlier else ContractMonth(c.root, c.year - 1, months[-1])

    def _contract_before(self, symbol: str, day: date) -> ContractMonth:
        """A contract that rolled off before ``day``: rolls come at most a few months before a
        contract month, so the first one listed a year earlier has."""
        return ContractMonth(symbol, day.year - 1, self._rules[symbol].months[0])


# -- loading -------------------------------------------------------------------------------------


def _int(raw: Any, file: Path, key: str, least: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < least:
        raise ConfigError(f"must be a whole number >= {least}", file=file, key=key, value=raw, show_value=True)
    return raw


def _one_of(raw: Mapping[str, Any], names: Iterable[str], file: Path, key: str) -> str:
    given = [n for n in names if n in raw]
    if len(given) != 1:
        raise ConfigError(f"needs exactly one of {list(names)}", file=file, key=key)
    return given[0]


def _mapping(raw: Any, file: Path, key: str, fields: set[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError("must be a mapping", file=file, key=key)
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise ConfigError(f"unknown field(s) {unknown}", file=file, key=key)
    return raw


def _rule(name: str, raw: Any, file: Path) -> tuple[RollRule, list[str]]:
    key = f"rules.{name}"
    raw = _mapping(raw, file, key, {"symbols", "months", "roll", *DEADLINES})
    symbols = raw.get("symbols")
    if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) and s for s in symbols):
        raise ConfigError("must be a non-empty list of symbols", file=file, key=f"{key}.symbols")
    months = raw.get("months")
    if (not isinstance(months, list) or not months or not all(isinstance(m, str) and m in MONTH_CODES for m in months)
            or len(set(months)) != len(months)):
        raise ConfigError(f"must be a non-empty list of distinct month codes from {MONTH_CODES}",
                          file=file, key=f"{key}.months", value=months, show_value=True)
    deadline = _one_of(raw, DEADLINES, file, key)
    spec = _mapping(raw[deadline], file, f"{key}.{deadline}", {"date", "trade_days_before"})
    if spec.get("date") not in DATES:
        raise ConfigError(f"must be one of {sorted(DATES)}", file=file, key=f"{key}.{deadline}.date",
                          value=spec.get("date"), show_value=True)
    before = _int(spec.get("trade_days_before", 0), file, f"{key}.{deadline}.trade_days_before", 0)
    roll = _mapping(raw.get("roll"), file, f"{key}.roll", set(ROLL_UNITS))
    unit = _one_of(roll, ROLL_UNITS, file, f"{key}.roll")
    days = _int(roll[unit], file, f"{key}.roll.{unit}", 1)
    rule = RollRule(name, tuple(sorted(MONTH_CODES.index(m) + 1 for m in months)), deadline, spec["date"],
                    before, unit, days)
    return rule, list(symbols)


def load_rolls(path: str | Path = DEFAULT_ROLLS_FILE, *, require: Iterable[str] = ()) -> RollSchedule:
    """Load and validate the roll schedule; errors name the file and the key. Every symbol in
    ``require`` (e.g. the contracts file's) must have a rule."""
    file = Path(path)
    try:
        doc = yaml.safe_load(file.read_text())
    except FileNotFoundError:
        raise ConfigError("rolls file not found", file=file) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None
    if not isinstance(doc, Mapping) or set(doc) != {"rules"} or not isinstance(doc["rules"], Mapping):
        raise ConfigError("expected exactly a top-level 'rules' mapping", file=file)
    rules: dict[str, RollRule] = {}
    for name, raw in doc["rules"].items():
        rule, symbols = _rule(str(name), raw, file)
        for symbol in symbols:
            if symbol in rules:
                raise ConfigError(f"symbol {symbol!r} is also in rules.{rules[symbol].name}",
                                  file=file, key=f"rules.{name}.symbols")
            rules[symbol] = rule
    missing = sorted(set(require) - set(rules))
    if missing:
        raise ConfigError(f"no roll rule for symbol(s) {missing}; add them to a rule's symbols", file=file)
    return RollSchedule(rules, file=file)
