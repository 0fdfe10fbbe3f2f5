"""Greedy search: a small universe worked out by hand, and the search's bookkeeping on a sample."""

from __future__ import annotations

from datetime import date

import pytest
from multialpha.research.portfolio.exact import simulate_exact
from multialpha.research.portfolio.fast import FastSimulator
from multialpha.research.portfolio.greedy import Constraints, GreedySearch, Objective, SearchSettings
from multialpha.research.portfolio.metrics import portfolio_metrics
from multialpha.research.portfolio.plan import Period, PortfolioInputs, PortfolioPlan, StrategyPlan

from .conftest import MakeCandidates, closes_bars

N = 70  # bars: 5 March 2024 09:00 Chicago onwards, about three trade dates


def _universe(contracts, make_candidates: MakeCandidates) -> FastSimulator:
    es = closes_bars("ES", [5000.0] * 30 + [5010.0] * (N - 30), 0.25)  # +495.50
    nq = closes_bars("NQ", [18000.0] * 5 + [17500.0] * 36 + [18100.0] * (N - 41), 0.25)  # +1,995.50, -10,000 at a close
    cl = closes_bars("CL", [80.0] * 30 + [79.0] * (N - 30), 0.01)  # -1,005
    inputs = PortfolioInputs({"ES": es, "NQ": nq, "CL": cl}, {
        ("s", "ES"): make_candidates("s", "ES", es, [(0, 30, "ibs_exit")]),
        ("s", "NQ"): make_candidates("s", "NQ", nq, [(0, 60, "ibs_exit")]),
        ("s", "CL"): make_candidates("s", "CL", cl, [(0, 30, "ibs_exit")]),
    }, contracts)
    return FastSimulator(inputs, PortfolioPlan((StrategyPlan("s", ("ES", "NQ", "CL")),)))


def _settings(max_drawdown_usd: float) -> SearchSettings:
    return SearchSettings(max_positions=(3,), objective=Objective.NET_PNL,
                          constraints=Constraints(max_drawdown_usd=max_drawdown_usd, breach_level_usd=5_000,
                                                  max_breach_events=None))


def test_when_a_pair_breaks_the_drawdown_limit_then_the_search_leaves_it_out(contracts, make_candidates) -> None:
    result = GreedySearch(_universe(contracts, make_candidates), _settings(9_000), train=Period()).run()
    # NQ earns most but falls 10,002.25 at a close: not allowed. ES alone: +495.50; adding CL
    # (-1,005) makes it worse; backward elimination has nothing to remove from one pair.
    assert result.best.pairs == (("s", "ES"),)
    assert result.best.objective == 495.5
    assert [(s.action, s.pair) for s in result.path] == [("add", ("s", "ES"))]
    # scored: ES, NQ, CL alone; ES+NQ, ES+CL
    assert result.trials == 5


def test_when_the_limit_allows_it_then_forward_selection_adds_while_it_improves(contracts, make_candidates) -> None:
    result = GreedySearch(_universe(contracts, make_candidates), _settings(20_000), train=Period()).run()
    assert [(s.action, s.pair[1], s.in_sample["net_pnl_usd"]) for s in result.path] == [
        ("add", "NQ", 1995.5), ("add", "ES", 2491.0)]
    assert result.best.pairs == (("s", "ES"), ("s", "NQ"))  # in the universe's order, the daemon's


def test_search_path_improves_at_every_step_and_its_best_equals_the_exact_simulation(
        sample_inputs: PortfolioInputs) -> None:
    universe = PortfolioPlan((StrategyPlan("a", ("ES", "NQ", "CL", "GC", "6E"), None, 1500.0),))
    sim = FastSimulator(sample_inputs, universe)
    train, test = Period(None, date(2023, 4, 3)), Period(date(2023, 4, 3), None)
    settings = SearchSettings(max_positions=(1, 2, 3), daily_stop_loss=(800.0, 1500.0),
                              constraints=Constraints(max_drawdown_usd=6_000, breach_level_usd=2_000,
                                                      max_breach_events=3))
    search = GreedySearch(sim, settings, train=train, test=test)
    result = search.run()
    assert len(result.grid) == 6
    for point in {(s.max_positions, s.daily_stop_loss) for s in result.path}:
        steps = [s for s in result.path if (s.max_positions, s.daily_stop_loss) == point]
        sharpes = [s.in_sample["sharpe"] for s in steps]
        assert all(b > a for a, b in zip(sharpes, sharpes[1:], strict=False))
        assert all(s.out_of_sample is not None for s in steps)
    assert result.best.objective == max(g.objective for g in result.grid)
    plan = search.plan(result.best)
    m = portfolio_metrics(simulate_exact(sample_inputs, plan, train), starting_capital_usd=settings.starting_capital_usd,
                          breach_level_usd=2_000)
    assert m.sharpe == pytest.approx(result.best.objective, rel=1e-12)
    assert m.max_drawdown_usd < 6_000 and m.breach_events <= 3
    assert result.trials_daily_sharpe_variance > 0
