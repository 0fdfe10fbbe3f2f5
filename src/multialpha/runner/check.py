"""``multialpha check``: the dry run. Everything ``run`` validates before it trades, through the
same functions (so with the same messages), every problem reported rather than the first;
nothing is sent and nothing is written (the state store is opened read-only)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from multialpha.calendar import trading_day
from multialpha.config import (
    AppConfig,
    ResolvedStrategy,
    display_path,
    load_app_config,
    redact_url,
    resolve_strategies,
)
from multialpha.config.schema import DataSource
from multialpha.contracts import ContractSpec, load_contracts, require
from multialpha.errors import MultialphaError
from multialpha.features import REQUIRED_HISTORY_BARS
from multialpha.rolls import RollSchedule, load_rolls
from multialpha.runner.coordination import build_coordinator
from multialpha.runner.lock import holder, lock_path, state_path_problem
from multialpha.runner.modes import mode_problems
from multialpha.runner.params import instrument_setup
from multialpha.runner.recovery import Recovery, read_saved_state
from multialpha.runner.sources import feed_symbols, load_bars, source_problems
from multialpha.runner.worker import load_bundles, missing_bundles
from multialpha.state import StateStore
from multialpha.strategy.alpha import alpha_spec


class _Report:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.problems: list[str] = []

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def problem(self, exc: MultialphaError | str, indent: str = "") -> None:
        self.problems.append(str(exc))
        self.say(f"{indent}PROBLEM {exc}")


def run_check(config: str | Path, *, allow_unverified_models: bool, out: TextIO) -> int:
    r = _Report(out)
    try:
        cfg = load_app_config(config)
        contracts = load_contracts(cfg.runtime.contracts_path)
        strategies = resolve_strategies(cfg)
        rolls = load_rolls(cfg.runtime.rolls_path, require=[sym for s in strategies for sym in s.symbols])
    except MultialphaError as exc:
        r.problem(exc)
        r.say("check failed: 1 problem; nothing was sent")
        return 1
    _header(r, cfg)
    for problem in mode_problems(cfg):
        r.problem(problem)
    recovery = _state(r, cfg, strategies, contracts)
    allow = allow_unverified_models or cfg.runtime.allow_unverified_models
    today = trading_day(datetime.now(UTC))
    for s in strategies:
        _strategy(r, cfg, s, contracts, allow, rolls, today)
    _bar_files(r, cfg, strategies, contracts, recovery)
    r.say("")
    if r.problems:
        r.say(f"check failed: {len(r.problems)} problem(s); nothing was sent")
        return 1
    r.say(f"check passed: {len(strategies)} strategies, {sum(len(s.symbols) for s in strategies)} instruments; "
          "nothing was sent")
    return 0


def _header(r: _Report, cfg: AppConfig) -> None:
    rt = cfg.runtime
    r.say(f"config      {cfg.source_file}")
    r.say(f"mode        {rt.mode}   data {rt.data.source} {rt.data.path}   warm-up {rt.data.warmup_bars} bars")
    r.say(f"state       {rt.state_path}")
    r.say(f"webhooks    timeout {rt.webhook.timeout_secs}s, {rt.webhook.max_attempts} attempts; "
          f"contracts from {rt.rolls_path}")
    discord = rt.alerts.discord_webhook_url.get_secret_value() if rt.alerts.discord_webhook_url else ""
    a = rt.alerts
    r.say(f"alerts      {redact_url(discord) if discord else 'log only (no Discord webhook set)'}; repeats "
          f"collapsed within {a.dedup_window_secs:g}s, at most {a.max_per_key} of a kind per {a.per_key_window_secs:g}s")
    h = rt.health
    where = "off (runtime.health.port 0)" if h.port == 0 else f"http://{h.host}:{h.port}/health and /metrics"
    r.say(f"health      {where}; a bar time stalled after {h.stall_secs:g}s; logs {rt.log_level} {rt.log_format}")
    r.say(f"portfolio   max_positions {cfg.portfolio.max_positions}   daily_stop_loss {cfg.portfolio.daily_stop_loss}"
          f"   on strategy failure: {rt.on_strategy_failure.value}")
    if rt.data.warmup_bars < REQUIRED_HISTORY_BARS:
        r.say(f"warning     runtime.data.warmup_bars {rt.data.warmup_bars} < {REQUIRED_HISTORY_BARS}: features are "
              "not exact from the first live bar, and restarts may decide differently")


def _state(r: _Report, cfg: AppConfig, strategies: list[ResolvedStrategy],
           contracts: dict[str, ContractSpec]) -> Recovery | None:
    path = cfg.runtime.state_path
    problem = state_path_problem(path)
    if problem is not None:
        r.problem(problem)
        return None
    pid = holder(lock_path(path))
    if pid is not None:
        r.say(f"note        a daemon (pid {pid}) is running on this store: `run` refuses a second one")
    if not path.exists():
        r.say("            (no state store yet: the first run creates it)")
        return None
    try:
        coordinator = build_coordinator(cfg, strategies, contracts)
        with StateStore.open(path, create=False, read_only=True) as store:
            rec = read_saved_state(store, coordinator, strategies)
    except MultialphaError as exc:
        r.problem(exc)
        return None
    for note in rec.notes:
        r.say(f"note        {note}")
    return rec


def _strategy(r: _Report, cfg: AppConfig, s: ResolvedStrategy, contracts: dict[str, ContractSpec],
              allow_unverified: bool, rolls: RollSchedule, today: date) -> None:
    refs = tuple(cfg.runtime.data.reference_symbols)
    r.say("")
    r.say(f"strategy {s.name} ({s.strategy})  webhook {redact_url(s.broker_account.get_secret_value())}  "
          f"account '{s.account}'")
    r.say(f"  symbols          {' '.join(s.symbols)}   <- {s.symbols_source}")
    r.say(f"  max_positions    {s.max_positions.value}   <- {s.max_positions.source}")
    r.say(f"  daily_stop_loss  {s.daily_stop_loss.value}   <- {s.daily_stop_loss.source}")
    if s.portfolio is not None and s.portfolio_file is not None:
        r.say(f"  portfolio file   {display_path(s.portfolio_file, cfg.base_dir)}: {s.portfolio.summary()}")
    r.say(f"  broker stop      {'none' if s.broker_stop_mult == 0 else f'{s.broker_stop_mult:g} x the stop distance'}")
    for note in (*s.notes, *missing_bundles(s).values()):
        r.say(f"  note: {note}")
    try:
        alpha_spec(s.strategy, key=f"strategies.{s.name}.strategy", file=str(cfg.source_file))
        bundles = load_bundles(s, refs, allow_unverified=allow_unverified)
    except MultialphaError as exc:
        r.problem(exc, "  ")
        return
    for symbol, b in bundles.items():
        try:
            require(contracts, symbol)
            setup = instrument_setup(s, symbol, b, cfg.base_dir)
        except MultialphaError as exc:
            r.problem(exc, "  ")
            continue
        held = rolls.active_contract(symbol, today)
        roll_day, following = rolls.next_roll(symbol, today)
        r.say(f"  {symbol}: ticker today {held.traderspost_ticker} (data {held.databento_symbol}), rolls to "
              f"{following.traderspost_ticker} on {roll_day}; model verified sha256 {b.sha256[:12]}..., "
              f"{len(b.features)} features, threshold {b.threshold}")
        for key, val in setup.effective.items():
            shown = f"[{len(val.value)} names]" if key == "ml_features" else repr(val.value)
            r.say(f"      {key:<18} {shown:<24} <- {val.source}")
        for note in setup.notes:
            r.say(f"    note: {note}")


def _bar_files(r: _Report, cfg: AppConfig, strategies: list[ResolvedStrategy],
               contracts: dict[str, ContractSpec], recovery: Recovery | None) -> None:
    held = [sym for syms in (recovery.orphans.values() if recovery else ()) for sym in syms]
    symbols = feed_symbols(cfg, strategies, held)
    for problem in source_problems(cfg, symbols, contracts):
        r.problem(problem)
    if cfg.runtime.data.source is not DataSource.REPLAY:
        db = cfg.runtime.data.databento
        if db is not None:
            r.say(f"live data  {db.dataset} via {db.gateway or 'the Databento gateway'}:{db.port}, warm-up from "
                  f"{db.warmup_from.value}, stale after {db.max_silence_secs:g}s of silence")
        if db is None or db.warmup_from.value != "files":
            return
    r.say("")
    for symbol in symbols:
        try:
            bars = load_bars(cfg, contracts, symbol)
        except MultialphaError as exc:
            r.problem(exc)
            continue
        r.say(f"bars {symbol:<5} {len(bars):>7} bars checked")
