"""The search report: Markdown with PNG charts (matplotlib, Agg backend: files only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from multialpha.research.portfolio.desk import CONVENTIONS
from multialpha.research.portfolio.result import SimulationResult

FIGURES = (("net_pnl_usd", "Net P&L (USD)", "{:,.0f}"), ("sharpe", "Sharpe", "{:.2f}"),
           ("sortino", "Sortino", "{:.2f}"), ("cagr", "CAGR", "{:.1%}"),
           ("max_drawdown_usd", "Max drawdown (USD)", "{:,.0f}"), ("max_drawdown_fraction", "Max drawdown (% of peak)",
                                                                     "{:.1%}"),
           ("breach_events", "Breach events", "{}"), ("daily_stops", "Daily stops hit", "{}"),
           ("daily_stop_days", "Trade dates with a stop", "{}"), ("trades", "Trades", "{}"),
           ("profit_factor", "Profit factor", "{:.2f}"), ("win_rate", "Win rate", "{:.1%}"),
           ("avg_concurrent_positions", "Avg concurrent positions", "{:.2f}"),
           ("max_concurrent_positions", "Max concurrent positions", "{}"),
           ("deflated_sharpe", "Deflated Sharpe (probability)", "{:.3f}"), ("trading_days", "Trade dates", "{}"))


def _fmt(value: Any, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _equity_chart(path: Path, train: SimulationResult, test: SimulationResult | None) -> None:
    plt = _plt()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, height_ratios=(2, 1))
    pieces = [("in sample", train.daily_pnl)] + ([("out of sample", test.daily_pnl)] if test is not None else [])
    offset = 0.0
    for label, daily in pieces:
        equity = daily.cumsum() + offset
        drawdown = equity - np.maximum.accumulate(np.maximum(equity.to_numpy(), offset))
        top.plot(equity.index, equity.to_numpy(), label=label)
        bottom.fill_between(equity.index, drawdown, 0, alpha=0.5, label=label)
        offset = float(equity.iloc[-1])
    top.set_ylabel("cumulative P&L, USD")
    top.legend()
    top.grid(alpha=0.3)
    bottom.set_ylabel("drawdown, USD")
    bottom.grid(alpha=0.3)
    fig.suptitle("Equity (marked to market on trade dates) and drawdown")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _positions_chart(path: Path, train: SimulationResult, test: SimulationResult | None) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 3))
    for label, result in (("in sample", train), ("out of sample", test)):
        if result is None:
            continue
        times = pd.to_datetime(result.positions.index.to_numpy(np.int64), utc=True)
        ax.step(times, result.positions.to_numpy(), where="post", label=label, linewidth=0.6)
    ax.set_ylabel("open positions")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _path_chart(path: Path, steps: Sequence[Mapping[str, Any]], objective: str, grid: Sequence[Mapping[str, Any]]) -> None:
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    ins = [s["in_sample"].get("sharpe") for s in steps]
    outs = [(s["out_of_sample"] or {}).get("sharpe") for s in steps]
    x = np.arange(1, len(steps) + 1)
    left.plot(x, [np.nan if v is None else v for v in ins], marker="o", label="in sample")
    left.plot(x, [np.nan if v is None else v for v in outs], marker="s", label="out of sample")
    left.set_xticks(x, [f"{'+' if s['action'] == 'add' else '-'}{s['pair'][1]}" for s in steps], rotation=70,
                    fontsize=7)
    left.set_ylabel("Sharpe")
    left.set_title("Greedy path of the chosen limits")
    left.legend()
    left.grid(alpha=0.3)
    labels = [f"{g['max_positions']}/{g['daily_stop_loss'] or 'cfg'}" for g in grid]
    values = [g["objective"] if g["objective"] is not None else np.nan for g in grid]
    right.bar(np.arange(len(grid)), values)
    right.set_xticks(np.arange(len(grid)), labels, rotation=70, fontsize=7)
    right.set_title(f"Best in-sample {objective} per max_positions / daily stop")
    right.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(doc: Mapping[str, Any], train: SimulationResult, test: SimulationResult | None,
                 out_dir: Path) -> Path:
    """``report.md`` and its charts in ``out_dir``; returns the Markdown file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen, perf, settings = doc["chosen"], doc["performance"], doc["settings"]
    best = (chosen["max_positions"], chosen["daily_stop_loss"])
    steps = [s for s in doc["path"] if (s["max_positions"], s["daily_stop_loss"]) == best]
    _equity_chart(out_dir / "equity_drawdown.png", train, test)
    _positions_chart(out_dir / "positions.png", train, test)
    _path_chart(out_dir / "greedy_path.png", steps, settings["objective"], doc["grid"])
    ins, outs = perf["in_sample"], perf.get("out_of_sample")
    rows = [[label, _fmt(ins.get(key), p), _fmt(outs.get(key), p) if outs else "n/a"] for key, label, p in FIGURES]
    desk = doc["conventions"]
    desk_rows = [[f"`{r['convention']}`: {CONVENTIONS[r['convention']]}", _fmt(r["sharpe"], "{:.2f}"),
                  _fmt(o["sharpe"], "{:.2f}") if o else "n/a", _fmt(r["net_pnl_usd"], "{:,.0f}"),
                  _fmt(r["max_drawdown_usd"], "{:,.0f}")]
                 for r, o in zip(desk["in_sample"], desk.get("out_of_sample") or [None] * len(desk["in_sample"]),
                                 strict=True)]
    path_rows = [[str(i + 1), s["action"], f"{s['pair'][0]} {s['pair'][1]}", str(s["evaluated"]),
                  _fmt(s["in_sample"].get("sharpe"), "{:.2f}"),
                  _fmt(s["in_sample"].get("max_drawdown_usd"), "{:,.0f}"),
                  _fmt((s["out_of_sample"] or {}).get("sharpe"), "{:.2f}")] for i, s in enumerate(steps)]
    c = settings["constraints"]
    strategies = "; ".join(f"{name}: {', '.join(v['symbols'])}" for name, v in chosen["strategies"].items())
    dr = doc["data_range"]
    text = f"""# Portfolio search

Data: trade dates {dr['start']} to {dr['end']}; in sample before {dr['train_end']}, out of sample from it.
Candidates: {doc['candidates']}. Objective: {settings['objective']}, subject to max drawdown below
{_fmt(c['max_drawdown_usd'], '{:,.0f}')} USD and at most {c['max_breach_events']} drawdowns deeper than
{_fmt(c['breach_level_usd'], '{:,.0f}')} USD, on {_fmt(settings['starting_capital_usd'], '{:,.0f}')} USD of capital.
Grid: max_positions {settings['max_positions']}, daily stop {settings['daily_stop_loss'] or 'from the config'}.
{doc['trials']} distinct portfolios scored in sample.

**Chosen:** max_positions {chosen['max_positions']}, daily stop {chosen['daily_stop_loss'] or 'from the config'};
{strategies}.

## In sample and out of sample

Every figure of the chosen portfolio, re-simulated with the daemon's own step and coordinator.
The out-of-sample period was never seen by the search: the gap between the columns is what
selecting on the in-sample period is worth.

{_table(["", "in sample", "out of sample"], rows)}

![equity and drawdown](equity_drawdown.png)

![open positions](positions.png)

## The same portfolio under a simpler simulator's conventions

One change at a time (cumulative), so each row shows what that convention alone does to the
figures. Booking a stopped-out trade at its own final P&L can move them either way: it depends
on whether the positions a stop closed went on to recover or to lose more.

{_table(["convention", "Sharpe in sample", "Sharpe out of sample", "net P&L in sample", "max DD in sample"], desk_rows)}

## The greedy path

Forward selection then backward elimination at the chosen limits; each step scored every
candidate change ("evaluated") and kept the best one while it improved the objective.

{_table(["step", "action", "pair", "evaluated", "Sharpe in", "max DD in", "Sharpe out"], path_rows)}

![greedy path](greedy_path.png)

## Conventions

Daily P&L is marked to market on CME trade dates (17:00 Chicago roll), one value per trade date,
no calendar day forward-filled. Sharpe and Sortino: daily USD P&L, sample standard deviation,
annualised by sqrt(252). CAGR on the starting capital over the period's trade dates. Drawdowns on
end-of-day equity; a breach event is a drawdown episode deeper than the breach level, counted
once. A daily stop fires on realized plus unrealized P&L of the trade date and closes every
position in its scope at that bar time's close; entries wait for the next trade date.
Simultaneous entries are decided in the daemon's order: strategies in config order, symbols in
their list's order. The Deflated Sharpe uses the number of portfolios scored.
"""
    md = out_dir / "report.md"
    md.write_text(text)
    return md
