"""Every alert a trader receives, worded in one place.

Builders take plain values and return an ``AlertSpec``; they send nothing. ``AlertPolicy``
(``alerts/policy.py``) decides what goes out, and adds the mode marker (``[PAPER]``).
Amounts are USD; times are shown in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from multialpha.alerts.notifier import Level

ACCOUNT = "account"  # the coordinator's name for the account-wide scope


@dataclass(frozen=True)
class AlertSpec:
    """One alert before the policy sees it. ``key`` groups alerts for rate limiting (e.g. every
    unknown order of one strategy); None means the title."""

    level: Level
    title: str
    message: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    key: str | None = None

    @classmethod
    def of(cls, level: Level | str, title: str, message: str = "", fields: Mapping[str, object] | None = None,
           key: str | None = None) -> AlertSpec:
        return cls(Level(level), title, message, tuple((str(k), str(v)) for k, v in (fields or {}).items()), key)

    @property
    def rate_key(self) -> str:
        return self.key or self.title


@dataclass(frozen=True)
class StrategySummary:
    """One strategy's effective settings, for the start-up alert."""

    name: str
    symbols: tuple[str, ...]
    max_positions: int | None
    daily_stop_loss: float | None
    account: str = "default"


def usd(amount: float) -> str:
    """``+$1,234.50`` / ``-$87.25``."""
    sign = "-" if amount < 0 else "+"
    return f"{sign}${abs(amount):,.2f}"


def _limit(amount: float | None) -> str:
    return "none" if amount is None else f"${amount:,.0f}"


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _counts(counts: Mapping[str, int]) -> str:
    items = sorted(((k, int(v)) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{k} {v}" for k, v in items) or "none"


# -- lifecycle ------------------------------------------------------------------------------------
def started(*, mode: str, version: str, strategies: Sequence[StrategySummary],
            account_max_positions: int | None, account_daily_stop_loss: float | None,
            health_url: str | None = None, notes: int = 0) -> AlertSpec:
    symbols = sum(len(s.symbols) for s in strategies)
    message = (f"multialpha {version} started in {mode} mode: {len(strategies)} strateg"
               f"{'y' if len(strategies) == 1 else 'ies'}, {symbols} instruments. Account limits: "
               f"max positions {account_max_positions or 'none'}, daily stop {_limit(account_daily_stop_loss)}.")
    if notes:
        message += f" {notes} start-up note(s) in the log."
    fields = {s.name: f"{', '.join(s.symbols)} | max positions {s.max_positions or 'none'} | "
                      f"daily stop {_limit(s.daily_stop_loss)} | account {s.account}" for s in strategies}
    if health_url:
        fields["health"] = f"{health_url}/health"
    return AlertSpec.of(Level.INFO, "multialpha started", message, fields)


def stopped(*, reason: str, bar_times: int, trades: int, failed: Mapping[str, str] | None = None) -> AlertSpec:
    failed = failed or {}
    level = Level.WARNING if failed else Level.INFO
    message = f"multialpha stopped: {reason}. {bar_times:,} bar times processed, {trades:,} trades closed."
    return AlertSpec.of(level, "multialpha stopped", message, {f"failed {k}": v for k, v in failed.items()})


# -- trades ---------------------------------------------------------------------------------------
def entry(*, strategy: str, symbol: str, quantity: int, price: float, at: datetime) -> AlertSpec:
    side = "long" if quantity > 0 else "short"
    return AlertSpec.of(Level.INFO, f"Entry {strategy} {symbol}",
                        f"{strategy} opened {side} {abs(quantity)} {symbol} @ {price:g} ({_when(at)})",
                        {"strategy": strategy, "symbol": symbol, "quantity": quantity, "price": f"{price:g}"})


def exit_(*, strategy: str, symbol: str, quantity: int, price: float, entry_price: float, reason: str,
          net_pnl: float, at: datetime) -> AlertSpec:
    return AlertSpec.of(Level.INFO, f"Exit {strategy} {symbol} {usd(net_pnl)}",
                        f"{strategy} closed {abs(quantity)} {symbol} @ {price:g} (entry {entry_price:g}) on "
                        f"{reason}: {usd(net_pnl)} after commission ({_when(at)})",
                        {"strategy": strategy, "symbol": symbol, "reason": reason, "P&L": usd(net_pnl)})


def daily_stop_hit(*, scope: str, daily_pnl: float, daily_stop_loss: float, trading_day: str) -> AlertSpec:
    who = "the whole account" if scope == ACCOUNT else f"strategy {scope}"
    return AlertSpec.of(Level.CRITICAL, f"Daily stop hit: {scope}",
                        f"{who} lost {usd(daily_pnl)} on {trading_day} (stop {_limit(daily_stop_loss)}): "
                        "its positions are being closed and no new entries until the next CME trading day",
                        {"scope": scope, "daily P&L": usd(daily_pnl), "daily stop": _limit(daily_stop_loss)})


# -- control --------------------------------------------------------------------------------------
def halted(*, scope: str, state: str, reason: str, flatten: bool) -> AlertSpec:
    what = "exits only (REDUCING)" if state == "reducing" else "no new entries (HALTED)"
    if flatten:
        what += ", every open position closing at the next bar"
    return AlertSpec.of(Level.WARNING, f"{'Reducing' if state == 'reducing' else 'Halted'}: {scope}",
                        f"{scope}: {what}. Reason: {reason or '-'}. `multialpha resume` lifts it.",
                        {"scope": scope, "state": state, "flatten": "yes" if flatten else "no"})


def resumed(*, scope: str, reason: str) -> AlertSpec:
    return AlertSpec.of(Level.INFO, f"Resumed: {scope}", f"{scope} is ACTIVE again. Reason: {reason or '-'}.")


def unknown_order(*, strategy: str, symbol: str, action: str, intent_id: str, detail: str) -> AlertSpec:
    return AlertSpec.of(Level.CRITICAL, f"Order of unknown outcome: {strategy} {symbol} {action}",
                        f"{detail or 'no answer from the gateway'}. New entries for {strategy} are held until "
                        f"it is settled: check the broker, then `multialpha orders resolve {intent_id} --sent` "
                        "or `--not-sent`.",
                        {"intent": intent_id}, key=f"unknown_order:{strategy}")


def worker_failed(*, strategy: str, error: str, policy: str) -> AlertSpec:
    then = ("its positions are being closed and it stays halted until `multialpha resume --strategy "
            f"{strategy}`" if policy == "flatten" else
            "the account is REDUCING (exits only) until `multialpha resume`")
    return AlertSpec.of(Level.CRITICAL, f"Strategy {strategy} failed", f"{error}. The other strategies go on; {then}.",
                        key=f"worker_failed:{strategy}")


# -- conditions -----------------------------------------------------------------------------------
def feed_stale(*, silence_secs: float | None, detail: str) -> AlertSpec:
    silent = "" if silence_secs is None else f" for {silence_secs:.0f}s"
    return AlertSpec.of(Level.CRITICAL, "Market feed stale",
                        f"No data from the market feed{silent}: no new bars, no decisions. {detail}".strip(),
                        key="feed")


def feed_recovered(*, down_secs: float) -> AlertSpec:
    return AlertSpec.of(Level.INFO, "Market feed recovered", f"Bars are flowing again after {down_secs:.0f}s.",
                        key="feed")


def gateway_failing(*, strategy: str, detail: str, order: str = "") -> AlertSpec:
    first = f" First failed order: {order}." if order else ""
    return AlertSpec.of(Level.CRITICAL, f"Order gateway failing: {strategy}",
                        f"Orders of {strategy} are not being delivered ({detail or 'no detail'}).{first} "
                        "One alert is sent when it recovers; meanwhile see `multialpha orders list --all`.",
                        key=f"gateway:{strategy}")


def gateway_recovered(*, strategy: str, failed_orders: int, down_secs: float) -> AlertSpec:
    return AlertSpec.of(Level.INFO, f"Order gateway recovered: {strategy}",
                        f"Orders of {strategy} are delivered again after {down_secs:.0f}s; {failed_orders} order(s) "
                        "failed meanwhile (`multialpha orders list --all`).", key=f"gateway:{strategy}")


# -- the day --------------------------------------------------------------------------------------
def daily_summary(*, day: str, pnl: Mapping[str, Mapping[str, float]], stats: Mapping[str, Mapping[str, Any]],
                  accounts: Mapping[str, str] | None = None) -> AlertSpec:
    """The trading day that just ended, from the coordinator's DAY_ROLLED data (``previous_day``,
    ``pnl`` and ``stats`` per scope). ``accounts`` (strategy -> broker account) adds a line per
    broker account when strategies trade more than one."""
    strategies = sorted(s for s in set(pnl) | set(stats) if s != ACCOUNT)
    fields: dict[str, str] = {}
    for name in strategies:
        fields[name] = _scope_line(pnl.get(name, {}), stats.get(name, {}))
    labels = sorted(set((accounts or {}).get(s, "default") for s in strategies))
    if accounts and len(labels) > 1:
        for label in labels:
            members = [s for s in strategies if accounts.get(s, "default") == label]
            total = sum(float(pnl.get(s, {}).get("total", 0.0)) for s in members)
            trades = sum(_trades(stats.get(s, {})) for s in members)
            fields[f"broker account {label}"] = f"P&L {usd(total)} | trades {trades} ({', '.join(members)})"
    acct_pnl, acct_stats = pnl.get(ACCOUNT, {}), stats.get(ACCOUNT, {})
    fields[ACCOUNT] = _scope_line(acct_pnl, acct_stats)
    stops = int(acct_stats.get("stop_triggers", 0))
    message = (f"Trading day {day} closed: P&L {usd(float(acct_pnl.get('total', 0.0)))}, "
               f"{_trades(acct_stats)} trades, {stops} daily stop(s) hit, "
               f"{int(acct_stats.get('blocked', sum(_blocked(acct_stats).values())))} entries blocked.")
    return AlertSpec.of(Level.INFO, f"Daily summary {day}", message, fields)


def _trades(stats: Mapping[str, Any]) -> int:
    return sum(int(v) for v in (stats.get("exits") or {}).values())


def _blocked(stats: Mapping[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in (stats.get("entries_blocked") or {}).items()}


def _scope_line(pnl: Mapping[str, float], stats: Mapping[str, Any]) -> str:
    parts = [f"P&L {usd(float(pnl.get('total', 0.0)))} (realized {usd(float(pnl.get('realized', 0.0)))})",
             f"trades {_trades(stats)}" + (f" ({_counts(stats.get('exits') or {})})" if _trades(stats) else "")]
    if int(stats.get("stop_triggers", 0)):
        parts.append(f"daily stop hit {int(stats['stop_triggers'])}x")
    blocked = _blocked(stats)
    if any(blocked.values()):
        parts.append(f"blocked {_counts(blocked)}")
    return " | ".join(parts)


# -- the policy's own summaries --------------------------------------------------------------------
def repeated(*, title: str, level: Level, repeats: int, window_secs: float, last_message: str) -> AlertSpec:
    return AlertSpec.of(level, f"{title} (x{repeats + 1})",
                        f"Repeated {repeats} more time(s) within {window_secs / 60:.0f} min. Last: {last_message}")


def rate_limited(*, key: str, level: Level, suppressed: int, window_secs: float,
                 titles: Iterable[str]) -> AlertSpec:
    shown = sorted(set(titles))
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    return AlertSpec.of(level, f"{suppressed} alert(s) held back: {key}",
                        f"More than the limit of this kind within {window_secs / 60:.0f} min; held back: "
                        f"{'; '.join(shown[:5])}{more}. See the daemon log for each one.")
