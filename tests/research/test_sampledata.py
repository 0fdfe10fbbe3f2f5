"""Synthetic sample bars: deterministic, on exchange hours, on ticks, and with a real IBS edge."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from multialpha.research.sampledata import DEFAULT_SYMBOLS, generate_sample_bars, main, write_sample_data

from multialpha.contracts import load_contracts
from multialpha.features import BarArrays, compute_features, trading_day_ids
from multialpha.features.daily import NS_PER_DAY as DAY_NS
from multialpha.features.daily import NS_PER_HOUR as HOUR_NS
from multialpha.features.daily import exchange_hour, exchange_offset_ns
from multialpha.feeds.replay_files import load_symbols

CONTRACTS = Path(__file__).resolve().parents[2] / "config" / "contracts.yml"
TRADED = ("6A", "6B", "6C", "6E", "6J", "6M", "6N", "6S", "ES", "NQ", "RTY", "YM",
          "CL", "NG", "GC", "SI", "HG", "PL")
SHORT = {"start": date(2024, 3, 1), "end": date(2024, 3, 20)}
EPOCH = date(1970, 1, 1)


@pytest.fixture(scope="module")
def timed_sample() -> tuple[dict[str, BarArrays], float]:
    t0 = time.perf_counter()
    bars = generate_sample_bars(contracts_file=CONTRACTS)
    return bars, time.perf_counter() - t0


@pytest.fixture(scope="module")
def sample(timed_sample: tuple[dict[str, BarArrays], float]) -> dict[str, BarArrays]:
    return timed_sample[0]


def _log_returns(b: BarArrays) -> np.ndarray:
    return np.diff(np.log(b.close))


def test_default_symbols_are_the_traded_ones_and_the_references() -> None:
    assert (*TRADED, "ZB", "VX") == DEFAULT_SYMBOLS


def test_two_years_of_all_symbols_generate_in_under_ten_seconds(timed_sample) -> None:
    bars, seconds = timed_sample
    assert set(bars) == set(DEFAULT_SYMBOLS)
    assert seconds < 10.0
    assert 11_000 < len(bars["ES"]) < 12_500  # ~500 sessions of 23 bars


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    kw = {"symbols": ["ES", "6E"], "contracts_file": CONTRACTS, **SHORT}
    first = write_sample_data(tmp_path / "a", **kw)
    again = write_sample_data(tmp_path / "b", **kw)
    other = write_sample_data(tmp_path / "c", seed=8, **kw)
    assert [p.name for p in first] == ["ES.csv", "6E.csv"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert first[0].read_bytes() != other[0].read_bytes()


def test_a_symbols_bars_do_not_depend_on_which_others_are_asked_for() -> None:
    alone = generate_sample_bars(["NQ"], contracts_file=CONTRACTS, **SHORT)["NQ"]
    together = generate_sample_bars(["VX", "NQ"], contracts_file=CONTRACTS, **SHORT)["NQ"]
    assert np.array_equal(alone.close, together.close) and np.array_equal(alone.volume, together.volume)


def test_bars_keep_globex_hours_weekends_and_holidays(sample) -> None:
    ts = sample["ES"].ts
    assert (ts == sample["VX"].ts).all()
    local = ts + exchange_offset_ns(ts)  # Chicago wall-clock time as ns since the epoch
    local_hour = (local // HOUR_NS) % 24
    local_weekday = (local // DAY_NS + 3) % 7  # 0 = Monday
    assert not (local_hour == 16).any()  # the 16:00-17:00 CT maintenance break
    assert not (local_weekday == 5).any()  # Saturday
    assert (local_hour[local_weekday == 6] >= 17).all()  # Sunday only from the 17:00 open
    assert not ((local_weekday == 4) & (local_hour >= 17)).any()  # nothing after Friday's close
    days = trading_day_ids(ts)
    for holiday in (date(2023, 12, 25), date(2024, 1, 1), date(2024, 12, 25)):
        assert (days != (holiday - EPOCH).days).all(), holiday


def test_sessions_hold_23_bars_fewer_on_early_closes_and_a_holidays_hours_more(sample) -> None:
    days, counts = np.unique(trading_day_ids(sample["ES"].ts), return_counts=True)
    assert np.mean(counts == 23) > 0.9

    def count(day: date) -> int:
        return int(counts[np.flatnonzero(days == (day - EPOCH).days)[0]])

    assert count(date(2024, 12, 24)) == 19  # 17:00 the evening before until the 12:00 CT halt
    # MLK day's hours until its 12:00 CT halt are cleared on the next trade date
    assert count(date(2024, 1, 16)) == counts.max() == 19 + 23


def test_bars_are_consistent_on_ticks_with_positive_integer_volume(sample) -> None:
    specs = load_contracts(CONTRACTS)
    for symbol, b in sample.items():
        assert (b.high >= np.maximum(b.open, b.close)).all(), symbol
        assert (b.low <= np.minimum(b.open, b.close)).all(), symbol
        assert (b.low > 0).all(), symbol
        assert (b.volume >= 1).all() and (b.volume == np.round(b.volume)).all(), symbol
        tick = specs[symbol].tick_size
        for prices in (b.open, b.high, b.low, b.close):
            ticks = prices / tick
            assert np.abs(ticks - np.round(ticks)).max() < 1e-6, symbol


def test_prices_stay_at_realistic_levels(sample) -> None:
    ranges = {"ES": (2500, 9000), "NQ": (7000, 30000), "6E": (0.9, 1.3), "6J": (0.005, 0.011),
              "CL": (30, 130), "GC": (1300, 2800), "ZB": (90, 160), "VX": (9, 60)}
    for symbol, (lo, hi) in ranges.items():
        close = sample[symbol].close
        assert lo < close.min() and close.max() < hi, symbol


def test_blocks_are_correlated_with_the_expected_signs(sample) -> None:
    r = {s: _log_returns(b) for s, b in sample.items()}

    def corr(a: str, b: str) -> float:
        return float(np.corrcoef(r[a], r[b])[0, 1])

    for other in ("NQ", "RTY", "YM"):
        assert corr("ES", other) > 0.6
    assert corr("ES", "VX") < -0.4
    assert -0.5 < corr("ES", "ZB") < 0.0
    assert corr("6E", "6S") > 0.3 and corr("6A", "6N") > 0.3
    assert corr("GC", "SI") > 0.3
    assert corr("CL", "NG") > 0.1
    assert abs(corr("6E", "ES")) < 0.2


def test_volatility_and_volume_peak_at_the_us_open(sample) -> None:
    b = sample["ES"]
    hour = exchange_hour(b.ts)[1:]
    move = np.abs(_log_returns(b))
    assert move[hour == 8].mean() > 2 * move[hour == 22].mean()
    assert b.volume[1:][hour == 8].mean() > 2 * b.volume[1:][hour == 22].mean()


def test_volatility_clusters(sample) -> None:
    move = np.abs(_log_returns(sample["6E"]))
    # absolute returns stay autocorrelated well beyond a day (the intraday profile aside)
    lag = 23 * 2
    assert np.corrcoef(move[:-lag], move[lag:])[0, 1] > 0.05


# Reference values the generator is calibrated to (real hourly bars of liquid CME futures
# and major FX pairs over a couple of years; the stylized facts of Cont 2001, "Empirical
# properties of asset returns", with the intraday profile divided out first as in Andersen
# & Bollerslev 1997, "Intraday periodicity and volatility persistence"):
# * excess kurtosis of hourly log returns about 10-30 per symbol, mostly from news hours and
#   session-open gaps (the previous Gaussian GARCH generator gave 3-5);
# * autocorrelation of |r| about 0.2-0.35 at lag 1, still more than half of that a day
#   later, and still clearly positive one to two weeks later: a slow, roughly power-law
#   decay, slower than any single exponential (a GARCH(1,1) alone forgets within days).
GROUPS = {"fx": TRADED[:8], "equity index": ("ES", "NQ", "RTY", "YM"), "energy": ("CL", "NG"),
          "metals": ("GC", "SI", "HG", "PL"), "references": ("ZB", "VX")}
WEEK = 23 * 5


def _excess_kurtosis(r: np.ndarray) -> float:
    d = r - r.mean()
    return float(np.mean(d**4) / np.mean(d**2) ** 2 - 3.0)


def _abs_return_acf(b: BarArrays, lags: np.ndarray) -> np.ndarray:
    """Autocorrelation of |r| divided by its mean at the same exchange hour, so that the
    intraday profile (quiet Asia against the US open) does not mask the clustering."""
    move = np.abs(_log_returns(b))
    hour = exchange_hour(b.ts[1:])
    typical = np.bincount(hour, weights=move, minlength=24) / np.maximum(np.bincount(hour, minlength=24), 1)
    x = move / typical[hour]
    x = x - x.mean()
    return np.array([np.dot(x[:-k], x[k:]) for k in lags]) / np.dot(x, x)


def test_every_symbol_has_fat_tailed_hourly_returns_like_real_futures(sample) -> None:
    kurtosis = {s: round(_excess_kurtosis(_log_returns(b)), 1) for s, b in sample.items()}
    assert all(10.0 < k < 30.0 for k in kurtosis.values()), kurtosis


def test_size_of_moves_stays_autocorrelated_for_weeks_and_decays_slowly(sample) -> None:
    lags = np.arange(1, 2 * WEEK + 1)
    acf = {s: _abs_return_acf(b, lags) for s, b in sample.items()}
    for symbol, a in acf.items():
        assert (a[:24] > 0.05).all(), (symbol, a[:24].round(3))  # every lag of the first day
    for group, symbols in GROUPS.items():
        a = np.mean([acf[s] for s in symbols], axis=0)
        assert 0.15 < a[0] < 0.4, group
        assert a[:6].mean() > a[18:24].mean() > 0.5 * a[0], group  # decays, but slowly
        assert a[2 * WEEK - 10:].mean() > 0.01, group  # two weeks on, still there
    # Slower than exponential: a week on, more is left than an exponential with the first
    # day's decay would leave.
    pooled = np.mean(list(acf.values()), axis=0)
    exponential = pooled[0] * (pooled[23] / pooled[0]) ** ((WEEK - 1) / 23)
    assert pooled[WEEK - 6:WEEK + 5].mean() > 1.5 * exponential


def _next_returns(b: BarArrays, bars_ahead: int) -> np.ndarray:
    r = np.full(len(b), np.nan)
    r[:-bars_ahead] = np.log(b.close[bars_ahead:] / b.close[:-bars_ahead])
    return r / np.std(_log_returns(b))


def test_low_ibs_bars_are_followed_by_higher_returns_than_high_ibs_bars(sample) -> None:
    after_low, after_high, better = [], [], 0
    for symbol in TRADED:
        b = sample[symbol]
        ibs = compute_features(b, ["ibs"])[:, 0]
        nxt = _next_returns(b, 1)
        low, high = nxt[(ibs < 0.2)], nxt[(ibs > 0.8)]
        after_low.append(np.nanmean(low))
        after_high.append(np.nanmean(high))
        better += np.nanmean(low) > np.nanmean(high)
    assert np.mean(after_low) > np.mean(after_high)
    assert better >= 14
    # modest: a few hundredths of an hourly sigma, not a money machine
    assert 0.0 < np.mean(after_low) - np.mean(after_high) < 0.2


def test_the_bounce_after_low_ibs_is_stronger_when_atr_z_is_high_or_vx_jumped(sample) -> None:
    names = ["ibs", "atr_z", "VX_hourly_return"]
    vx_sigma = np.std(_log_returns(sample["VX"]))
    calm, volatile, vx_jump = [], [], []
    for symbol in TRADED:
        b = sample[symbol]
        f = compute_features(b, names, {"VX": sample["VX"]})
        ahead = _next_returns(b, 3)
        low = (f[:, 0] < 0.2) & np.isfinite(ahead) & np.isfinite(f[:, 1])
        calm.append(ahead[low & (f[:, 1] < 0) & (f[:, 2] < vx_sigma)])
        volatile.append(ahead[low & (f[:, 1] > 1)])
        vx_jump.append(ahead[low & (f[:, 2] > 1.5 * vx_sigma)])
    calm_mean = np.concatenate(calm).mean()
    assert np.concatenate(volatile).mean() > calm_mean + 0.05
    assert np.concatenate(vx_jump).mean() > calm_mean + 0.05


def test_command_line_writes_parquet_files_that_load_back(tmp_path: Path) -> None:
    code = main(["--out", str(tmp_path), "--format", "parquet", "--seed", "3",
                 "--start", "2024-03-01", "--end", "2024-03-08", "--symbols", "ES,VX"])
    assert code == 0
    loaded = load_symbols(tmp_path, ["ES", "VX"])
    expected = generate_sample_bars(["ES"], start=date(2024, 3, 1), end=date(2024, 3, 8), seed=3,
                                    contracts_file=CONTRACTS)["ES"]
    assert np.array_equal(loaded["ES"].close, expected.close)
    assert np.array_equal(loaded["ES"].ts, expected.ts)


def test_command_line_rejects_an_unknown_symbol(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--symbols", "XX"])
