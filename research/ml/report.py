"""A trained pair's report: ``reports/<SYMBOL>.md`` and ``reports/<SYMBOL>.png`` beside its bundle.

The picture has four panels: the hold-out equity of the unfiltered rule and of the saved
filter; the CPCV threshold curve (mean path Sharpe and trades per path by threshold, the
chosen one marked); the final forest's feature importances; and the CPCV backtest paths'
out-of-sample equity at the chosen threshold. Drawn with matplotlib's Agg canvas (no display).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from multialpha.research.ml.holdout import HoldoutResult, Performance
from multialpha.research.ml.scoring import sharpe_of_rows
from multialpha.research.ml.search import Selection
from multialpha.research.ml.significance import SearchStatistics

if TYPE_CHECKING:
    from multialpha.research.ml.train import PairData

TOP_FEATURES = 20


def write_report(directory: Path, data: PairData, selection: Selection, stats: SearchStatistics,
                 holdout: HoldoutResult, path_daily: np.ndarray, bundle_json: Path) -> Path:
    """Write the markdown report and its PNG; returns the markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    symbol = data.spec.symbol
    png = directory / f"{symbol}.png"
    draw(png, data, selection, holdout, path_daily)
    md = directory / f"{symbol}.md"
    md.write_text(markdown(data, selection, stats, holdout, png.name, bundle_json))
    return md


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:,.{digits}f}"
    return str(value)


def _row(name: str, u: Performance, f: Performance) -> list[str]:
    return [name, _fmt(getattr(u, _KEYS[name])), _fmt(getattr(f, _KEYS[name]))]


_KEYS = {"trades": "trades", "Sharpe": "sharpe", "Sortino": "sortino", "profit factor": "profit_factor",
         "max drawdown USD": "max_drawdown_usd", "total P&L USD": "net_pnl_usd", "win rate": "win_rate"}


def markdown(data: PairData, selection: Selection, stats: SearchStatistics, holdout: HoldoutResult, png: str,
             bundle_json: Path) -> str:
    spec, s = data.spec, data.search
    k = selection.threshold_index
    ratio = holdout.improvement
    verdict = ("undefined: the unfiltered Sharpe is not positive" if ratio is None
               else f"{ratio:.2f}x ({'meets' if holdout.target_met else 'misses'} the {holdout.target:g}x target)")
    lines = [
        f"# {spec.strategy} {spec.symbol}: ML filter",
        "",
        f"Bundle: `{bundle_json}`; production threshold **{selection.threshold:.3f}** on "
        f"{len(selection.features)} features.",
        "",
        "## Data",
        "",
        f"- bars: {data.bar_range[0]} to {data.bar_range[1]}",
        f"- search period (CPCV, threshold choice): trade dates {s.first_day} to {s.last_day}, "
        f"{s.calendar.shape[0]} trade dates, {len(s)} candidate trades of the unfiltered rule",
        f"- the unfiltered rule over the search period: Sharpe {_fmt(_unfiltered_sharpe(s))}",
        f"- hold-out (never seen by the search, the feature choice or the threshold): {holdout.first_day} to "
        f"{holdout.last_day}",
        "",
        "## Search (out of sample, CPCV)",
        "",
        f"- CPCV: {spec.settings.cpcv.n_groups} groups, {spec.settings.cpcv.n_test_groups} test groups, embargo "
        f"{spec.settings.cpcv.embargo:g}: {len(data.plan.splits)} splits, {data.plan.n_paths} paths",
        f"- trials: {stats.n_trials} finished ({spec.settings.random_trials} random then "
        f"{spec.settings.tpe_trials} TPE requested); best trial {selection.trial.number}",
        f"- Sharpe (mean over paths, annualised): **{stats.sharpe:.2f}**; paths: "
        + ", ".join(f"{x:.2f}" for x in stats.path_sharpe),
        f"- trades per path at the threshold: {selection.cv.curve.trades[k]:.0f}",
        f"- PSR (true Sharpe > 0): {_fmt(stats.psr, 3)}; DSR ({stats.n_trials} trials): {_fmt(stats.dsr, 3)}",
        f"- forest: {', '.join(f'{key}={val}' for key, val in selection.forest_params.items())}",
        f"- features: {', '.join(selection.features)}",
        "",
        "## Hold-out: the saved bundle as the step's filter",
        "",
        "| | unfiltered | filtered |",
        "|---|---|---|",
        *("| " + " | ".join(_row(name, holdout.unfiltered, holdout.filtered)) + " |" for name in _KEYS),
        "",
        f"Improvement (filtered / unfiltered Sharpe): {verdict}. The filter rejected "
        f"{holdout.ml_rejected} of {holdout.signals} signals.",
        "",
        f"![{spec.symbol}]({png})",
        "",
    ]
    return "\n".join(lines)


def _unfiltered_sharpe(s: Any) -> float:
    daily = np.bincount(s.exit_day, weights=s.pnl, minlength=s.calendar.shape[0])
    return float(sharpe_of_rows(daily)[0])


def draw(path: Path, data: PairData, selection: Selection, holdout: HoldoutResult, path_daily: np.ndarray) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 9))
    # Fixed margins: a layout engine would cost more than all the drawing (a second a figure).
    fig.subplots_adjust(left=0.13, right=0.94, top=0.95, bottom=0.07, wspace=0.32, hspace=0.3)
    (eq, curve), (imp, paths) = fig.subplots(2, 2)
    sym = data.spec.symbol

    eq.plot(np.cumsum(holdout.daily_unfiltered), label=f"unfiltered ({holdout.unfiltered.trades} trades)")
    eq.plot(np.cumsum(holdout.daily_filtered), label=f"filtered ({holdout.filtered.trades} trades)")
    eq.set(title=f"{sym} hold-out {holdout.first_day} to {holdout.last_day}", xlabel="trade date #",
           ylabel="cumulative P&L, USD")
    eq.legend()

    c = selection.cv.curve
    curve.plot(c.thresholds, c.sharpe, marker="o", label="mean path Sharpe")
    curve.axvline(selection.threshold, color="k", linestyle="--", label=f"chosen {selection.threshold:.3f}")
    curve.set(title="CPCV threshold curve (out-of-fold)", xlabel="threshold", ylabel="Sharpe (annualised)")
    twin = curve.twinx()
    twin.plot(c.thresholds, c.trades, color="tab:gray", alpha=0.6, label="trades per path")
    twin.axhline(data.spec.settings.min_trades, color="tab:gray", linestyle=":")
    twin.set_ylabel("trades per path")
    curve.legend(loc="lower left")

    importances = np.asarray(selection.model.feature_importances_)
    top = np.argsort(importances)[::-1][:TOP_FEATURES]
    imp.barh([selection.features[i] for i in top][::-1], importances[top][::-1])
    imp.tick_params(axis="y", labelsize="small")
    imp.set(title="feature importances (final forest)", xlabel="mean decrease in impurity")

    for p, daily in enumerate(path_daily):
        paths.plot(np.cumsum(daily), label=f"path {p + 1}: Sharpe {c.path_sharpe[selection.threshold_index, p]:.2f}")
    paths.set(title=f"CPCV paths at {selection.threshold:.3f} (search period)", xlabel="trade date #",
              ylabel="cumulative P&L, USD")
    paths.legend(fontsize="small")
    fig.savefig(path, dpi=80)
