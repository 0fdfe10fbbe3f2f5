from datetime import UTC, date, datetime

import databento
import numpy as np
import pytest
import trustme

from multialpha.clock import ManualClock
from multialpha.features.bars import BarArrays
from multialpha.feeds.dbn_bars import read_dbn_bars
from multialpha.feeds.live_client import GatewayUnavailable
from multialpha.feeds.replay_files import write_bar_file
from multialpha.feeds.warmup import DatabentoHistory, FileHistory

from .conftest import API_KEY, INSTRUMENTS, quarterly
from .dbn_http import LocalHistorical
from .dbn_records import ns, ohlcv, random_minutes, write_dbn

ES, ESM = INSTRUMENTS["ESH4"], INSTRUMENTS["ESM4"]
# Wednesday 13 March 2024 until 16:00 CDT on ESH4, then Thursday's session (from 17:00 CDT) on ESM4.
MINUTES = sorted(random_minutes(ES, ns(2024, 3, 13, 18), 180) + random_minutes(ESM, ns(2024, 3, 13, 18), 300, seed=3),
                 key=lambda r: (r.ts_event, r.instrument_id))


@pytest.fixture
def historical(monkeypatch):
    ca = trustme.CA()
    server = LocalHistorical(API_KEY, ca, records=MINUTES, instruments=INSTRUMENTS,
                             available_end="2024-03-13T23:30:00.000000000Z").start()
    with ca.cert_pem.tempfile() as bundle:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)  # how requests (inside the client) trusts a CA
        yield server
    server.stop()


def test_historical_warmup_is_stitched_like_a_file_and_ends_at_the_available_hour(historical, tmp_path):
    client = databento.Historical(key=API_KEY, gateway=historical.url)
    history = DatabentoHistory(client, contract_for=quarterly, lookback_days=2, tick_sizes={"ES": 0.25})
    bars = history.bars(["ES"], end_ns=ns(2024, 3, 14, 2))
    assert bars["ES"].ts.tolist() == [ns(2024, 3, 13, h) for h in (18, 19, 20, 21, 22)]  # 23:00 is not over
    (path, form), = [r for r in historical.requests if r[0].endswith("timeseries.get_range")]
    assert form["symbols"] == "ESH4,ESM4" and form["schema"] == "ohlcv-1m" and form["stype_in"] == "raw_symbol"
    assert int(form["end"]) == ns(2024, 3, 13, 23)

    file = write_dbn(tmp_path / "es.dbn", MINUTES, mappings={"ESH4": [(date(2024, 3, 1), date(2024, 4, 1), ES)],
                                                            "ESM4": [(date(2024, 3, 1), date(2024, 4, 1), ESM)]})
    expected = read_dbn_bars(file, symbols=["ES"], contract_for=quarterly, tick_sizes={"ES": 0.25})["ES"]
    n = len(bars["ES"])
    for col in ("ts", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(bars["ES"], col), getattr(expected, col)[:n], err_msg=col)


def test_historical_with_a_wrong_key_is_refused_naming_the_request(historical):
    client = databento.Historical(key="db-WRONGKEY000000000000000000000", gateway=historical.url)
    with pytest.raises(GatewayUnavailable, match="Databento historical GLBX.MDP3 ohlcv-1m: get_dataset_range failed"):
        DatabentoHistory(client, contract_for=quarterly).bars(["ES"], end_ns=ns(2024, 3, 14, 2))


def test_historical_warmup_then_live_groups(historical, make_source, gateway):
    client = databento.Historical(key=API_KEY, gateway=historical.url)
    gateway.publish(ohlcv(ESM, ns(2024, 3, 13, 23, 5), "5300", "5301", "5299", "5300", 4),  # on the gateway's
                    ohlcv(ESM, ns(2024, 3, 14, 0, 5), "5300", "5302", "5300", "5301", 2))  # tape already
    clock = ManualClock(datetime(2024, 3, 14, 0, 10, tzinfo=UTC))
    source, groups = make_source(clock, symbols=("ES",), warmup_bars=4,
                                 history=DatabentoHistory(client, contract_for=quarterly, lookback_days=2))
    warm = groups.take(4)
    assert [g.ts_ns for g in warm] == [ns(2024, 3, 13, h) for h in (19, 20, 21, 22)]
    assert all(g.historical for g in warm)
    gateway.wait_for(gateway.started_sessions)
    assert gateway.started_sessions()[0].start_ns == ns(2024, 3, 13, 23)  # replay the hour history lacks
    gateway.publish(ohlcv(ESM, ns(2024, 3, 14, 0, 15), "5301", "5303", "5301", "5302", 3),
                    ohlcv(ESM, ns(2024, 3, 14, 1), "5302", "5302", "5302", "5302", 1))
    replayed, live = groups.take(2)
    assert (replayed.ts_ns, replayed.historical, replayed.seq) == (ns(2024, 3, 13, 23), True, 4)
    assert (live.ts_ns, live.historical, live.seq) == (ns(2024, 3, 14, 0), False, 5)
    assert live.bars["ES"].volume == 5.0 and live.bars["ES"].close == 5302.0
    assert source.first_live_time == datetime(2024, 3, 14, 1, tzinfo=UTC)


def test_file_history_keeps_only_bars_before_the_end(tmp_path):
    starts = np.array([ns(2024, 3, 13, h) for h in range(13, 18)], dtype=np.int64)  # 08:00-12:00 Chicago
    c = np.full(5, 5000.0)
    write_bar_file(tmp_path / "ES.csv", BarArrays("ES", starts, c, c, c, c, c))
    bars = FileHistory(tmp_path, tick_sizes={"ES": 0.25}).bars(["ES"], end_ns=ns(2024, 3, 13, 16))
    assert bars["ES"].ts.tolist() == starts[:3].tolist() and bars["ES"].tick_size == 0.25
