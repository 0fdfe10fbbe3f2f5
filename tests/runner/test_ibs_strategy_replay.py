"""IbsStrategy inside the real daemon: crafted bars in, exact webhooks out (real HTTP to a local sink)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from multialpha.errors import WorkerError
from multialpha.runner import MultiAlphaRunner, RunOptions

from .conftest import MakeSetup, hourly_bars

FLAT = (5000.0, 5005.0, 4995.0, 5000.0)  # IBS 0.5: neither entry nor exit
PARAMS = {"session_start": "00:00", "session_end": "23:59", "stop_type": "percent", "stop_pct": 0.01,
          "tp_pct": 0.0, "max_holding_bars": 3, "ibs_exit_low": 0.8}
SCRIPT = [
    FLAT, FLAT, FLAT,                        # 0-2 warm-up (features need history)
    (5000, 5010, 4990, 5000),                # 3  IBS .5
    (5000, 5010, 4990, 4991),                # 4  IBS .05 -> buy 4991
    (4991, 5005, 4990, 5004),                # 5  IBS .93 -> exit (ibs band)
    (5004, 5006, 4994, 4995),                # 6  IBS .08 -> buy 4995
    (4995, 4996, 4930, 4940),                # 7  close <= 4995*0.99 -> exit (stop); no re-entry on the same bar
    (4940, 4950, 4930, 4931),                # 8  IBS .05 -> buy 4931
    (4931, 4940, 4920, 4930),                # 9  hold 1
    (4930, 4940, 4920, 4930),                # 10 hold 2
    (4930, 4940, 4920, 4930),                # 11 held 3 bars -> exit (max_bars)
    (4930, 4940, 4920, 4930),                # 12 flat, IBS .5
]


def _close_iso(i: int) -> str:
    start = datetime.fromtimestamp(int(hourly_bars("ES", SCRIPT).ts[i]) // 1_000_000_000, UTC)
    return (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _payload(strategy: str, action: str, i: int, price: float, reason: str, score: float | None = 1.0,
             stop: float | None = None) -> dict:
    t = _close_iso(i)
    # ESH2024: the contract the roll schedule trades in early March 2024
    return {"ticker": "ESH2024", "action": action, "quantity": 1, "orderType": "market", "signalPrice": price,
            **({"stopLoss": {"type": "stop", "stopPrice": stop}} if stop is not None else {}), "time": t,
            "extras": {"signal_id": f"{strategy}:ES:{t}:{action}", "strategy": strategy, "ml_score": score,
                       "reason": reason}}


def test_crafted_bars_produce_exactly_these_webhooks(make_setup: MakeSetup):
    setup = make_setup(bars={"ES": hourly_bars("ES", SCRIPT)},
                       strategies={"t1": {"instruments": ["ES"], "params": PARAMS}},
                       runtime={"data": {"warmup_bars": 3}})
    report = MultiAlphaRunner(setup.config()).run()

    bodies = [r["body"] for r in setup.sink.received]
    assert bodies == [
        # the protective stop: twice the 1% stop distance below the entry, on the tick grid
        _payload("t1", "buy", 4, 4991.0, "ibs_entry", stop=4891.0),
        _payload("t1", "exit", 5, 5004.0, "ibs_exit"),
        _payload("t1", "buy", 6, 4995.0, "ibs_entry", stop=4895.0),
        _payload("t1", "exit", 7, 4940.0, "stop"),
        _payload("t1", "buy", 8, 4931.0, "ibs_entry", stop=4832.25),
        _payload("t1", "exit", 11, 4930.0, "max_bars"),
    ]
    assert {r["path"] for r in setup.sink.received} == {"/t1"}
    st = report.strategies["t1"]["ES"]
    assert st["entries"] == 3 and st["exits"] == {"ibs_exit": 1, "stop": 1, "max_bars": 1}
    # ES: $50 a point, $2.25 a side: (13 - 55 - 1) points * 50 - 3 round trips * 4.50
    assert st["realized_pnl"] == pytest.approx((13 - 55 - 1) * 50 - 3 * 4.5)
    assert [t.exit_reason for t in report.trades] == ["ibs_exit", "stop", "max_bars"]


def test_warmup_bars_never_send_orders(make_setup: MakeSetup):
    setup = make_setup(bars={"ES": hourly_bars("ES", SCRIPT)},
                       strategies={"t1": {"instruments": ["ES"], "params": PARAMS}},
                       runtime={"data": {"warmup_bars": len(SCRIPT)}})
    report = MultiAlphaRunner(setup.config()).run()
    assert setup.sink.received == []
    assert report.bar_times == len(SCRIPT) and report.live_bar_times == 0
    assert report.strategies["t1"]["ES"]["signals"] == 0


def test_ml_filter_below_threshold_blocks_every_entry(make_setup: MakeSetup):
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier

    never = RandomForestClassifier(n_estimators=3, random_state=0).fit(
        np.random.default_rng(0).normal(size=(40, 2)), np.r_[np.zeros(39, int), 1])  # P(1) ~ 0
    setup = make_setup(bars={"ES": hourly_bars("ES", SCRIPT)},
                       strategies={"t1": {"instruments": ["ES"], "params": PARAMS}},
                       runtime={"data": {"warmup_bars": 3}}, models={"ES": never}, threshold=0.6)
    report = MultiAlphaRunner(setup.config()).run()
    assert setup.sink.received == []
    st = report.strategies["t1"]["ES"]
    assert st["signals"] == 4 and st["ml_rejected"] == 4  # bars 4, 6, 7, 8 and st["entries"] == 0


def test_coordinator_max_positions_blocks_second_symbol_with_reason(make_setup: MakeSetup):
    nq = hourly_bars("NQ", [(b[0] * 3.5, b[1] * 3.5, b[2] * 3.5, b[3] * 3.5) for b in SCRIPT])
    setup = make_setup(bars={"ES": hourly_bars("ES", SCRIPT), "NQ": nq},
                       strategies={"t1": {"instruments": ["ES", "NQ"], "params": PARAMS, "max_positions": 1}},
                       runtime={"data": {"warmup_bars": 3}})
    report = MultiAlphaRunner(setup.config()).run()
    buys = [(r["body"]["extras"]["signal_id"].split(":")[1], r["body"]["time"]) for r in setup.sink.received if r["body"]["action"] == "buy"]
    # Both signal on bars 4, 6, 7, 8; ES is evaluated first. ES's stop exit on bar 7 frees the
    # slot before NQ is evaluated on that bar, and NQ's position then blocks ES on bar 8.
    assert buys == [("ES", _close_iso(4)), ("ES", _close_iso(6)), ("NQ", _close_iso(7))]
    assert report.strategies["t1"]["NQ"]["blocked"] == {"strategy_max_positions": 2}
    assert report.strategies["t1"]["ES"]["blocked"] == {"strategy_max_positions": 1}


def test_daily_stop_flattens_the_other_open_position(make_setup: MakeSetup):
    # ES enters at bar 4 and collapses at bar 5; NQ enters at bar 4 too and would hold.
    es = list(SCRIPT)
    es[5] = (4991, 4992, 4800, 4890)  # -101 points = -$5,050 on ES (IBS 0.47: no IBS exit)
    nq = [FLAT] * len(SCRIPT)
    nq[4] = (5000, 5010, 4990, 4991)
    setup = make_setup(bars={"ES": hourly_bars("ES", es), "NQ": hourly_bars("NQ", nq)},
                       strategies={"t1": {"instruments": ["ES", "NQ"],
                                          "params": {**PARAMS, "stop_type": "none", "max_holding_bars": 0},
                                          "daily_stop_loss": 3000}},
                       runtime={"data": {"warmup_bars": 3}})
    report = MultiAlphaRunner(setup.config()).run()
    exits = [(r["body"]["extras"]["signal_id"].split(":")[1], r["body"]["extras"]["reason"], r["body"]["time"])
             for r in setup.sink.received if r["body"]["action"] == "exit"]
    # ES is evaluated first at that bar time, hits the stop and exits; NQ then flattens on the same bar.
    assert exits == [("ES", "daily_stop", _close_iso(5)), ("NQ", "daily_stop", _close_iso(5))]
    assert [s["scope"] for s in report.daily_stops] == ["t1"]
    buys = [r["body"]["time"] for r in setup.sink.received if r["body"]["action"] == "buy" and r["body"]["extras"]["signal_id"].split(":")[1] == "ES"]
    # Bars 6 and 7 (closing 15:00 and 16:00 Chicago) are blocked; bar 8 starts at 17:00 Chicago
    # after the daily halt, the next CME trading day, so the stop has cleared.
    assert buys == [_close_iso(4), _close_iso(8)]
    assert report.strategies["t1"]["ES"]["blocked"] == {"strategy_daily_stop": 2}


def test_bad_bundle_fails_its_worker_and_the_other_strategy_still_trades(make_setup: MakeSetup):
    setup = make_setup(bars={"ES": hourly_bars("ES", SCRIPT)},
                       strategies={"good": {"instruments": ["ES"], "params": PARAMS},
                                   "bad": {"instruments": ["ES"], "params": PARAMS}},
                       runtime={"data": {"warmup_bars": 3}})
    pkl = setup.root / "models" / "bad" / "ES_rf_model.pkl"
    pkl.write_bytes(pkl.read_bytes() + b"tampered")
    report = MultiAlphaRunner(setup.config()).run()
    assert "bad" in report.failed and "ES" in report.failed["bad"] and "SHA-256" in report.failed["bad"]
    assert {r["path"] for r in setup.sink.received} == {"/good"}
    assert len(setup.sink.received) == 6

    with pytest.raises(WorkerError, match="bad"):
        MultiAlphaRunner(setup.config(), options=RunOptions(fail_fast=True)).run()
