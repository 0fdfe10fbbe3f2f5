"""``DatabentoLiveSource``: the ``BarSource`` of paper and live trading.

Schema: ``ohlcv-1m``, aggregated here to hourly bars by the code research and warm-up use.
Minute records make an hour's completeness observable (a later minute, or the gateway's
end-of-interval message, proves the hour is over) and make a reconnect lose nothing: the new
session replays from the last minute received, not from the start of the hour.

Symbols: explicit contracts, ``contract_for(symbol, trading_day)``, subscribed in raw
symbology; records are mapped back through the session's symbol mapping messages. A session
subscribes every contract active from the trade date of its replay start to today's. When
the clock reaches a trade date whose contracts the session lacks (a roll), the source opens
a new session replaying from the last minute received (a running session cannot replay);
records of a contract on a day it is not the active one are ignored.

Start: warm-up first (``warmup_bars`` bar times before the first live hour, from
``history``), then a session replaying from the end of the warm-up (at most 23 hours back,
the gateway keeps 24), so the hours between the warm-up and now arrive too. Every group of
an hour that ended before the source was built is ``historical``; the first live group is
the hour in progress then (``first_live_time`` is its close).

Reconnect: an ended session (dropped, gateway closed, failed to connect) is reopened after
``reconnect_delay_secs`` (doubling up to ``max_reconnect_delay_secs``), replaying from the last
minute received; the overlap is dropped as duplicates and a record for an hour already
emitted is counted as late and dropped, so no bar repeats and time never runs backwards.

Staleness: ``status().silence_secs`` is the time since the gateway last sent anything
(heartbeats included); ``stale`` when above ``max_silence_secs``.

Threads: one opens and watches the sessions; the client's own thread hands each record to a
bounded queue (blocking it when full, which slows the session down); one thread owns the bar
building (records and clock ticks); completed hours reach ``groups()`` through a bounded queue.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np

from multialpha.clock import Clock
from multialpha.domain import BarGroup
from multialpha.errors import DataError
from multialpha.features.bars import NS_PER_SECOND
from multialpha.features.daily import exchange_minutes, trading_day_ids
from multialpha.feeds.hourly import HOUR_NS, CompletedHour, HourlyAggregator, hour_start
from multialpha.feeds.live_bars import LiveBarBuilder, to_ns
from multialpha.feeds.live_client import LiveConnector
from multialpha.feeds.live_sessions import SessionEnded, SessionKeeper, SessionOpened, SessionState
from multialpha.feeds.replay_source import ReplaySource
from multialpha.feeds.source import FeedStatus
from multialpha.feeds.symbology import ContractBook, ContractFor, trade_date
from multialpha.feeds.warmup import HistorySource, before

log = logging.getLogger(__name__)

REPLAY_WINDOW_SECS = 23 * 3600  # the gateway replays 24 hours; keep a margin
_EPOCH = date(1970, 1, 1)
_END = object()


def _utc(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns // NS_PER_SECOND, tz=UTC)


def bar_group(seq: int, hour: CompletedHour, *, historical: bool) -> BarGroup:
    """A completed hour as the bar group the runner takes (fields as ``ReplaySource`` fills them)."""
    close = np.array([hour.ts_ns + HOUR_NS], dtype=np.int64)
    return BarGroup(seq=seq, ts_ns=hour.ts_ns, close_time=_utc(int(close[0])),
                    trading_day=_EPOCH + timedelta(days=int(trading_day_ids(close)[0])),
                    close_minute=int(exchange_minutes(close)[0]), historical=historical,
                    bars=dict(hour.bars))


class DatabentoLiveSource:
    """Hourly bar groups from Databento's live gateway (see the module docstring).

    ``symbols`` are every symbol delivered (traded and reference); ``connector`` opens
    gateway sessions; ``contract_for`` names each symbol's contract per trading day;
    ``clock`` is the only time read. ``history`` supplies ``warmup_bars`` bar times of
    warm-up. ``grace_secs`` is how long after an hour's end the clock closes it when no
    later record or end-of-interval message did. ``poll_secs`` bounds how late a clock-based
    close, a roll or ``close()`` is noticed. ``queue_size`` bounds the completed hours
    waiting for the consumer (and records waiting for the bar builder, times 1000).
    """

    def __init__(self, symbols: Sequence[str], *, connector: LiveConnector, contract_for: ContractFor,
                 clock: Clock, history: HistorySource | None = None, warmup_bars: int = 0,
                 tick_sizes: Mapping[str, float] | None = None, grace_secs: float = 5.0,
                 max_silence_secs: float = 120.0, poll_secs: float = 0.5,
                 reconnect_delay_secs: float = 1.0, max_reconnect_delay_secs: float = 30.0,
                 replay_window_secs: float = REPLAY_WINDOW_SECS, queue_size: int = 64) -> None:
        if not symbols:
            raise ValueError("symbols must not be empty")
        if warmup_bars < 0:
            raise ValueError("warmup_bars must be >= 0")
        if warmup_bars and history is None:
            raise ValueError("warmup_bars needs a history source")
        for name, value in (("max_silence_secs", max_silence_secs), ("poll_secs", poll_secs),
                            ("reconnect_delay_secs", reconnect_delay_secs), ("queue_size", queue_size),
                            ("replay_window_secs", replay_window_secs)):
            if value <= 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self._symbols = list(dict.fromkeys(symbols))
        self._connector = connector
        self._book = ContractBook(self._symbols, contract_for)
        self._clock = clock
        self._history = history
        self._warmup_bars = warmup_bars
        self._ticks = dict(tick_sizes or {})
        self._grace_secs = grace_secs
        self._max_silence_secs = max_silence_secs
        self._poll_secs = poll_secs
        self._delay_secs = (reconnect_delay_secs, max(reconnect_delay_secs, max_reconnect_delay_secs))
        self._window_ns = int(replay_window_secs * NS_PER_SECOND)
        self._started_at = clock.now()
        self._first_live_ns = hour_start(to_ns(self._started_at))

        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._iterated = False
        self._inbox: queue.Queue[object] = queue.Queue(maxsize=queue_size * 1000)
        self._out: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._builder: LiveBarBuilder | None = None
        self._sessions: SessionKeeper | None = None
        self._bar_thread: threading.Thread | None = None
        self._resume_ns: int | None = None  # replay start of the first session
        self._live_since: datetime | None = None
        self._last_close: datetime | None = None

    # -- BarSource ------------------------------------------------------------------------
    @property
    def symbols(self) -> list[str]:
        return list(self._symbols)

    @property
    def is_live(self) -> bool:
        return True

    @property
    def first_live_time(self) -> datetime | None:
        return _utc(self._first_live_ns + HOUR_NS)

    def groups(self) -> Iterator[BarGroup]:
        with self._lock:
            if self._iterated:
                raise RuntimeError("DatabentoLiveSource.groups() can be iterated only once")
            self._iterated = True
        return self._groups()

    def _groups(self) -> Iterator[BarGroup]:
        try:
            seq = 0
            last_ts: int | None = None
            for group in self._warmup():
                if self._closed.is_set():
                    return
                last_ts = group.ts_ns
                self._last_close = group.close_time
                yield replace(group, seq=seq)
                seq += 1
            self._start(last_ts)
            while True:
                item = self._out.get()
                if item is _END or self._closed.is_set():
                    return
                if isinstance(item, BaseException):
                    raise DataError(f"Databento live feed stopped: {item!r}") from item
                assert isinstance(item, CompletedHour)
                group = bar_group(seq, item, historical=item.ts_ns < self._first_live_ns)
                seq += 1
                self._last_close = group.close_time
                yield group
        finally:
            self.close()

    def status(self) -> FeedStatus:
        silence = self.silence_secs()
        stale = silence is not None and silence > self._max_silence_secs
        state = self._session_state()
        parts = [state.note]
        if state.connected:
            parts.append("subscribed " + ",".join(sorted(state.subscribed)))
        if silence is not None:
            parts.append(f"last record {silence:.0f}s ago" + (" (stale)" if stale else ""))
        b = self._builder
        if b is not None:
            parts.append(f"dropped: {b.duplicates} duplicate, {b.late} late, {b.inactive} inactive-contract, "
                         f"{b.unmapped} unmapped; {state.reconnects} reconnect(s)")
            if b.gateway_errors:
                parts.append("gateway error: " + b.gateway_errors[-1])
        return FeedStatus(live=True, connected=state.connected, last_bar_time=self._last_close,
                          detail="; ".join(parts), silence_secs=silence, stale=stale)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if self._sessions is not None:
            self._sessions.close(timeout=self._poll_secs * 4)
        # A full queue means the consumer is not blocked: it sees the flag on its next item.
        with contextlib.suppress(queue.Full):
            self._out.put_nowait(_END)
        bar_thread = self._bar_thread
        if bar_thread is not None and bar_thread is not threading.current_thread():
            bar_thread.join(timeout=self._poll_secs * 4)

    # -- health ---------------------------------------------------------------------------
    def silence_secs(self) -> float | None:
        """Seconds since the gateway last sent anything (since going live if it never did)."""
        since = self._session_state().last_record_at or self._live_since
        if since is None:
            return None
        return max(0.0, (self._clock.now() - since).total_seconds())

    @property
    def reconnects(self) -> int:
        """Sessions opened after the first (drops, gateway restarts and rolls)."""
        return self._session_state().reconnects

    def _session_state(self) -> SessionState:
        if self._sessions is None:
            return SessionState(False, "closed" if self._closed.is_set() else "not started", frozenset(), 0, None)
        return self._sessions.state()

    @property
    def last_minute_ns(self) -> int | None:
        """``ts_event`` of the latest minute record taken into the bars (any contract)."""
        b = self._builder
        return None if b is None else b.last_minute_ns

    @property
    def dropped(self) -> dict[str, int]:
        """Records dropped so far, by reason."""
        b = self._builder
        if b is None:
            return {"duplicate": 0, "late": 0, "inactive_contract": 0, "unmapped": 0}
        return {"duplicate": b.duplicates, "late": b.late, "inactive_contract": b.inactive,
                "unmapped": b.unmapped}

    # -- start ----------------------------------------------------------------------------
    def _warmup(self) -> Iterator[BarGroup]:
        if not self._warmup_bars or self._history is None:
            return
        loaded = self._history.bars(self._symbols, self._first_live_ns)
        bars = {s: before(b, self._first_live_ns) for s, b in loaded.items()}
        bars = {s: b for s, b in bars.items() if len(b)}
        if not bars:
            log.warning("feed.no_warmup: the history source has no bars before %s", self.first_live_time)
            return
        last = max(int(b.ts[-1]) for b in bars.values())
        yield from ReplaySource(bars, warmup_bars=self._warmup_bars, resume_after_ns=last).groups()

    def _start(self, last_warmup_ts: int | None) -> None:
        start = self._first_live_ns if last_warmup_ts is None else last_warmup_ts + HOUR_NS
        oldest = hour_start(to_ns(self._clock.now()) - self._window_ns) + HOUR_NS
        if start < oldest:
            log.warning("feed.warmup_gap: warm-up ends at %s, replay reaches back only to %s",
                        _utc(start), _utc(oldest))
            start = oldest
        self._resume_ns = start
        self._builder = LiveBarBuilder(self._book, HourlyAggregator(self._ticks, open_from_ns=start),
                                       grace_secs=self._grace_secs)
        if self._closed.is_set():
            return
        self._live_since = self._clock.now()
        self._sessions = SessionKeeper(
            self._connector, plan=self._plan, deliver=lambda item: self._put(self._inbox, item),
            clock=self._clock, closed=self._closed, delay_secs=self._delay_secs[0],
            max_delay_secs=self._delay_secs[1])
        bar_thread = threading.Thread(target=self._run_bars, name="databento-bars", daemon=True)
        bar_thread.start()
        self._bar_thread = bar_thread
        self._sessions.start()

    # -- sessions -----------------------------------------------------------------------
    def _plan(self) -> tuple[list[str], int]:
        """The next session: replay from the last minute received (the warm-up end before any),
        within the replay window; every contract active from that trade date to today's."""
        now_ns = to_ns(self._clock.now())
        assert self._sessions is not None and self._resume_ns is not None
        last = self._sessions.last_minute_ns
        start = max(self._resume_ns if last is None else last, hour_start(now_ns - self._window_ns) + HOUR_NS)
        return self._book.contracts(trade_date(start), trade_date(now_ns)), start

    def _put(self, q: queue.Queue[object], item: object) -> bool:
        """Blocking put that gives up when the source closes; False if it did."""
        while not self._closed.is_set():
            try:
                q.put(item, timeout=self._poll_secs)
                return True
            except queue.Full:
                continue
        return False

    # -- bar thread -----------------------------------------------------------------------
    def _run_bars(self) -> None:
        builder = self._builder
        assert builder is not None
        try:
            while not self._closed.is_set():
                try:
                    item = self._inbox.get(timeout=self._poll_secs)
                except queue.Empty:
                    item = None
                hours: list[CompletedHour] = []
                if isinstance(item, Exception):
                    raise item
                if isinstance(item, SessionOpened):
                    builder.session_started(replaying=True)  # the gateway says when replay is done
                elif item is not None and not isinstance(item, SessionEnded):
                    hours = builder.on_record(item)  # type: ignore[arg-type]
                now = self._clock.now()
                hours += builder.on_clock(now)
                for hour in hours:
                    if not self._put(self._out, hour):
                        return
                self._check_roll(now)
        except Exception as exc:  # a bug: stop the feed loudly rather than go quiet
            log.exception("feed.bar_builder_failed")
            self._put(self._out, exc)

    def _check_roll(self, now: datetime) -> None:
        assert self._sessions is not None
        state = self._sessions.state()
        if not state.connected:
            return
        day = trade_date(to_ns(now))
        missing = set(self._book.active(day)) - state.subscribed
        if missing and self._sessions.resubscribe():
            log.info("feed.roll trade_date=%s new_contracts=%s: resubscribing", day, ",".join(sorted(missing)))
