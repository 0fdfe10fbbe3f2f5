"""The alerts' wording: amounts, the daily summary's figures, the commands an operator needs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from multialpha.alerts import Level, StrategySummary, messages

STATS_A = {"entries_requested": 6, "entries_allowed": 4, "entries_blocked": {"strategy_max_positions": 2},
           "blocked": 2, "exits": {"ibs_exit": 2, "stop": 1}, "stop_triggers": 0}
STATS_B = {"entries_requested": 1, "entries_allowed": 1, "entries_blocked": {}, "blocked": 0,
           "exits": {"daily_stop": 1}, "stop_triggers": 1}
STATS_ACCOUNT = {"entries_requested": 7, "entries_allowed": 5, "entries_blocked": {"strategy_max_positions": 2},
                 "blocked": 2, "exits": {"ibs_exit": 2, "stop": 1, "daily_stop": 1}, "stop_triggers": 1}
PNL = {"account": {"realized": -350.0, "unrealized": 25.0, "total": -325.0},
       "ibs_a": {"realized": 850.0, "unrealized": 25.0, "total": 875.0},
       "ibs_b": {"realized": -1200.0, "unrealized": 0.0, "total": -1200.0}}


@pytest.mark.parametrize(("amount", "text"), [(1234.5, "+$1,234.50"), (-87.25, "-$87.25"), (0.0, "+$0.00")])
def test_usd_has_sign_dollar_and_thousands(amount: float, text: str) -> None:
    assert messages.usd(amount) == text


def test_daily_summary_gives_trades_pnl_stops_and_blocked_entries_per_strategy_and_account() -> None:
    spec = messages.daily_summary(day="2024-07-01", pnl=PNL,
                                  stats={"account": STATS_ACCOUNT, "ibs_a": STATS_A, "ibs_b": STATS_B})
    fields = dict(spec.fields)
    assert spec.title == "Daily summary 2024-07-01" and spec.level is Level.INFO
    assert spec.message == ("Trading day 2024-07-01 closed: P&L -$325.00, 4 trades, 1 daily stop(s) hit, "
                            "2 entries blocked.")
    assert list(fields) == ["ibs_a", "ibs_b", "account"]
    assert fields["ibs_a"] == ("P&L +$875.00 (realized +$850.00) | trades 3 (ibs_exit 2, stop 1) | "
                               "blocked strategy_max_positions 2")
    assert fields["ibs_b"] == "P&L -$1,200.00 (realized -$1,200.00) | trades 1 (daily_stop 1) | daily stop hit 1x"


def test_daily_summary_when_strategies_trade_several_broker_accounts_then_a_line_per_account() -> None:
    spec = messages.daily_summary(day="2024-07-01", pnl=PNL,
                                  stats={"account": STATS_ACCOUNT, "ibs_a": STATS_A, "ibs_b": STATS_B},
                                  accounts={"ibs_a": "main", "ibs_b": "second"})
    fields = dict(spec.fields)
    assert fields["broker account main"] == "P&L +$875.00 | trades 3 (ibs_a)"
    assert fields["broker account second"] == "P&L -$1,200.00 | trades 1 (ibs_b)"


def test_started_lists_each_strategy_with_its_effective_limits() -> None:
    spec = messages.started(mode="paper", version="0.1.0",
                            strategies=[StrategySummary("ibs_a", ("ES", "NQ"), 5, 7500.0)],
                            account_max_positions=8, account_daily_stop_loss=12000.0,
                            health_url="http://127.0.0.1:8787")
    assert "paper mode" in spec.message and "max positions 8, daily stop $12,000" in spec.message
    assert dict(spec.fields) == {"ibs_a": "ES, NQ | max positions 5 | daily stop $7,500 | account default",
                                 "health": "http://127.0.0.1:8787/health"}


def test_unknown_order_tells_how_to_settle_it_and_is_limited_per_strategy() -> None:
    spec = messages.unknown_order(strategy="ibs_a", symbol="ES", action="buy", intent_id="ibs_a-ES-1", detail="timeout")
    assert "multialpha orders resolve ibs_a-ES-1 --sent" in spec.message
    assert spec.level is Level.CRITICAL and spec.rate_key == "unknown_order:ibs_a"


def test_exit_title_carries_the_trade_pnl() -> None:
    spec = messages.exit_(strategy="ibs_a", symbol="ES", quantity=1, price=5010.0, entry_price=5000.0,
                          reason="ibs_exit", net_pnl=495.5, at=datetime(2024, 7, 1, 15, tzinfo=UTC))
    assert spec.title == "Exit ibs_a ES +$495.50"
    assert "entry 5000" in spec.message and "2024-07-01 15:00 UTC" in spec.message
