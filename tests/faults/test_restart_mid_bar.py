"""A crash in the middle of a bar time: the instruments already evaluated at that bar before the
crash are not evaluated again after the restart, so nothing that happened later in the bar (a
daily stop, a freed or taken slot) can change what they did."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.ensemble import RandomForestClassifier

from multialpha.execution.sink import Reply, ResponsePlan, WebhookSink
from multialpha.features.bars import NS_PER_SECOND, BarArrays
from multialpha.feeds.replay_files import write_bar_file
from multialpha.models import write_model_bundle

from .conftest import CONTRACTS
from .daemon import DAEMON_TIMEOUT_SECS, Daemon, cli_in_process, kill, settle_in_flight

T0 = datetime(2024, 3, 5, 14, tzinfo=UTC)  # a Tuesday, 08:00 in Chicago: every bar on one trading day
PARAMS = {"session_start": "00:00", "session_end": "23:59", "stop_type": "none", "tp_pct": 0.0,
          "max_holding_bars": 0}
FEATURES = ("ibs", "rsi2")

ES_FLAT, NQ_FLAT, CL_FLAT = (5000, 5005, 4995, 5000), (17000, 17010, 16990, 17000), (75.0, 75.1, 74.9, 75.0)
# Strategy t2's CL, evaluated after t1 at every bar time, enters at bar 5 (the daemon dies while
# that order is in flight) and exits at bar 6.
CL = [CL_FLAT] * 5 + [(75.0, 75.1, 74.9, 74.91), (74.91, 75.0, 74.8, 74.98), CL_FLAT]


def _close(i: int) -> str:
    return (T0 + timedelta(hours=i + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")


DAILY_STOP = {  # bar 3: ES and NQ enter. Bar 5: NQ falls 95 points ($1,900, IBS 0.5): its mark
    # hits t1's $1,000 daily stop and NQ is flattened; ES was evaluated before NQ at that bar
    # time, so the hub's flatten sweep exits it at the end of bar 5, after every strategy.
    "bars": {"ES": [ES_FLAT] * 3 + [(5000, 5010, 4990, 4991), (4991, 4996, 4986, 4991), (4991, 4996, 4986, 4990),
                                    (4990, 4995, 4985, 4990), (4990, 4995, 4985, 4990)],
             "NQ": [NQ_FLAT] * 3 + [(17000, 17010, 16990, 16991), (16991, 16996, 16986, 16991),
                                    (16991, 16992, 16800, 16896)] + [(16896, 16901, 16891, 16896)] * 2,
             "CL": CL},
    "strategies": {"t1": {"instruments": ["ES", "NQ"], "daily_stop_loss": 1000}, "t2": {"instruments": ["CL"]}},
    "orders": [("ES", "buy", _close(3), "ibs_entry"), ("NQ", "buy", _close(3), "ibs_entry"),
               ("NQ", "exit", _close(5), "daily_stop"), ("CL", "buy", _close(5), "ibs_entry"),
               ("ES", "exit", _close(5), "daily_stop"), ("CL", "exit", _close(6), "ibs_exit")],
}
FREED_SLOT = {  # t1 may hold one position. Bar 5: ES signals but NQ holds the slot; NQ then
    # exits on its IBS, too late for ES at that bar time, so ES never enters.
    "bars": {"ES": [ES_FLAT] * 5 + [(5000, 5010, 4990, 4991)] + [ES_FLAT] * 2,
             "NQ": [NQ_FLAT] * 3 + [(17000, 17010, 16990, 16991), (16991, 16996, 16986, 16991),
                                    (16991, 17010, 16980, 17008)] + [NQ_FLAT] * 2,
             "CL": CL},
    "strategies": {"t1": {"instruments": ["ES", "NQ"], "max_positions": 1}, "t2": {"instruments": ["CL"]}},
    "orders": [("NQ", "buy", _close(3), "ibs_entry"), ("NQ", "exit", _close(5), "ibs_exit"),
               ("CL", "buy", _close(5), "ibs_entry"), ("CL", "exit", _close(6), "ibs_exit")],
}


def _hourly(symbol: str, ohlc: Sequence[tuple[float, float, float, float]]) -> BarArrays:
    ts = np.array([int((T0 + timedelta(hours=i)).timestamp()) * NS_PER_SECOND for i in range(len(ohlc))])
    a = np.asarray(ohlc, dtype=np.float64)
    return BarArrays(symbol, ts, a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy(), a[:, 3].copy(),
                     np.full(len(ohlc), 1000.0))


def _write_setup(root: Path, bars: Mapping[str, Sequence], strategies: Mapping[str, Mapping]) -> Path:
    data = root / "data"
    data.mkdir(parents=True)
    for sym, ohlc in bars.items():
        write_bar_file(data / f"{sym}.csv", _hourly(sym, ohlc))
    rng = np.random.default_rng(0)
    always = RandomForestClassifier(n_estimators=3, random_state=0).fit(
        rng.normal(size=(40, len(FEATURES))), np.ones(40, dtype=int))
    doc_strats = {}
    for name, spec in strategies.items():
        for sym in spec["instruments"]:
            write_model_bundle(root / "models" / name, sym, always, list(FEATURES), 0.5, {},
                               {"Sharpe": 1.0, "Profit_Factor": 1.2, "Trades": 50})
        doc_strats[name] = {"enabled": True, "broker_account": "${HOOK_" + name.upper() + "}",
                            "starting_cash": 100000, "models_path": str(root / "models" / name),
                            "max_positions": spec.get("max_positions", 10),
                            "daily_stop_loss": spec.get("daily_stop_loss", 1_000_000),
                            "instruments": spec["instruments"], "strategy_params": PARAMS}
    doc = {"runtime": {"mode": "replay", "contracts_path": str(CONTRACTS), "rolls_path": str(CONTRACTS.with_name("rolls.yml")), "health": {"port": 0},
                       "state_path": str(root / "state" / "multialpha.sqlite"),
                       "data": {"source": "replay", "path": str(data), "warmup_bars": 3, "reference_symbols": []},
                       "webhook": {"timeout_secs": 10.0, "max_attempts": 1, "max_retry_wait_secs": 0.1}},
           "portfolio": {"max_positions": 10, "daily_stop_loss": 1_000_000}, "strategies": doc_strats}
    path = root / "config.multi_alpha.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _orders(sink: WebhookSink) -> list[tuple[str, str, str, str]]:
    return [(r["body"]["extras"]["signal_id"].split(":")[1], r["body"]["action"], r["body"]["time"],
             r["body"]["extras"]["reason"]) for r in sink.received if r["status"] == 200]


def _of(orders: list[tuple[str, str, str, str]], symbols: set[str]) -> list[tuple[str, str, str, str]]:
    return [o for o in orders if o[0] in symbols]


@pytest.mark.slow
@pytest.mark.parametrize("case", [DAILY_STOP, FREED_SLOT], ids=["daily-stop-hit-later", "slot-freed-later"])
def test_crash_later_in_a_bar_time_does_not_change_what_instruments_evaluated_earlier_did(
        case: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = _write_setup(tmp_path, case["bars"], case["strategies"])
    expected = case["orders"]
    t1 = _of(expected, {"ES", "NQ"})
    t1_by_bar5 = [o for o in t1 if o[2] <= _close(5)]
    # The daemon dies while t2's entry at bar 5 (CL, its first order) is in flight, after t1 has
    # acted at bar 5: what t1 did is on record, the bar time is not finished. Each strategy has
    # its own webhook (and sender), as in production.
    slow = ResponsePlan([Reply(200, delay_secs=DAEMON_TIMEOUT_SECS)])
    with WebhookSink(tmp_path / "t1.jsonl") as sink1, WebhookSink(tmp_path / "t2.jsonl", plan=slow) as sink2:
        env = {"HOOK_T1": f"{sink1.url}/t1", "HOOK_T2": f"{sink2.url}/t2"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        daemon = Daemon(config, env, tmp_path / "logs")
        proc = daemon.start()
        assert sink2.wait_for(1, timeout_secs=DAEMON_TIMEOUT_SECS), daemon.stderr_of_last_run()
        assert sink1.wait_for(len(t1_by_bar5), timeout_secs=DAEMON_TIMEOUT_SECS), daemon.stderr_of_last_run()
        assert kill(proc) == -9
        assert _orders(sink1) == t1_by_bar5
        settled = settle_in_flight(config, daemon.state_path, sink1.received + sink2.received, cli_in_process)
        # t2's entry, and whatever t1 had in flight, all reached the gateway
        assert settled[f"t2:CL:{_close(5)}:buy"] and all(settled.values())
        rc = daemon.start().wait(timeout=DAEMON_TIMEOUT_SECS)
        assert rc == 0, daemon.stderr_of_last_run()
        assert _orders(sink1) == t1
        assert _orders(sink2) == _of(expected, {"CL"})
