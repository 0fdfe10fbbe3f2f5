"""The hold-out: the saved bundle trading as the step's ML filter, against the unfiltered rule.

Both runs drive the daemon's own ``InstrumentStep`` over the same bars (``run_instrument``):
every bar before the hold-out is warm-up (features and indicators only, no orders), then the
step trades the hold-out, once with no filter and once with the bundle as loaded from disk, so
the figures are those of the model the daemon will load, signals blocked by earlier trades
included. Performance is in USD on the hold-out's CME trade dates (``research.stats``).

The improvement ratio is the filtered Sharpe over the unfiltered one, defined when the
unfiltered Sharpe is positive; the target (2x by default) is met when the ratio reaches it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from multialpha.research.engine import BarTimes, InstrumentRun, run_instrument
from multialpha.research.ml.dataset import HoldoutBars
from multialpha.research.stats import (
    annualized_sharpe_ratio,
    annualized_sortino_ratio,
    daily_pnl,
    max_drawdown,
    profit_factor,
    win_rate,
)

from multialpha.calendar import from_day_number
from multialpha.contracts import ContractSpec
from multialpha.features import Reference
from multialpha.strategy.alpha import AlphaSpec
from multialpha.strategy.ports import ModelFilter

TARGET_IMPROVEMENT = 2.0
_NOMINAL_CAPITAL = 1e6  # drawdowns are reported in USD, which do not depend on it


@dataclass(frozen=True)
class Performance:
    trades: int
    net_pnl_usd: float
    sharpe: float  # annualised, daily USD P&L on trade dates; NaN when flat
    sortino: float
    profit_factor: float  # inf with gains and no loss, NaN without trades
    max_drawdown_usd: float
    win_rate: float

    def as_json(self) -> dict[str, Any]:
        return {k: _json_number(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class HoldoutResult:
    first_day: str
    last_day: str
    unfiltered: Performance
    filtered: Performance
    daily_unfiltered: np.ndarray
    daily_filtered: np.ndarray
    signals: int  # entry signals of the filtered run (before the filter)
    ml_rejected: int
    target: float = TARGET_IMPROVEMENT

    @property
    def improvement(self) -> float | None:
        u, f = self.unfiltered.sharpe, self.filtered.sharpe
        if not (math.isfinite(u) and u > 0 and math.isfinite(f)):
            return None
        return f / u

    @property
    def target_met(self) -> bool:
        ratio = self.improvement
        return ratio is not None and ratio >= self.target

    def as_json(self) -> dict[str, Any]:
        return {
            "basis": "the saved bundle as the step's ML filter (run_instrument), against the same step "
                     "without a filter, over bars the search never saw",
            "from": self.first_day, "to": self.last_day, "trade_dates": int(self.daily_filtered.shape[0]),
            "unfiltered": self.unfiltered.as_json(), "filtered": self.filtered.as_json(),
            "signals": self.signals, "ml_rejected": self.ml_rejected,
            "improvement": _json_number(self.improvement), "target": self.target, "target_met": self.target_met,
        }


def performance(run: InstrumentRun, trading_days: list[Any]) -> tuple[Performance, np.ndarray]:
    """The run's figures, and its daily P&L over ``trading_days``."""
    pnl = np.array([t.pnl for t in run.trades], dtype=np.float64)
    exits = [t.exit_time for t in run.trades]
    daily = daily_pnl(exits, pnl, trading_days).to_numpy()
    perf = Performance(
        trades=len(run.trades), net_pnl_usd=float(pnl.sum()),
        sharpe=annualized_sharpe_ratio(daily), sortino=annualized_sortino_ratio(daily),
        profit_factor=profit_factor(pnl), max_drawdown_usd=max_drawdown(daily, _NOMINAL_CAPITAL).usd,
        win_rate=win_rate(pnl))
    return perf, daily


def score_holdout(window: HoldoutBars, spec: AlphaSpec, params: Any, contract: ContractSpec, model: ModelFilter,
                  refs: Mapping[str, Reference], *, strategy: str, target: float = TARGET_IMPROVEMENT) -> HoldoutResult:
    """Run the step over the hold-out without and with ``model`` (see the module docstring)."""
    times = BarTimes.of(window.bars)
    days = [from_day_number(int(d)) for d in window.calendar]
    plain = run_instrument(window.bars, spec, params, contract, strategy=strategy, refs=refs,
                           first_bar=window.first_bar, times=times)
    filtered = run_instrument(window.bars, spec, params, contract, strategy=strategy, model=model, refs=refs,
                              first_bar=window.first_bar, times=times)
    u, du = performance(plain, days)
    f, df = performance(filtered, days)
    return HoldoutResult(window.first_day.isoformat(), window.last_day.isoformat(), u, f, du, df,
                         int(filtered.stats.get("signals", 0)), int(filtered.stats.get("ml_rejected", 0)), target)


def _json_number(value: Any) -> Any:
    """Floats as JSON can hold them: NaN and infinities become None."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value
