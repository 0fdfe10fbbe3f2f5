"""The live gateway's records into complete hourly bars: synchronous, no I/O, clock passed in.

Records are mapped back to our symbols through the session's symbol mapping messages
(instrument_id -> the raw symbol we subscribed) and the contract book (a contract's record
counts only on trade dates it is the active contract). Bars come from ``HourlyAggregator``.

An hour is complete, and emitted once, at the first of:

* a minute record of a later hour, for any symbol;
* the gateway's end-of-interval message for an interval ending at or after the hour's end
  (it sends one once every record of that interval is out);
* the clock passing the hour's end plus ``grace_secs``, for gateways that send no such
  message. While a session replays (until the gateway's replay-completed message) the clock
  rule waits: replayed hours are old by the clock but their records are still arriving.
"""

from __future__ import annotations

from datetime import UTC, datetime

import databento_dbn as dbn
from databento_dbn import DBNRecord

from multialpha.features.bars import NS_PER_SECOND
from multialpha.feeds.hourly import CompletedHour, HourlyAggregator
from multialpha.feeds.symbology import ContractBook

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BAR_RTYPES = frozenset({dbn.RType.OHLCV_1M, dbn.RType.OHLCV_1H})


def to_ns(when: datetime) -> int:
    """An aware datetime as int ns since the epoch (exact to the microsecond)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware time, got {when.isoformat()}")
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000


class LiveBarBuilder:
    """Feeds one live record at a time, and the clock, into the hourly aggregator; the caller
    calls ``on_clock`` after every record and on every idle tick."""

    def __init__(self, book: ContractBook, aggregator: HourlyAggregator, *, grace_secs: float,
                 replaying: bool = True) -> None:
        if grace_secs < 0:
            raise ValueError("grace_secs must be >= 0")
        self._book = book
        self._agg = aggregator
        self._grace_ns = int(grace_secs * NS_PER_SECOND)
        self._contracts: dict[int, str] = {}
        # The feed's first session replays from the end of the warm-up: no clock closes until
        # the gateway says the replay caught up.
        self.replaying = replaying
        self.last_minute_ns: int | None = None  # ts_event of the latest bar record received
        self.unmapped = 0  # bar records of an instrument no mapping message named
        self.inactive = 0  # bar records of a contract not active on their trade date
        self.gateway_errors: list[str] = []

    @property
    def duplicates(self) -> int:
        return self._agg.duplicates

    @property
    def late(self) -> int:
        return self._agg.late

    def session_started(self, *, replaying: bool) -> None:
        self.replaying = replaying

    def on_record(self, record: DBNRecord) -> list[CompletedHour]:
        """Take one record of the session; returns the hours it completed."""
        if isinstance(record, dbn.OHLCVMsg):
            if record.rtype not in _BAR_RTYPES:
                return []
            ts = record.ts_event
            if self.last_minute_ns is None or ts > self.last_minute_ns:
                self.last_minute_ns = ts
            contract = self._contracts.get(record.instrument_id)
            if contract is None:
                self.unmapped += 1
                return []
            symbol = self._book.symbol_of(contract, ts)
            if symbol is None:
                self.inactive += 1
                return []
            return self._agg.add(symbol, ts, record.open, record.high, record.low, record.close,
                                 record.volume)
        if isinstance(record, dbn.SymbolMappingMsg):
            self._contracts[record.instrument_id] = record.stype_in_symbol
        elif isinstance(record, dbn.SystemMsg):
            if record.code == dbn.SystemCode.END_OF_INTERVAL:
                return self._agg.close_through(record.ts_event)
            if record.code == dbn.SystemCode.REPLAY_COMPLETED:
                self.replaying = False
        elif isinstance(record, dbn.ErrorMsg):
            self.gateway_errors = [*self.gateway_errors[-4:], record.err]
        return []

    def on_clock(self, now: datetime) -> list[CompletedHour]:
        """Close the hours the clock says are over (not while replaying)."""
        if self.replaying:
            return []
        return self._agg.close_through(to_ns(now) - self._grace_ns)
