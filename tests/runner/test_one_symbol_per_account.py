"""Two strategies on one broker account never both hold a symbol, and the answer does not depend on
how fast the gateway confirms an exit (real daemon runs, real HTTP to a local sink)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from multialpha.execution import Reply, ResponsePlan
from multialpha.runner import MultiAlphaRunner

from .conftest import T0, MakeSetup, hourly_bars

FLAT = (5000.0, 5005.0, 4995.0, 5000.0)  # IBS 0.5: neither entry nor exit
LOW = (5000.0, 5010.0, 4990.0, 4991.0)  # IBS 0.05: an entry signal
HOLD_TWO = {"session_start": "00:00", "session_end": "23:59", "stop_type": "none", "max_holding_bars": 2}


def _close_iso(i: int) -> str:
    return (T0 + timedelta(hours=i + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("reply_delay_secs", [0.0, 0.3], ids=["instant gateway", "slow gateway"])
def test_entry_at_the_bar_time_another_strategy_exits_the_symbol_is_refused(
        make_setup: MakeSetup, reply_delay_secs: float) -> None:
    es = [FLAT] * 10
    es[4] = es[6] = es[7] = LOW  # "first" enters at 4 and leaves at 6 (held two bars); 6 and 7 signal again
    setup = make_setup(bars={"ES": hourly_bars("ES", es)},
                       strategies={"first": {"instruments": ["ES"], "params": HOLD_TWO},
                                   "second": {"instruments": ["ES"], "params": HOLD_TWO}},
                       runtime={"data": {"warmup_bars": 3}})
    setup.sink.plan = ResponsePlan(default=Reply(200, delay_secs=reply_delay_secs))
    MultiAlphaRunner(setup.config()).run()
    orders = [(r["path"], r["body"]["action"], r["body"]["time"]) for r in setup.sink.received]
    # At 6 "first" exits: "second" is refused ES for that bar time, confirmed or not, and "first"
    # cannot re-enter at its own exit's bar time. At 7 "first", stepped first, takes ES again.
    assert orders[:3] == [("/first", "buy", _close_iso(4)), ("/first", "exit", _close_iso(6)),
                          ("/first", "buy", _close_iso(7))]
    assert [o for o in orders if o[0] == "/second"] == []
