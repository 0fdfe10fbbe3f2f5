"""Both simulators on small portfolios worked out by hand: slots, ties, the daily stop and its
flatten, entries blocked for the rest of the trade date, commissions."""

from __future__ import annotations

from datetime import date

import pytest
from multialpha.research.portfolio.exact import simulate_exact
from multialpha.research.portfolio.fast import FastSimulator
from multialpha.research.portfolio.plan import PortfolioInputs, PortfolioPlan, StrategyPlan
from multialpha.research.portfolio.result import SimulationResult

from .conftest import MakeCandidates, closes_bars

# Bar i closes at 09:00 + i hours Chicago on Tuesday 5 March 2024; bar 7 closes 16:00 (the
# trade date's last), bar 8 closes 18:00, on the trade date of Wednesday 6 March.
ES_TICK, NQ_TICK = 0.25, 0.25


def _run(engine: str, inputs: PortfolioInputs, plan: PortfolioPlan) -> SimulationResult:
    if engine == "exact":
        return simulate_exact(inputs, plan)
    return FastSimulator(inputs, plan).simulate(plan)


ENGINES = pytest.mark.parametrize("engine", ["exact", "fast"])


def _fills(result: SimulationResult) -> list[tuple[str, float, float, float, str]]:
    t = result.trades
    return list(zip(t.symbol, t.entry_price, t.exit_price, t.pnl_usd, t.exit_reason, strict=True))


@ENGINES
def test_when_stop_fires_then_position_exits_at_that_close_and_entries_wait_for_next_trade_date(
        engine: str, contracts, make_candidates: MakeCandidates) -> None:
    es = closes_bars("ES", [5000, 5000, 4985, 4980, 4990, 5010, 5010, 5010, 5010, 5010], ES_TICK)
    nq = closes_bars("NQ", [18000] * 8 + [18000, 18010], NQ_TICK)
    inputs = PortfolioInputs({"ES": es, "NQ": nq}, {
        ("s", "ES"): make_candidates("s", "ES", es, [(0, 5, "ibs_exit")]),  # would end +495.50
        ("s", "NQ"): make_candidates("s", "NQ", nq, [(0, 3, "ibs_exit"), (1, 2, "ibs_exit"), (4, 6, "ibs_exit"),
                                                     (8, 9, "ibs_exit")]),
    }, contracts)
    plan = PortfolioPlan((StrategyPlan("s", ("ES", "NQ"), max_positions=1, daily_stop_loss=1000.0),))
    result = _run(engine, inputs, plan)
    # Bar 0: ES and NQ both signal; ES is first in order and takes the only slot. Bar 1: NQ
    # waits (the slot is taken). Bar 3: ES marks at 4980: -1,000.00 open, -2.25 entry
    # commission, -1,002.25 <= -1,000: the stop fires and ES exits at 4980, not at its own
    # exit (bar 5, 5010). Bar 4: NQ refused (stopped for the day). Bar 8, next trade date: NQ in.
    assert _fills(result) == [("ES", 5000.0, 4980.0, -20 * 50 - 4.5, "daily_stop"),
                              ("NQ", 18000.0, 18010.0, 10 * 20 - 4.5, "ibs_exit")]
    assert list(result.daily_pnl) == [-1004.5, 195.5]
    assert [d.date() for d in result.daily_pnl.index] == [date(2024, 3, 5), date(2024, 3, 6)]
    assert list(zip(result.stops.trading_day, result.stops.scope, strict=True)) == [(date(2024, 3, 5), "s")]
    assert result.stops.at_ns.tolist() == [int(es.close_ts[3])]
    assert result.positions.tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 1, 0]


@ENGINES
def test_when_a_later_symbol_fires_the_stop_then_the_sweep_flattens_an_earlier_one_in_that_bar_time(
        engine: str, contracts, make_candidates: MakeCandidates) -> None:
    es = closes_bars("ES", [5000, 4995, 5000, 5000], ES_TICK)
    nq = closes_bars("NQ", [18000, 17960, 18000, 18000], NQ_TICK)
    inputs = PortfolioInputs({"ES": es, "NQ": nq}, {
        ("s", "ES"): make_candidates("s", "ES", es, [(0, 3, "max_bars")]),
        ("s", "NQ"): make_candidates("s", "NQ", nq, [(0, 3, "max_bars")]),
    }, contracts)
    plan = PortfolioPlan((StrategyPlan("s", ("ES", "NQ"), max_positions=2, daily_stop_loss=1000.0),))
    result = _run(engine, inputs, plan)
    # Bar 1: ES (first) marks -250 and holds; NQ marks -800: -250 - 800 - 4.50 = -1,054.50, the
    # stop fires, NQ exits at once and ES in the sweep, both at bar 1's close.
    assert _fills(result) == [("NQ", 18000.0, 17960.0, -40 * 20 - 4.5, "daily_stop"),
                              ("ES", 5000.0, 4995.0, -5 * 50 - 4.5, "daily_stop")]
    assert result.trades.exit_ns.tolist() == [int(es.close_ts[1])] * 2
    assert list(result.daily_pnl) == [-1059.0]


@ENGINES
def test_when_another_strategy_on_the_account_holds_the_symbol_then_the_entry_is_refused(
        engine: str, contracts, make_candidates: MakeCandidates) -> None:
    es = closes_bars("ES", [5000, 5010, 5020, 5030], ES_TICK)
    inputs = PortfolioInputs({"ES": es}, {
        ("first", "ES"): make_candidates("first", "ES", es, [(1, 2, "ibs_exit")]),
        ("second", "ES"): make_candidates("second", "ES", es, [(0, 3, "ibs_exit")]),
    }, contracts)
    plan = PortfolioPlan((StrategyPlan("first", ("ES",)), StrategyPlan("second", ("ES",))))
    result = _run(engine, inputs, plan)
    # "second" enters first (bar 0); "first" signals at bar 1 while "second" holds ES on the
    # same broker account: refused.
    assert _fills(result) == [("ES", 5000.0, 5030.0, 30 * 50 - 4.5, "ibs_exit")]
    assert result.trades.strategy.tolist() == ["second"]


@ENGINES
def test_when_account_stop_fires_then_every_strategy_is_flattened(
        engine: str, contracts, make_candidates: MakeCandidates) -> None:
    es = closes_bars("ES", [5000, 4990, 5000], ES_TICK)
    nq = closes_bars("NQ", [18000, 17980, 18000], NQ_TICK)
    inputs = PortfolioInputs({"ES": es, "NQ": nq}, {
        ("a", "ES"): make_candidates("a", "ES", es, [(0, 2, "ibs_exit")]),
        ("b", "NQ"): make_candidates("b", "NQ", nq, [(0, 2, "ibs_exit")]),
    }, contracts)
    plan = PortfolioPlan((StrategyPlan("a", ("ES",)), StrategyPlan("b", ("NQ",))), account_daily_stop_loss=800.0)
    result = _run(engine, inputs, plan)
    # Bar 1: a's ES marks -500 (-504.50 with both entries' commission: -2.25 each); b's NQ
    # marks -400: -904.50 on the account: its stop flattens both.
    assert _fills(result) == [("NQ", 18000.0, 17980.0, -404.5, "daily_stop"),
                              ("ES", 5000.0, 4990.0, -504.5, "daily_stop")]
    assert result.stops.scope.tolist() == ["account"]


@ENGINES
def test_when_bars_run_out_then_open_positions_are_marked_to_the_last_close(
        engine: str, contracts, make_candidates: MakeCandidates) -> None:
    es = closes_bars("ES", [5000, 5002, 5004], ES_TICK)
    inputs = PortfolioInputs({"ES": es}, {("s", "ES"): make_candidates("s", "ES", es, [(0, 2, "ibs_exit")])},
                             contracts)
    cands = inputs.candidates[("s", "ES")]
    open_ended = type(cands)("s", "ES", 1, cands.entry_ns, cands.exit_ns + 10**15, cands.entry_price,
                             cands.exit_price, cands.exit_reason)
    inputs = PortfolioInputs({"ES": es}, {("s", "ES"): open_ended}, contracts)
    result = _run(engine, inputs, PortfolioPlan((StrategyPlan("s", ("ES",)),)))
    assert result.trades.empty
    assert result.still_open.symbol.tolist() == ["ES"]
    assert list(result.daily_pnl) == [4 * 50 - 2.25]  # open +200, entry commission paid
