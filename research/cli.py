"""``multialpha-research``: the offline pipeline's commands.

A command that refuses its input or options prints ``error: <message>`` on stderr and
exits 1; the message names the file, line, field or symbol. A malformed command line (a
missing option, a date that is not YYYY-MM-DD) is argparse's usage error, exit 2. No command
shows a traceback: an unexpected failure is one ``error: unexpected ...`` line and exit 70
(``--debug`` shows the traceback), an interrupted one exits 130.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path

from multialpha.research.errors import ResearchError
from multialpha.research.ml.commands import add_commands

from multialpha.errors import MultialphaError

EXIT_REFUSED = 1
EXIT_UNEXPECTED = 70  # EX_SOFTWARE
EXIT_INTERRUPTED = 130


def _cmd_sample_data(args: argparse.Namespace) -> int:
    from multialpha.research.sampledata import write_sample_data

    t0 = time.perf_counter()
    try:
        paths = write_sample_data(Path(args.out), fmt=args.format, seed=args.seed, start=args.start,
                                  end=args.end)
    except ValueError as exc:  # a date range without sessions
        raise ResearchError(f"sample-data: {exc}") from None
    print(f"wrote {len(paths)} bar files to {args.out} in {time.perf_counter() - t0:.1f}s")
    return 0


def _cmd_import_bars(args: argparse.Namespace) -> int:
    from multialpha.research.data import (
        ImportOptions,
        TimeRules,
        import_bars,
        parse_bar_length,
        parse_column_map,
    )

    options = ImportOptions(
        symbol=args.symbol, columns=parse_column_map(args.columns),
        times=TimeRules(tz=args.tz, ts_format=args.ts_format, ambiguous=args.ambiguous,
                        nonexistent=args.nonexistent),
        timestamp_is=args.timestamp_is,
        input_bar=None if args.input_bar == "auto" else parse_bar_length(args.input_bar),
        snap_to_tick=args.snap_to_tick, keep_partial_edges=args.keep_partial_edges, fmt=args.format,
        overwrite=args.overwrite)
    report = import_bars(Path(args.input), Path(args.out), options, contracts_file=Path(args.contracts))
    print("\n".join(report.lines()))
    return 0


def _add_import_bars(sub: argparse._SubParsersAction) -> None:
    i = sub.add_parser("import-bars", help="turn vendor CSV/parquet bars into an hourly bar file",
                       description="Read a vendor CSV or parquet file of bars (hourly or finer, any "
                                   "time zone) and write <OUT>/<SYMBOL>.csv|.parquet in the project's "
                                   "bar-file format, checked by reading it back.")
    i.add_argument("input", help="vendor file (.csv or .parquet)")
    i.add_argument("--symbol", required=True, help="contract symbol (must be in --contracts)")
    i.add_argument("--out", required=True, help="data directory to write <SYMBOL>.<format> into")
    i.add_argument("--format", choices=("csv", "parquet"), default="csv")
    i.add_argument("--contracts", default="config/contracts.yml")
    i.add_argument("--columns", help="FIELD=COLUMN,... e.g. ts=Date,open=Open or ts=Date+Time "
                                     "(default: found by header name)")
    i.add_argument("--tz", help="time zone of naive timestamps, e.g. America/New_York")
    i.add_argument("--ts-format", help="strftime layout of the timestamps, or "
                                       "epoch-s|epoch-ms|epoch-us|epoch-ns (default: ISO-8601)")
    i.add_argument("--timestamp-is", choices=("bar-start", "bar-end"), default="bar-start")
    i.add_argument("--input-bar", default="auto",
                   help="input bar length: 1m, 5m, 1h, ... (default auto: the most common spacing)")
    i.add_argument("--ambiguous", choices=("error", "infer", "earlier", "later"), default="error",
                   help="a local time that happens twice when clocks go back (default: error)")
    i.add_argument("--nonexistent", choices=("error", "shift-forward", "drop"), default="error",
                   help="a local time skipped when clocks go forward (default: error)")
    i.add_argument("--snap-to-tick", action="store_true",
                   help="round prices to the contract's tick grid (default: off-grid is an error)")
    i.add_argument("--keep-partial-edges", action="store_true",
                   help="keep a first/last hour the minute input covers only in part")
    i.add_argument("--overwrite", action="store_true", help="replace an existing <SYMBOL> file")
    i.set_defaults(func=_cmd_import_bars)


def _print_metrics(rows: list[tuple[str, dict[str, object] | None]]) -> None:
    from multialpha.research.portfolio.report import FIGURES

    print(f"{'':28s}" + "".join(f"{label:>16s}" for label, _ in rows))
    for key, label, pattern in FIGURES:
        cells = []
        for _, figures in rows:
            value = None if figures is None else figures.get(key)
            cells.append("n/a" if value is None else pattern.format(value))
        print(f"{label:28s}" + "".join(f"{c:>16s}" for c in cells))


def _cmd_simulate(args: argparse.Namespace) -> int:
    from multialpha.research.portfolio.simulate import SimulateOptions, run_simulation

    t0 = time.perf_counter()
    opts = SimulateOptions(
        config=Path(args.config), data=Path(args.data), models=_path(args.models), portfolio_dir=_path(args.portfolio_dir),
        strategies=tuple(args.strategy or ()), max_positions=args.max_positions, daily_stop_loss=args.daily_stop_loss,
        start=args.start, end=args.end, starting_capital_usd=args.capital, breach_level_usd=args.breach_level,
        use_filter=not args.no_filter, out=_path(args.out))
    result, metrics, notes = run_simulation(opts)
    for note in notes:
        print(note)
    _print_metrics([("portfolio", metrics.to_dict())])
    if opts.out is not None:
        print(f"trades, daily P&L and daily stops written to {opts.out}")
    print(f"simulated {len(result.daily_pnl)} trade dates in {time.perf_counter() - t0:.1f}s")
    return 0


def _cmd_optimize(args: argparse.Namespace) -> int:
    from multialpha.research.portfolio.greedy import Constraints, Objective, SearchSettings
    from multialpha.research.portfolio.optimize import SEARCH_FILE, OptimizeOptions, optimize_portfolio

    t0 = time.perf_counter()
    settings = SearchSettings(
        max_positions=tuple(args.max_positions), daily_stop_loss=tuple(args.daily_stop_loss or ()),
        objective=Objective(args.objective), starting_capital_usd=args.capital,
        constraints=Constraints(max_drawdown_usd=args.max_drawdown, breach_level_usd=args.breach_level,
                                max_breach_events=args.max_breaches))
    opts = OptimizeOptions(config=Path(args.config), data=Path(args.data), out=Path(args.out),
                           models=_path(args.models), strategies=tuple(args.strategy or ()),
                           symbols=tuple(args.symbols or ()), start=args.start, split=args.split, end=args.end,
                           settings=settings, use_filter=not args.no_filter)
    doc = optimize_portfolio(opts)
    chosen = doc["chosen"]
    print(f"searched {doc['trials']} portfolios; chosen: max_positions {chosen['max_positions']}, daily stop "
          f"{chosen['daily_stop_loss'] or 'as configured'}")
    for name, s in chosen["strategies"].items():
        print(f"  {name}: {' '.join(s['symbols'])}")
    _print_metrics([("in sample", doc["performance"]["in_sample"]),
                    ("out of sample", doc["performance"].get("out_of_sample"))])
    print(f"wrote {Path(args.out) / SEARCH_FILE} and {Path(args.out) / 'report.md'} in "
          f"{time.perf_counter() - t0:.1f}s")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from multialpha.research.portfolio.export import export_portfolio_files

    for path in export_portfolio_files(Path(args.search), Path(args.config_dir), strategies=tuple(args.strategy or ())):
        print(f"wrote {path}")
    return 0


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def _add_portfolio_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default="config.multi_alpha.yml", help="the daemon's config file")
        p.add_argument("--data", required=True, help="directory of <SYMBOL>.csv/.parquet bar files")
        p.add_argument("--models", help="models directory (bundles in MODELS/<strategy>/); default: each "
                                        "strategy's models_path")
        p.add_argument("--strategy", action="append", help="only this strategy (repeatable); default: all enabled")
        p.add_argument("--no-filter", action="store_true", help="every signal of the rules, bundles not used")
        p.add_argument("--capital", type=float, default=100_000.0, help="starting capital in USD (CAGR, drawdown %%)")
        p.add_argument("--breach-level", type=float, default=6_000.0, help="drawdown in USD counted as a breach event")
        p.add_argument("--start", type=date.fromisoformat, help="first trade date used (YYYY-MM-DD)")
        p.add_argument("--end", type=date.fromisoformat, help="first trade date no longer used (YYYY-MM-DD)")

    s = sub.add_parser("simulate", help="trade one portfolio with the daemon's step and coordinator")
    common(s)
    s.add_argument("--portfolio-dir", help="read portfolio_optimization_<strategy>.json files from here")
    s.add_argument("--max-positions", type=int, help="override every strategy's max_positions")
    s.add_argument("--daily-stop-loss", type=float, help="override every strategy's daily stop (USD)")
    s.add_argument("--out", help="write trades.csv, daily_pnl.csv and daily_stops.csv here")
    s.set_defaults(func=_cmd_simulate)

    o = sub.add_parser("optimize-portfolio", help="greedy search of symbols, max_positions and daily stop")
    common(o)
    o.add_argument("--out", required=True, help="directory for portfolio_search.json and the report")
    o.add_argument("--symbols", nargs="+", help="search these symbols for every strategy (default: its instruments)")
    o.add_argument("--split", type=date.fromisoformat, help="first out-of-sample trade date (default: after 70%% of the trade dates)")
    o.add_argument("--max-positions", type=int, nargs="+", default=list(range(1, 11)), help="grid (default 1..10)")
    o.add_argument("--daily-stop-loss", type=float, nargs="+", help="grid in USD (default: each strategy's own)")
    o.add_argument("--objective", choices=("sharpe", "sortino", "cagr", "net_pnl"), default="sharpe")
    o.add_argument("--max-drawdown", type=float, default=9_000.0, help="max drawdown must stay below (USD)")
    o.add_argument("--max-breaches", type=int, default=2, help="most drawdowns beyond --breach-level allowed")
    o.set_defaults(func=_cmd_optimize)

    e = sub.add_parser("export-portfolio-config", help="write config/portfolio_optimization_<strategy>.json")
    e.add_argument("--search", required=True, help="portfolio_search.json written by optimize-portfolio")
    e.add_argument("--config-dir", default="config", help="the daemon's runtime.config_dir")
    e.add_argument("--strategy", action="append", help="only this strategy (repeatable); default: every chosen one")
    e.set_defaults(func=_cmd_export)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="multialpha-research", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample-data", help="generate deterministic sample hourly bars")
    s.add_argument("--out", required=True)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 2), help="YYYY-MM-DD")
    s.add_argument("--end", type=date.fromisoformat, default=date(2024, 12, 31), help="YYYY-MM-DD")
    s.add_argument("--format", choices=("csv", "parquet"), default="csv")
    s.set_defaults(func=_cmd_sample_data)
    add_commands(sub)
    _add_import_bars(sub)
    _add_portfolio_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MultialphaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except (ValueError, OSError) as exc:  # inputs refused below the commands: still one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("interrupted: finished trials are kept in the study storage; run the same command again to "
              "resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug rather than an input problem: say what, keep the traceback for --debug
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
