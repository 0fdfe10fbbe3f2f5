"""``simulate``: one portfolio from the config file (and its portfolio files), traded with the
daemon's own step and coordinator over the bar files; its figures, fills and daily P&L."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from multialpha.research.portfolio.exact import simulate_exact
from multialpha.research.portfolio.metrics import PortfolioMetrics, portfolio_metrics
from multialpha.research.portfolio.plan import Period, PortfolioPlan
from multialpha.research.portfolio.result import SimulationResult
from multialpha.research.portfolio.universe import ConfigSource, load_inputs, read_config, universe_plan

from multialpha.config import display_path, load_portfolio_optimization, portfolio_file_path


@dataclass(frozen=True)
class SimulateOptions:
    config: Path
    data: Path
    models: Path | None = None
    portfolio_dir: Path | None = None  # where portfolio_optimization_<strategy>.json files are read
    strategies: tuple[str, ...] = ()
    max_positions: int | None = None  # overrides every strategy's
    daily_stop_loss: float | None = None
    start: date | None = None
    end: date | None = None
    starting_capital_usd: float = 100_000.0
    breach_level_usd: float = 6_000.0
    use_filter: bool = True
    out: Path | None = None


def simulation_plan(source: ConfigSource, opts: SimulateOptions) -> tuple[PortfolioPlan, list[str]]:
    """The config's strategies, each narrowed by its portfolio file when there is one, then the
    command line's overrides; with a line per value saying where it came from."""
    plan = universe_plan(source, strategies=opts.strategies or None)
    notes, strategies = [], []
    for s in plan.strategies:
        origin = f"{display_path(source.file, Path.cwd())}: strategies.{s.name}"
        if opts.portfolio_dir is not None:
            path = portfolio_file_path(opts.portfolio_dir, s.name)
            found = load_portfolio_optimization(path, shown=str(path), strategy=s.name)
            if found is not None:
                s = replace(s, symbols=found.symbols, max_positions=found.max_positions,
                            daily_stop_loss=found.daily_stop_loss)
                origin = str(path)
        if opts.max_positions is not None:
            s = replace(s, max_positions=opts.max_positions)
        if opts.daily_stop_loss is not None:
            s = replace(s, daily_stop_loss=opts.daily_stop_loss)
        notes.append(f"{s.name}: {' '.join(s.symbols)}; max_positions {s.max_positions}, daily stop "
                     f"{s.daily_stop_loss} ({origin}{', command line' if opts.max_positions or opts.daily_stop_loss else ''})")
        strategies.append(s)
    return replace(plan, strategies=tuple(strategies)), notes


def run_simulation(opts: SimulateOptions) -> tuple[SimulationResult, PortfolioMetrics, list[str]]:
    source = read_config(opts.config, models=opts.models)
    plan, notes = simulation_plan(source, opts)
    inputs = load_inputs(source, plan, opts.data, use_filter=opts.use_filter)
    result = simulate_exact(inputs, plan, Period(opts.start, opts.end))
    metrics = portfolio_metrics(result, starting_capital_usd=opts.starting_capital_usd,
                                breach_level_usd=opts.breach_level_usd)
    if opts.out is not None:
        opts.out.mkdir(parents=True, exist_ok=True)
        result.trades.to_csv(opts.out / "trades.csv", index=False)
        result.daily_pnl.to_csv(opts.out / "daily_pnl.csv")
        result.stops.to_csv(opts.out / "daily_stops.csv", index=False)
    return result, metrics, notes
