"""Orders name the explicit contract the roll schedule trades, and a position is not carried into
a roll: it exits into the contract it holds before the new one takes over."""

from __future__ import annotations

from datetime import UTC, datetime

from multialpha.runner import MultiAlphaRunner

from .conftest import MakeSetup, hourly_bars

FLAT = (5000.0, 5005.0, 4995.0, 5000.0)
LOW = (5000.0, 5010.0, 4990.0, 4991.0)  # IBS .05: an entry signal
START = datetime(2024, 3, 6, 14, tzinfo=UTC)  # Wed 08:00 Chicago; ESM2024 is traded from trade date 2024-03-07
PARAMS = {"session_start": "00:00", "session_end": "23:59", "stop_type": "none", "max_holding_bars": 0}


def test_position_exits_into_its_contract_in_the_last_hour_before_the_roll_and_reenters_the_next(
        make_setup: MakeSetup):
    # bars 0-7: 08:00-16:00 Chicago on 2024-03-06; bar 8 starts at 17:00, trade date 2024-03-07
    script = [FLAT, FLAT, LOW, FLAT, FLAT, FLAT, FLAT, LOW, LOW, FLAT]
    setup = make_setup(bars={"ES": hourly_bars("ES", script, start=START)},
                       strategies={"t1": {"instruments": ["ES"], "params": PARAMS}},
                       runtime={"data": {"warmup_bars": 2}})
    report = MultiAlphaRunner(setup.config()).run()
    orders = [(r["body"]["action"], r["body"]["ticker"], r["body"]["time"], r["body"]["extras"]["reason"])
              for r in setup.sink.received]
    assert orders == [
        ("buy", "ESH2024", "2024-03-06T17:00:00Z", "ibs_entry"),
        ("exit", "ESH2024", "2024-03-06T21:00:00Z", "contract_roll"),  # 15:00 Chicago, the held contract trades
        # bar 7 (closing 16:00) signals too, but no entry goes into a contract about to roll
        ("buy", "ESM2024", "2024-03-07T00:00:00Z", "ibs_entry"),  # the 17:00-18:00 bar: trade date 2024-03-07
    ]
    assert report.strategies["t1"]["ES"]["exits"] == {"contract_roll": 1}
