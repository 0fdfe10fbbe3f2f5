"""The live ``MarketView`` of one symbol: its worker's feature engines and bar history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from multialpha.features import FeatureBook
from multialpha.features.bars import NS_PER_SECOND
from multialpha.feeds.history import BarHistory


class BookView:
    def __init__(self, book: FeatureBook, history: BarHistory, symbol: str) -> None:
        self._book, self._history, self._symbol = book, history, symbol

    def row(self, names: Sequence[str]) -> np.ndarray:
        return self._book.row(self._symbol, names)

    def atr(self) -> float:
        return self._book[self._symbol].atr()

    def bars_since(self, when: datetime) -> int:
        ns = int(when.timestamp()) * NS_PER_SECOND + when.microsecond * 1000
        return int(np.count_nonzero(self._history.bars(self._symbol).close_ts > ns))
