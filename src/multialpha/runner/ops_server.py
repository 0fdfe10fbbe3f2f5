"""``OpsServer``: ``/health`` (JSON) and ``/metrics`` (Prometheus text) over HTTP on its own thread.

Each request runs on a thread of the server's own; nothing here is called by, or waits for,
the trading threads. Any secret value that could appear in a feed or worker error is scrubbed
from every answer. ``runtime.health.host`` defaults to 127.0.0.1: the endpoint shows trading
state and is meant for this machine (a local Prometheus, a reverse proxy, ``curl``).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from multialpha.config.redact import redact_text
from multialpha.errors import ConfigError
from multialpha.runner.health import HealthPolicy, HealthProvider, HealthReport, assess
from multialpha.runner.metrics import Metrics

log = logging.getLogger(__name__)
JSON = "application/json; charset=utf-8"


class OpsServer:
    """Serves ``/health`` from ``provider`` and ``/metrics`` from ``metrics``; ``port=0`` picks a free port."""

    def __init__(self, provider: HealthProvider, metrics: Metrics | None = None, *, host: str = "127.0.0.1",
                 port: int = 8787, policy: HealthPolicy | None = None, secrets: Sequence[str] = ()) -> None:
        self.provider, self.metrics, self.policy = provider, metrics, policy or HealthPolicy()
        self.host, self._port = host, port
        self._secrets = [s for s in secrets if s]
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if metrics is not None:
            metrics.add_refresh(lambda: metrics.observe_health(self.report()))

    def report(self) -> HealthReport:
        return assess(self.provider(), self.policy)

    @property
    def port(self) -> int:
        return self._port if self._server is None else int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> OpsServer:
        """Bind and serve; a port that cannot be bound is a ConfigError naming runtime.health.port."""
        server_cls = _Server6 if ":" in self.host else _Server
        try:
            self._server = server_cls((self.host, self._port), self)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {self.host}:{self._port} ({exc.strerror or exc}); choose "
                              "another port, or 0 for none", key="runtime.health.port") from None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="ops-http", daemon=True)
        self._thread.start()
        log.info("ops.listening url=%s endpoints=/health,/metrics", self.url)
        return self

    def stop(self, timeout_secs: float = 5.0) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout_secs)
        self._server = None

    def __enter__(self) -> OpsServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- answers (called on the server's threads) -----------------------------------------------
    def health_answer(self) -> tuple[int, bytes, str]:
        try:
            report = self.report()
        except Exception as exc:
            log.exception("ops.health_check_failed")
            body: dict[str, Any] = {"status": "unknown", "healthy": False,
                                    "error": f"the health check failed: {type(exc).__name__}"}
            return 503, self._json(body), JSON
        return (200 if report.healthy else 503), self._json(report.to_dict()), JSON

    def metrics_answer(self, accept: str) -> tuple[int, bytes, str]:
        if self.metrics is None:
            return 404, self._json({"error": "metrics are not enabled"}), JSON
        body, content_type = self.metrics.exposition(accept)
        if self._secrets:
            body = redact_text(body.decode("utf-8"), self._secrets).encode("utf-8")
        return 200, body, content_type

    def _json(self, body: dict[str, Any]) -> bytes:
        text = json.dumps(body, indent=2, sort_keys=False, default=str)
        return (redact_text(text, self._secrets) + "\n").encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], ops: OpsServer) -> None:
        self.ops = ops
        super().__init__(address, _Handler)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that stalls mid-request cannot hold a thread for ever
    routes: dict[str, Callable[[_Handler], tuple[int, bytes, str]]] = {
        "/health": lambda h: h.server.ops.health_answer(),
        "/healthz": lambda h: h.server.ops.health_answer(),
        "/metrics": lambda h: h.server.ops.metrics_answer(h.headers.get("Accept", "")),
        "/": lambda h: (200, b'{"endpoints": ["/health", "/metrics"]}\n', JSON),
    }

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        route = self.routes.get(self.path.split("?", 1)[0])
        if route is None:
            status, body, content_type = 404, b'{"error": "not found"}\n', JSON
        else:
            try:
                status, body, content_type = route(self)
            except Exception:
                log.exception("ops.request_failed path=%s", self.path.split("?", 1)[0])
                status, body, content_type = 500, b'{"error": "internal error"}\n', JSON
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        log.debug("ops.request " + format, *args)
