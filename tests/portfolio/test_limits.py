"""Configured limits and the trading-state transition table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from multialpha.errors import ConfigError
from multialpha.portfolio import (
    TRANSITIONS,
    AccountLimits,
    IllegalTransition,
    PortfolioCoordinator,
    StrategyLimits,
    TradingState,
)
from multialpha.portfolio.limits import ScopeControl


@pytest.mark.parametrize("kwargs", [
    {"max_positions": -1}, {"max_positions": 1.5}, {"max_positions": True},
    {"daily_stop_loss": 0}, {"daily_stop_loss": -500.0}, {"daily_stop_loss": float("nan")},
])
def test_strategy_limits_when_value_invalid_then_raises(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="ibs"):
        StrategyLimits("ibs", frozenset({"ES"}), **kwargs)


def test_strategy_limits_when_symbols_given_as_list_then_stored_as_frozenset() -> None:
    lim = StrategyLimits("ibs", ["ES", "NQ", "ES"])  # type: ignore[arg-type]
    assert lim.symbols == frozenset({"ES", "NQ"})


def test_strategy_limits_when_named_account_then_raises() -> None:
    with pytest.raises(ValueError, match="reserved"):
        StrategyLimits("account", frozenset({"ES"}))


def test_account_limits_when_stop_not_positive_then_raises() -> None:
    with pytest.raises(ValueError, match="daily_stop_loss"):
        AccountLimits(daily_stop_loss=0)


def test_coordinator_when_symbol_has_no_contract_spec_then_config_error(contracts, clock) -> None:
    with pytest.raises(ConfigError, match="XX"):
        PortfolioCoordinator([StrategyLimits("ibs", frozenset({"ES", "XX"}))], AccountLimits(),
                             contracts, clock)


def test_coordinator_when_strategy_configured_twice_then_config_error(contracts, clock) -> None:
    lim = StrategyLimits("ibs", frozenset({"ES"}))
    with pytest.raises(ConfigError, match="twice"):
        PortfolioCoordinator([lim, lim], AccountLimits(), contracts, clock)


def test_transition_table_covers_every_state_and_refuses_staying_put() -> None:
    assert set(TRANSITIONS) == set(TradingState)
    for state, targets in TRANSITIONS.items():
        assert state not in targets


def test_scope_control_when_move_not_in_table_then_raises_and_keeps_state() -> None:
    ctl = ScopeControl()
    now = datetime(2024, 3, 12, tzinfo=UTC)
    with pytest.raises(IllegalTransition, match="active to active"):
        ctl.change("ibs", TradingState.ACTIVE, "again", now, flatten=False)
    assert ctl.state is TradingState.ACTIVE and ctl.state_since is None


def test_trading_states_have_string_values() -> None:
    assert [s.value for s in TradingState] == ["active", "reducing", "halted"]
