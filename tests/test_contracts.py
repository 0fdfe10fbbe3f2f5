from pathlib import Path

import pytest

from multialpha.contracts import load_contracts, require
from multialpha.errors import ConfigError

REPO_CONTRACTS = Path(__file__).resolve().parents[1] / "config" / "contracts.yml"
REQUIRED = ["6A", "6B", "6C", "6E", "6J", "6M", "6N", "6S", "ES", "NQ", "RTY", "YM", "CL", "NG", "GC", "SI", "HG", "PL"]


def test_repo_contracts_cover_every_required_symbol_with_cme_specs():
    specs = load_contracts(REPO_CONTRACTS)
    assert set(REQUIRED) <= set(specs)
    assert (specs["6C"].tick_size, specs["6C"].tick_value) == (0.00005, 5.0)
    assert (specs["6M"].tick_size, specs["6M"].tick_value) == (0.00001, 5.0)
    assert (specs["ES"].point_value, specs["ES"].tick_value) == (50.0, 12.5)
    assert specs["CL"].point_value == 1000.0 and specs["SI"].tick_value == 25.0


def test_net_pnl_counts_commission_on_both_sides():
    es = load_contracts(REPO_CONTRACTS)["ES"]
    assert es.net_pnl(5000.0, 5002.0, 2) == 2 * 50 * 2 - 2 * 2 * es.commission_per_side


def test_inconsistent_tick_value_names_file_and_key(tmp_path):
    f = tmp_path / "contracts.yml"
    f.write_text("contracts:\n  ES: {name: x, exchange: CME, point_value: 50, tick_size: 0.25, tick_value: 10,"
                 " commission_per_side: 2, calendar: CME_Equity}\n")
    with pytest.raises(ConfigError, match=r"contracts.yml: contracts.ES.tick_value"):
        load_contracts(f)


def test_unknown_symbol_is_named():
    with pytest.raises(ConfigError, match="'ZZ'"):
        require(load_contracts(REPO_CONTRACTS), "ZZ")


def test_only_nymex_energy_contracts_allow_negative_prices():
    specs = load_contracts(REPO_CONTRACTS)
    assert {s for s, c in specs.items() if c.allows_negative_prices} == {"CL", "NG"}


def test_allows_negative_prices_must_be_true_or_false(tmp_path):
    f = tmp_path / "contracts.yml"
    f.write_text("contracts:\n  CL: {name: x, exchange: NYMEX, point_value: 1000, tick_size: 0.01, tick_value: 10,"
                 " commission_per_side: 2, calendar: CMEGlobex_Crude, allows_negative_prices: 'yes'}\n")
    with pytest.raises(ConfigError, match=r"contracts.yml: contracts.CL.allows_negative_prices: must be true or false"):
        load_contracts(f)
