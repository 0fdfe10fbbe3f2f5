"""``multialpha check``: the dry run. Validates everything a run needs and sends nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from multialpha.config import load_app_config, redact_url, resolve_strategies
from multialpha.contracts import load_contracts, require
from multialpha.errors import MultialphaError
from multialpha.features import REQUIRED_HISTORY_BARS
from multialpha.feeds.replay_files import find_bar_file
from multialpha.runner.params import instrument_setup
from multialpha.runner.worker import load_bundles


def run_check(config: str | Path, *, allow_unverified_models: bool, out: TextIO) -> int:
    problems: list[str] = []

    def say(text: str = "") -> None:
        print(text, file=out)

    try:
        cfg = load_app_config(config)
        contracts = load_contracts(cfg.runtime.contracts_path)
        strategies = resolve_strategies(cfg)
    except MultialphaError as exc:
        say(f"PROBLEM {exc}")
        say("check failed: 1 problem; nothing was sent")
        return 1
    rt = cfg.runtime
    allow = allow_unverified_models or rt.allow_unverified_models
    say(f"config      {cfg.source_file}")
    say(f"mode        {rt.mode}   data {rt.data.source} {rt.data.path}   warm-up {rt.data.warmup_bars} bars")
    say(f"state       {rt.state_path}")
    say(f"webhooks    timeout {rt.webhook.timeout_secs}s, {rt.webhook.max_attempts} attempts, "
        f"ticker '{rt.webhook.ticker_format}'")
    discord = rt.alerts.discord_webhook_url.get_secret_value() if rt.alerts.discord_webhook_url else ""
    say(f"alerts      {redact_url(discord) if discord else 'log only (no Discord webhook set)'}")
    say(f"portfolio   max_positions {cfg.portfolio.max_positions}   daily_stop_loss {cfg.portfolio.daily_stop_loss}")
    if rt.data.warmup_bars < REQUIRED_HISTORY_BARS:
        say(f"warning     runtime.data.warmup_bars {rt.data.warmup_bars} < {REQUIRED_HISTORY_BARS}: features are not "
            "exact from the first live bar, and restarts may decide differently")
    refs = tuple(rt.data.reference_symbols)
    for s in strategies:
        say("")
        say(f"strategy {s.name} ({s.strategy})  webhook {redact_url(s.broker_account.get_secret_value())}")
        say(f"  symbols          {' '.join(s.symbols)}   <- {s.symbols_source}")
        say(f"  max_positions    {s.max_positions.value}   <- {s.max_positions.source}")
        say(f"  daily_stop_loss  {s.daily_stop_loss.value}   <- {s.daily_stop_loss.source}")
        for note in s.notes:
            say(f"  note: {note}")
        try:
            bundles = load_bundles(s, refs, allow_unverified=allow)
        except MultialphaError as exc:
            problems.append(str(exc))
            say(f"  PROBLEM {exc}")
            continue
        for symbol in s.symbols:
            try:
                require(contracts, symbol)
                setup = instrument_setup(s, symbol, bundles[symbol], cfg.base_dir)
            except MultialphaError as exc:
                problems.append(str(exc))
                say(f"  PROBLEM {exc}")
                continue
            b = bundles[symbol]
            say(f"  {symbol}: model verified sha256 {b.sha256[:12]}..., {len(b.features)} features, "
                f"threshold {b.threshold}")
            for key, val in setup.effective.items():
                shown = f"[{len(val.value)} names]" if key == "ml_features" else repr(val.value)
                say(f"      {key:<18} {shown:<24} <- {val.source}")
            for note in setup.notes:
                say(f"    note: {note}")
    if rt.data.source == "replay":
        for symbol in sorted({x for s in strategies for x in s.symbols} | set(refs)):
            try:
                find_bar_file(rt.data.path, symbol)
            except MultialphaError as exc:
                problems.append(str(exc))
                say(f"PROBLEM {exc}")
    say("")
    if problems:
        say(f"check failed: {len(problems)} problem(s); nothing was sent")
        return 1
    say(f"check passed: {len(strategies)} strategies, {sum(len(s.symbols) for s in strategies)} instruments; "
        "nothing was sent")
    return 0
