"""A Databento-style historical API on 127.0.0.1 over TLS, for tests of the real ``databento.Historical``.

The client always speaks https (it rewrites any gateway URL to https) and verifies the
certificate with requests' CA bundle, so the server uses a throwaway CA from ``trustme`` and
the test points ``REQUESTS_CA_BUNDLE`` at it. Endpoints: ``GET /v0/metadata.get_dataset_range``
(JSON) and ``POST /v0/timeseries.get_range`` (form fields; the answer is zstd-compressed DBN:
metadata with the requested symbols' mappings, then the records in ``[start, end)``).
Requests without the API key as basic-auth user get 401.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Mapping, Sequence
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import databento_dbn as dbn
import trustme
import zstandard

from .dbn_records import dbn_bytes


class LocalHistorical:
    def __init__(self, api_key: str, ca: trustme.CA, *, records: Sequence[dbn.OHLCVMsg],
                 instruments: Mapping[str, int], available_end: str,
                 days: tuple[date, date] = (date(2024, 1, 1), date(2024, 12, 31))) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._key = api_key
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def _authorised(self) -> bool:
                expected = "Basic " + base64.b64encode(f"{owner._key}:".encode()).decode()
                if self.headers.get("Authorization") == expected:
                    return True
                self._reply(401, "application/json", json.dumps({"detail": "Invalid API key."}).encode())
                return False

            def _reply(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                owner.requests.append((url.path, {k: v[0] for k, v in parse_qs(url.query).items()}))
                if not self._authorised():
                    return
                body = {"start": "2010-06-06T00:00:00.000000000Z", "end": available_end,
                        "schema": {"ohlcv-1m": {"start": "2010-06-06T00:00:00.000000000Z", "end": available_end}}}
                self._reply(200, "application/json", json.dumps(body).encode())

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(size).decode()).items()}
                owner.requests.append((self.path, form))
                if not self._authorised():
                    return
                symbols = form["symbols"].split(",")
                ids = {instruments[s] for s in symbols if s in instruments}
                start, end = int(form["start"]), int(form["end"])
                chosen = [r for r in records if r.instrument_id in ids and start <= r.ts_event < end]
                data = dbn_bytes(chosen, schema=dbn.Schema.from_str(form["schema"]), stype_in=dbn.SType.RAW_SYMBOL,
                                 mappings={s: [(*days, instruments[s])] for s in symbols if s in instruments},
                                 start_ns=start, end_ns=end)
                self._reply(200, "application/octet-stream", zstandard.ZstdCompressor().compress(data))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def start(self) -> LocalHistorical:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)
