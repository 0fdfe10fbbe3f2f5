"""The inbox hands each step's bars to the strategies and to the worker's history and engines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from multialpha.domain import Bar, BarGroup
from multialpha.features import FeatureBook, compute_features
from multialpha.features.bars import BarArrays
from multialpha.feeds.history import BarHistory
from multialpha.feeds.inbox import Inbox

H = 3_600_000_000_000
T0 = 1_709_647_200 * 1_000_000_000  # 2024-03-05 14:00 UTC


def _group(seq: int, bars: dict[str, Bar], *, historical: bool) -> BarGroup:
    ts = T0 + seq * H
    close = datetime.fromtimestamp(ts / 1e9 + 3600, tz=UTC)
    return BarGroup(seq=seq, ts_ns=ts, close_time=close, trading_day=date(2024, 3, 5), close_minute=0,
                    historical=historical, bars=bars)


def _inbox() -> tuple[Inbox, BarHistory, FeatureBook]:
    history = BarHistory(["ES", "VX"], capacity=10)
    features = FeatureBook({"ES": 0.25, "VX": 0.05})
    return Inbox(["ES", "VX"], history, features, poll_secs=0.01), history, features


def test_every_delivered_bar_reaches_the_history_and_the_feature_engines_warm_up_included() -> None:
    inbox, history, features = _inbox()
    es = [Bar(5000.0, 5001.25, 4999.0, 5000.5, 1200.0), Bar(5000.5, 5002.0, 5000.0, 5001.75, 900.0)]
    inbox.put(_group(0, {"ES": es[0], "VX": Bar(14.0, 14.1, 13.95, 14.05, 300.0), "NQ": es[0]},
                     historical=True))
    inbox.put(_group(1, {"ES": es[1]}, historical=False))
    inbox.put(_group(2, {"NQ": es[1]}, historical=False))  # nothing for this worker
    inbox.end()
    assert inbox.take("ES") == es[0] and inbox.take("VX") is not None
    assert (history.count("ES"), features["ES"].bars_seen, features["VX"].bars_seen) == (1, 1, 1)
    inbox.mark_step_done()
    assert inbox.take("ES") == es[1] and inbox.take("VX") is None
    assert (history.count("ES"), features["ES"].bars_seen, features["VX"].bars_seen) == (2, 2, 1)
    inbox.mark_step_done()
    assert inbox.take("ES") is False
    own = BarArrays("ES", T0 + np.arange(2) * H, *(np.array(c) for c in zip(*es, strict=True)), tick_size=0.25)
    assert np.array_equal(features.row("ES", ["ibs", "bar_return"]),
                          compute_features(own, ["ibs", "bar_return"])[-1])


def test_a_bar_off_its_tick_grid_stops_the_worker_with_an_error_naming_it() -> None:
    inbox, _, _ = _inbox()
    inbox.put(_group(0, {"ES": Bar(5000.0, 5001.3, 4999.0, 5000.5, 1.0)}, historical=True))
    with pytest.raises(ValueError, match=r"ES: bar at 2024-03-05T14:00:00Z: high 5001\.3 is not on the tick grid"):
        inbox.take("ES")
