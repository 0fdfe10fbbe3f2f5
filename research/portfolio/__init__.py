"""Portfolio research: candidate trades through the daemon's step and coordinator, a compiled
twin for searches, the figures, the greedy search, the export the daemon reads, the report."""

from multialpha.research.portfolio.candidates import CandidateTrades, signal_trades, trades_from_run
from multialpha.research.portfolio.desk import ConventionFigures, convention_figures
from multialpha.research.portfolio.errors import PortfolioResearchError
from multialpha.research.portfolio.exact import simulate_exact
from multialpha.research.portfolio.export import export_portfolio_files, exported_document, read_search
from multialpha.research.portfolio.fast import FastSimulator, Scores
from multialpha.research.portfolio.greedy import (
    Constraints,
    GreedySearch,
    GridResult,
    Objective,
    SearchResult,
    SearchSettings,
    Step,
)
from multialpha.research.portfolio.metrics import PortfolioMetrics, deflated_sharpe, portfolio_metrics
from multialpha.research.portfolio.optimize import OptimizeOptions, optimize_portfolio
from multialpha.research.portfolio.plan import (
    WHOLE,
    Period,
    PortfolioInputs,
    PortfolioPlan,
    StrategyPlan,
    Timeline,
)
from multialpha.research.portfolio.report import write_report
from multialpha.research.portfolio.result import SimulationResult
from multialpha.research.portfolio.simulate import SimulateOptions, run_simulation

__all__ = [
    "WHOLE",
    "CandidateTrades",
    "Constraints",
    "ConventionFigures",
    "FastSimulator",
    "GreedySearch",
    "GridResult",
    "Objective",
    "OptimizeOptions",
    "Period",
    "PortfolioInputs",
    "PortfolioMetrics",
    "PortfolioPlan",
    "PortfolioResearchError",
    "Scores",
    "SearchResult",
    "SearchSettings",
    "SimulateOptions",
    "SimulationResult",
    "Step",
    "StrategyPlan",
    "Timeline",
    "convention_figures",
    "deflated_sharpe",
    "export_portfolio_files",
    "exported_document",
    "optimize_portfolio",
    "portfolio_metrics",
    "read_search",
    "run_simulation",
    "signal_trades",
    "simulate_exact",
    "trades_from_run",
    "write_report",
]
