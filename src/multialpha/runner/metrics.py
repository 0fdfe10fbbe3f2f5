"""``Metrics``: the daemon's Prometheus metrics on a registry of its own.

Counters and histograms are fed by explicit calls from the trading threads (an increment under
a lock, no I/O). Gauges that mirror state (daily P&L, open positions, the feed, the outbox,
health) are set by refresh functions run on the HTTP thread just before each scrape, so the
trading threads never pay for them. Every daemon (and every test) has its own
``CollectorRegistry``, never the process-global one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, Metric

from multialpha import __version__
from multialpha.feeds.source import FeedStatus
from multialpha.portfolio import CoordinatorEvent, EventKind
from multialpha.portfolio.status import CoordinatorStatus
from multialpha.runner.health import HealthReport, Verdict

log = logging.getLogger(__name__)

# One worker's decision for one bar time takes tens of microseconds to a few milliseconds.
DECISION_BUCKETS_SECS = (50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3)
# A webhook POST: tens of milliseconds, up to the client's timeout and retries.
DELIVERY_BUCKETS_SECS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
HEALTH_CODES = {Verdict.OK: 0, Verdict.DEGRADED: 1, Verdict.FAILING: 2}


@dataclass(frozen=True)
class AlertCounts:
    """Alerts that did not reach the operator one by one (cumulative since start)."""

    dropped: int = 0  # the delivery queue was full
    failed: int = 0  # delivery failed (Discord unreachable, rejected)
    duplicates: int = 0  # collapsed into a "repeated N times" alert
    rate_limited: int = 0  # over the per-kind limit, summarised in one alert


class _AlertCollector:
    def __init__(self, read: Callable[[], AlertCounts]) -> None:
        self._read = read

    def describe(self) -> Iterator[Metric]:
        yield from self._families(AlertCounts())

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self._read()
        except Exception:
            log.exception("metrics.alert_counts_failed")
            return
        yield from self._families(counts)

    @staticmethod
    def _families(c: AlertCounts) -> Iterator[Metric]:
        yield CounterMetricFamily("multialpha_alerts_dropped", "Alerts dropped because the delivery queue was full",
                                  value=c.dropped)
        yield CounterMetricFamily("multialpha_alerts_failed", "Alerts whose delivery failed", value=c.failed)
        suppressed = CounterMetricFamily("multialpha_alerts_suppressed",
                                         "Alerts folded into a summary by the alert policy", labels=["reason"])
        suppressed.add_metric(["duplicate"], c.duplicates)
        suppressed.add_metric(["rate_limited"], c.rate_limited)
        yield suppressed


class Metrics:
    """The daemon's metrics. Thread-safe; every method is cheap enough for a trading thread."""

    def __init__(self, *, mode: str = "", version: str = __version__, registry: CollectorRegistry | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.registry = r = registry if registry is not None else CollectorRegistry()
        self._wall = wall_clock
        Gauge("multialpha_build_info", "Version and mode of the running daemon (always 1)",
              ["version", "mode"], registry=r).labels(version, mode).set(1)
        Gauge("multialpha_start_time_seconds", "When the daemon started (Unix time)",
              registry=r).set(wall_clock())
        self._bars = Counter("multialpha_bars_processed", "Bars processed, per symbol", ["symbol"], registry=r)
        self._bar_times = Counter("multialpha_bar_times_processed", "Bar times processed (warmup or live)",
                                  ["phase"], registry=r)
        self._decision = Histogram("multialpha_decision_latency_seconds",
                                   "From a bar time reaching a strategy worker to its decisions being done",
                                   buckets=DECISION_BUCKETS_SECS, registry=r)
        self._orders = Counter("multialpha_orders", "Order outcomes, per strategy and status",
                               ["strategy", "status"], registry=r)
        self._blocked = Counter("multialpha_entries_blocked", "Entries the coordinator refused, per reason",
                                ["strategy", "reason"], registry=r)
        self._stops = Counter("multialpha_daily_stops", "Daily stops hit, per scope", ["scope"], registry=r)
        self._trades = Counter("multialpha_trades_closed", "Positions closed, per strategy", ["strategy"],
                               registry=r)
        self._delivery = Histogram("multialpha_webhook_delivery_seconds",
                                   "From the outbox commit to the webhook's final answer", ["strategy"],
                                   buckets=DELIVERY_BUCKETS_SECS, registry=r)
        self._pnl = Gauge("multialpha_daily_pnl_usd", "Today's P&L (realized + open), per scope", ["scope"],
                          registry=r)
        self._stop_loss = Gauge("multialpha_daily_stop_loss_usd", "The daily stop in force, per scope",
                                ["scope"], registry=r)
        self._positions = Gauge("multialpha_open_positions", "Open positions, per scope", ["scope"], registry=r)
        self._silence = Gauge("multialpha_feed_silence_seconds", "Seconds since the market feed last sent anything",
                              registry=r)
        self._connected = Gauge("multialpha_feed_connected", "1 when the market feed is connected", registry=r)
        self._lag = Gauge("multialpha_feed_lag_seconds", "Seconds since the close time of the last bar time",
                          registry=r)
        self._outbox = Gauge("multialpha_outbox_orders", "Orders in the outbox needing attention, per status",
                             ["status"], registry=r)
        self._worker_up = Gauge("multialpha_worker_up", "1 while the strategy's worker runs", ["strategy"],
                                registry=r)
        self._health = Gauge("multialpha_health_status", "0 ok, 1 degraded, 2 failing", registry=r)
        self._refresh_errors = Counter("multialpha_metrics_refresh_errors", "Refresh functions that raised",
                                       registry=r)
        self._bar_children: dict[str, Counter] = {}
        self._refreshers: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    # -- counters and histograms (trading threads) ------------------------------------------------
    def bar_processed(self, symbol: str) -> None:
        child = self._bar_children.get(symbol)
        if child is None:
            child = self._bar_children.setdefault(symbol, self._bars.labels(symbol))
        child.inc()

    def bar_time(self, *, historical: bool) -> None:
        self._bar_times.labels("warmup" if historical else "live").inc()

    def decision_latency(self, secs: float) -> None:
        self._decision.observe(secs)

    def order_status(self, strategy: str, status: str) -> None:
        self._orders.labels(strategy, str(status)).inc()

    def webhook_delivery(self, strategy: str, secs: float) -> None:
        self._delivery.labels(strategy).observe(secs)

    def entry_blocked(self, strategy: str, reason: str) -> None:
        self._blocked.labels(strategy, reason).inc()

    def daily_stop_hit(self, scope: str) -> None:
        self._stops.labels(scope).inc()

    def trade_closed(self, strategy: str) -> None:
        self._trades.labels(strategy).inc()

    def on_coordinator_event(self, event: CoordinatorEvent) -> None:
        """Count what a coordinator event says (blocked entries, daily stops, closed trades)."""
        scope = event.scope or "account"
        if event.kind is EventKind.ENTRY_DENIED:
            self.entry_blocked(scope, event.reason or "unknown")
        elif event.kind is EventKind.DAILY_STOP_HIT:
            self.daily_stop_hit(scope)
        elif event.kind is EventKind.POSITION_CLOSED:
            self.trade_closed(scope)

    # -- gauges (set at scrape time by refresh functions) ------------------------------------------
    def set_daily_pnl(self, scope: str, usd: float) -> None:
        self._pnl.labels(scope).set(usd)

    def set_daily_stop_loss(self, scope: str, usd: float | None) -> None:
        if usd is not None:
            self._stop_loss.labels(scope).set(usd)

    def set_open_positions(self, n: int, scope: str = "account") -> None:
        self._positions.labels(scope).set(n)

    def set_feed(self, silence_secs: float | None, connected: bool, lag_secs: float | None = None) -> None:
        self._silence.set(0.0 if silence_secs is None else silence_secs)
        self._connected.set(1 if connected else 0)
        if lag_secs is not None:
            self._lag.set(lag_secs)

    def set_outbox(self, pending: int, unknown: int) -> None:
        self._outbox.labels("pending").set(pending)
        self._outbox.labels("unknown").set(unknown)

    def set_worker_up(self, strategy: str, up: bool) -> None:
        self._worker_up.labels(strategy).set(1 if up else 0)

    def observe_status(self, status: CoordinatorStatus) -> None:
        """Daily P&L, daily stop and open positions of every scope."""
        for name, scope in (("account", status.account), *status.strategies.items()):
            self.set_daily_pnl(name, scope.pnl.total)
            self.set_daily_stop_loss(name, scope.pnl.daily_stop_loss)
            self.set_open_positions(scope.open_positions, name)

    def observe_feed(self, feed: FeedStatus, now: datetime) -> None:
        lag = None if feed.last_bar_time is None else max(0.0, (now - feed.last_bar_time).total_seconds())
        self.set_feed(feed.silence_secs, feed.connected, lag)

    def observe_health(self, report: HealthReport) -> None:
        """The verdict, each worker, the outbox and the feed, from one health assessment."""
        s = report.snapshot
        self._health.set(HEALTH_CODES[report.verdict])
        for w in s.workers:
            self.set_worker_up(w.name, w.state == "running" and w.thread_alive)
        self.set_outbox(s.outbox.pending, s.outbox.unknown)
        if s.feed is not None:
            self.observe_feed(s.feed, s.now)

    def track_alerts(self, read: Callable[[], AlertCounts]) -> None:
        """Export the alert counts ``read`` returns (read at scrape time)."""
        self.registry.register(_AlertCollector(read))

    def add_refresh(self, refresh: Callable[[], None]) -> None:
        """Run ``refresh`` before every scrape (on the HTTP thread); it sets gauges."""
        with self._lock:
            self._refreshers.append(refresh)

    # -- exposition -------------------------------------------------------------------------------
    def refresh(self) -> None:
        with self._lock:
            refreshers = list(self._refreshers)
        for fn in refreshers:
            try:
                fn()
            except Exception:
                self._refresh_errors.inc()
                log.exception("metrics.refresh_failed")

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """(body, content type) for a scrape whose Accept header is ``accept``; refreshes first."""
        self.refresh()
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type
