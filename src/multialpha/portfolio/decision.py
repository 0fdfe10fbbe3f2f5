"""What ``can_open`` answers and why: the deny reasons, the decision, and the check itself."""

from __future__ import annotations

from dataclasses import dataclass

from multialpha.domain import Decision, DenyReason
from multialpha.portfolio.limits import TradingState

__all__ = ["Decision", "DenyReason", "EntryFacts", "entry_denial"]


@dataclass(frozen=True)
class EntryFacts:
    """Everything the entry check looks at, gathered under the coordinator's lock."""

    account_state: TradingState
    strategy_state: TradingState
    account_stopped: bool
    strategy_stopped: bool
    symbol_allowed: bool
    already_open: bool  # an open position or a pending reservation for (strategy, symbol)
    held_on_account: bool  # another strategy on the same broker account holds or is entering the symbol
    strategy_count: int  # open + reserved for this strategy
    strategy_max: int | None
    account_count: int  # open + reserved, all strategies
    account_max: int | None


def entry_denial(facts: EntryFacts) -> DenyReason | None:
    """The first reason to refuse an entry, in a fixed order so the reason is stable; None to allow.

    Order: halted (account, then strategy) > reducing > daily stop (account, then strategy)
    > symbol not allowed > already open > held by another strategy on the account > strategy max positions > account max positions.
    """
    if facts.account_state is TradingState.HALTED:
        return DenyReason.ACCOUNT_HALTED
    if facts.strategy_state is TradingState.HALTED:
        return DenyReason.STRATEGY_HALTED
    if TradingState.REDUCING in (facts.account_state, facts.strategy_state):
        return DenyReason.REDUCING
    if facts.account_stopped:
        return DenyReason.ACCOUNT_DAILY_STOP
    if facts.strategy_stopped:
        return DenyReason.STRATEGY_DAILY_STOP
    if not facts.symbol_allowed:
        return DenyReason.SYMBOL_NOT_ALLOWED
    if facts.already_open:
        return DenyReason.ALREADY_OPEN
    if facts.held_on_account:
        return DenyReason.SYMBOL_HELD_ON_ACCOUNT
    if facts.strategy_max is not None and facts.strategy_count >= facts.strategy_max:
        return DenyReason.STRATEGY_MAX_POSITIONS
    if facts.account_max is not None and facts.account_count >= facts.account_max:
        return DenyReason.ACCOUNT_MAX_POSITIONS
    return None
