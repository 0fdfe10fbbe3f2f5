from datetime import UTC, date, datetime, timedelta

import databento_dbn as dbn

from multialpha.clock import ManualClock
from multialpha.domain import Bar

from .dbn_records import HOUR, MINUTE, ns, ohlcv, random_minutes

ES, NQ = 101, 201  # instrument ids of ESH4 and NQH4 on the local gateway


def _by_ts(*lists):
    return sorted((r for rs in lists for r in rs), key=lambda r: (r.ts_event, r.instrument_id))


def test_minutes_become_one_hourly_group_when_a_later_hour_arrives(gateway, make_source):
    t0 = ns(2024, 3, 5, 14)
    source, groups = make_source(datetime(2024, 3, 5, 14, 0, 30, tzinfo=UTC))
    gateway.wait_for(lambda: gateway.started_sessions())
    gateway.publish(ohlcv(ES, t0, "5000", "5001", "4999.75", "5000.5", 3),
                    ohlcv(NQ, t0 + 7 * MINUTE, "18000", "18010", "17990", "18005", 2),
                    ohlcv(ES, t0 + 59 * MINUTE, "5000.5", "5003", "5000.25", "5002.75", 4))
    assert groups.none_within(0.2)  # the hour is not over yet
    gateway.publish(ohlcv(NQ, t0 + HOUR, "18005", "18005", "18005", "18005", 1))
    (group,) = groups.take()
    assert group.ts_ns == t0 and group.seq == 0 and not group.historical
    assert group.close_time == datetime(2024, 3, 5, 15, tzinfo=UTC)
    assert group.trading_day == date(2024, 3, 5) and group.close_minute == 9 * 60
    assert group.bars == {"ES": Bar(5000.0, 5003.0, 4999.75, 5002.75, 7.0),
                          "NQ": Bar(18000.0, 18010.0, 17990.0, 18005.0, 2.0)}
    session = gateway.started_sessions()[0]
    assert session.symbols == ["ESH4", "NQH4"]
    assert session.subscriptions[0]["schema"] == "ohlcv-1m"
    assert session.subscriptions[0]["stype_in"] == "raw_symbol"
    assert session.start_ns == t0  # replay from the start of the hour in progress
    assert source.first_live_time == datetime(2024, 3, 5, 15, tzinfo=UTC)
