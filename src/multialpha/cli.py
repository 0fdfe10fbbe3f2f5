"""``multialpha``: run / check / webhook-sink / demo."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import date

from multialpha.config import DEFAULT_CONFIG_FILE, AppConfig
from multialpha.errors import FatalError, MultialphaError, UsageError, WorkerError

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_WORKER = 70  # EX_SOFTWARE: a strategy could not run


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {text!r}") from None


def _cmd_run(args: argparse.Namespace) -> int:
    from multialpha.config import load_app_config, secrets_of
    from multialpha.runner import MultiAlphaRunner, RunOptions, format_summary
    from multialpha.runner.logs import setup_logging

    cfg = load_app_config(args.config)
    if args.mode:
        cfg = cfg.with_mode(args.mode)
    setup_logging(args.log_level or cfg.runtime.log_level, secrets_of(cfg), fmt=cfg.runtime.log_format)
    runner = MultiAlphaRunner(cfg, options=RunOptions(
        start=args.start, end=args.end, fail_fast=True if args.fail_fast else None,
        allow_unverified_models=True if args.allow_unverified_models else None, show_progress=True))
    def stop(signum: int, _frame: object) -> None:
        logging.getLogger("multialpha").info("signal %s: stopping after the current bar", signum)
        runner.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    report = runner.run()
    print(format_summary(report))
    return EXIT_WORKER if report.failed else EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from multialpha.runner.check import run_check

    return run_check(args.config, allow_unverified_models=args.allow_unverified_models, out=sys.stdout)


def _cmd_sink(args: argparse.Namespace) -> int:
    from multialpha.execution.sink import serve_forever

    serve_forever(args.host, args.port, args.out)
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from multialpha.runner.demo import run_demo

    return run_demo(config=args.config, workdir=args.workdir, start=args.start, end=args.end, out=sys.stdout)


def _cfg(args: argparse.Namespace) -> AppConfig:
    """The config for an operator command: webhook variables need not be set (nothing is sent);
    ``--state`` points at another state store."""
    from pathlib import Path

    from multialpha.config import load_app_config

    cfg = load_app_config(args.config, urls_optional=True)
    if getattr(args, "state", None):
        cfg = dataclasses.replace(cfg, runtime=cfg.runtime.model_copy(
            update={"state_path": Path(args.state).expanduser().absolute()}))
    return cfg


def _cmd_status(args: argparse.Namespace) -> int:
    from multialpha.runner.ops import status

    return status(_cfg(args), as_json=args.json, out=sys.stdout)


def _cmd_halt(args: argparse.Namespace) -> int:
    from multialpha.runner.ops import halt

    return halt(_cfg(args), strategy=args.strategy, flatten=args.flatten, reducing=args.reducing,
                reason=args.reason, by=args.by, out=sys.stdout)


def _cmd_resume(args: argparse.Namespace) -> int:
    from multialpha.runner.ops import resume

    return resume(_cfg(args), strategy=args.strategy, reason=args.reason, by=args.by, out=sys.stdout)


def _cmd_orders(args: argparse.Namespace) -> int:
    from multialpha.runner.ops import orders_list, orders_resolve

    if args.orders_command == "resolve":
        return orders_resolve(_cfg(args), intent_id=args.intent_id, sent=args.sent, by=args.by, out=sys.stdout)
    return orders_list(_cfg(args), show_all=args.all, out=sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="multialpha", description="Multi-alpha futures trading daemon.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run the daemon")
    r.add_argument("--config", default=str(DEFAULT_CONFIG_FILE))
    r.add_argument("--mode", choices=("replay", "paper", "live"), help="override runtime.mode")
    r.add_argument("--from", dest="start", type=_date, help="first trading day orders may go out (replay)")
    r.add_argument("--to", dest="end", type=_date, help="last trading day replayed")
    r.add_argument("--fail-fast", action="store_true", help="stop everything if any strategy fails to start")
    r.add_argument("--allow-unverified-models", action="store_true",
                   help="load bundles whose JSON records no Model_SHA256 (never a mismatching one)")
    r.add_argument("--log-level")
    r.set_defaults(func=_cmd_run)

    c = sub.add_parser("check", help="validate config and bundles, show effective parameters; sends nothing")
    c.add_argument("--config", default=str(DEFAULT_CONFIG_FILE))
    c.add_argument("--allow-unverified-models", action="store_true")
    c.set_defaults(func=_cmd_check)

    st = sub.add_parser("status", help="positions, daily P&L vs stop, halts, orders needing attention")
    st.add_argument("--config", default=str(DEFAULT_CONFIG_FILE))
    st.add_argument("--state", help="the state store (default: runtime.state_path of the config)")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=_cmd_status)

    h = sub.add_parser("halt", help="stop new entries (kill switch); exits go on; survives restarts")
    h.add_argument("--config", default=str(DEFAULT_CONFIG_FILE))
    h.add_argument("--state", help="the state store (default: runtime.state_path of the config)")
    h.add_argument("--strategy", help="only this strategy (default: the whole account)")
    h.add_argument("--flatten", action="store_true", help="also close every open position at the next bar")
    h.add_argument("--reducing", action="store_true", help="REDUCING (exits only) rather than HALTED")
    h.add_argument("--reason", required=True)
    h.add_argument("--by", help="who (default: the login name)")
    h.set_defaults(func=_cmd_halt)

    rs = sub.add_parser("resume", help="back to ACTIVE after a halt")
    rs.add_argument("--config", default=str(DEFAULT_CONFIG_FILE))
    rs.add_argument("--state", help="the state store (default: runtime.state_path of the config)")
    rs.add_argument("--strategy", help="only this strategy (default: the whole account)")
    rs.add_argument("--reason", default="resumed by operator")
    rs.add_argument("--by")
    rs.set_defaults(func=_cmd_resume)

    o = sub.add_parser("orders", help="the order outbox: list orders needing attention, settle unknown ones")
    o.add_argument("--config", default=str(DEFAULT_CONFIG_FILE))
    o.add_argument("--state", help="the state store (default: runtime.state_path of the config)")
    osub = o.add_subparsers(dest="orders_command")
    ol = osub.add_parser("list", help="orders pending or of unknown outcome (--all: every order)")
    ol.add_argument("--all", action="store_true")
    ol.add_argument("--config", default=argparse.SUPPRESS)
    ol.add_argument("--state", default=argparse.SUPPRESS)
    orv = osub.add_parser("resolve", help="settle an order of unknown outcome after checking the broker")
    orv.add_argument("intent_id")
    orv.add_argument("--config", default=argparse.SUPPRESS)
    orv.add_argument("--state", default=argparse.SUPPRESS)
    g = orv.add_mutually_exclusive_group(required=True)
    g.add_argument("--sent", dest="sent", action="store_true", help="the broker received it")
    g.add_argument("--not-sent", dest="sent", action="store_false", help="the broker did not receive it")
    orv.add_argument("--by")
    o.set_defaults(func=_cmd_orders, all=False)

    s = sub.add_parser("webhook-sink", help="a local webhook receiver that records every POST as JSONL")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--out", default="webhooks.jsonl")
    s.set_defaults(func=_cmd_sink)

    d = sub.add_parser("demo", help="replay the sample data through the daemon into a local webhook sink")
    d.add_argument("--config", default=str(DEFAULT_CONFIG_FILE))
    d.add_argument("--workdir", default="demo_run")
    d.add_argument("--from", dest="start", type=_date, default=date(2024, 7, 1))
    d.add_argument("--to", dest="end", type=_date, default=None)
    d.set_defaults(func=_cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `multialpha orders list | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except FatalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except WorkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_WORKER
    except MultialphaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
