"""The roll schedule: contract symbols, known roll and expiry dates per class, validation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from multialpha.contracts import load_contracts
from multialpha.errors import ConfigError
from multialpha.rolls import ContractMonth, RollSchedule, load_rolls

REPO = Path(__file__).resolve().parents[1]
ROLLS = REPO / "config" / "rolls.yml"


@pytest.fixture(scope="module")
def rolls() -> RollSchedule:
    return load_rolls(ROLLS, require=load_contracts(REPO / "config" / "contracts.yml"))


def test_contract_month_codes_and_symbols() -> None:
    es = ContractMonth("ES", 2024, 12)
    assert (es.month_code, es.databento_symbol, es.traderspost_ticker) == ("Z", "ESZ4", "ESZ2024")
    assert ContractMonth("6E", 2024, 12).databento_symbol == "6EZ4"
    assert ContractMonth("CL", 2025, 1).databento_symbol == "CLF5"
    assert ContractMonth("CL", 2025, 1).traderspost_ticker == "CLF2025"
    assert [ContractMonth("GC", 2025, m).month_code for m in range(1, 13)] == list("FGHJKMNQUVXZ")
    with pytest.raises(ValueError, match="13"):
        ContractMonth("ES", 2024, 13)


def test_every_contract_has_a_rule(rolls: RollSchedule) -> None:
    assert set(rolls.symbols) == set(load_contracts(REPO / "config" / "contracts.yml"))


@pytest.mark.parametrize(("symbol", "day", "ticker"), [
    ("ES", date(2024, 12, 11), "ESZ2024"),  # the day before CME's roll date
    ("ES", date(2024, 12, 12), "ESH2025"),  # Thursday, 8 days before the 20 Dec expiry: the year wraps
    ("NQ", date(2014, 12, 11), "NQH2015"),  # CME's own example: expiry 19 Dec 2014, roll 11 Dec
    ("6E", date(2013, 6, 7), "6EM2013"),
    ("6E", date(2013, 6, 10), "6EU2013"),  # CME's FX roll dates: Monday 10 June 2013
    ("6C", date(2013, 6, 10), "6CU2013"),  # CAD ends a day later and rolls a day more before it
    ("6J", date(2015, 9, 4), "6JZ2015"),  # Friday 4 September 2015: Labor Day falls in between
    ("CL", date(2024, 12, 11), "CLF2025"),
    ("CL", date(2024, 12, 12), "CLG2025"),  # 5 trade dates before CLF5's last trade, 19 Dec
    ("GC", date(2024, 11, 20), "GCZ2024"),
    ("GC", date(2024, 11, 21), "GCG2025"),  # 5 trade dates before first notice (29 Nov); no Jan contract
    ("PL", date(2024, 12, 23), "PLJ2025"),  # platinum: Jan -> Apr
    ("VX", date(2025, 3, 10), "VXH2025"),
    ("VX", date(2025, 3, 11), "VXJ2025"),  # 5 trade dates before the 18 Mar expiry
])
def test_active_contract_around_known_roll_dates(rolls: RollSchedule, symbol: str, day: date, ticker: str) -> None:
    assert rolls.active_contract(symbol, day).traderspost_ticker == ticker


@pytest.mark.parametrize(("contract", "deadline"), [
    (ContractMonth("ES", 2024, 12), date(2024, 12, 20)),
    (ContractMonth("6E", 2024, 6), date(2024, 6, 17)),  # the third Wednesday is Juneteenth
    (ContractMonth("6C", 2024, 12), date(2024, 12, 17)),
    (ContractMonth("CL", 2024, 12), date(2024, 11, 20)),
    (ContractMonth("CL", 2025, 2), date(2025, 1, 21)),  # the 25th is a Saturday: 4 business days before
    (ContractMonth("NG", 2024, 12), date(2024, 11, 26)),  # third last business day; Thanksgiving skipped
    (ContractMonth("GC", 2024, 12), date(2024, 11, 29)),  # first notice day
    (ContractMonth("ZB", 2025, 3), date(2025, 2, 28)),
    (ContractMonth("VX", 2025, 1), date(2025, 1, 22)),
    (ContractMonth("VX", 2025, 3), date(2025, 3, 18)),  # 18 Apr 2025 is Good Friday: 30 days before the 17th
])
def test_deadlines_follow_the_exchange_specs(rolls: RollSchedule, contract: ContractMonth, deadline: date) -> None:
    assert rolls.deadline(contract) == deadline


def test_roll_dates_list_each_contract_with_its_first_trade_date(rolls: RollSchedule) -> None:
    got = rolls.roll_dates("ES", date(2024, 10, 1), date(2025, 3, 31))
    assert [(d.isoformat(), c.databento_symbol) for d, c in got] == [
        ("2024-09-12", "ESZ4"), ("2024-12-12", "ESH5"), ("2025-03-13", "ESM5")]
    assert rolls.next_roll("ES", date(2024, 10, 1)) == got[1]
    assert rolls.next_roll("ES", date(2024, 12, 12)) == got[2]
    assert rolls.roll_dates("ES", date(2024, 10, 1), date(2024, 10, 2)) == got[:1]


def test_rolls_come_before_every_deadline_on_trade_dates(rolls: RollSchedule) -> None:
    from multialpha.calendar import is_trade_date

    for symbol in rolls.symbols:
        listed = rolls.roll_dates(symbol, date(2020, 1, 1), date(2026, 12, 31))
        for (before, old), (day, new) in zip(listed, listed[1:], strict=False):
            assert is_trade_date(day) and before < day < rolls.deadline(old), (symbol, day)
            assert rolls.active_contract(symbol, day) == new != old


def test_a_symbol_without_a_rule_is_named(rolls: RollSchedule) -> None:
    with pytest.raises(ConfigError, match=r"rolls.yml: no roll rule for symbol 'ZZ'"):
        rolls.active_contract("ZZ", date(2024, 1, 2))
    with pytest.raises(ConfigError, match=r"rolls.yml: no roll rule for symbol\(s\) \['ZZ'\]"):
        load_rolls(ROLLS, require=["ES", "ZZ"])


def _write(tmp_path: Path, rule: str) -> Path:
    f = tmp_path / "rolls.yml"
    f.write_text("rules:\n  eq:\n" + "".join(f"    {line}\n" for line in rule.strip().splitlines()))
    return f


GOOD = """symbols: [ES]
months: [H, M, U, Z]
last_trade: {date: third_friday}
roll: {calendar_days_before: 8}"""


@pytest.mark.parametrize(("change", "key", "words"), [
    (("months: [H, M, U, Z]", "months: [H, W]"), "rules.eq.months", "month codes"),
    (("last_trade: {date: third_friday}", "last_trade: {date: third_monday}"), "rules.eq.last_trade.date",
     "must be one of"),
    (("last_trade: {date: third_friday}", "last_trade: {date: third_friday}\nfirst_notice: {date: prior_month_end}"),
     "rules.eq", "exactly one of ['last_trade', 'first_notice']"),
    (("roll: {calendar_days_before: 8}", "roll: {calendar_days_before: 0}"), "rules.eq.roll.calendar_days_before",
     ">= 1"),
    (("roll: {calendar_days_before: 8}", "roll: {days: 8}"), "rules.eq.roll", "unknown field(s) ['days']"),
    (("symbols: [ES]", "symbols: []"), "rules.eq.symbols", "non-empty list"),
])
def test_a_bad_rule_names_the_file_and_key(tmp_path: Path, change: tuple[str, str], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_rolls(_write(tmp_path, GOOD.replace(*change)))
    assert str(info.value).startswith(f"{tmp_path / 'rolls.yml'}: {key}: ") and words in str(info.value)


def test_a_symbol_in_two_rules_is_refused(tmp_path: Path) -> None:
    f = _write(tmp_path, GOOD)
    f.write_text(f.read_text() + "  other:\n" + "".join(f"    {line}\n" for line in GOOD.splitlines()))
    with pytest.raises(ConfigError, match=r"rules.other.symbols: symbol 'ES' is also in rules.eq"):
        load_rolls(f)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.yml: rolls file not found"):
        load_rolls(tmp_path / "nope.yml")
