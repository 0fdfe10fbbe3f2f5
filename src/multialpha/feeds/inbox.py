"""A worker's inbox: bar groups in, one group per Backtrader step, acknowledged when done.

Each group's bars go into the worker's bar history and feature engines as the group is taken.

The hub puts a whole group at once; the worker's feeds take it on their first load of a
step and the worker's step barrier marks it processed after every strategy has run, so the
hub can keep all workers in lock-step by bar time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

from multialpha.domain import Bar, BarGroup
from multialpha.features import FeatureBook
from multialpha.feeds.history import BarHistory

_END = object()


class Inbox:
    def __init__(self, symbols: Iterable[str], history: BarHistory, features: FeatureBook, *,
                 poll_secs: float = 0.5) -> None:
        self.symbols = frozenset(symbols)
        self.history = history
        self.features = features
        self._queue: queue.Queue[object] = queue.Queue()
        self._poll_secs = poll_secs
        self._ready = True  # the previous group (if any) is fully processed
        self._pending: dict[str, Bar] = {}
        self._ended = False
        self._stopped = threading.Event()
        self.current: BarGroup | None = None
        self._done_seq = -1
        self._cond = threading.Condition()

    # hub side -----------------------------------------------------------------------------
    def put(self, group: BarGroup) -> None:
        self._queue.put(group)

    def end(self) -> None:
        self._queue.put(_END)

    def wait_processed(self, seq: int, timeout_secs: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._done_seq >= seq or self._stopped.is_set(),
                                       timeout=timeout_secs)

    def stop(self) -> None:
        """The worker is gone: never make the hub wait for it again."""
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    # worker side --------------------------------------------------------------------------
    def mark_step_done(self) -> None:
        self._ready = True

    def take(self, symbol: str) -> Bar | None | bool:
        """The bar of ``symbol`` for the current step; None if it has none; False at the end."""
        if self._ready and not self._ended:
            self._advance()
        if self._ended and not self._pending:
            return False
        return self._pending.pop(symbol, None)

    def _ack(self) -> None:
        if self.current is not None:
            with self._cond:
                self._done_seq = self.current.seq
                self._cond.notify_all()

    def _advance(self) -> None:
        self._ack()
        while True:
            try:
                item = self._queue.get(timeout=self._poll_secs)
            except queue.Empty:
                if self._stopped.is_set():
                    self._ended = True
                    return
                continue
            if item is _END:
                self._ended = True
                self._ready = False
                return
            assert isinstance(item, BarGroup)
            mine = {s: b for s, b in item.bars.items() if s in self.symbols}
            self.current = item
            if not mine:  # nothing for this worker at this time: acknowledge and go on
                self._ack()
                continue
            for s, b in mine.items():  # every bar, warm-up too: both are O(1) per bar
                self.history.append(s, item.ts_ns, b)
                self.features.update(s, item.ts_ns, b.open, b.high, b.low, b.close, b.volume)
            self._pending = mine
            self._ready = False
            return
