"""DBN records and files written by the tests: real ``databento_dbn`` records, real DBN bytes."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import databento_dbn as dbn
import zstandard

SCALE = 1_000_000_000
MINUTE = 60 * SCALE
HOUR = 60 * MINUTE
DATASET = "GLBX.MDP3"


def ns(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, m, d, h, mi, tzinfo=UTC).timestamp()) * SCALE


def fixed(price: str | float | Decimal) -> int:
    """A decimal price as DBN's int64 1e-9 units, exactly."""
    return int(Decimal(str(price)) * SCALE)


def ohlcv(instrument_id: int, ts_ns: int, o: str | float, h: str | float, low: str | float,
          c: str | float, volume: int, *, rtype: dbn.RType = dbn.RType.OHLCV_1M) -> dbn.OHLCVMsg:
    return dbn.OHLCVMsg(rtype=rtype, publisher_id=1, instrument_id=instrument_id, ts_event=ts_ns,
                        open=fixed(o), high=fixed(h), low=fixed(low), close=fixed(c), volume=volume)


def random_minutes(instrument_id: int, start_ns: int, count: int, *, tick: str = "0.25",
                   base: str = "4500", skip: Iterable[int] = (), seed: int = 7) -> list[dbn.OHLCVMsg]:
    """``count`` consecutive minute bars on the tick grid; minutes whose index is in ``skip``
    have no trade (no record)."""
    rng = random.Random(seed * 1_000_003 + instrument_id)
    step, price, skipped = Decimal(tick), Decimal(base), set(skip)
    out = []
    for i in range(count):
        o = price
        c = o + step * rng.randint(-3, 3)
        h = max(o, c) + step * rng.randint(0, 2)
        low = min(o, c) - step * rng.randint(0, 2)
        price = c
        if i not in skipped:
            out.append(ohlcv(instrument_id, start_ns + i * MINUTE, o, h, low, c, rng.randint(1, 50)))
    return out


def hourly_reference(minutes: Sequence[dbn.OHLCVMsg]) -> list[dbn.OHLCVMsg]:
    """The ``ohlcv-1h`` records Databento would publish for these minutes (written independently
    of the code under test)."""
    groups: dict[tuple[int, int], list[dbn.OHLCVMsg]] = {}
    for m in sorted(minutes, key=lambda r: (r.ts_event, r.instrument_id)):
        groups.setdefault((m.ts_event - m.ts_event % HOUR, m.instrument_id), []).append(m)
    out = [dbn.OHLCVMsg(rtype=dbn.RType.OHLCV_1H, publisher_id=1, instrument_id=iid, ts_event=hour,
                        open=ms[0].open, high=max(x.high for x in ms), low=min(x.low for x in ms),
                        close=ms[-1].close, volume=sum(x.volume for x in ms))
           for (hour, iid), ms in groups.items()]
    return sorted(out, key=lambda r: (r.ts_event, r.instrument_id))


@dataclass(frozen=True)
class Interval:
    start_date: date
    end_date: date
    symbol: str


@dataclass(frozen=True)
class Mapping_:
    raw_symbol: str
    intervals: Sequence[Interval]


def dbn_bytes(records: Sequence[object], *, schema: dbn.Schema | None, stype_in: dbn.SType,
              mappings: Mapping[str, Sequence[tuple[date, date, int]]], start_ns: int, end_ns: int) -> bytes:
    """A DBN stream: metadata (with the symbol -> instrument_id mappings), then the records."""
    meta = dbn.Metadata(
        dataset=DATASET, start=start_ns, end=end_ns, stype_in=stype_in,
        stype_out=dbn.SType.INSTRUMENT_ID, schema=schema, symbols=list(mappings),
        mappings=[Mapping_(sym, [Interval(d0, d1, str(iid)) for d0, d1, iid in ivs])
                  for sym, ivs in mappings.items()])
    return bytes(meta) + b"".join(bytes(r) for r in records)  # type: ignore[call-overload]


def write_dbn(path: Path, records: Sequence[object], *, schema: dbn.Schema | None = dbn.Schema.OHLCV_1M,
              stype_in: dbn.SType = dbn.SType.RAW_SYMBOL,
              mappings: Mapping[str, Sequence[tuple[date, date, int]]], compress: bool = False) -> Path:
    stamps = [getattr(r, "ts_event", 0) for r in records] or [0]
    data = dbn_bytes(records, schema=schema, stype_in=stype_in, mappings=mappings,
                     start_ns=min(stamps), end_ns=max(stamps) + HOUR)
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if compress else data)
    return path
