"""The hub loop: one bar time after another, every strategy in lock-step.

Per bar time, in this order:

1. set the clock and roll the CME trading day;
2. apply operator halts and order settlements written to the state store;
3. positions of failed strategies (adopted by the hub) are marked and managed;
4. each live worker steps its instruments through the bar time, one worker after another;
5. a worker that failed during it has its positions adopted (``runtime.on_strategy_failure``);
6. the flatten sweep: if a daily stop or a flatten-halt now applies, every open position in
   its scope exits in this same bar time, including positions evaluated before the stop fired
   (an earlier symbol, another strategy) and those of failed strategies;
7. a replay lets the senders deliver this bar time's orders (so what the gateway answered is
   known at the same point of every replay);
8. the bar time is checkpointed with the coordinator's state, atomically, when it changed the
   books (``_checkpoint_due``).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from multialpha.calendar import trading_day
from multialpha.clock import ManualClock
from multialpha.domain import BarGroup
from multialpha.execution.router import OrderRouter
from multialpha.feeds.source import BarSource
from multialpha.portfolio import PortfolioCoordinator
from multialpha.runner.deliveries import Deliveries
from multialpha.runner.fallback import FallbackSteps
from multialpha.runner.ledger import StoreLedger
from multialpha.runner.lifecycle import WorkerState
from multialpha.runner.monitoring import Monitoring
from multialpha.runner.recovery import CHECKPOINT, HaltSync
from multialpha.runner.systemd import sd_notify
from multialpha.runner.worker import StrategyWorker
from multialpha.state import StateStore
from multialpha.strategy.step import InstrumentStep

log = logging.getLogger(__name__)
# Fold the WAL into the store between bar times once it holds this much (SQLite would do it
# inside whichever commit crossed 1000 pages, about 4 MiB). A fold copies each page once however
# often it changed, and fsyncs the store: a replay rewrites the same few pages thousands of times.
WAL_CHECKPOINT_BYTES = 16 * 1024 * 1024
CHECKPOINT_EVERY_SECS = 1.0


@dataclass
class HubCounts:
    bar_times: int = 0
    live_bar_times: int = 0
    swept_exits: int = 0


class Hub:
    def __init__(self, *, store: StateStore, clock: ManualClock, coordinator: PortfolioCoordinator,
                 ledger: StoreLedger, workers: list[StrategyWorker], fallback: FallbackSteps,
                 halts: HaltSync, deliveries: Deliveries, router: OrderRouter, stop: threading.Event,
                 settle_secs: float | None = None, wait_log_secs: float = 30.0,
                 on_note: Callable[[str], None] | None = None, monitoring: Monitoring | None = None) -> None:
        self.store, self.clock, self.coordinator, self.ledger = store, clock, coordinator, ledger
        self.workers, self.fallback, self.halts = workers, fallback, halts
        self.deliveries, self.router = deliveries, router
        self._stop, self._wait_log_secs, self._settle_secs = stop, wait_log_secs, settle_secs
        self._on_note = on_note or (lambda _note: None)
        self.counts = HubCounts()
        self.monitoring = monitoring
        self._live = False
        self._unsaved: BarGroup | None = None  # the last bar time processed, when not yet recorded
        self._last_checkpoint = time.monotonic()

    # -- lookups ----------------------------------------------------------------------------------
    def live_workers(self) -> list[StrategyWorker]:
        return [w for w in self.workers if w.alive]

    def steps(self) -> Iterable[InstrumentStep]:
        """Every step managing a position or able to: live workers' (in config order), then adopted."""
        for w in self.live_workers():
            yield from w.steps.values()
        yield from self.fallback

    def step_of(self, strategy: str, symbol: str) -> InstrumentStep | None:
        for step in self.steps():
            if step.strategy == strategy and step.symbol == symbol:
                return step
        return None

    # -- the loop ---------------------------------------------------------------------------------
    def adopt_failed(self) -> None:
        for w in self.workers:
            if w.state is WorkerState.FAILED and w.name not in self.fallback.adopted:
                self.fallback.adopt(w.strategy, w.error or "failed", w.history)
                if self.monitoring is not None:
                    self.monitoring.worker_failed(w.name, w.error or "failed")

    def run(self, source: BarSource) -> None:
        self.deliveries.start()
        self._live = source.is_live
        try:
            for group in source.groups():
                self.bar_time(group)
                if self._stop.is_set():
                    log.info("runner.stopping after bar_time=%s", group.close_time.isoformat())
                    self._on_note(f"stopped on request after bar {group.close_time.isoformat()}")
                    break
                if not self.live_workers() and not any(s.position for s in self.fallback):
                    break
        finally:
            if self._unsaved is not None:  # the last bar times processed, recorded before stopping
                self._checkpoint(self._unsaved)

    def bar_time(self, group: BarGroup) -> None:
        m = self.monitoring
        if m is not None:
            m.bar_time_started()
        self.clock.set(group.close_time)
        rolled = self.coordinator.roll(group.close_time)
        fills = self.ledger.fills
        self.halts.sync()
        self.deliveries.sync(self.step_of)
        group = dataclasses.replace(group, arrived_ns=time.perf_counter_ns())
        self.fallback.on_group(group)
        for w in self.live_workers():
            handed_ns = time.perf_counter_ns()
            w.inbox.put(group)
            waited = 0.0
            while not w.inbox.wait_processed(group.seq, self._wait_log_secs):
                waited += self._wait_log_secs
                log.warning("worker.slow strategy=%s bar_time=%s waited_secs=%.0f",
                            w.name, group.close_time.isoformat(), waited)
            if m is not None:
                m.worker_done((time.perf_counter_ns() - handed_ns) / 1e9)
        for w in self.workers:
            if w.fatal is not None:
                raise w.fatal
        fatal = self.router.fatal()
        if fatal is not None:
            raise fatal
        self.adopt_failed()
        if not group.historical:
            self.sweep(group)
        if self._settle_secs is not None and not self.router.drain(self._settle_secs):
            log.warning("hub.deliveries_unsettled bar_time=%s backlog=%d", group.close_time.isoformat(),
                        self.router.backlog)
        if not group.historical:
            if self._checkpoint_due(rolled, self.ledger.fills != fills):
                self._checkpoint(group)
            else:
                self._unsaved = group
        self.store.checkpoint_wal(WAL_CHECKPOINT_BYTES)
        sd_notify(f"STATUS=last bar {group.close_time.isoformat()}")  # the watchdog thread pings
        self.counts.bar_times += 1
        self.counts.live_bar_times += 0 if group.historical else 1
        if m is not None:
            m.bar_time_done(group)

    def sweep(self, group: BarGroup) -> None:
        """Exit, in this bar time, every open position a flatten now applies to."""
        for step in list(self.steps()):
            if step.sweep(group.close_time, group.arrived_ns):
                self.counts.swept_exits += 1

    def _checkpoint_due(self, rolled: bool, filled: bool) -> bool:
        """Record a bar time when it changed the books (a fill commits the coordinator with it, but
        not the bar time), when the trading day rolled, for every live bar (an hour apart), and
        otherwise at most every ``CHECKPOINT_EVERY_SECS`` of a replay: a bar time processed again
        after a crash changes nothing that was not recorded (no fill happened in it), so a
        replay need not pay an fsync per bar time."""
        return (filled or rolled or self._live or self._stop.is_set()
                or time.monotonic() - self._last_checkpoint >= CHECKPOINT_EVERY_SECS)

    def _checkpoint(self, group: BarGroup) -> None:
        """The bar time is fully processed: record it with the coordinator's state, atomically."""
        self._unsaved = None
        self._last_checkpoint = time.monotonic()
        with self.store.transaction() as st:
            st.daily.save_snapshot(CHECKPOINT, trading_day(group.close_time),
                                   {"ts_ns": group.ts_ns, "close_time": group.close_time.isoformat()})
            st.bars.touch_many({s: group.close_time for s in group.bars})
            self.ledger.save_snapshot(group.close_time)
