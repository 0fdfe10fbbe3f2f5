"""A Databento-style live gateway on 127.0.0.1, for tests of the real ``databento.Live`` client.

It speaks the gateway's wire protocol: a greeting line and a CRAM challenge, the client's
authentication request (checked: sha256 of ``challenge|key``, then ``-`` and the key's last 5
characters), an authentication response, subscription request lines, ``start_session``, then
the DBN stream: metadata, one symbol mapping message per subscribed contract, the replayed
records (``start=``: every record on the tape with ``ts_event >= start``) followed by a
replay-completed system message, then records as the test publishes them, with heartbeats
when idle. ``drop()`` resets every open connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

import databento_dbn as dbn

DATASET = "GLBX.MDP3"


def _fields(line: bytes) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in line.decode().strip().split("|"))


@dataclass
class SessionLog:
    """What one client session asked for."""

    auth: dict[str, str] = field(default_factory=dict)
    subscriptions: list[dict[str, str]] = field(default_factory=list)
    started: bool = False

    @property
    def symbols(self) -> list[str]:
        return [s for sub in self.subscriptions for s in sub["symbols"].split(",")]

    @property
    def start_ns(self) -> int | None:
        starts = [int(sub["start"]) for sub in self.subscriptions if sub.get("start")]
        return min(starts) if starts else None


class LocalGateway:
    """``instruments`` maps each raw symbol the gateway knows to its instrument_id.
    ``heartbeat_secs`` overrides the interval the client asks for; ``None`` sends none."""

    def __init__(self, api_key: str, instruments: Mapping[str, int], *, heartbeat_secs: float | None = 0.2,
                 dataset: str = DATASET) -> None:
        self._key = api_key
        self.instruments = dict(instruments)
        self.heartbeat_secs = heartbeat_secs
        self.dataset = dataset
        self.sessions: list[SessionLog] = []
        self._tape: list[object] = []
        self._cond = threading.Condition()
        self._conns: list[tuple[socket.socket, BinaryIO]] = []
        self._stopped = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)  # accept() wakes up to notice stop()
        self.port = int(self._server.getsockname()[1])
        self._threads: list[threading.Thread] = []

    # -- test controls --------------------------------------------------------------------
    def start(self) -> LocalGateway:
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.drop()
        self._server.close()
        with self._cond:
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=2)

    def publish(self, *records: object) -> None:
        """Append records to the tape; running sessions stream them at once."""
        with self._cond:
            self._tape.extend(records)
            self._cond.notify_all()

    def drop(self) -> None:
        """Reset every open connection (TCP RST), as a network failure would."""
        with self._cond:
            conns, self._conns = self._conns, []
        for conn, reader in conns:
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                reader.close()  # the descriptor closes (and resets) only once its reader is closed too
                conn.close()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting on the local gateway")
            time.sleep(0.01)

    def started_sessions(self) -> list[SessionLog]:
        return [s for s in self.sessions if s.started]

    # -- protocol -------------------------------------------------------------------------
    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            reader = conn.makefile("rb")
            with self._cond:
                self._conns.append((conn, reader))
            self._spawn(self._serve, conn, reader)

    def _serve(self, conn: socket.socket, reader: BinaryIO) -> None:
        log = SessionLog()
        self.sessions.append(log)
        try:
            challenge = secrets.token_hex(8)
            conn.sendall(b"lsg_version=0.0.0-local\n" + f"cram={challenge}\n".encode())
            log.auth = _fields(reader.readline())
            digest = hashlib.sha256(f"{challenge}|{self._key}".encode()).hexdigest()
            if log.auth.get("auth") != f"{digest}-{self._key[-5:]}" or log.auth.get("dataset") != self.dataset:
                conn.sendall(b"success=0|error=Authentication failed.\n")
                return
            conn.sendall(f"success=1|session_id={len(self.sessions)}\n".encode())
            while True:
                line = reader.readline()
                if not line:
                    return
                if line.startswith(b"start_session"):
                    break
                log.subscriptions.append(_fields(line))
            log.started = True
            self._stream(conn, log)
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                reader.close()
                conn.close()

    def _stream(self, conn: socket.socket, log: SessionLog) -> None:
        wanted = {self.instruments[s]: s for s in log.symbols if s in self.instruments}
        start = log.start_ns
        now = time.time_ns()
        meta = dbn.Metadata(dataset=self.dataset, start=start or now, stype_in=dbn.SType.RAW_SYMBOL,
                            stype_out=dbn.SType.INSTRUMENT_ID, schema=dbn.Schema.OHLCV_1M, symbols=log.symbols)
        out = [bytes(meta)]
        out += [bytes(dbn.SymbolMappingMsg(publisher_id=1, instrument_id=iid, ts_event=now,
                                           stype_in=dbn.SType.RAW_SYMBOL, stype_in_symbol=sym,
                                           stype_out=dbn.SType.RAW_SYMBOL, stype_out_symbol=sym,
                                           start_ts=now, end_ts=now)) for iid, sym in wanted.items()]
        with self._cond:
            cursor = len(self._tape)
            replay = list(self._tape) if start is not None else []
        out += [bytes(r) for r in replay if self._wanted(r, wanted) and r.ts_event >= start]  # type: ignore[attr-defined]
        if start is not None:
            out.append(bytes(dbn.SystemMsg(ts_event=now, msg="Replay completed",
                                           code=dbn.SystemCode.REPLAY_COMPLETED)))
        conn.sendall(b"".join(out))
        interval = self.heartbeat_secs
        while not self._stopped.is_set():
            with self._cond:
                if len(self._tape) <= cursor:
                    self._cond.wait(timeout=interval if interval is not None else 0.05)
                fresh, cursor = self._tape[cursor:], len(self._tape)
            payload = [bytes(r) for r in fresh if self._wanted(r, wanted)]  # type: ignore[call-overload]
            if not payload and interval is not None:
                payload = [bytes(dbn.SystemMsg(ts_event=time.time_ns(), msg="Heartbeat",
                                               code=dbn.SystemCode.HEARTBEAT))]
            if payload:
                conn.sendall(b"".join(payload))

    @staticmethod
    def _wanted(record: object, wanted: Mapping[int, str]) -> bool:
        return not isinstance(record, dbn.OHLCVMsg) or record.instrument_id in wanted
