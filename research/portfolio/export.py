"""``export-portfolio-config``: ``config/portfolio_optimization_<strategy>.json`` from a search.

One file per strategy of the search, in the shape the daemon reads
(``multialpha.config.strategy_files``)::

    {"strategy": "ibs_a",
     "portfolio_constraints": {"max_positions": 4, "daily_stop_loss": 2500.0, "symbols": ["6A", ...]},
     "expected_performance": {"scope": "...", "in_sample": {...}, "out_of_sample": {...}},
     "optimization_date": "YYYY-MM-DD", "method": "...",
     "data_range": {"start": ..., "train_end": ..., "end": ...}, "trials": 970,
     "search": {"objective": ..., "constraints": {...}, "strategies": [...], "deflated_sharpe": ...}}

The symbols are in the search universe's order: the daemon decides simultaneous entries in
that order, as the simulation did. The expected performance is the whole searched portfolio's
(every strategy of the search together), in and out of sample.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from multialpha.research.portfolio.errors import PortfolioResearchError
from multialpha.research.portfolio.optimize import DOCUMENT_KIND, DOCUMENT_VERSION

from multialpha.config import load_portfolio_optimization, portfolio_file_path


def read_search(path: Path) -> dict[str, Any]:
    """A ``portfolio_search.json``, checked to be one."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PortfolioResearchError(f"{path}: no such file; run optimize-portfolio first") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise PortfolioResearchError(f"{path}: cannot read: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") != DOCUMENT_KIND:
        raise PortfolioResearchError(f"{path}: not a portfolio search result (no kind {DOCUMENT_KIND!r})")
    if doc.get("version") != DOCUMENT_VERSION:
        raise PortfolioResearchError(f"{path}: version {doc.get('version')!r}, expected {DOCUMENT_VERSION}")
    return doc


def method_text(doc: dict[str, Any]) -> str:
    s = doc["settings"]
    c = s["constraints"]
    stops = s["daily_stop_loss"] or "each strategy's configured stop"
    return (f"greedy forward selection then backward elimination over (strategy, symbol) pairs, for each "
            f"max_positions in {s['max_positions']} and daily stop in {stops}; objective {s['objective']}; "
            f"constraints: max drawdown < {c['max_drawdown_usd']} USD, at most {c['max_breach_events']} drawdowns "
            f"beyond {c['breach_level_usd']} USD; candidates: {doc['candidates']}; simulated with the daemon's "
            "step and portfolio coordinator")


def exported_document(doc: dict[str, Any], strategy: str, today: date) -> dict[str, Any]:
    chosen = doc["chosen"]["strategies"].get(strategy)
    if chosen is None:
        searched = ", ".join(doc["universe"])
        if strategy in doc["universe"]:
            raise PortfolioResearchError(f"{strategy}: the search chose none of its symbols; leave it out of the "
                                         f"export (and disable it) or search again")
        raise PortfolioResearchError(f"{strategy}: not in the search (searched: {searched})")
    if chosen["daily_stop_loss"] is None or chosen["max_positions"] is None:
        raise PortfolioResearchError(f"{strategy}: the search ran without a max_positions or daily stop for it; "
                                     "the daemon needs both")
    perf = doc["performance"]
    ins = perf["in_sample"]
    return {
        "strategy": strategy,
        "portfolio_constraints": {"max_positions": chosen["max_positions"],
                                  "daily_stop_loss": float(chosen["daily_stop_loss"]),
                                  "symbols": list(chosen["symbols"])},
        "expected_performance": {"scope": f"all strategies of the search together: {', '.join(doc['chosen']['strategies'])}",
                                 "in_sample": ins, "out_of_sample": perf.get("out_of_sample")},
        "optimization_date": today.isoformat(),
        "method": method_text(doc),
        "data_range": doc["data_range"],
        "trials": doc["trials"],
        "search": {"objective": doc["settings"]["objective"], "constraints": doc["settings"]["constraints"],
                   "starting_capital_usd": doc["settings"]["starting_capital_usd"],
                   "strategies": list(doc["chosen"]["strategies"]), "deflated_sharpe": ins.get("deflated_sharpe"),
                   "account_limits": doc["account_limits"]},
    }


def export_portfolio_files(search: Path, config_dir: Path, *, strategies: Sequence[str] = (),
                           today: date | None = None) -> list[Path]:
    """Write every chosen strategy's file (or only ``strategies``); each is read back with the
    daemon's own loader before the next is written."""
    doc = read_search(search)
    names = list(strategies) or list(doc["chosen"]["strategies"])
    docs = {name: exported_document(doc, name, today or date.today()) for name in names}
    config_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in docs.items():
        path = portfolio_file_path(config_dir, name)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(content, indent=2) + "\n")
        load_portfolio_optimization(tmp, shown=str(path), strategy=name)  # the daemon must be able to read it
        tmp.replace(path)
        written.append(path)
    return written
