"""MultiAlphaRunner: one worker per enabled strategy, one coordinator, one hub loop."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from multialpha.alerts import Notifier, make_notifier
from multialpha.clock import ManualClock
from multialpha.config import AppConfig, ResolvedStrategy, resolve_strategies
from multialpha.config.schema import RuntimeMode
from multialpha.contracts import load_contracts
from multialpha.domain import ClosedTrade
from multialpha.errors import WorkerError
from multialpha.execution import TradersPostClient, WebhookClient
from multialpha.execution.router import OrderRouter, Routed
from multialpha.execution.sender import Delivered
from multialpha.features import REQUIRED_HISTORY_BARS
from multialpha.feeds.source import BarSource
from multialpha.portfolio import (
    CoordinatorEvent,
    EventKind,
)
from multialpha.rolls import load_rolls
from multialpha.runner.coordination import build_coordinator
from multialpha.runner.deliveries import Deliveries
from multialpha.runner.fallback import FallbackSteps
from multialpha.runner.hub import Hub
from multialpha.runner.ledger import StoreLedger
from multialpha.runner.lock import DaemonLock
from multialpha.runner.modes import check_mode
from multialpha.runner.monitoring import Monitoring
from multialpha.runner.recovery import HaltSync, Recovery, recover
from multialpha.runner.sources import build_source
from multialpha.runner.systemd import sd_notify
from multialpha.runner.worker import StrategyWorker, WorkerServices
from multialpha.state import StateStore

log = logging.getLogger(__name__)
SWITCH_INTERVAL_SECS = 0.0002


@dataclass(frozen=True)
class RunOptions:
    start: date | None = None  # overrides runtime.data.start
    end: date | None = None  # overrides runtime.data.end
    fail_fast: bool | None = None  # overrides runtime.fail_fast
    allow_unverified_models: bool | None = None
    worker_wait_log_secs: float = 30.0
    drain_secs: float = 60.0  # at the end, how long the senders may take to deliver and confirm exits
    show_progress: bool = False  # progress lines on stderr (the CLI's run and demo)


@dataclass
class RunReport:
    strategies: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    coordinator: dict[str, Any] = field(default_factory=dict)
    trades: list[ClosedTrade] = field(default_factory=list)
    routed: list[Routed] = field(default_factory=list)  # every order handed over, with its latency stamps
    delivered: list[Delivered] = field(default_factory=list)  # every delivery the senders finished
    daily_stops: list[dict[str, Any]] = field(default_factory=list)
    bar_times: int = 0
    live_bar_times: int = 0
    first_live_time: str | None = None
    wall_secs: float = 0.0


class MultiAlphaRunner:
    def __init__(self, cfg: AppConfig, *, options: RunOptions | None = None,
                 client: WebhookClient | None = None, notifier: Notifier | None = None,
                 on_routed: Callable[[Routed], None] | None = None,
                 on_delivered: Callable[[Delivered], None] | None = None,
                 on_committed: Callable[[Routed], None] | None = None) -> None:
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
        self.monitoring = Monitoring(cfg, self.strategies, self.notifier, show_progress=self.options.show_progress)
        self.notifier = self.monitoring.notifier  # every alert through the alert policy
        self.coordinator = build_coordinator(cfg, self.strategies, self.contracts, self.clock,
                                             on_event=self._on_coordinator_event)
        self.client = client or TradersPostClient(
            timeout_secs=rt.webhook.timeout_secs, max_attempts=rt.webhook.max_attempts,
            max_retry_wait_secs=rt.webhook.max_retry_wait_secs)
        self._on_routed = on_routed
        self._on_delivered = on_delivered
        self._on_committed = on_committed
        self.references = tuple(rt.data.reference_symbols)
        if rt.data.warmup_bars < REQUIRED_HISTORY_BARS:
            self.report.notes.append(
                f"runtime.data.warmup_bars is {rt.data.warmup_bars}, below the {REQUIRED_HISTORY_BARS} bars the "
                "features need to be exact: early signals may lack features, and a restart can decide "
                "differently than an uninterrupted run")
        self.workers: list[StrategyWorker] = []
        self._stop = threading.Event()
        self._source: BarSource | None = None

    def request_stop(self) -> None:
        """Stop after the bar time being processed (SIGTERM/SIGINT): its state is committed first.
        A live source waiting for the next bar stops waiting."""
        self._stop.set()
        source = self._source
        if source is not None and source.is_live:
            source.close()

    # -- events --------------------------------------------------------------------------------
    def _on_coordinator_event(self, event: CoordinatorEvent) -> None:
        self.monitoring.on_coordinator_event(event)
        if event.kind is EventKind.DAILY_STOP_HIT:
            row = {"trading_day": event.trading_day.isoformat(), "scope": event.scope,
                   "at": event.at.isoformat(), "pnl": round(float(event.data.get("daily_pnl", 0.0)), 2)}
            self.report.daily_stops.append(row)

    def _delivered(self, d: Delivered) -> None:
        row = d.row
        self.monitoring.order_outcome(strategy=row.strategy, symbol=row.symbol, action=row.action.value,
                                      intent_id=row.intent_id, status=row.status, detail=row.detail or "",
                                      delivery_secs=(d.done_ns - d.queued_ns) / 1e9)
        self.deliveries.on_delivered(d)
        if self._on_delivered is not None:
            self._on_delivered(d)

    def _routed(self, r: Routed) -> None:
        self.deliveries.on_routed(r)
        self.report.routed.append(r)
        if self._on_routed is not None:
            self._on_routed(r)

    @property
    def fail_fast(self) -> bool:
        return _pick(self.options.fail_fast, self.cfg.runtime.fail_fast)

    # -- start-up --------------------------------------------------------------------------------
    def _build_workers(self, store: StateStore, recovery: Recovery) -> None:
        rt = self.cfg.runtime
        urls = {s.name: s.broker_account.get_secret_value() for s in self.strategies}
        self.deliveries = Deliveries(store, self.coordinator, self.notifier, urls)
        router = self.router = OrderRouter(self.client, urls, store, on_delivered=self._delivered,
                                           on_routed=self._routed, on_committed=self._on_committed,
                                           paper=rt.mode is RuntimeMode.PAPER)
        self.deliveries.attach(router)
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
        return build_source(self.cfg, self.strategies, self.contracts, self.rolls,
                            extra_symbols=[s for syms in recovery.orphans.values() for s in syms],
                            start=_pick(self.options.start, rt.data.start), end=_pick(self.options.end, rt.data.end),
                            resume_after_ns=recovery.resume_after_ns)

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> RunReport:
        t0 = time.perf_counter()
        # Background threads (senders, alerts, the health endpoint) must not hold the
        # interpreter for a decision for long: hand it over every 0.2 ms, not every 5 ms.
        sys.setswitchinterval(SWITCH_INTERVAL_SECS)
        check_mode(self.cfg)
        lock = DaemonLock(self.cfg.runtime.state_path)
        lock.acquire()
        # Commits need not wait for the disk: the senders sync it before every POST.
        store = StateStore.open(self.cfg.runtime.state_path, synced_commits=False)
        try:
            # An order's outbox commit must not pay for folding the WAL into the store: that
            # happens between bar times, once the WAL has grown to WAL_CHECKPOINT_BYTES.
            store.defer_wal_checkpoints()
            self.monitoring.start()
            recovery = recover(store, self.coordinator, self.notifier, self.strategies)
            self.report.notes.extend(recovery.notes)
            halts = HaltSync(store, self.coordinator, self.notifier)
            halts.sync()
            source = self._source = self.source(recovery)
            self._build_workers(store, recovery)
            workers = self.prepare(held=bool(store.positions.all()))
            self.monitoring.attach(workers=lambda: self.workers, source=source, coordinator=self.coordinator,
                                   state_path=self.cfg.runtime.state_path)
            hub = Hub(store=store, clock=self.clock, coordinator=self.coordinator, ledger=self.ledger,
                      workers=self.workers, fallback=self._fallback(store), halts=halts,
                      deliveries=self.deliveries, router=self.router, stop=self._stop,
                      settle_secs=rt_settle(self.cfg),
                      wait_log_secs=self.options.worker_wait_log_secs, on_note=self.report.notes.append,
                      monitoring=self.monitoring)
            hub.adopt_failed()
            live = source.first_live_time
            self.report.first_live_time = None if live is None else live.isoformat()
            for w in workers:
                w.start()
            sd_notify(f"READY=1\nSTATUS=trading {len(workers)} strategies")
            self.monitoring.running(notes=len(self.report.notes))
            try:
                hub.run(source)
            finally:
                self.report.bar_times, self.report.live_bar_times = hub.counts.bar_times, hub.counts.live_bar_times
                for w in workers:
                    w.inbox.end()
                for w in workers:
                    w.join(timeout_secs=30)
                source.close()
                # Every decision is committed; let the senders deliver what they hold.
                if not self.deliveries.finish(self.router, self.options.drain_secs):
                    self.report.notes.append(
                        f"after {self.options.drain_secs:g}s, {self.router.backlog} order(s) still queued and exits not confirmed "
                        f"for {self.deliveries.unconfirmed_exits}: the next start takes them over")
                self.deliveries.close()
                self.router.close()
            fatal = self.router.fatal()
            if fatal is not None:
                raise fatal
            self._collect(workers)
        finally:
            sd_notify("STOPPING=1")
            self.monitoring.close("stop requested" if self._stop.is_set() else "the bar source ended",
                                  bar_times=self.report.bar_times, trades=len(self.report.trades),
                                  failed=self.report.failed)
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
        self.report.delivered = list(self.deliveries.delivered)


def rt_settle(cfg: AppConfig) -> float | None:
    """A replay settles every bar time's deliveries before the next, so that what the gateway
    answered is known at the same point of every replay (deterministic, like research); live
    bars are an hour apart, and nothing waits for a POST there."""
    if cfg.runtime.mode is RuntimeMode.REPLAY:
        return cfg.runtime.webhook.timeout_secs * cfg.runtime.webhook.max_attempts + 5.0
    return None


def _pick(override: Any, default: Any) -> Any:
    return default if override is None else override
