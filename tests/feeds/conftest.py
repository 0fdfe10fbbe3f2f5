"""The feeds room's fixtures: a local live gateway and live sources built on the real client."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest

from multialpha.clock import ManualClock
from multialpha.domain import BarGroup
from multialpha.feeds.databento_live import DatabentoLiveSource
from multialpha.feeds.live_client import DatabentoConnector

from .dbn_gateway import LocalGateway

API_KEY = "db-LOCALTESTKEY0000000000000ABCDE"
INSTRUMENTS = {"ESH4": 101, "ESM4": 102, "NQH4": 201, "NQM4": 202, "ESZ4": 103, "ESH5": 104}


def quarterly(symbol: str, day: date) -> str:
    """The tests' roll rule: the March contract until 14 March 2024, then June."""
    return f"{symbol}M4" if day >= date(2024, 3, 14) else f"{symbol}H4"


class Groups:
    """Iterates a source's ``groups()`` on a thread, so a test waits with a timeout."""

    def __init__(self, source: DatabentoLiveSource) -> None:
        self._q: queue.Queue[object] = queue.Queue()
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(source,), daemon=True)
        self._thread.start()

    def _run(self, source: DatabentoLiveSource) -> None:
        try:
            for group in source.groups():
                self._q.put(group)
        except Exception as exc:  # noqa: BLE001 - handed to the test
            self._q.put(exc)
        finally:
            self.ended.set()

    def take(self, n: int = 1, timeout: float = 5.0) -> list[BarGroup]:
        out = []
        for _ in range(n):
            item = self._q.get(timeout=timeout)
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, BarGroup)
            out.append(item)
        return out

    def none_within(self, secs: float) -> bool:
        try:
            self._q.get(timeout=secs)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def gateway() -> Iterator[LocalGateway]:
    gw = LocalGateway(API_KEY, INSTRUMENTS).start()
    yield gw
    gw.stop()


@pytest.fixture
def make_source(gateway: LocalGateway) -> Iterator[Callable[..., Any]]:
    """Build a live source on the local gateway at ``now`` and (``collect``) a ``Groups`` reading
    it; closed at teardown."""
    made: list[DatabentoLiveSource] = []

    def _make(now: datetime | ManualClock, symbols: tuple[str, ...] = ("ES", "NQ"), *, collect: bool = True,
              **kwargs: Any) -> Any:
        clock = now if isinstance(now, ManualClock) else ManualClock(now)
        options: dict[str, Any] = {"contract_for": quarterly, "grace_secs": 1.0, "poll_secs": 0.02,
                                   "reconnect_delay_secs": 0.05, "max_silence_secs": 30.0,
                                   "tick_sizes": {"ES": 0.25, "NQ": 0.25}}
        options.update(kwargs)
        connector = DatabentoConnector(API_KEY, gateway="127.0.0.1", port=gateway.port)
        source = DatabentoLiveSource(list(symbols), connector=connector, clock=clock, **options)
        made.append(source)
        return (source, Groups(source)) if collect else source

    yield _make
    for source in made:
        source.close()
