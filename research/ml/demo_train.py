"""Demo bundles: a small, honest RandomForest filter per (strategy, symbol).

Every trade the unfiltered strategy takes (the daemon's own step, driven by the research
engine) is labelled by whether it ends positive after commission; the features are the feature
engine's values at the signal bar. Training uses only bars before ``train_end``; the
probability threshold is chosen on the last quarter of that period (walk-forward), then the
forest is refit on the whole training period; the metrics after ``train_end`` are reported as
the holdout. The full research pipeline (searches, purged CV, deflated Sharpe) replaces this.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from multialpha.research.errors import ResearchError
from multialpha.research.ml.extract import extract_candidates
from sklearn.ensemble import RandomForestClassifier

from multialpha.contracts import ContractSpec, load_contracts, require
from multialpha.features import REF_SUFFIXES, Reference, reference_features, trading_day_ids
from multialpha.features.bars import BarArrays
from multialpha.feeds.replay_files import load_symbols
from multialpha.models import class_column, write_model_bundle
from multialpha.strategy.ibs import IBS
from multialpha.strategy.params import IbsParams

log = logging.getLogger(__name__)

DEMO_BASE_FEATURES = (
    "ibs", "prev_ibs", "ibs_pct", "rsi2", "rsi14", "volume_z", "volume_z_pct", "atr_z", "atr_z_pct",
    "bar_return", "prev_bar_return", "close_z20", "daily_ibs", "prev_daily_ibs", "prev_day_return",
    "day_return", "dow", "hour", "ibs_x_rsi2", "ibs_x_volume_z", "ibs_x_atr_z",
)
THRESHOLD_GRID = tuple(round(x, 2) for x in np.arange(0.40, 0.71, 0.025))
MIN_VALIDATION_TRADES = 15
MIN_TRAINING_SIGNALS = 100


class NotEnoughTrainingData(ResearchError):
    """A symbol's bars cannot train the demo filter: they are not hourly, or give too few
    usable IBS signals before the training end."""


@dataclass(frozen=True)
class TradeMetrics:
    trades: int
    net_pnl: float
    sharpe: float  # per-trade mean/std scaled by sqrt(trades per year)
    profit_factor: float
    win_rate: float


def trade_metrics(pnl: np.ndarray, years: float) -> TradeMetrics:
    pnl = pnl[np.isfinite(pnl)]
    n = int(pnl.shape[0])
    if n == 0:
        return TradeMetrics(0, 0.0, 0.0, 0.0, 0.0)
    gains, losses = pnl[pnl > 0].sum(), -pnl[pnl < 0].sum()
    sd = float(pnl.std(ddof=1)) if n > 1 else 0.0
    sharpe = float(pnl.mean() / sd * math.sqrt(n / max(years, 1e-9))) if sd > 0 else 0.0
    pf = float(gains / losses) if losses > 0 else float("inf") if gains > 0 else 0.0
    return TradeMetrics(n, float(pnl.sum()), sharpe, pf, float((pnl > 0).mean()))


def strategy_params_from_config(config_path: Path) -> dict[str, dict[str, Any]]:
    """Each strategy's instruments and params, read without needing any secret."""
    doc = yaml.safe_load(config_path.read_text())
    out: dict[str, dict[str, Any]] = {}
    config_dir = config_path.parent / str(doc.get("runtime", {}).get("config_dir", "config"))
    for name, raw in (doc.get("strategies") or {}).items():
        if not raw.get("enabled", True):
            continue
        per_symbol: dict[str, Any] = {}
        ip = config_dir / f"{name}_instrument_params.json"
        if ip.exists():
            per_symbol = json.loads(ip.read_text())
        pf = config_dir / f"portfolio_optimization_{name}.json"
        symbols = json.loads(pf.read_text())["symbols"] if pf.exists() else raw["instruments"]
        out[name] = {"symbols": list(symbols), "params": dict(raw.get("strategy_params") or {}),
                     "instrument_params": per_symbol}
    return out


def _span_years(ts: np.ndarray) -> float:
    """Years between the first and last of time-ordered ns timestamps (0 for fewer than two)."""
    return float((ts[-1] - ts[0]) / 1e9 / 86400 / 365.25) if ts.shape[0] > 1 else 0.0


def train_symbol(bars: BarArrays, refs: Mapping[str, Reference], params: IbsParams, contract: ContractSpec,
                 features: Sequence[str], train_end: date, seed: int) -> tuple[Any, float, dict[str, Any]]:
    """Fit the filter for one symbol; returns (model, threshold, metrics)."""
    cand = extract_candidates(bars, IBS, params, contract, features, refs)
    X, y = cand.X, cand.label
    days = trading_day_ids(bars.close_ts)
    end_id = (train_end - date(1970, 1, 1)).days
    usable = np.all(np.isfinite(X), axis=1)
    train = usable & (days[cand.exit_idx] < end_id)  # purged: the trade ends before the holdout starts
    hold = usable & (days[cand.entry_idx] >= end_id)
    tr_idx = np.nonzero(train)[0]
    if tr_idx.shape[0] < MIN_TRAINING_SIGNALS or len(set(y[tr_idx])) < 2:
        raise NotEnoughTrainingData(_too_few(bars, y[tr_idx], train_end))
    cut = tr_idx[int(tr_idx.shape[0] * 0.75)]
    fit_idx, val_idx = tr_idx[tr_idx < cut], tr_idx[tr_idx >= cut]

    def forest() -> RandomForestClassifier:
        return RandomForestClassifier(n_estimators=150, max_depth=6, min_samples_leaf=25,
                                      max_features="sqrt", class_weight="balanced_subsample",
                                      random_state=seed, n_jobs=1)

    probe = forest().fit(X[fit_idx], y[fit_idx])
    p_val = probe.predict_proba(X[val_idx])[:, class_column(probe, 1)]
    best_t, best_score = 0.5, -np.inf
    for t in THRESHOLD_GRID:
        taken = p_val >= t
        if taken.sum() < MIN_VALIDATION_TRADES:
            continue
        score = float(cand.pnl[val_idx][taken].sum())
        if score > best_score:
            best_t, best_score = t, score
    model = forest().fit(X[tr_idx], y[tr_idx])

    def evaluate(mask: np.ndarray) -> dict[str, Any]:
        idx = np.nonzero(mask)[0]
        accepted = np.zeros(len(cand), dtype=bool)
        if idx.shape[0]:
            accepted[idx] = model.predict_proba(X[idx])[:, class_column(model, 1)] >= best_t
        years = _span_years(cand.entry_ns[mask])
        filtered = trade_metrics(cand.pnl[accepted], years)
        plain = trade_metrics(cand.pnl[mask], years)
        return {"filtered": asdict(filtered), "unfiltered": asdict(plain)}

    ins, out = evaluate(train), evaluate(hold)
    metrics = {
        "Sharpe": round(ins["filtered"]["sharpe"], 4),
        "Profit_Factor": round(min(ins["filtered"]["profit_factor"], 1e6), 4),
        "Trades": ins["filtered"]["trades"],
        "Holdout": {"from": train_end.isoformat(), **out},
        "Train_Signals": int(tr_idx.shape[0]),
        "Positive_Rate": round(float(y[tr_idx].mean()), 4),
    }
    return model, float(best_t), metrics


def _too_few(bars: BarArrays, outcomes: np.ndarray, train_end: date) -> str:
    n = int(outcomes.shape[0])
    text = (f"{bars.symbol}: {n} usable training trade(s) before --train-end {train_end}; the demo "
            f"filter needs at least {MIN_TRAINING_SIGNALS}, with both winning and losing trades")
    if n >= MIN_TRAINING_SIGNALS:
        return f"{text} (all {n} {'win' if outcomes[0] else 'lose'})"
    return f"{text}; its {len(bars):,} bars are too few: give it more history before --train-end"


def train_demo_bundles(data_dir: Path, config_path: Path, out_dir: Path, *, contracts_path: Path,
                       references: Sequence[str] = ("ZB", "VX"), train_end: date = date(2024, 7, 1),
                       seed: int = 11, strategies: Sequence[str] | None = None) -> list[Path]:
    contracts = load_contracts(contracts_path)
    plan = strategy_params_from_config(config_path)
    if strategies:
        plan = {k: v for k, v in plan.items() if k in strategies}
    symbols = sorted({s for p in plan.values() for s in p["symbols"]} | set(references))
    specs = [require(contracts, s, file=contracts_path) for s in symbols]
    bars = load_symbols(data_dir, symbols, tick_sizes={c.symbol: c.tick_size for c in specs},
                        negative_prices={c.symbol for c in specs if c.allows_negative_prices})
    refs = {r: reference_features(bars[r]) for r in references}  # once, for every symbol
    features = list(DEMO_BASE_FEATURES) + [f"{r}_{k}" for r in references for k in REF_SUFFIXES]
    written = []
    for name, p in plan.items():
        for symbol in p["symbols"]:
            merged = {**IbsParams.defaults(), **p["params"], **p["instrument_params"].get(symbol, {})}
            merged = {k: v for k, v in merged.items() if not k.startswith("ml_")}
            params = IbsParams.from_mapping(merged)
            model, threshold, metrics = train_symbol(bars[symbol], refs, params, contracts[symbol], features,
                                                     train_end, seed)
            extra = {k: metrics[k] for k in ("Holdout", "Train_Signals", "Positive_Rate")}
            extra.update({"Strategy": name, "Trained_Through": train_end.isoformat(),
                          "Method": "demo: random forest on IBS signals, walk-forward threshold"})
            js, _ = write_model_bundle(out_dir / name, symbol, model, features, threshold, merged,
                                       {k: metrics[k] for k in ("Sharpe", "Profit_Factor", "Trades")}, extra)
            h = metrics["Holdout"]
            log.info("bundle.trained strategy=%s symbol=%s threshold=%.3f train_trades=%d holdout_filtered=%s "
                     "holdout_unfiltered=%s", name, symbol, threshold, metrics["Trades"],
                     h["filtered"]["net_pnl"], h["unfiltered"]["net_pnl"])
            print(f"  {name:8s} {symbol:4s} threshold={threshold:.3f} train trades={metrics['Trades']:4d} "
                  f"holdout P&L filtered={h['filtered']['net_pnl']:>10,.0f} "
                  f"unfiltered={h['unfiltered']['net_pnl']:>10,.0f}")
            written.append(js)
    return written
