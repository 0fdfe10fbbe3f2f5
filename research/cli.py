"""``multialpha-research``: the offline pipeline's commands."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import date
from pathlib import Path


def _cmd_sample_data(args: argparse.Namespace) -> int:
    from multialpha.research.sampledata import write_sample_data

    t0 = time.perf_counter()
    paths = write_sample_data(Path(args.out), fmt=args.format, seed=args.seed,
                              start=date.fromisoformat(args.start), end=date.fromisoformat(args.end))
    print(f"wrote {len(paths)} bar files to {args.out} in {time.perf_counter() - t0:.1f}s")
    return 0


def _cmd_train_demo(args: argparse.Namespace) -> int:
    from multialpha.research.ml.demo_train import train_demo_bundles

    t0 = time.perf_counter()
    written = train_demo_bundles(Path(args.data), Path(args.config), Path(args.out),
                                 contracts_path=Path(args.contracts), references=tuple(args.references),
                                 train_end=date.fromisoformat(args.train_end), seed=args.seed,
                                 strategies=args.strategy)
    print(f"wrote {len(written)} bundles to {args.out} in {time.perf_counter() - t0:.1f}s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="multialpha-research", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample-data", help="generate deterministic sample hourly bars")
    s.add_argument("--out", required=True)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--start", default="2023-01-02")
    s.add_argument("--end", default="2024-12-31")
    s.add_argument("--format", choices=("csv", "parquet"), default="csv")
    s.set_defaults(func=_cmd_sample_data)
    t = sub.add_parser("train-demo", help="train small demo RandomForest bundles from bar files")
    t.add_argument("--data", required=True, help="directory of <SYMBOL>.csv/.parquet bar files")
    t.add_argument("--config", default="config.multi_alpha.yml")
    t.add_argument("--contracts", default="config/contracts.yml")
    t.add_argument("--out", required=True, help="models directory; bundles go to OUT/<strategy>/")
    t.add_argument("--references", nargs="*", default=["ZB", "VX"])
    t.add_argument("--train-end", default="2024-07-01", help="first trading day NOT used for training")
    t.add_argument("--strategy", action="append", help="only this strategy (repeatable)")
    t.add_argument("--seed", type=int, default=11)
    t.set_defaults(func=_cmd_train_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
