"""Last bar time seen per symbol, for ``status`` and staleness checks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from multialpha.state.db import Repo
from multialpha.state.values import check_name, parse_utc, utc_text

# Text order is time order (fixed-width UTC), so max() keeps the latest bar.
_UPSERT = (
    "INSERT INTO bars (symbol, last_bar_time, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (symbol) DO UPDATE SET last_bar_time = max(last_bar_time, excluded.last_bar_time),"
    " updated_at = excluded.updated_at"
)


class BarRepo(Repo):
    """``store.bars``. The stored time never moves back."""

    def touch(self, symbol: str, ts: datetime) -> None:
        self.touch_many({symbol: ts})

    def touch_many(self, latest: Mapping[str, datetime]) -> None:
        """Several symbols in one transaction (one fsync)."""
        texts: dict[datetime, str] = {}  # usually one bar time for every symbol: format it once
        rows = []
        for symbol, ts in latest.items():
            text = texts.get(ts)
            if text is None:
                text = texts[ts] = utc_text(ts, field=f"{symbol} bar time")
            rows.append((check_name(symbol, field="symbol"), text))
        if not rows:
            return
        with self._db.transaction() as conn:
            now = self._now()
            conn.executemany(_UPSERT, [(symbol, ts, now) for symbol, ts in rows])

    def all(self) -> dict[str, datetime]:
        rows = self._db.query("SELECT symbol, last_bar_time FROM bars ORDER BY symbol")
        return {row["symbol"]: parse_utc(row["last_bar_time"]) for row in rows}
