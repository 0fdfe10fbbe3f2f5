"""The entry check on its own: each reason, and the order in which reasons win."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from multialpha.portfolio import Decision, DenyReason, EntryFacts, TradingState, entry_denial

ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
CLEAR = EntryFacts(account_state=ACTIVE, strategy_state=ACTIVE, account_stopped=False,
                   strategy_stopped=False, symbol_allowed=True, already_open=False, held_on_account=False,
                   strategy_count=0, strategy_max=2, account_count=0, account_max=3)
EVERYTHING_WRONG = EntryFacts(account_state=HALTED, strategy_state=HALTED, account_stopped=True,
                              strategy_stopped=True, symbol_allowed=False, already_open=True,
                              held_on_account=True, strategy_count=2, strategy_max=2, account_count=3, account_max=3)


def test_entry_denial_when_nothing_blocks_then_allows() -> None:
    assert entry_denial(CLEAR) is None


@pytest.mark.parametrize(("change", "reason"), [
    ({"account_state": HALTED}, DenyReason.ACCOUNT_HALTED),
    ({"strategy_state": HALTED}, DenyReason.STRATEGY_HALTED),
    ({"account_state": REDUCING}, DenyReason.REDUCING),
    ({"strategy_state": REDUCING}, DenyReason.REDUCING),
    ({"account_stopped": True}, DenyReason.ACCOUNT_DAILY_STOP),
    ({"strategy_stopped": True}, DenyReason.STRATEGY_DAILY_STOP),
    ({"symbol_allowed": False}, DenyReason.SYMBOL_NOT_ALLOWED),
    ({"already_open": True}, DenyReason.ALREADY_OPEN),
    ({"held_on_account": True}, DenyReason.SYMBOL_HELD_ON_ACCOUNT),
    ({"strategy_count": 2}, DenyReason.STRATEGY_MAX_POSITIONS),
    ({"account_count": 3}, DenyReason.ACCOUNT_MAX_POSITIONS),
])
def test_entry_denial_when_one_check_fails_then_names_it(change: dict, reason: DenyReason) -> None:
    assert entry_denial(replace(CLEAR, **change)) is reason


def test_entry_denial_when_limits_are_none_then_counts_do_not_matter() -> None:
    facts = replace(CLEAR, strategy_max=None, account_max=None, strategy_count=99, account_count=99)
    assert entry_denial(facts) is None


def test_entry_denial_when_several_fail_then_reason_follows_fixed_order() -> None:
    # Clearing the winning cause one at a time walks down the documented order.
    order = [
        ("account_state", ACTIVE, DenyReason.ACCOUNT_HALTED),
        ("strategy_state", REDUCING, DenyReason.STRATEGY_HALTED),
        ("strategy_state", ACTIVE, DenyReason.REDUCING),
        ("account_stopped", False, DenyReason.ACCOUNT_DAILY_STOP),
        ("strategy_stopped", False, DenyReason.STRATEGY_DAILY_STOP),
        ("symbol_allowed", True, DenyReason.SYMBOL_NOT_ALLOWED),
        ("already_open", False, DenyReason.ALREADY_OPEN),
        ("held_on_account", False, DenyReason.SYMBOL_HELD_ON_ACCOUNT),
        ("strategy_count", 0, DenyReason.STRATEGY_MAX_POSITIONS),
        ("account_count", 0, DenyReason.ACCOUNT_MAX_POSITIONS),
    ]
    facts = EVERYTHING_WRONG
    for field, cleared, expected in order:
        assert entry_denial(facts) is expected
        facts = replace(facts, **{field: cleared})
    assert entry_denial(facts) is None


def test_decision_is_truthy_exactly_when_allowed() -> None:
    at = datetime(2024, 3, 12, tzinfo=UTC)
    assert Decision(True, None, "ibs", "ES", at)
    assert not Decision(False, DenyReason.ALREADY_OPEN, "ibs", "ES", at)
    with pytest.raises(ValueError):
        Decision(False, None, "ibs", "ES", at)


def test_deny_reasons_have_readable_string_values() -> None:
    assert DenyReason.ACCOUNT_DAILY_STOP == "account_daily_stop"
    assert str(DenyReason.REDUCING) == "reducing"
