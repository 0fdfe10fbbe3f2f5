from datetime import date

import pytest

from multialpha.feeds.symbology import ContractBook, continuous_root, trade_date

from .dbn_records import ns


def _contract_for(symbol, day):
    return f"{symbol}H5" if day >= date(2024, 12, 13) else f"{symbol}Z4"


def test_trade_date_is_the_cme_day_of_the_hourly_bars_close():
    # 21:00-22:00 UTC on Thu 12 Dec 2024 is 15:00-16:00 CST: closes in Thursday's session.
    assert trade_date(ns(2024, 12, 12, 21, 30)) == date(2024, 12, 12)
    # 22:00-23:00 UTC closes at 17:00 CST: the bar belongs to Friday's session.
    assert trade_date(ns(2024, 12, 12, 22, 0)) == date(2024, 12, 13)
    assert trade_date(ns(2024, 12, 12, 22, 59)) == date(2024, 12, 13)


def test_symbol_of_a_contract_only_on_the_days_it_is_active():
    book = ContractBook(["ES", "NQ"], _contract_for)
    assert book.symbol_of("ESZ4", ns(2024, 12, 12, 21, 59)) == "ES"
    assert book.symbol_of("ESZ4", ns(2024, 12, 12, 22, 0)) is None
    assert book.symbol_of("ESH5", ns(2024, 12, 12, 22, 0)) == "ES"
    assert book.symbol_of("CLF5", ns(2024, 12, 12, 22, 0)) is None


def test_contracts_spanning_a_roll_hold_both():
    book = ContractBook(["ES", "NQ"], _contract_for)
    assert book.contracts(date(2024, 12, 12), date(2024, 12, 13)) == ["ESH5", "ESZ4", "NQH5", "NQZ4"]


def test_one_contract_for_two_symbols_is_refused_naming_both():
    book = ContractBook(["ES", "MES"], lambda symbol, day: "ESZ4")
    with pytest.raises(ValueError, match="'ES' and 'MES'"):
        book.active(date(2024, 12, 12))


@pytest.mark.parametrize(("symbol", "root"), [("ES.c.0", "ES"), ("6A.v.1", "6A"), ("ESZ4", None),
                                             ("ES.FUT", None)])
def test_continuous_root_names_the_product_of_continuous_symbols_only(symbol, root):
    assert continuous_root(symbol) == root
