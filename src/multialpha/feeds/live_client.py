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
from collections.abc import Iterator, Sequence
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


class LiveStream(Protocol):
    def __iter__(self) -> Iterator[DBNRecord]:
        """The session's records, in order; ends when the session ends (see ``end_reason``)."""
        ...

    @property
    def end_reason(self) -> str:
        """Why the iteration ended ("" while it runs)."""
        ...

    def close(self) -> None:
        """End the session; a blocked iteration ends promptly. Callable from any thread."""
        ...


class LiveConnector(Protocol):
    def open(self, contracts: Sequence[str], start_ns: int | None) -> LiveStream:
        """A started session streaming ``contracts`` (raw symbols), replayed from ``start_ns``
        (ns UTC, inclusive) when given; raises ``GatewayUnavailable``."""
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

    def open(self, contracts: Sequence[str], start_ns: int | None) -> ClientStream:
        where = f"{self.gateway or 'Databento live gateway'}:{self.port} ({self.dataset})"
        client = databento.Live(key=self._key, gateway=self.gateway, port=self.port,
                                heartbeat_interval_s=self.heartbeat_interval_s)
        try:
            client.subscribe(dataset=self.dataset, schema=self.schema, symbols=list(contracts),
                             stype_in="raw_symbol", start=start_ns)
        except (BentoError, ValueError, OSError) as exc:
            client.terminate()
            raise GatewayUnavailable(f"{where}: cannot open a session: {exc}") from None
        return ClientStream(client)


class ClientStream:
    """One started ``databento.Live`` session as an iterator of records."""

    def __init__(self, client: databento.Live) -> None:
        self._client = client
        self.end_reason = ""
        self._closed = False

    def __iter__(self) -> Iterator[DBNRecord]:
        try:
            yield from self._client
        except BentoError as exc:
            self.end_reason = f"session lost: {exc}"
        else:
            self.end_reason = "closed" if self._closed else "the gateway ended the session"

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(ValueError):  # never connected
            self._client.terminate()
