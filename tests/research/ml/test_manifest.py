"""Manifests (YAML, CSV), the config's pairs, and each pair's merged parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from multialpha.research.errors import ResearchError
from multialpha.research.ml.manifest import Pair, config_pairs, load_config, pair_params, read_manifest

REPO = Path(__file__).resolve().parents[3]


def test_yaml_manifest_lists_symbol_and_symbols_entries_in_order_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "pairs.yml"
    path.write_text("pairs:\n  - {strategy: ibs_a, symbols: [ES, CL]}\n  - {strategy: ibs_b, symbol: NQ}\n"
                    "  - {strategy: ibs_a, symbol: ES}\n")
    assert read_manifest(path) == [Pair("ibs_a", "ES"), Pair("ibs_a", "CL"), Pair("ibs_b", "NQ")]


def test_csv_manifest_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("# nightly\nstrategy,symbol\nibs_a, ES\n\nibs_b,NQ\n")
    assert read_manifest(path) == [Pair("ibs_a", "ES"), Pair("ibs_b", "NQ")]


@pytest.mark.parametrize("name, text, message", [
    ("m.csv", "strategy,ticker\nibs_a,ES\n", r"line 1: the header must be 'strategy,symbol'"),
    ("m.csv", "strategy,symbol\nibs_a\n", r"line 2: expected 'strategy,symbol'"),
    ("m.yml", "pairs:\n  - {strategy: ibs_a}\n", r"pairs\[0\]: 'symbol' must be a name"),
    ("m.yml", "pairs:\n  - {strategy: ibs_a, symbol: ES, weight: 2}\n", r"pairs\[0\]: unknown key\(s\) \['weight'\]"),
    ("m.yml", "jobs: []\n", "expected a top-level 'pairs' list"),
    ("m.yml", "pairs: []\n", "lists no pairs"),
    ("m.txt", "ibs_a ES\n", "a manifest is .yml, .yaml or .csv"),
])
def test_bad_manifest_is_one_error_naming_file_and_place(tmp_path: Path, name: str, text: str,
                                                         message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ResearchError, match=message) as err:
        read_manifest(path)
    assert str(err.value).startswith(str(path))


def test_missing_manifest_is_one_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ResearchError, match="cannot read the manifest"):
        read_manifest(tmp_path / "none.yml")


def test_config_pairs_are_every_enabled_strategy_symbol() -> None:
    cfg = load_config(REPO / "config.multi_alpha.yml")
    pairs = config_pairs(cfg)
    assert len(pairs) == 20 and Pair("ibs_a", "6A") in pairs and Pair("ibs_b", "6J") in pairs
    assert config_pairs(cfg, ["ibs_b"]) == [p for p in pairs if p.strategy == "ibs_b"]
    with pytest.raises(ResearchError, match=r"no enabled strategy \['ibs_c'\]"):
        config_pairs(cfg, ["ibs_c"])


def test_pair_params_merge_class_defaults_strategy_params_and_instrument_params(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "alpha_instrument_params.json").write_text(json.dumps({"CL": {"stop_atr_mult": 3.5}}))
    config = tmp_path / "config.yml"
    config.write_text("strategies:\n  alpha:\n    broker_account: ${HOOK}\n    starting_cash: 1000\n"
                      "    models_path: models/alpha\n    max_positions: 2\n    daily_stop_loss: 100\n"
                      "    instruments: [ES, CL]\n    strategy_params: {stop_atr_mult: 2.5, max_holding_bars: 9}\n")
    cfg = load_config(config)
    alpha, es = pair_params(cfg, Pair("alpha", "ES"))
    _, cl = pair_params(cfg, Pair("alpha", "CL"))
    assert alpha == "ibs"
    assert (es["stop_atr_mult"], es["max_holding_bars"], es["ibs_entry_high"]) == (2.5, 9, 0.2)
    assert cl["stop_atr_mult"] == 3.5
    with pytest.raises(ResearchError, match="strategy 'beta' is not defined"):
        pair_params(cfg, Pair("beta", "ES"))
