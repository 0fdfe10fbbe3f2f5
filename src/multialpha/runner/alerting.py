"""``TraderAlerts``: the daemon's events turned into the alerts a trader wants.

One object the runner calls from a few places (coordinator events, order outcomes, worker
failures, start and stop); it words each alert with ``alerts.messages`` and hands it to an
``AlertPolicy`` (de-duplication, rate limits, the ``[PAPER]`` marker). A failing gateway or a
stale feed is one alert when it starts and one when it ends, whatever happens in between.
Nothing here blocks: the policy sends through the notifier's background queue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from multialpha import __version__
from multialpha.alerts import (
    AlertPolicy,
    AlertQueue,
    Change,
    Latch,
    Notifier,
    StrategySummary,
    marker_for_mode,
)
from multialpha.alerts import messages as m
from multialpha.config import AppConfig, ResolvedStrategy
from multialpha.feeds.source import FeedStatus
from multialpha.portfolio import CoordinatorEvent, EventKind
from multialpha.runner.metrics import AlertCounts

log = logging.getLogger(__name__)


class TraderAlerts:
    """Every call returns at once and never raises into the caller."""

    def __init__(self, policy: AlertPolicy, *, accounts: Mapping[str, str] | None = None,
                 feed: Callable[[], FeedStatus | None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._accounts = dict(accounts or {})
        self._feed = feed
        self._clock = clock
        self._gateways: dict[str, Latch] = {}
        self._gateways_lock = threading.Lock()
        self._feed_latch = Latch(clock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def started(self, cfg: AppConfig, strategies: Sequence[ResolvedStrategy], *, health_url: str | None = None,
                notes: int = 0) -> None:
        summaries = [StrategySummary(s.name, tuple(s.symbols), s.max_positions.value, s.daily_stop_loss.value,
                                     s.account) for s in strategies]
        self._send(lambda: m.started(mode=str(cfg.runtime.mode), version=__version__, strategies=summaries,
                                     account_max_positions=cfg.portfolio.max_positions,
                                     account_daily_stop_loss=cfg.portfolio.daily_stop_loss,
                                     health_url=health_url, notes=notes))

    def stopped(self, reason: str, *, bar_times: int = 0, trades: int = 0,
                failed: Mapping[str, str] | None = None) -> None:
        self._send(lambda: m.stopped(reason=reason, bar_times=bar_times, trades=trades, failed=failed))

    def start(self, interval_secs: float = 1.0) -> TraderAlerts:
        """A thread that checks the feed and sends the policy's summaries when their windows close."""
        self._thread = threading.Thread(target=self._run, args=(interval_secs,), name="alerts-ticker", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout_secs: float = 5.0) -> bool:
        """Stop the ticker, send pending summaries, drain the notifier. True if everything went out."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_secs)
        return self.policy.close(timeout_secs)

    def tick(self) -> None:
        """Check the feed (if one was given) and send due summaries; the ticker thread calls it."""
        if self._feed is not None:
            try:
                status = self._feed()
            except Exception:
                log.exception("alerts.feed_status_failed")
                status = None
            if status is not None:
                self.feed(status)
        self.policy.flush()

    def _run(self, interval_secs: float) -> None:
        while not self._stop.wait(interval_secs):
            self.tick()

    # -- events ---------------------------------------------------------------------------------------
    def on_coordinator_event(self, event: CoordinatorEvent) -> None:
        """Entries, exits, daily stops, halts and resumes, and the daily summary at the day roll."""
        self._send(lambda: _from_event(event, self._accounts))

    def order_delivered(self, strategy: str, *, ok: bool, detail: str = "", order: str = "") -> None:
        """A webhook delivery ended: ``ok`` when the gateway accepted it (SENT), False when it FAILED.
        The first failure after success alerts "gateway failing", the first success after that
        "gateway recovered"; nothing in between."""
        with self._gateways_lock:
            latch = self._gateways.setdefault(strategy, Latch(self._clock))
        t = latch.observe(failing=not ok, detail=detail)
        if t is None:
            return
        if t.change is Change.FAILING:
            self._send(lambda: m.gateway_failing(strategy=strategy, detail=t.detail, order=order))
        else:
            self._send(lambda: m.gateway_recovered(strategy=strategy, failed_orders=t.failures,
                                                   down_secs=t.down_secs))

    def unknown_order(self, *, strategy: str, symbol: str, action: str, intent_id: str, detail: str) -> None:
        self._send(lambda: m.unknown_order(strategy=strategy, symbol=symbol, action=str(action),
                                           intent_id=intent_id, detail=detail))

    def worker_failed(self, strategy: str, error: str, *, policy: str) -> None:
        self._send(lambda: m.worker_failed(strategy=strategy, error=error, policy=str(policy)))

    def feed(self, status: FeedStatus) -> None:
        """One observation of the market feed: alerts when it turns stale and when it recovers."""
        if not status.live:
            return
        t = self._feed_latch.observe(failing=status.stale, detail=status.detail)
        if t is None:
            return
        if t.change is Change.FAILING:
            self._send(lambda: m.feed_stale(silence_secs=status.silence_secs, detail=status.detail))
        else:
            self._send(lambda: m.feed_recovered(down_secs=t.down_secs))

    def alert_counts(self) -> AlertCounts:
        """For ``Metrics.track_alerts``: what the queue dropped or failed, what the policy folded."""
        queue = self.policy.notifier
        dropped = queue.dropped if isinstance(queue, AlertQueue) else 0
        failed = queue.failed if isinstance(queue, AlertQueue) else 0
        c = self.policy.counts
        return AlertCounts(dropped=dropped, failed=failed, duplicates=c.duplicates, rate_limited=c.rate_limited)

    def _send(self, build: Callable[[], m.AlertSpec | None]) -> None:
        try:
            spec = build()
        except Exception:
            log.exception("alerts.build_failed")
            return
        if spec is not None:
            self.policy.send(spec)


def _from_event(e: CoordinatorEvent, accounts: Mapping[str, str]) -> m.AlertSpec | None:
    d, scope = e.data, e.scope or m.ACCOUNT
    if e.kind is EventKind.POSITION_OPENED:
        return m.entry(strategy=scope, symbol=e.symbol or "?", quantity=int(d["quantity"]), price=float(d["price"]),
                       at=e.at)
    if e.kind is EventKind.POSITION_CLOSED:
        return m.exit_(strategy=scope, symbol=e.symbol or "?", quantity=int(d["quantity"]), price=float(d["price"]),
                       entry_price=float(d["entry_price"]), reason=e.reason or "exit", net_pnl=float(d["net_pnl"]),
                       at=e.at)
    if e.kind is EventKind.DAILY_STOP_HIT:
        return m.daily_stop_hit(scope=scope, daily_pnl=float(d["daily_pnl"]),
                                daily_stop_loss=float(d["daily_stop_loss"]), trading_day=e.trading_day.isoformat())
    if e.kind is EventKind.STATE_CHANGED:
        old, new = str(d.get("old")), str(d.get("new"))
        if new == "active":
            return None if old == "active" else m.resumed(scope=scope, reason=e.reason or "")
        return m.halted(scope=scope, state=new, reason=e.reason or "", flatten=bool(d.get("flatten")))
    if e.kind is EventKind.DAY_ROLLED:
        if not _active(d):  # warm-up days, the first roll after start-up, a day without a signal
            return None
        return m.daily_summary(day=str(d["previous_day"]), pnl=d["pnl"], stats=d["stats"], accounts=accounts)
    return None  # ENTRY_ALLOWED / ENTRY_DENIED: counted in metrics and the daily summary, not alerted


def _active(data: Mapping[str, object]) -> bool:
    """The day that ended saw an entry request, an exit, a daily stop or any P&L."""
    stats = data.get("stats") or {}
    pnl = data.get("pnl") or {}
    acct = stats.get(m.ACCOUNT, {}) if isinstance(stats, Mapping) else {}
    if acct.get("entries_requested") or acct.get("stop_triggers") or any((acct.get("exits") or {}).values()):
        return True
    return isinstance(pnl, Mapping) and any(float(p.get("total", 0.0)) for p in pnl.values())


def build_alerts(cfg: AppConfig, notifier: Notifier, strategies: Sequence[ResolvedStrategy], *,
                 feed: Callable[[], FeedStatus | None] | None = None) -> TraderAlerts:
    """The daemon's alerts from ``runtime.alerts`` and ``runtime.mode`` (not started: call ``start()``)."""
    a = cfg.runtime.alerts
    policy = AlertPolicy(notifier, marker=marker_for_mode(str(cfg.runtime.mode)),
                         dedup_window_secs=a.dedup_window_secs, max_per_key=a.max_per_key,
                         per_key_window_secs=a.per_key_window_secs)
    return TraderAlerts(policy, accounts={s.name: s.account for s in strategies}, feed=feed)
