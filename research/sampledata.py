"""Deterministic synthetic hourly futures bars for demos, tests and research dry runs.

Bars follow CME Globex hours (17:00 to 16:00 America/Chicago, holidays and early closes
from the exchange calendar), prices sit at realistic levels on each contract's tick grid,
and the returns have what the IBS strategy and its filter are about:

* fat tails and volatility clustering like real hourly bars: Student-t shocks, news hours
  (US data, FOMC, EIA reports), a fast GARCH(1,1) on top of slow volatility regimes shared
  within each block (``sample_volatility``), so that each symbol's hourly excess kurtosis is
  about 10-30 and the size of its moves stays autocorrelated for weeks;
* an intraday volatility/volume profile peaking at the 08:30 CT open;
* cross-correlation from a few common factors: equity indices move together, VX against
  them, ZB mildly against them, FX with a dollar factor, metals and energy in blocks;
* intraday mean reversion: after a bar closing low in its range (low IBS) the next hours
  drift up, after a high-IBS bar down. The drift is small and noisy: slightly the other
  way in calm markets, clearly there when volatility is elevated against its recent level
  or when VX just jumped against the bar (rose on a low close). So a plain IBS rule earns
  little after commissions and a filter on the engine's features (atr_z,
  VX_hourly_return, ...) has something real to find.

Nothing here is market data. Same arguments, same bytes.

    python -m multialpha.research.sampledata --out data/sample [--seed 7] [--format csv]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from multialpha.research.sample_volatility import MOVE_CAP_SIGMAS, news_variance, regime_variance, student_t

from multialpha.contracts import DEFAULT_CONTRACTS_FILE, ContractSpec, load_contracts
from multialpha.features.bars import BarArrays
from multialpha.features.daily import NS_PER_HOUR, exchange_hour
from multialpha.feeds.replay_files import write_bar_file

HOURS_PER_YEAR = 252 * 23
FACTORS = ("eq", "usd", "met", "ene", "rates")


@dataclass(frozen=True)
class _Asset:
    price: float  # level at the start (early 2023)
    vol: float  # annualised volatility of log returns
    volume: float  # typical contracts per hour
    loadings: dict[str, float]  # on FACTORS; the rest of the variance is the asset's own
    drift: float = 0.0  # annualised log drift
    pull: float = 1.0  # per year: how fast the level reverts to its drifting anchor


ASSETS: dict[str, _Asset] = {
    "6A": _Asset(0.68, 0.10, 4000, {"usd": 0.70, "eq": 0.25}),
    "6B": _Asset(1.21, 0.08, 4000, {"usd": 0.65, "eq": 0.10}),
    "6C": _Asset(0.74, 0.06, 3000, {"usd": 0.55, "eq": 0.20, "ene": 0.15}),
    "6E": _Asset(1.07, 0.07, 8000, {"usd": 0.80}),
    "6J": _Asset(0.0077, 0.10, 5000, {"usd": 0.55, "eq": -0.15, "rates": 0.20}),
    "6M": _Asset(0.052, 0.12, 1500, {"usd": 0.35, "eq": 0.30}),
    "6N": _Asset(0.63, 0.10, 1200, {"usd": 0.70, "eq": 0.20}),
    "6S": _Asset(1.09, 0.08, 1000, {"usd": 0.75}),
    "ES": _Asset(3850.0, 0.17, 40000, {"eq": 0.97}, drift=0.05),
    "NQ": _Asset(11000.0, 0.22, 20000, {"eq": 0.92}, drift=0.06),
    "RTY": _Asset(1760.0, 0.23, 6000, {"eq": 0.88}, drift=0.03),
    "YM": _Asset(33200.0, 0.15, 5000, {"eq": 0.94}, drift=0.04),
    "CL": _Asset(80.0, 0.35, 15000, {"ene": 0.80, "eq": 0.20}),
    "NG": _Asset(4.5, 0.60, 6000, {"ene": 0.35}),
    "GC": _Asset(1830.0, 0.14, 8000, {"met": 0.75, "usd": 0.30}, drift=0.04),
    "SI": _Asset(24.0, 0.26, 3000, {"met": 0.80, "usd": 0.20, "eq": 0.10}),
    "HG": _Asset(3.8, 0.22, 2500, {"met": 0.40, "eq": 0.30}),
    "PL": _Asset(1070.0, 0.25, 800, {"met": 0.55, "eq": 0.10}),
    "ZB": _Asset(127.0, 0.14, 12000, {"rates": 0.85, "eq": -0.25}),
    "VX": _Asset(18.0, 0.80, 2000, {"eq": -0.80}, pull=17.0),
}
DEFAULT_SYMBOLS: tuple[str, ...] = tuple(ASSETS)
EQUITY_INDEX = frozenset({"ES", "NQ", "RTY", "YM"})

# Volatility by exchange hour of the bar start (Chicago): quiet Asia, London pick-up, the
# 08:30 US open, the equity close at 15:00. Scaled below so that the mean variance is 1.
_HOUR_VOL = {17: 0.8, 18: 0.7, 19: 0.7, 20: 0.6, 21: 0.55, 22: 0.5, 23: 0.5, 0: 0.5, 1: 0.6,
             2: 0.85, 3: 0.8, 4: 0.75, 5: 0.7, 6: 0.75, 7: 1.1, 8: 2.0, 9: 1.6, 10: 1.25,
             11: 1.05, 12: 1.0, 13: 1.05, 14: 1.3, 15: 0.7, 16: 0.6}

# Fast GARCH(1,1) on the variance multiplier g (mean 1): g' = (1-a-b) + a*g*min(e^2, cap) + b*g,
# e the bar's move in level sigmas. The cap lets a news hour lift the next hours'
# volatility without setting the regime on its own. Slow regimes, news hours and t shocks
# come on top (sample_volatility).
_GARCH_A, _GARCH_B = 0.07, 0.915
_GARCH_FEED_CAP = 16.0
_SLOW_VAR = 0.01  # weight of the slow variance level the "elevated volatility" is judged by
# After each bar: drift' = decay*drift + kappa*(0.5 - ibs)*sigma, where kappa is slightly
# negative in calm markets (a low close drifts on lower) and turns clearly positive (the
# low close bounces) when volatility is elevated and/or VX just jumped.
_MR_DECAY = 0.5
_KAPPA_CALM, _KAPPA_VOL, _KAPPA_VX = -0.15, 1.4, 0.8
_VOL_ELEVATED = 1.15  # sqrt(g / slow g) above this counts as elevated volatility
# VX moved against the bar by more than this many of its own sigmas: rose on a low close
# (fear spike), fell on a high close. Symmetric, so the effect bounces without trending.
_VX_SPIKE_SIGMAS = 1.5
_EQUITY_VX_WEIGHT = 0.5
_GAP_SIGMAS = 1.0  # session-open gap, in the prevailing hourly sigma (doubled after a weekend/holiday)


def _sessions(start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
    """Bar start times (int64 ns UTC) of the CME equity calendar, and where sessions begin."""
    import pandas_market_calendars as mcal

    schedule = mcal.get_calendar("CME_Equity").schedule(start.isoformat(), end.isoformat())
    opens = schedule["market_open"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    closes = schedule["market_close"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    starts, begins = [], []
    for o, c in zip(opens.view(np.int64), closes.view(np.int64), strict=True):
        hours = np.arange(o, c, NS_PER_HOUR, dtype=np.int64)
        begins.append(np.arange(hours.shape[0]) == 0)
        starts.append(hours)
    if not starts:
        raise ValueError(f"no CME sessions between {start} and {end}")
    return np.concatenate(starts), np.concatenate(begins)


def _round_to(prices: np.ndarray, tick: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    out = np.rint(prices / tick) * tick
    for d in np.unique(decimals):  # rounding to the tick's decimals keeps the text short
        cols = decimals == d
        out[..., cols] = np.round(out[..., cols], int(d))
    return out


def _tick_decimals(tick: float) -> int:
    return len(f"{tick:.12f}".rstrip("0").split(".")[1])


def _simulate(ts: np.ndarray, begins: np.ndarray, specs: dict[str, ContractSpec], seed: int
              ) -> dict[str, np.ndarray]:
    """OHLCV arrays of shape (bars, symbols) for every symbol in ASSETS."""
    names = list(ASSETS)
    k, n = len(names), ts.shape[0]
    assets = [ASSETS[s] for s in names]
    load = np.array([[a.loadings.get(f, 0.0) for f in FACTORS] for a in assets])
    own = np.sqrt(1.0 - (load**2).sum(axis=1))
    sigma = np.array([a.vol for a in assets]) / np.sqrt(HOURS_PER_YEAR)
    drift = np.array([a.drift for a in assets]) / HOURS_PER_YEAR
    pull = np.array([a.pull for a in assets]) / HOURS_PER_YEAR
    tick = np.array([specs[s].tick_size for s in names])
    decimals = np.array([_tick_decimals(t) for t in tick])
    vx = names.index("VX")
    reverts = np.arange(k) != vx
    # VX spikes come with most sharp equity moves, so for equities they say less.
    vx_weight = np.array([_EQUITY_VX_WEIGHT if s in EQUITY_INDEX else 1.0 for s in names])

    rng = np.random.default_rng(seed)
    z = student_t(rng, (n, len(FACTORS))) @ load.T + student_t(rng, (n, k)) * own
    gap_z = student_t(rng, (n, k))
    u_high, u_low = rng.random((n, k)), rng.random((n, k))
    volume_noise = rng.standard_normal((n, k))
    regime = regime_variance(rng, n, np.abs(load), own)
    news = news_variance(rng, ts, names)
    # The intraday profile is of the calm variance; news hours add to it, so scale both
    # together to keep the mean variance at 1.
    hour_vol = np.array([_HOUR_VOL[h] for h in range(24)])
    season = hour_vol[exchange_hour(ts)]
    season_var = season[:, None] ** 2 * news
    scale = np.sqrt(season_var.mean(axis=0))
    shock = np.sqrt(season_var) / scale  # bar sigma in units of the symbol's level sigma
    z_bar = z * shock  # in level sigmas
    cap = MOVE_CAP_SIGMAS * sigma
    weekend = np.zeros(n, dtype=bool)
    weekend[1:] = (ts[1:] - ts[:-1]) > 3 * NS_PER_HOUR

    out = {c: np.empty((n, k)) for c in ("open", "high", "low", "close", "volume")}
    variance = np.empty((n, k))
    log_close = np.log([a.price for a in assets])
    anchor = log_close.copy()
    g = np.ones(k)
    g_slow = np.ones(k)
    reversion = np.zeros(k)
    prev_e2 = np.ones(k)
    for t in range(n):
        g = (1.0 - _GARCH_A - _GARCH_B) + _GARCH_A * g * prev_e2 + _GARCH_B * g
        g_slow += _SLOW_VAR * (g - g_slow)
        level = sigma * np.sqrt(g * regime[t])
        bar_sigma = level * shock[t]
        log_open = log_close.copy()
        if begins[t]:
            gap = gap_z[t] * level * _GAP_SIGMAS * (2.0 if weekend[t] else 1.0)
            log_open += np.clip(gap, -cap, cap)
        anchor += drift
        step = drift + pull * (anchor - log_open) + reversion + np.clip(level * z_bar[t], -cap, cap)
        log_close = log_open + step
        # High and low of a Brownian bridge between open and close with the bar's sigma.
        spread_h = np.sqrt(step**2 - 2.0 * bar_sigma**2 * np.log(u_high[t]))
        spread_l = np.sqrt(step**2 - 2.0 * bar_sigma**2 * np.log(u_low[t]))
        raw = np.exp(np.stack([log_open, log_open + (step + spread_h) / 2,
                               log_open + (step - spread_l) / 2, log_close]))
        o, h, lo, c = _round_to(raw, tick, decimals)
        rng_ = h - lo
        ibs = np.divide(c - lo, rng_, out=np.full(k, 0.5), where=rng_ > 0)
        elevated = g > _VOL_ELEVATED**2 * g_slow
        vx_move = step[vx] / bar_sigma[vx]
        vx_spike = np.where(ibs < 0.5, vx_move, -vx_move) > _VX_SPIKE_SIGMAS
        kappa = _KAPPA_CALM + _KAPPA_VOL * elevated + _KAPPA_VX * vx_weight * vx_spike
        reversion = _MR_DECAY * reversion + reverts * kappa * (0.5 - ibs) * level
        out["open"][t], out["high"][t], out["low"][t], out["close"][t] = o, h, lo, c
        variance[t] = g * regime[t]
        prev_e2 = np.minimum(z_bar[t] ** 2, _GARCH_FEED_CAP)

    base = np.array([a.volume for a in assets])
    # Busier at the open, on news, in volatile spells and on big bars.
    activity = (shock ** 1.5 * variance**0.3
                * np.exp(0.35 * np.minimum(np.abs(z), 6.0) + 0.3 * volume_noise - 0.35))
    out["volume"] = np.maximum(1.0, np.rint(base * activity))
    return out


def generate_sample_bars(symbols: Iterable[str] = DEFAULT_SYMBOLS, start: date = date(2023, 1, 2),
                         end: date = date(2024, 12, 31), seed: int = 7,
                         contracts_file: str | Path | None = None) -> dict[str, BarArrays]:
    """Synthetic hourly bars per symbol; a symbol's bars do not depend on which others are asked."""
    wanted = list(symbols)
    unknown = [s for s in wanted if s not in ASSETS]
    if unknown:
        raise ValueError(f"no sample-data model for {unknown}; known: {list(ASSETS)}")
    specs = load_contracts(_contracts_path(contracts_file))
    ts, begins = _sessions(start, end)
    arrays = _simulate(ts, begins, specs, seed)
    names = list(ASSETS)
    out = {}
    for s in wanted:
        o, h, lo, c, v = (np.ascontiguousarray(arrays[f][:, names.index(s)])
                          for f in ("open", "high", "low", "close", "volume"))
        out[s] = BarArrays(s, ts.copy(), o, h, lo, c, v, specs[s].tick_size, specs[s].allows_negative_prices)
    return out


def _contracts_path(given: str | Path | None) -> Path:
    if given is not None:
        return Path(given)
    if DEFAULT_CONTRACTS_FILE.is_file():
        return DEFAULT_CONTRACTS_FILE
    return Path(__file__).resolve().parent.parent / DEFAULT_CONTRACTS_FILE  # run from elsewhere


def write_sample_data(out_dir: str | Path, fmt: str = "csv", **kw: object) -> list[Path]:
    """Generate (keywords as ``generate_sample_bars``) and write ``<SYMBOL>.<fmt>`` files."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    bars = generate_sample_bars(**kw)  # type: ignore[arg-type]
    return [write_bar_file(directory / f"{symbol}.{fmt}", b) for symbol, b in bars.items()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m multialpha.research.sampledata",
                                     description="Write deterministic synthetic hourly futures bars.")
    parser.add_argument("--out", required=True, type=Path, help="directory to write <SYMBOL>.<format> into")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 2), help="YYYY-MM-DD")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 12, 31), help="YYYY-MM-DD")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--symbols", default=",".join(DEFAULT_SYMBOLS), help="comma-separated")
    args = parser.parse_args(argv)
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()]
    try:
        paths = write_sample_data(args.out, args.format, symbols=symbols, start=args.start,
                                  end=args.end, seed=args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"wrote {len(paths)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
