"""``Watchdog``: pings systemd (``WATCHDOG=1``) from its own thread, only while the daemon is fit.

With ``WatchdogSec=`` in the unit, systemd kills and (``Restart=on-failure``) restarts a service
that stops pinging. Pinging from a thread of its own, on a timer, only while ``fit()`` says so,
turns the health assessment into that restart: a stale feed or a stuck bar time stops the pings,
whereas a hub waiting an hour for the next bar does not. The interval is half of the
``WATCHDOG_USEC`` systemd passes (its own recommendation), else the one given.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence

from multialpha.config.redact import redact_text
from multialpha.runner.health import HealthPolicy, HealthProvider, HealthReport, assess
from multialpha.runner.systemd import sd_notify

log = logging.getLogger(__name__)


def watchdog_interval_secs(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """Half the watchdog timeout systemd set for this process, or None when it expects no pings."""
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC")
    owner = env.get("WATCHDOG_PID")
    if not usec:
        return None
    if owner and owner.strip() != str(os.getpid() if pid is None else pid):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 2e6 if value > 0 else None


class Watchdog:
    """``fit`` is asked every ``interval_secs``; each True sends ``WATCHDOG=1``. An exception from
    ``fit`` counts as False. ``reason`` (optional) explains a False in systemd's STATUS line."""

    def __init__(self, fit: Callable[[], bool], *, interval_secs: float,
                 reason: Callable[[], str] | None = None,
                 notify: Callable[[str], bool] = sd_notify) -> None:
        if not interval_secs > 0:
            raise ValueError(f"interval_secs must be > 0, got {interval_secs}")
        self._fit, self._reason, self._notify = fit, reason, notify
        self.interval_secs = interval_secs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pings = 0
        self.withheld = 0

    @classmethod
    def from_environment(cls, fit: Callable[[], bool], *, reason: Callable[[], str] | None = None,
                         env: Mapping[str, str] | None = None) -> Watchdog | None:
        """A watchdog pinging at half systemd's ``WATCHDOG_USEC``; None when systemd set no watchdog."""
        interval = watchdog_interval_secs(env)
        return None if interval is None else cls(fit, interval_secs=interval, reason=reason)

    def start(self) -> Watchdog:
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_secs: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_secs)

    def check_once(self) -> bool:
        """Ask ``fit`` and ping if it says so; True if a ping was sent."""
        try:
            fit = bool(self._fit())
        except Exception:
            log.exception("watchdog.check_failed")
            fit = False
        if fit:
            self._notify("WATCHDOG=1")
            self.pings += 1
            if self.withheld:
                log.warning("watchdog.resumed after_withheld=%d", self.withheld)
                self.withheld = 0
            return True
        self.withheld += 1
        if self.withheld == 1:  # once per episode: the STATUS line and the log say why
            why = self._why()
            log.error("watchdog.withheld reason=%s", why)
            self._notify(f"STATUS=unhealthy, watchdog withheld: {why}")
        return False

    def _why(self) -> str:
        if self._reason is None:
            return "unhealthy"
        try:
            return self._reason()
        except Exception:
            return "the health check failed"

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check_once()
            self._stop.wait(self.interval_secs)


def health_watchdog(provider: HealthProvider, policy: HealthPolicy | None = None, *,
                    secrets: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Watchdog | None:
    """The watchdog the daemon runs: fit unless the health assessment says ``failing`` (the same
    assessment ``/health`` serves); None when systemd expects no pings."""
    last: list[HealthReport] = []

    def fit() -> bool:
        report = assess(provider(), policy)
        last[:] = [report]
        return report.watchdog_ok

    def reason() -> str:
        return redact_text(last[0].reason(), secrets) if last else "unhealthy"

    return Watchdog.from_environment(fit, reason=reason, env=env)
