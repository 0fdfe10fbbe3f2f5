"""The IBS alpha: long-only internal-bar-strength mean reversion on hourly bars.

Enter when a bar closes low in its range (IBS in the entry band) inside the session window;
exit on the first of the stop, the take-profit, IBS in the exit band, the holding limit and
the auto-close time. The rules are the pure functions of ``rules`` (research compiles the
same source with numba).
"""

from __future__ import annotations

from multialpha.contracts import ContractSpec
from multialpha.domain import Position
from multialpha.strategy import rules
from multialpha.strategy.alpha import AlphaSpec, BarEvent, register
from multialpha.strategy.exits import ExitReason
from multialpha.strategy.params import IbsParams


class IbsAlpha:
    """IBS rules bound to one instrument's parameters and tick size."""

    def __init__(self, params: IbsParams, contract: ContractSpec) -> None:
        self.params = params
        self.tick = contract.tick_size
        self._start_min, self._end_min = params.session_start_min, params.session_end_min
        self._auto_close_min, self._stop_kind = params.auto_close_min, params.stop_kind

    def ibs(self, bar: BarEvent) -> float:
        return rules.ibs_value(bar.high, bar.low, bar.close, self.tick)

    def entry(self, bar: BarEvent) -> bool:
        p = self.params
        return rules.entry_signal(self.ibs(bar), bar.close_minute, p.ibs_entry_low, p.ibs_entry_high,
                                  self._start_min, self._end_min)

    def exit_reason(self, bar: BarEvent, position: Position) -> str | None:
        p = self.params
        code = rules.exit_code(bar.close, self.ibs(bar), bar.close_minute, position.bars_held,
                               position.stop, position.target, p.ibs_exit_low, p.ibs_exit_high,
                               p.max_holding_bars, self._auto_close_min)
        reason = ExitReason.from_code(code)
        return None if reason is None else reason.value

    def stop_price(self, entry: float, atr: float) -> float:
        p = self.params
        return rules.stop_price(entry, atr, self._stop_kind, p.stop_pct, p.stop_atr_mult)

    def target_price(self, entry: float, atr: float) -> float:
        p = self.params
        return rules.take_profit_price(entry, atr, self._stop_kind, p.tp_pct, p.tp_atr_mult)


IBS = register(AlphaSpec(name="ibs", params_type=IbsParams, build=IbsAlpha))
