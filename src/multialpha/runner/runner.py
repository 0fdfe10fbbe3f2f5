"""MultiAlphaRunner: one worker per enabled strategy, one coordinator, one hub loop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from multialpha.alerts import Level, Notifier, make_notifier
from multialpha.clock import ManualClock
from multialpha.config import AppConfig, ResolvedStrategy, resolve_strategies
from multialpha.contracts import load_contracts
from multialpha.domain import ClosedTrade
from multialpha.errors import WorkerError
from multialpha.execution import TradersPostClient, WebhookClient
from multialpha.execution.router import OrderRouter, Routed
from multialpha.features import REQUIRED_HISTORY_BARS
from multialpha.feeds.source import BarSource
from multialpha.portfolio import (
    CoordinatorEvent,
    EventKind,
)
from multialpha.rolls import load_rolls
from multialpha.runner.coordination import build_coordinator
from multialpha.runner.fallback import FallbackSteps
from multialpha.runner.hub import Hub
from multialpha.runner.ledger import StoreLedger
from multialpha.runner.lock import DaemonLock
from multialpha.runner.modes import check_mode
from multialpha.runner.recovery import HaltSync, Recovery, recover
from multialpha.runner.settlement import Settlements
from multialpha.runner.sources import build_source
from multialpha.runner.systemd import sd_notify
from multialpha.runner.worker import StrategyWorker, WorkerServices
from multialpha.state import StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    start: date | None = None  # overrides runtime.data.start
    end: date | None = None  # overrides runtime.data.end
    fail_fast: bool | None = None  # overrides runtime.fail_fast
    allow_unverified_models: bool | None = None
    worker_wait_log_secs: float = 30.0


@dataclass
class RunReport:
    strategies: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    coordinator: dict[str, Any] = field(default_factory=dict)
    trades: list[ClosedTrade] = field(default_factory=list)
    routed: list[Routed] = field(default_factory=list)
    daily_stops: list[dict[str, Any]] = field(default_factory=list)
    bar_times: int = 0
    live_bar_times: int = 0
    first_live_time: str | None = None
    wall_secs: float = 0.0


class MultiAlphaRunner:
    def __init__(self, cfg: AppConfig, *, options: RunOptions | None = None,
                 client: WebhookClient | None = None, notifier: Notifier | None = None,
                 on_routed: Callable[[Routed], None] | None = None) -> None:
        self.cfg = cfg
        self.options = options or RunOptions()
        rt = cfg.runtime
        self.contracts = load_contracts(rt.contracts_path)
        self.clock = ManualClock(start=datetime(1970, 1, 1, tzinfo=UTC))
        self.notifier = notifier or make_notifier(
            rt.alerts.discord_webhook_url.get_secret_value() if rt.alerts.discord_webhook_url else None,
            rt.alerts.queue_size)
        self.report = RunReport()
        self.strategies: list[ResolvedStrategy] = resolve_strategies(cfg)
        self.rolls = load_rolls(rt.rolls_path, require=[s for st in self.strategies for s in st.symbols])
        for s in self.strategies:
            self.report.notes.extend(s.notes)
        self.coordinator = build_coordinator(cfg, self.strategies, self.contracts, self.clock,
                                             on_event=self._on_coordinator_event)
        self.client = client or TradersPostClient(
            timeout_secs=rt.webhook.timeout_secs, max_attempts=rt.webhook.max_attempts,
            max_retry_wait_secs=rt.webhook.max_retry_wait_secs)
        self._on_routed = on_routed
        self.references = tuple(rt.data.reference_symbols)
        if rt.data.warmup_bars < REQUIRED_HISTORY_BARS:
            self.report.notes.append(
                f"runtime.data.warmup_bars is {rt.data.warmup_bars}, below the {REQUIRED_HISTORY_BARS} bars the "
                "features need to be exact: early signals may lack features, and a restart can decide "
                "differently than an uninterrupted run")
        self.workers: list[StrategyWorker] = []
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """Stop after the bar time being processed (SIGTERM/SIGINT): its state is committed first."""
        self._stop.set()

    # -- events --------------------------------------------------------------------------------
    def _on_coordinator_event(self, event: CoordinatorEvent) -> None:
        if event.kind is EventKind.DAILY_STOP_HIT:
            row = {"trading_day": event.trading_day.isoformat(), "scope": event.scope,
                   "at": event.at.isoformat(), "pnl": round(float(event.data.get("daily_pnl", 0.0)), 2)}
            self.report.daily_stops.append(row)
            self.notifier.notify(Level.CRITICAL, f"Daily stop hit: {event.scope}",
                                 f"daily P&L {row['pnl']} on {row['trading_day']}; flattening and blocking "
                                 "entries until the next CME trading day")

    def _routed(self, r: Routed) -> None:
        self.report.routed.append(r)
        if self._on_routed is not None:
            self._on_routed(r)

    @property
    def fail_fast(self) -> bool:
        return _pick(self.options.fail_fast, self.cfg.runtime.fail_fast)

    # -- start-up --------------------------------------------------------------------------------
    def _build_workers(self, store: StateStore, recovery: Recovery) -> None:
        rt = self.cfg.runtime
        router = self.router = OrderRouter(
            self.client, {s.name: s.broker_account.get_secret_value() for s in self.strategies},
            self.notifier, store, on_routed=self._routed)
        self.ledger = StoreLedger(store, self.coordinator.snapshot)
        services = WorkerServices(
            contracts=self.contracts, coordinator=self.coordinator, router=router, notifier=self.notifier,
            ledger=self.ledger, references=self.references, base_dir=self.cfg.base_dir,
            allow_unverified_models=_pick(self.options.allow_unverified_models, rt.allow_unverified_models),
            rolls=self.rolls)
        self.workers = [StrategyWorker(s, services, exit_only=tuple(recovery.orphans.get(s.name, ())))
                        for s in self.strategies]

    def _fallback(self, store: StateStore) -> FallbackSteps:
        rt = self.cfg.runtime
        return FallbackSteps(store=store, coordinator=self.coordinator, orders=self.router, ledger=self.ledger,
                             contracts=self.contracts, notifier=self.notifier, policy=rt.on_strategy_failure,
                             base_dir=self.cfg.base_dir, rolls=self.rolls)

    def prepare(self, *, held: bool = False) -> list[StrategyWorker]:
        """Prepare every worker; a failing one is reported and left out (unless fail-fast). With no
        worker ready, the run goes on only if positions are held (the hub manages their exits)."""
        ready = []
        for w in self.workers:
            try:
                w.prepare()
                ready.append(w)
            except WorkerError as exc:
                log.error("worker.failed strategy=%s error=%s", w.name, exc)
                self.report.failed[w.name] = str(exc)
                if self.fail_fast:
                    raise
        for w in ready:
            self.report.notes.extend(w.notes)
            for setup in w.setups.values():
                self.report.notes.extend(setup.notes)
        if not ready and not held:
            raise WorkerError("no strategy worker could start: " + "; ".join(self.report.failed.values()))
        return ready

    def source(self, recovery: Recovery) -> BarSource:
        rt = self.cfg.runtime
        return build_source(self.cfg, self.strategies, self.contracts,
                            extra_symbols=[s for syms in recovery.orphans.values() for s in syms],
                            start=_pick(self.options.start, rt.data.start), end=_pick(self.options.end, rt.data.end),
                            resume_after_ns=recovery.resume_after_ns)

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> RunReport:
        t0 = time.perf_counter()
        check_mode(self.cfg)
        lock = DaemonLock(self.cfg.runtime.state_path)
        lock.acquire()
        store = StateStore.open(self.cfg.runtime.state_path)
        try:
            # An order's outbox commit must not pay for folding the WAL into the store: that
            # happens between bar times, once the WAL has grown to WAL_CHECKPOINT_BYTES.
            store.defer_wal_checkpoints()
            recovery = recover(store, self.coordinator, self.notifier, self.strategies)
            self.report.notes.extend(recovery.notes)
            halts = HaltSync(store, self.coordinator, self.notifier)
            halts.sync()
            source = self.source(recovery)
            self._build_workers(store, recovery)
            workers = self.prepare(held=bool(store.positions.all()))
            hub = Hub(store=store, clock=self.clock, coordinator=self.coordinator, ledger=self.ledger,
                      workers=self.workers, fallback=self._fallback(store), halts=halts,
                      settlements=Settlements(store, self.coordinator, self.notifier), stop=self._stop,
                      wait_log_secs=self.options.worker_wait_log_secs, on_note=self.report.notes.append)
            hub.adopt_failed()
            self.notifier.notify(Level.INFO, "multialpha started",
                                 f"mode={self.cfg.runtime.mode} strategies={[w.name for w in workers]}")
            live = source.first_live_time
            self.report.first_live_time = None if live is None else live.isoformat()
            for w in workers:
                w.start()
            sd_notify(f"READY=1\nSTATUS=trading {len(workers)} strategies")
            try:
                hub.run(source)
            finally:
                self.report.bar_times, self.report.live_bar_times = hub.counts.bar_times, hub.counts.live_bar_times
                for w in workers:
                    w.inbox.end()
                for w in workers:
                    w.join(timeout_secs=30)
            self._collect(workers)
        finally:
            sd_notify("STOPPING=1")
            close = getattr(self.notifier, "close", None)
            if close is not None:
                close(5.0)
            store.close()
            lock.release()
        self.report.wall_secs = time.perf_counter() - t0
        return self.report

    def _collect(self, workers: list[StrategyWorker]) -> None:
        for w in self.workers:
            if w.error and w.name not in self.report.failed:
                self.report.failed[w.name] = w.error
        for w in workers:
            self.report.strategies[w.name] = {s: st.stats.as_dict() for s, st in w.steps.items()}
        self.report.coordinator = self.coordinator.snapshot()
        self.report.trades = self.ledger.trades()


def _pick(override: Any, default: Any) -> Any:
    return default if override is None else override
