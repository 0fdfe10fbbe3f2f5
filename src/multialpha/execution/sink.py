"""A local webhook sink: an HTTP server on 127.0.0.1 that records every POST it receives.

Used instead of TradersPost by the demo, by paper runs that must not reach a broker, and by
tests (with a ``ResponsePlan`` scripting rate limits, errors and slow replies). Each request
becomes one JSONL line ``{"received_at", "path", "status", "body"}``, flushed and fsync'ed
before the reply goes out, so the file is complete even if the process is killed.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import signal
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """One scripted reply. ``body=None`` gives a TradersPost-like JSON body for the status."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    delay_secs: float = 0.0  # wait before replying (simulates a slow gateway / read timeout)
    drop: bool = False  # close the connection without any reply (after reading the request)


class ResponsePlan:
    """Replies handed out in order, one per request; ``default`` once the list is used up."""

    def __init__(self, replies: Iterable[Reply] = (), default: Reply | None = None) -> None:
        self._replies = deque(replies)
        self._default = default if default is not None else Reply(200)
        self._lock = threading.Lock()

    def next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else self._default


def _default_body(status: int, received: Any) -> dict[str, Any]:
    if 200 <= status < 300:
        return {"success": True, "id": str(uuid.uuid4()), "logId": str(uuid.uuid4()), "payload": received}
    return {"success": False, "messageCode": "sink-scripted-reply", "message": f"scripted reply {status}"}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sink: WebhookSink) -> None:
        self.sink = sink
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        sink = self.server.sink
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if len(raw) < length:  # the sender went away mid-request: no order a gateway could act on
            sink._record(urlsplit(self.path).path, raw, None)
            self.close_connection = True
            return
        reply = sink.plan.next_reply()
        record = sink._record(urlsplit(self.path).path, raw, None if reply.drop else reply.status)
        if reply.delay_secs > 0:
            sink._stopping.wait(reply.delay_secs)  # stop() releases stalled replies at once
        if reply.drop:
            self.close_connection = True
            return
        body = reply.body if reply.body is not None else _default_body(reply.status, record["body"])
        data = json.dumps(body).encode("utf-8")
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("sink_reply_not_delivered status=%s (client gone)", reply.status)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature from base)
        pass  # the default access log prints request paths, which may hold a webhook secret


class WebhookSink:
    """Records POSTs to ``out_path`` (appended, one JSON object per line) and to ``received``."""

    def __init__(self, out_path: Path | str, host: str = "127.0.0.1", port: int = 0,
                 plan: ResponsePlan | None = None) -> None:
        self.out_path = Path(out_path)
        self.host = host
        self.port = port
        self.plan = plan if plan is not None else ResponsePlan()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._file: IO[str] | None = None
        self._received: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("webhook sink is not started")
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode("ascii")
        return f"http://{host}:{port}"

    @property
    def received(self) -> list[dict[str, Any]]:
        """Copies of the records so far, in arrival order (the same order as the file)."""
        with self._cond:
            return copy.deepcopy(self._received)

    def wait_for(self, count: int, timeout_secs: float) -> bool:
        """Block until at least ``count`` requests were recorded; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._received) >= count, timeout=timeout_secs)

    def start(self) -> WebhookSink:
        if self._server is not None:
            return self
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.out_path.open("a", encoding="utf-8")
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="webhook-sink", daemon=True)
        self._thread.start()
        log.info("webhook_sink_started url=%s out=%s", self.url, self.out_path)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        with self._cond:
            if self._file is not None:
                self._file.close()
                self._file = None
        self._server = None
        self._thread = None
        log.info("webhook_sink_stopped received=%d", len(self._received))

    def __enter__(self) -> WebhookSink:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _record(self, path: str, raw: bytes, status: int | None) -> dict[str, Any]:
        text = raw.decode("utf-8", errors="replace")
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = {"raw": text}
        record = {"received_at": _now_iso(), "path": path, "status": status, "body": body}
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._cond:
            if self._file is not None:
                self._file.write(line)
                self._file.flush()
                os.fsync(self._file.fileno())
            self._received.append(record)
            self._cond.notify_all()
        # the path is recorded in the file, not logged: it may hold a webhook secret
        log.debug("sink_received status=%s", status)
        return record


def read_sink_log(path: Path | str) -> list[dict[str, Any]]:
    """Records from a sink JSONL file. A torn final line (killed mid-write) is ignored."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if number == len(lines) and not text.endswith("\n"):
                log.warning("sink_log_torn_line file=%s line=%d", path, number)
                continue
            raise ValueError(f"{path}: line {number}: not valid JSON ({exc.msg})") from exc
    return records


def serve_forever(host: str, port: int, out_path: Path | str) -> None:
    """Run a sink until SIGINT/SIGTERM (``multialpha webhook-sink``); prints its URL first."""
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with WebhookSink(out_path, host=host, port=port) as sink:
            print(sink.url, flush=True)
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
