"""What each ``runtime.mode`` needs and refuses, checked before anything starts.

* ``replay``: bar files from ``runtime.data.path`` as fast as possible. Replayed bars are
  history, so every outbound URL (webhooks, Discord) must be local (a webhook sink on this
  machine): a replay never reaches a broker.
* ``paper``: live bars (``runtime.data.source: databento``); orders to paper webhooks or a
  local sink; every alert and payload is marked paper.
* ``live``: live bars; real webhooks, which must be https.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from multialpha.config import AppConfig
from multialpha.config.schema import DataSource, RuntimeMode
from multialpha.errors import ConfigError

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_local_url(url: str) -> bool:
    """True when ``url`` points at this machine (loopback address or localhost)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mode_problems(cfg: AppConfig) -> list[ConfigError]:
    """Every way the configuration contradicts its mode; empty when it may start."""
    rt, file = cfg.runtime, cfg.source_file
    problems: list[ConfigError] = []
    urls = [(f"strategies.{name}.broker_account", s.broker_account.get_secret_value())
            for name, s in cfg.enabled_strategies().items() if s.broker_account is not None]
    if rt.alerts.discord_webhook_url is not None:
        urls.append(("runtime.alerts.discord_webhook_url", rt.alerts.discord_webhook_url.get_secret_value()))
    if rt.mode is RuntimeMode.REPLAY:
        if rt.data.source is not DataSource.REPLAY:
            problems.append(ConfigError("mode replay reads bar files; set runtime.data.source: replay, or run "
                                        "--mode paper/live for the live feed", file=file, key="runtime.data.source"))
        for key, url in urls:
            if not is_local_url(url):
                problems.append(ConfigError(
                    "replay never sends to a non-local URL: replayed bars would send historical orders and "
                    "alerts; point it at a local sink (`multialpha webhook-sink`, http://127.0.0.1:PORT/...) "
                    "or run in paper mode with a live data source", file=file, key=key))
        return problems
    if rt.data.source is DataSource.REPLAY:
        problems.append(ConfigError(
            f"mode {rt.mode.value} needs a live data source (runtime.data.source: databento): replaying files "
            "would send orders for bars that are history", file=file, key="runtime.data.source"))
    if rt.mode is RuntimeMode.LIVE:
        for key, url in urls:
            if not is_local_url(url) and urlsplit(url).scheme != "https":
                problems.append(ConfigError("live mode sends only over https", file=file, key=key))
    return problems


def check_mode(cfg: AppConfig) -> None:
    """Raise the mode's problems as one ConfigError (each on its own line)."""
    problems = mode_problems(cfg)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigError(f"{len(problems)} problems with runtime.mode {cfg.runtime.mode.value}:\n"
                          + "\n".join(f"  {p}" for p in problems))
