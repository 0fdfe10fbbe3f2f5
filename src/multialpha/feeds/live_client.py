"""The one outbound connection of the live feed: sessions on Databento's live gateway.

``LiveConnector`` is the small interface the live source is built with; ``DatabentoConnector``
is the real one, the official ``databento.Live`` client. Each ``open`` is a fresh session:
authenticate (CRAM), subscribe the explicit contracts in raw symbology, optionally replay from
``start_ns`` (intraday replay reaches back 24 hours and is only possible when subscribing
before the session starts, hence a new session for every resubscription), start, stream.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import databento
from databento.common.error import BentoError
from databento_dbn import DBNRecord

from multialpha.errors import MultialphaError

DEFAULT_DATASET = "GLBX.MDP3"
DEFAULT_SCHEMA = "ohlcv-1m"
DEFAULT_PORT = 13000

log = logging.getLogger(__name__)


class GatewayUnavailable(MultialphaError):
    """The live gateway could not be reached or refused the session; retry later."""


RecordHandler = Callable[[DBNRecord], None]


class LiveSession(Protocol):
    def wait(self) -> str:
        """Block until the session ends; returns why it ended."""
        ...

    def close(self) -> None:
        """End the session; a blocked ``wait`` returns promptly. Callable from any thread."""
        ...


class LiveConnector(Protocol):
    def open(self, contracts: Sequence[str], start_ns: int | None, on_record: RecordHandler) -> LiveSession:
        """Start a session streaming ``contracts`` (raw symbols), replayed from ``start_ns``
        (ns UTC, inclusive) when given. ``on_record`` gets every record of the session, in
        order, on the connector's own thread; it may block to slow the session down. Raises
        ``GatewayUnavailable``."""
        ...


class DatabentoConnector:
    """Sessions from the official client. ``gateway``/``port`` default to Databento's
    gateway for the dataset; ``heartbeat_interval_s`` is how often an idle gateway sends a
    heartbeat (the client drops a session silent for that plus 10 s)."""

    def __init__(self, api_key: str, *, dataset: str = DEFAULT_DATASET, schema: str = DEFAULT_SCHEMA,
                 gateway: str | None = None, port: int = DEFAULT_PORT,
                 heartbeat_interval_s: int | None = None) -> None:
        if not api_key or api_key.isspace():
            raise ValueError("Databento api_key must not be empty")
        self._key = api_key
        self.dataset, self.schema = dataset, schema
        self.gateway, self.port = gateway, port
        self.heartbeat_interval_s = heartbeat_interval_s

    def __repr__(self) -> str:  # never the key
        return f"DatabentoConnector(dataset={self.dataset!r}, schema={self.schema!r}, gateway={self.gateway!r})"

    def open(self, contracts: Sequence[str], start_ns: int | None, on_record: RecordHandler) -> ClientSession:
        where = f"{self.gateway or 'Databento live gateway'}:{self.port} ({self.dataset})"
        client = databento.Live(key=self._key, gateway=self.gateway, port=self.port,
                                heartbeat_interval_s=self.heartbeat_interval_s)
        session = ClientSession(client)
        # A callback, registered before the session starts, sees every record; the client's
        # iterator only sees records that arrive after it is enabled.
        client.add_callback(on_record, session.handler_failed)
        try:
            client.subscribe(dataset=self.dataset, schema=self.schema, symbols=list(contracts),
                             stype_in="raw_symbol", start=start_ns)
            client.start()
        except (BentoError, ValueError, OSError) as exc:
            session.close()
            raise GatewayUnavailable(f"{where}: cannot open a session: {exc}") from None
        return session


class ClientSession:
    """One started ``databento.Live`` session."""

    def __init__(self, client: databento.Live) -> None:
        self._client = client
        self._closed = False
        self._failure: Exception | None = None

    def handler_failed(self, exc: Exception) -> None:
        """The record handler raised: end the session rather than run on with a gap."""
        log.error("feed.record_handler_failed: %r", exc)
        self._failure = exc
        self.close()

    def wait(self) -> str:
        try:
            self._client.block_for_close()
        except BentoError as exc:
            return f"session lost: {exc}"
        if self._failure is not None:
            return f"record handler failed: {self._failure!r}"
        return "closed" if self._closed else "the gateway ended the session"

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(ValueError):  # never connected
            self._client.terminate()
