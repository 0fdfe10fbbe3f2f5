"""``Monitoring``: everything that watches the daemon and tells people, behind a few calls.

It owns the metrics, the health board, the ``/health`` + ``/metrics`` server, the systemd
watchdog, the trader alerts and the terminal progress. The runner and the hub only call:

* ``start()`` early (binds the HTTP port: a port in use is a ConfigError before anything trades),
  ``attach(...)`` once the workers and the bar source exist, ``running()`` right after READY=1,
  ``close(...)`` at the end;
* per bar time ``bar_time_started()`` / ``bar_time_done(group)``, per worker and bar time
  ``worker_done(secs)``;
* ``on_coordinator_event``, ``order_outcome`` and ``worker_failed`` as those happen.

Every hook is cheap and never raises into the caller; nothing here does I/O on a trading thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from multialpha.alerts import Notifier
from multialpha.config import AppConfig, ResolvedStrategy, secrets_of
from multialpha.domain import BarGroup, OrderStatus
from multialpha.feeds.source import BarSource, FeedStatus
from multialpha.portfolio import CoordinatorEvent, PortfolioCoordinator
from multialpha.runner.alerting import TraderAlerts, build_alerts
from multialpha.runner.health import HealthPolicy, OutboxCounts, WorkerHealth
from multialpha.runner.health_board import HealthBoard, OutboxReader, trading_states, worker_health
from multialpha.runner.metrics import Metrics
from multialpha.runner.ops_server import OpsServer
from multialpha.runner.progress import ProgressReporter
from multialpha.runner.watchdog import Watchdog, health_watchdog

log = logging.getLogger(__name__)


class Monitoring:
    def __init__(self, cfg: AppConfig, strategies: Sequence[ResolvedStrategy], notifier: Notifier, *,
                 progress_stream: TextIO | None = None, show_progress: bool = True,
                 env: Mapping[str, str] | None = None) -> None:
        rt = cfg.runtime
        self.cfg, self.strategies = cfg, list(strategies)
        self.mode = str(rt.mode)
        self._secrets = secrets_of(cfg)
        self._env, self._show_progress, self._progress_stream = env, show_progress, progress_stream
        self.policy = HealthPolicy(stall_secs=rt.health.stall_secs)
        self.metrics = Metrics(mode=self.mode)
        self._workers: Callable[[], Iterable[Any]] = tuple
        self._source: BarSource | None = None
        self._coordinator: PortfolioCoordinator | None = None
        self._outbox: OutboxReader | None = None
        self.board = HealthBoard(mode=self.mode, workers=self._worker_health, feed=self._feed,
                                 outbox=self._outbox_counts, trading=self._trading)
        self.alerts: TraderAlerts = build_alerts(cfg, notifier, self.strategies, feed=self._feed)
        self.metrics.track_alerts(self.alerts.alert_counts)
        self.metrics.add_refresh(self._refresh_status)
        self.server: OpsServer | None = None
        self.watchdog: Watchdog | None = None
        self.progress: ProgressReporter | None = None

    @property
    def notifier(self) -> Notifier:
        """The notifier every other part of the daemon should alert through: the alert policy
        (de-duplication, rate limits, the paper marker) in front of the one given."""
        return self.alerts.policy

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Monitoring:
        """Serve /health and /metrics (unless ``runtime.health.port`` is 0) and start the alert ticker."""
        h = self.cfg.runtime.health
        if h.port:
            self.server = OpsServer(self.board, self.metrics, host=h.host, port=h.port, policy=self.policy,
                                    secrets=self._secrets).start()
        self.alerts.start()
        return self

    def attach(self, *, workers: Callable[[], Iterable[Any]], source: BarSource,
               coordinator: PortfolioCoordinator, state_path: Path) -> None:
        """What the health check reads: the workers (``StrategyWorker``), the bar source, the
        coordinator, and the state store (counted on a read-only connection of its own)."""
        self._workers, self._source, self._coordinator = workers, source, coordinator
        self._outbox = OutboxReader(state_path)
        if self._show_progress:
            self.progress = ProgressReporter.for_source(source, label=self.mode, stream=self._progress_stream)

    def running(self, *, notes: int = 0) -> None:
        """The workers run (call right after READY=1): the watchdog starts and the start alert goes out."""
        self.board.set_running()
        self.watchdog = health_watchdog(self.board, self.policy, secrets=self._secrets, env=self._env)
        if self.watchdog is not None:
            self.watchdog.start()
        self.alerts.started(self.cfg, self.strategies, health_url=None if self.server is None else self.server.url,
                            notes=notes)

    def close(self, reason: str, *, bar_times: int = 0, trades: int = 0, failed: Mapping[str, str] | None = None,
              timeout_secs: float = 5.0) -> None:
        """The stop alert, then stop the watchdog, the server and the alerts (drained)."""
        self.board.set_running(False)
        if self.progress is not None:
            self.progress.finish()
        if self.watchdog is not None:
            self.watchdog.stop()
        self.alerts.stopped(reason, bar_times=bar_times, trades=trades, failed=failed)
        self.alerts.close(timeout_secs)
        if self.server is not None:
            self.server.stop()
        if self._outbox is not None:
            self._outbox.close()

    # -- hub hooks (the hub's thread) ---------------------------------------------------------------
    def bar_time_started(self) -> None:
        self.board.bar_time_started()

    def bar_time_done(self, group: BarGroup) -> None:
        try:
            self.board.bar_time_done(group.close_time, group.bars.keys())
            for symbol in group.bars:
                self.metrics.bar_processed(symbol)
            self.metrics.bar_time(historical=group.historical)
            if self.progress is not None:
                self.progress.bar_time(group.close_time, historical=group.historical)
        except Exception:
            log.exception("monitoring.bar_time_failed")

    def worker_done(self, secs: float) -> None:
        """One worker finished its decisions for a bar time, ``secs`` after the hub handed it over."""
        self.metrics.decision_latency(secs)

    # -- events (any thread) ------------------------------------------------------------------------
    def on_coordinator_event(self, event: CoordinatorEvent) -> None:
        try:
            self.metrics.on_coordinator_event(event)
        except Exception:
            log.exception("monitoring.event_failed kind=%s", event.kind)
        self.alerts.on_coordinator_event(event)

    def order_outcome(self, *, strategy: str, symbol: str, action: str, intent_id: str, status: OrderStatus | str,
                      detail: str = "", delivery_secs: float | None = None) -> None:
        """A delivery attempt ended (not for intents found already in the outbox: nothing was sent)."""
        try:
            outcome = OrderStatus(status)
            self.metrics.order_status(strategy, outcome.value)
            if delivery_secs is not None:
                self.metrics.webhook_delivery(strategy, delivery_secs)
        except Exception:
            log.exception("monitoring.order_outcome_failed intent=%s", intent_id)
            return
        if outcome is OrderStatus.SENT:
            self.alerts.order_delivered(strategy, ok=True)
        elif outcome is OrderStatus.FAILED:
            self.alerts.order_delivered(strategy, ok=False, detail=detail,
                                        order=f"{symbol} {action} ({intent_id})")
        elif outcome is OrderStatus.UNKNOWN:
            self.alerts.unknown_order(strategy=strategy, symbol=symbol, action=str(action), intent_id=intent_id,
                                      detail=detail)

    def worker_failed(self, strategy: str, error: str) -> None:
        self.alerts.worker_failed(strategy, error, policy=str(self.cfg.runtime.on_strategy_failure))

    # -- providers (the HTTP, watchdog and alert threads) -------------------------------------------
    def _worker_health(self) -> Iterable[WorkerHealth]:
        return [worker_health(w) for w in self._workers()]

    def _feed(self) -> FeedStatus | None:
        return None if self._source is None else self._source.status()

    def _outbox_counts(self) -> OutboxCounts:
        return OutboxCounts() if self._outbox is None else self._outbox()

    def _trading(self) -> Mapping[str, str]:
        return {} if self._coordinator is None else trading_states(self._coordinator.status())

    def _refresh_status(self) -> None:
        if self._coordinator is not None:
            self.metrics.observe_status(self._coordinator.status())
