"""Why a position closed."""

from __future__ import annotations

from enum import StrEnum

from multialpha.strategy import rules


class ExitReason(StrEnum):
    STOP = "stop"
    TAKE_PROFIT = "take_profit"
    IBS_EXIT = "ibs_exit"
    MAX_BARS = "max_bars"
    AUTO_CLOSE = "auto_close"
    DAILY_STOP = "daily_stop"  # the coordinator's daily stop flattens everything
    HALT_FLATTEN = "halt_flatten"  # an operator halted with --flatten
    CONTRACT_ROLL = "contract_roll"  # the contract held stops being the traded one

    @classmethod
    def from_code(cls, code: int) -> ExitReason | None:
        return _BY_CODE.get(code)


_BY_CODE = {
    rules.EXIT_STOP: ExitReason.STOP,
    rules.EXIT_TAKE_PROFIT: ExitReason.TAKE_PROFIT,
    rules.EXIT_IBS: ExitReason.IBS_EXIT,
    rules.EXIT_MAX_BARS: ExitReason.MAX_BARS,
    rules.EXIT_AUTO_CLOSE: ExitReason.AUTO_CLOSE,
}
