"""The example config.multi_alpha.yml shipped at the repository root loads and resolves."""

from __future__ import annotations

from pathlib import Path

from multialpha.config import RuntimeMode, load_app_config, resolve_strategies, secrets_of

EXAMPLE = Path(__file__).resolve().parents[2] / "config.multi_alpha.yml"
ENV = {
    "TRADERSPOST_IBS_A_WEBHOOK": "https://webhooks.traderspost.io/trading/webhook/a/token-a",
    "TRADERSPOST_IBS_B_WEBHOOK": "https://webhooks.traderspost.io/trading/webhook/b/token-b",
}


def test_example_config_when_only_webhooks_set_then_loads_with_defaults_for_the_rest() -> None:
    cfg = load_app_config(EXAMPLE, env=ENV)
    base = EXAMPLE.parent
    assert cfg.runtime.mode is RuntimeMode.REPLAY
    assert cfg.runtime.data.path == base / "data/sample"
    assert cfg.runtime.state_path == base / "state/multialpha.sqlite"
    assert cfg.runtime.data.reference_symbols == ("ZB", "VX")
    assert cfg.runtime.alerts.discord_webhook_url is None
    assert list(cfg.enabled_strategies()) == ["ibs_a", "ibs_b"]
    ibs_a, ibs_b = cfg.strategies["ibs_a"], cfg.strategies["ibs_b"]
    assert ibs_a.models_path == base / "models/ibs_a"
    assert ibs_a.instruments == ("6A", "6B", "6C", "6N", "6S", "CL", "ES", "PL", "RTY", "SI")
    assert ibs_b.instruments == ("ES", "NQ", "RTY", "YM", "GC", "SI", "HG", "CL", "6E", "6J")
    assert ibs_a.strategy_params["stop_type"] == "atr"
    assert ibs_b.strategy_params["session_start"] == "07:00"
    assert sorted(secrets_of(cfg)) == sorted(ENV.values())


def test_example_config_when_overrides_set_then_paths_follow_the_environment(tmp_path: Path) -> None:
    env = {**ENV, "MULTIALPHA_DATA": str(tmp_path / "bars"), "MULTIALPHA_MODELS": str(tmp_path / "m"),
           "MULTIALPHA_STATE": str(tmp_path / "s.sqlite"),
           "DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/x"}
    cfg = load_app_config(EXAMPLE, env=env)
    assert cfg.runtime.data.path == tmp_path / "bars"
    assert cfg.strategies["ibs_b"].models_path == tmp_path / "m/ibs_b"
    assert cfg.runtime.state_path == tmp_path / "s.sqlite"
    assert cfg.runtime.alerts.discord_webhook_url is not None


def test_example_config_resolves_both_strategies() -> None:
    resolved = resolve_strategies(load_app_config(EXAMPLE, env=ENV))
    assert [r.name for r in resolved] == ["ibs_a", "ibs_b"]
    assert all(r.symbols for r in resolved)
