"""MarkedPosition and daily P&L arithmetic against the real contract specs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from multialpha.portfolio import PortfolioError
from multialpha.portfolio.book import PnlBook

T0 = datetime(2024, 3, 12, 15, tzinfo=UTC)
DAY = date(2024, 3, 12)


def D(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture
def ledger(contracts) -> PnlBook:
    return PnlBook(contracts, ["ibs", "trend"])


def test_open_books_entry_commission_to_today(ledger: PnlBook) -> None:
    ledger.open("ibs", "ES", price=D("5000"), quantity=2, when=T0, day=DAY)
    daily = ledger.daily("ibs")
    assert daily.realized == D("-4.50")  # 2 contracts x 2.25
    assert daily.unrealized == 0


def test_close_returns_contract_spec_net_pnl_exactly(ledger: PnlBook, contracts) -> None:
    ledger.open("ibs", "CL", price=D("75.10"), quantity=3, when=T0, day=DAY)
    trade = ledger.close("ibs", "CL", price=D("75.37"))
    assert trade.net_pnl == D("795")  # 0.27 * 1000 * 3 - 2 * 2.50 * 3
    assert float(trade.net_pnl) == pytest.approx(contracts["CL"].net_pnl(75.10, 75.37, 3))
    assert ledger.daily("ibs").total == trade.net_pnl


def test_mark_updates_unrealized_from_entry_price(ledger: PnlBook) -> None:
    ledger.open("ibs", "NQ", price=D("18000"), quantity=1, when=T0, day=DAY)
    ledger.mark("ibs", "NQ", price=D("17990.25"), when=T0 + timedelta(minutes=5))
    assert ledger.daily("ibs").unrealized == D("-195")  # -9.75 * 20
    assert ledger.account_daily().total == D("-197.25")


def test_short_position_gains_when_price_falls(ledger: PnlBook) -> None:
    ledger.open("ibs", "GC", price=D("2150.0"), quantity=-1, when=T0, day=DAY)
    trade = ledger.close("ibs", "GC", price=D("2140.0"))
    assert trade.net_pnl == D("995")  # 10 * 100 - 5


def test_mark_older_than_last_mark_is_ignored(ledger: PnlBook) -> None:
    ledger.open("ibs", "ES", price=D("5000"), quantity=1, when=T0, day=DAY)
    ledger.mark("ibs", "ES", price=D("5010"), when=T0 + timedelta(minutes=2))
    ledger.mark("ibs", "ES", price=D("4900"), when=T0 + timedelta(minutes=1))
    assert ledger.get("ibs", "ES").last_mark == D("5010")


def test_roll_rereferences_carried_position_so_days_sum_to_net(ledger: PnlBook) -> None:
    ledger.open("ibs", "ES", price=D("5000"), quantity=1, when=T0, day=DAY)
    ledger.mark("ibs", "ES", price=D("5004"), when=T0 + timedelta(hours=1))
    day1 = ledger.daily("ibs").total
    ledger.roll()
    assert ledger.daily("ibs").total == 0
    trade = ledger.close("ibs", "ES", price=D("4998"))
    day2 = ledger.daily("ibs").total
    assert (day1, day2) == (D("197.75"), D("-302.25"))
    assert day1 + day2 == trade.net_pnl == D("-104.5")


def test_daily_pnl_is_per_strategy_and_account_is_the_sum(ledger: PnlBook) -> None:
    ledger.open("ibs", "ES", price=D("5000"), quantity=1, when=T0, day=DAY)
    ledger.open("trend", "ES", price=D("5001"), quantity=1, when=T0, day=DAY)
    ledger.mark("ibs", "ES", price=D("5002"), when=T0)
    ledger.mark("trend", "ES", price=D("5002"), when=T0)
    assert ledger.daily("ibs").total == D("97.75")
    assert ledger.daily("trend").total == D("47.75")
    assert ledger.account_daily().total == D("145.5")


@pytest.mark.parametrize("quantity", [0, 1.0, True])
def test_open_when_quantity_not_a_nonzero_int_then_raises(ledger: PnlBook, quantity) -> None:
    with pytest.raises(ValueError, match="quantity"):
        ledger.open("ibs", "ES", price=D("5000"), quantity=quantity, when=T0, day=DAY)
    assert ledger.count() == 0


def test_close_when_no_position_then_raises(ledger: PnlBook) -> None:
    with pytest.raises(PortfolioError, match="no open position in ES"):
        ledger.close("ibs", "ES", price=D("5000"))
