"""A daily stop flattens every position in its scope in the bar time it fires, whoever fired it,
whatever the bar time, and a failed strategy's positions are still managed (real daemon runs,
real Backtrader, real HTTP to a local sink)."""

from __future__ import annotations

from datetime import timedelta

from multialpha.runner import MultiAlphaRunner
from multialpha.state import StateStore
from multialpha.strategy.alpha import AlphaSpec, BarEvent, known_alphas, register
from multialpha.strategy.ibs import IbsAlpha
from multialpha.strategy.params import IbsParams

from .conftest import T0, MakeSetup, hourly_bars

FLAT = (5000.0, 5005.0, 4995.0, 5000.0)  # IBS 0.5: neither entry nor exit
NQ_FLAT = (17000.0, 17010.0, 16990.0, 17000.0)
HOLD = {"session_start": "00:00", "session_end": "23:59", "stop_type": "none", "max_holding_bars": 0,
        "ibs_exit_low": 0.8}


def _close_iso(i: int) -> str:
    return (T0 + timedelta(hours=i + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bars(n: int, entry_at: int, crash_at: int | None) -> tuple[list, list]:
    """ES and NQ both enter at ``entry_at``; NQ collapses at ``crash_at`` (-$3,820), ES holds."""
    es, nq = [FLAT] * n, [NQ_FLAT] * n
    es[entry_at] = (5000, 5010, 4990, 4991)  # IBS .05 -> buy
    nq[entry_at] = (17000, 17010, 16990, 16991)
    if crash_at is not None:
        es[crash_at] = (4991, 5000, 4985, 4992)  # IBS .47: ES would hold
        nq[crash_at] = (16991, 16992, 16700, 16800)  # IBS .34: no IBS exit, -191 points
    return es, nq


def _symbol(record) -> str:
    return record["body"]["extras"]["signal_id"].split(":")[1]


def _exits(setup) -> list[tuple[str, str, str, str]]:
    return sorted((r["path"], _symbol(r), r["body"]["extras"]["reason"], r["body"]["time"])
                  for r in setup.sink.received if r["body"]["action"] == "exit")


def test_daily_stop_fired_by_a_later_symbol_flattens_the_earlier_one_in_that_bar_time(make_setup: MakeSetup):
    es, nq = _bars(10, entry_at=4, crash_at=5)
    setup = make_setup(bars={"ES": hourly_bars("ES", es), "NQ": hourly_bars("NQ", nq)},
                       strategies={"t1": {"instruments": ["ES", "NQ"], "params": HOLD, "daily_stop_loss": 3000}},
                       runtime={"data": {"warmup_bars": 3}})
    report = MultiAlphaRunner(setup.config()).run()
    # ES is evaluated before NQ fires the stop: it exits in the same bar time all the same.
    assert _exits(setup) == [("/t1", "ES", "daily_stop", _close_iso(5)), ("/t1", "NQ", "daily_stop", _close_iso(5))]
    assert [s["scope"] for s in report.daily_stops] == ["t1"]


def test_account_stop_fired_by_another_strategy_flattens_every_strategy_in_that_bar_time(make_setup: MakeSetup):
    es, nq = _bars(10, entry_at=4, crash_at=5)
    setup = make_setup(bars={"ES": hourly_bars("ES", es), "NQ": hourly_bars("NQ", nq)},
                       strategies={"first": {"instruments": ["ES"], "params": HOLD},
                                   "second": {"instruments": ["NQ"], "params": HOLD}},
                       portfolio={"daily_stop_loss": 3000}, runtime={"data": {"warmup_bars": 3}})
    report = MultiAlphaRunner(setup.config()).run()
    assert _exits(setup) == [("/first", "ES", "daily_stop", _close_iso(5)),
                             ("/second", "NQ", "daily_stop", _close_iso(5))]
    assert [s["scope"] for s in report.daily_stops] == ["account"]


def test_daily_stop_on_the_last_bar_before_the_cme_roll_still_flattens_everything(make_setup: MakeSetup):
    # Bar 7 closes at 16:00 Chicago, the trading day's last; bar 8 (17:00) is the next day.
    es, nq = _bars(11, entry_at=6, crash_at=7)
    setup = make_setup(bars={"ES": hourly_bars("ES", es), "NQ": hourly_bars("NQ", nq)},
                       strategies={"t1": {"instruments": ["ES", "NQ"], "params": HOLD, "daily_stop_loss": 3000}},
                       runtime={"data": {"warmup_bars": 3}})
    MultiAlphaRunner(setup.config()).run()
    assert _exits(setup) == [("/t1", "ES", "daily_stop", _close_iso(7)), ("/t1", "NQ", "daily_stop", _close_iso(7))]
    with StateStore.open(setup.root / "state" / "multialpha.sqlite", create=False) as store:
        assert store.positions.all() == []


def test_two_strategies_on_one_broker_account_never_both_hold_a_symbol(make_setup: MakeSetup):
    es, _ = _bars(10, entry_at=4, crash_at=None)
    setup = make_setup(bars={"ES": hourly_bars("ES", es)},
                       strategies={"a": {"instruments": ["ES"], "params": HOLD},
                                   "b": {"instruments": ["ES"], "params": HOLD}},
                       runtime={"data": {"warmup_bars": 3}})
    report = MultiAlphaRunner(setup.config()).run()
    buys = [(r["path"], _symbol(r)) for r in setup.sink.received if r["body"]["action"] == "buy"]
    assert buys == [("/a", "ES")]
    assert report.strategies["b"]["ES"]["blocked"] == {"symbol_held_on_account": 1}


# -- a strategy that fails while holding positions -------------------------------------------------
class _Explodes(IbsAlpha):
    """IBS, except that it crashes on the first bar at or after ``EXPLODE_AT`` while in a position."""

    def exit_reason(self, bar: BarEvent, position) -> str | None:
        if bar.close_time >= T0 + timedelta(hours=6):  # bar 5's close
            raise RuntimeError("model server went away")
        return super().exit_reason(bar, position)


if "explodes" not in known_alphas():
    register(AlphaSpec(name="explodes", params_type=IbsParams, build=_Explodes))


def _failing_setup(make_setup: MakeSetup, policy: str, crash_at: int | None, **portfolio):
    es, nq = _bars(12, entry_at=4, crash_at=crash_at)
    setup = make_setup(bars={"ES": hourly_bars("ES", es), "NQ": hourly_bars("NQ", nq)},
                       strategies={"calm": {"instruments": ["ES"], "params": HOLD},
                                   "boom": {"instruments": ["NQ"], "params": HOLD}},
                       portfolio=portfolio,
                       runtime={"on_strategy_failure": policy, "data": {"warmup_bars": 3}})
    doc_boom = setup.config_path.read_text().split("  boom:\n", 1)
    setup.config_path.write_text(doc_boom[0] + "  boom:\n    strategy: explodes\n" + doc_boom[1])
    return setup


def test_failed_strategy_with_flatten_policy_exits_its_positions_in_that_bar_time_and_stays_halted(
        make_setup: MakeSetup):
    setup = _failing_setup(make_setup, "flatten", crash_at=None)
    report = MultiAlphaRunner(setup.config()).run()
    assert "boom" in report.failed and "model server went away" in report.failed["boom"]
    assert _exits(setup) == [("/boom", "NQ", "halt_flatten", _close_iso(5))]
    with StateStore.open(setup.root / "state" / "multialpha.sqlite", create=False) as store:
        assert [(p.strategy, p.symbol) for p in store.positions.all()] == [("calm", "ES")]
        halt = store.halts.get("boom")
        assert halt is not None and halt.state.value == "halted" and halt.flatten_requested
        assert "failed" in halt.reason


def test_failed_strategy_with_reducing_policy_keeps_exit_rules_and_the_account_stop_covers_it(
        make_setup: MakeSetup):
    # boom fails at bar 5 holding NQ; NQ collapses at bar 6: the account stop fires on the
    # adopted position's mark, and every position exits in that bar time.
    setup = _failing_setup(make_setup, "reducing", crash_at=6, daily_stop_loss=3000)
    report = MultiAlphaRunner(setup.config()).run()
    assert "boom" in report.failed
    assert _exits(setup) == [("/boom", "NQ", "daily_stop", _close_iso(6)), ("/calm", "ES", "daily_stop", _close_iso(6))]
    with StateStore.open(setup.root / "state" / "multialpha.sqlite", create=False) as store:
        account = store.halts.get("account")
        assert account is not None and account.state.value == "reducing"
    buys = [r["body"]["time"] for r in setup.sink.received if r["body"]["action"] == "buy"]
    assert buys == [_close_iso(4), _close_iso(4)]  # nothing new while REDUCING
