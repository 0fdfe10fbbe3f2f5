"""``optimize-portfolio``: the greedy search end to end, from the config file and bar files to
``portfolio_search.json`` and the report.

1. the universe: the enabled strategies (or those asked for), their instruments (or the symbols
   asked for), their limits and the account-wide limits, from the daemon's config file;
2. candidates: every signal each (strategy, symbol) would take, filtered by its bundle;
3. the search (``GreedySearch`` on the ``FastSimulator``) on the training period;
4. the chosen portfolio re-simulated with the daemon's own step and coordinator
   (``simulate_exact``) on both periods, checked equal to the compiled simulation, and its
   figures, with the Deflated Sharpe over every portfolio scored;
5. the same portfolio under simpler conventions (``desk``), the report and the document.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from multialpha.research.portfolio.desk import convention_figures
from multialpha.research.portfolio.errors import PortfolioResearchError
from multialpha.research.portfolio.exact import simulate_exact
from multialpha.research.portfolio.fast import FastSimulator
from multialpha.research.portfolio.greedy import GreedySearch, SearchResult, SearchSettings
from multialpha.research.portfolio.metrics import PortfolioMetrics, portfolio_metrics
from multialpha.research.portfolio.plan import Period, PortfolioInputs, PortfolioPlan
from multialpha.research.portfolio.report import write_report
from multialpha.research.portfolio.result import SimulationResult
from multialpha.research.portfolio.universe import load_inputs, read_config, universe_plan

SEARCH_FILE = "portfolio_search.json"
DOCUMENT_KIND = "multialpha portfolio search"
DOCUMENT_VERSION = 1
TRAIN_SHARE = 0.7  # of the trade dates, when no split date is given


@dataclass(frozen=True)
class OptimizeOptions:
    config: Path
    data: Path
    out: Path
    models: Path | None = None
    strategies: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    start: date | None = None  # first trade date used
    split: date | None = None  # first out-of-sample trade date
    end: date | None = None  # first trade date no longer used
    settings: SearchSettings = SearchSettings()
    use_filter: bool = True


def periods(inputs: PortfolioInputs, start: date | None, split: date | None,
            end: date | None) -> tuple[Period, Period, list[date]]:
    """Training and test periods; without ``split``, the first 70 % of the trade dates train."""
    tl = inputs.timeline
    lo, hi = tl.rows(Period(start, end))
    days = tl.trading_days(lo, hi)
    if len(days) < 10:
        raise PortfolioResearchError(f"only {len(days)} trade dates of data between {start or 'the start'} and "
                                     f"{end or 'the end'}; the search needs more")
    cut = split if split is not None else days[int(len(days) * TRAIN_SHARE)]
    if not days[0] < cut <= days[-1]:
        raise PortfolioResearchError(f"split {cut} is not inside the data's trade dates {days[0]} to {days[-1]}")
    return Period(start, cut), Period(cut, end), days


def _same(a: SimulationResult, b: SimulationResult) -> bool:
    return (a.trades.equals(b.trades) and a.daily_pnl.equals(b.daily_pnl) and a.stops.equals(b.stops)
            and a.positions.equals(b.positions))


def _plan_doc(plan: PortfolioPlan) -> dict[str, Any]:
    return {s.name: {"symbols": list(s.symbols), "max_positions": s.max_positions,
                     "daily_stop_loss": s.daily_stop_loss, "account": s.account} for s in plan.strategies}


def search_document(opts: OptimizeOptions, universe: PortfolioPlan, result: SearchResult, plan: PortfolioPlan,
                    days: list[date], train: Period, figures: dict[str, PortfolioMetrics],
                    conventions: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    s = opts.settings
    return {
        "kind": DOCUMENT_KIND, "version": DOCUMENT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": str(opts.config), "data": str(opts.data),
        "data_range": {"start": days[0].isoformat(), "train_end": str(train.end), "end": days[-1].isoformat()},
        "candidates": ("every signal the rules and the bundle's filter let through, each held to its own exit"
                       if opts.use_filter else "every signal of the rules (no filter), each held to its own exit"),
        "universe": _plan_doc(universe),
        "account_limits": {"max_positions": universe.account_max_positions,
                           "daily_stop_loss": universe.account_daily_stop_loss},
        "settings": {"objective": s.objective.value, "max_positions": list(s.max_positions),
                     "daily_stop_loss": list(s.daily_stop_loss), "constraints": asdict(s.constraints),
                     "starting_capital_usd": s.starting_capital_usd},
        "trials": result.trials, "trials_daily_sharpe_variance": result.trials_daily_sharpe_variance,
        "chosen": {"max_positions": result.best.max_positions, "daily_stop_loss": result.best.daily_stop_loss,
                   "objective": result.best.objective, "strategies": _plan_doc(plan)},
        "performance": {k: v.to_dict() for k, v in figures.items()},
        "conventions": conventions,
        "grid": [{"max_positions": g.max_positions, "daily_stop_loss": g.daily_stop_loss,
                  "pairs": [list(p) for p in g.pairs],
                  "objective": g.objective if math.isfinite(g.objective) else None} for g in result.grid],
        "path": [{"max_positions": st.max_positions, "daily_stop_loss": st.daily_stop_loss, "action": st.action,
                  "pair": list(st.pair), "pairs": [list(p) for p in st.pairs], "evaluated": st.evaluated,
                  "in_sample": st.in_sample, "out_of_sample": st.out_of_sample} for st in result.path],
    }


def optimize_portfolio(opts: OptimizeOptions, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the search (module docstring); writes ``portfolio_search.json`` and the report to ``opts.out``."""
    source = read_config(opts.config, models=opts.models)
    universe = universe_plan(source, strategies=opts.strategies or None, symbols=opts.symbols or None)
    say(f"universe: {len(universe.pairs())} (strategy, symbol) pairs; building candidates ...")
    inputs = load_inputs(source, universe, opts.data, use_filter=opts.use_filter)
    train, test, days = periods(inputs, opts.start, opts.split, opts.end)
    sim = FastSimulator(inputs, universe)
    search = GreedySearch(sim, opts.settings, train=train, test=test)
    result = search.run()
    if not math.isfinite(result.best.objective) or not result.best.pairs:
        c = opts.settings.constraints
        raise PortfolioResearchError(
            f"no portfolio of {len(universe.pairs())} pairs meets the constraints in sample (max drawdown below "
            f"{c.max_drawdown_usd} USD, at most {c.max_breach_events} drawdowns beyond {c.breach_level_usd} USD) "
            f"among {result.trials} tried; loosen them or widen the grid")
    plan = search.plan(result.best)
    capital, level = opts.settings.starting_capital_usd, opts.settings.constraints.breach_level_usd
    figures: dict[str, PortfolioMetrics] = {}
    conventions: dict[str, list[dict[str, Any]]] = {}
    exact: dict[str, SimulationResult] = {}
    for label, period, trials in (("in_sample", train, result.trials), ("out_of_sample", test, 1)):
        ex = simulate_exact(inputs, plan, period)
        if not _same(ex, sim.simulate(plan, period)):
            raise PortfolioResearchError(f"the compiled and the exact simulation of the chosen portfolio differ "
                                         f"({label}); the search's figures cannot be trusted")
        exact[label] = ex
        figures[label] = portfolio_metrics(ex, starting_capital_usd=capital, breach_level_usd=level,
                                           n_trials=trials,
                                           trials_daily_sharpe_variance=result.trials_daily_sharpe_variance)
        conventions[label] = [asdict(r) for r in convention_figures(ex, inputs, capital)]
    doc = _finite(search_document(opts, universe, result, plan, days, train, figures, conventions))
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / SEARCH_FILE).write_text(json.dumps(doc, indent=2) + "\n")
    write_report(doc, exact["in_sample"], exact["out_of_sample"], opts.out)
    return doc


def _finite(value: Any) -> Any:
    """The document with NaN and infinities as null (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
