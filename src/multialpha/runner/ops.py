"""Operator commands that work through the state store, with or without a running daemon."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime
from typing import Any, TextIO

from multialpha.config import AppConfig, resolve_strategies
from multialpha.domain import OrderStatus
from multialpha.errors import MultialphaError, StateError, UsageError
from multialpha.portfolio import ACCOUNT
from multialpha.runner.ledger import COORDINATOR_SNAPSHOT
from multialpha.runner.lock import holder, lock_path
from multialpha.runner.recovery import CHECKPOINT
from multialpha.state import OutboxRecord, StateStore, TradingState


def operator_name(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers): still say who
        return "operator"


def open_store(cfg: AppConfig, *, create: bool = False) -> StateStore:
    path = cfg.runtime.state_path
    if not create and not path.exists():
        raise StateError(f"{path}: no state store yet (the daemon has not run with this config)")
    return StateStore.open(path, create=create)


def halt(cfg: AppConfig, *, strategy: str | None, flatten: bool, reducing: bool, reason: str,
         by: str | None, out: TextIO) -> int:
    scope = strategy or ACCOUNT
    _check_scope(cfg, scope)
    target = TradingState.REDUCING if reducing else TradingState.HALTED
    who = operator_name(by)
    with open_store(cfg, create=True) as store:
        current = store.halts.state(scope)
        if current is target and flatten:
            store.halts.request_flatten(scope, reason, who)
        elif current is target:
            print(f"{scope} is already {target.value}; nothing changed", file=out)
            return 0
        else:
            store.halts.set(scope, target, reason, who, flatten=flatten)
    extra = " and flatten its positions at the next bar" if flatten else ""
    print(f"{scope}: {target.value}{extra} (reason: {reason}; by {who}). A running daemon applies it at its "
          "next bar; it survives restarts until `multialpha resume`.", file=out)
    return 0


def resume(cfg: AppConfig, *, strategy: str | None, reason: str, by: str | None, out: TextIO) -> int:
    scope = strategy or ACCOUNT
    _check_scope(cfg, scope)
    who = operator_name(by)
    with open_store(cfg) as store:
        if store.halts.state(scope) is TradingState.ACTIVE:
            print(f"{scope} is already active; nothing changed", file=out)
            return 0
        store.halts.set(scope, TradingState.ACTIVE, reason, who)
    print(f"{scope}: active (by {who}); entries resume at the next bar", file=out)
    return 0


def _stops_in_force(cfg: AppConfig) -> dict[str, float | None]:
    """Each enabled strategy's daily stop as the daemon applies it (a portfolio file overrides
    the YAML)."""
    try:
        return {s.name: s.daily_stop_loss.value for s in resolve_strategies(cfg)}
    except MultialphaError:  # a broken portfolio file: `check` names it; show the YAML's value
        return {n: s.daily_stop_loss for n, s in cfg.strategies.items() if s.enabled}


def _check_scope(cfg: AppConfig, scope: str) -> None:
    if scope != ACCOUNT and scope not in cfg.strategies:
        raise UsageError(f"unknown strategy {scope!r}; configured: {', '.join(sorted(cfg.strategies))}")


def shown_status(row: OutboxRecord, daemon_pid: int | None) -> str:
    """With no daemon running, an order still PENDING was in flight when it stopped (its outcome
    is unknown; the next start records it as such), or queued and never attempted (the next
    start delivers it)."""
    if row.status is OrderStatus.PENDING and daemon_pid is None:
        return OrderStatus.UNKNOWN.value if row.attempts else "queued"
    return row.status.value


def orders_list(cfg: AppConfig, *, show_all: bool, out: TextIO) -> int:
    pid = holder(lock_path(cfg.runtime.state_path))
    with open_store(cfg) as store:
        rows = store.outbox.all() if show_all else store.outbox.backlog()
    if not rows:
        print("no orders need attention" if not show_all else "the outbox is empty", file=out)
        return 0
    for r in rows:
        note = ""
        if r.status is OrderStatus.PENDING and pid is None:
            note = (" (in flight when the daemon stopped)" if r.attempts else
                    " (never attempted: the next start delivers it)")
        print(f"{r.intent_id:<48} {shown_status(r, pid):<8} qty {r.quantity} @ {r.price}  attempts "
              f"{r.attempts}  http {r.http_status or '-'}  {r.detail or ''}{note}", file=out)
    return 0


def orders_resolve(cfg: AppConfig, *, intent_id: str, sent: bool, by: str | None, out: TextIO) -> int:
    pid = holder(lock_path(cfg.runtime.state_path))
    with open_store(cfg) as store:
        row = store.outbox.get(intent_id)
        if row is None:
            raise UsageError(f"no order {intent_id!r} in {cfg.runtime.state_path}; "
                             "`multialpha orders list --all` shows every order")
        if row.status is OrderStatus.PENDING and pid is not None:
            raise StateError(f"order {intent_id} is being delivered by the running daemon (pid {pid}); "
                             "only an order of unknown outcome, or one in flight when the daemon stopped, is resolved")
        held = store.positions.get(row.strategy, row.symbol)
        booked = held is not None and held.signal_id == intent_id
        rec = store.outbox.resolve(intent_id, sent, operator_name(by),
                                   detail="operator: delivered" if sent else "operator: not delivered",
                                   in_flight=row.status is OrderStatus.PENDING)
    meaning = ("recorded as delivered; the daemon books its fill" if sent else
               "recorded as not delivered; the daemon sends it if it processes its bar again")
    print(f"{rec.intent_id}: {rec.status.value} ({meaning})", file=out)
    if booked and not sent:
        print(f"warning: the daemon already booked {row.strategy} {row.symbol} as open from this entry (an entry of "
              "unknown outcome is managed as open). Its exit will still go out and is harmless at the broker, but "
              f"the journal will show that trade. To drop it now: `multialpha halt --strategy {row.strategy} "
              "--flatten`, then resume.", file=out)
    return 0


def status_data(cfg: AppConfig) -> dict[str, Any]:
    path = cfg.runtime.state_path
    pid = holder(lock_path(path))
    with open_store(cfg) as store:
        snap = store.daily.load_snapshot(COORDINATOR_SNAPSHOT)
        cp = store.daily.load_snapshot(CHECKPOINT)
        halts = {h.scope: h for h in store.halts.all()}
        positions = store.positions.all()
        backlog = store.outbox.backlog()
        bars = store.bars.all()
        coord = snap.data if snap is not None else {}
        limits = {ACCOUNT: cfg.portfolio.daily_stop_loss, **_stops_in_force(cfg)}
        day = date.fromisoformat(coord["trading_day"]) if coord.get("trading_day") else None
        closed_today = {name: (rec.realized_cents if (rec := store.daily.get(day, name)) else 0) / 100
                        for name in limits} if day else {}
        to_date = {name: store.journal.total_cents(name) / 100 for name in limits if name != ACCOUNT}
    # A running daemon holds entries of strategies with orders of unknown outcome it started
    # with; a stopped one will hold those of every order still unknown or in flight.
    held = coord.get("entries_held", []) if pid is not None else sorted({r.strategy for r in backlog})
    marks = {(p["strategy"], p["symbol"]): p for p in coord.get("positions", [])}
    scopes = []
    for name, stop in limits.items():
        pnl = coord.get("daily_pnl", {}).get(name, {})
        sc = coord.get("scopes", {}).get(name, {})
        h = halts.get(name)
        state = h.state.value if h else "active"
        stopped = sc.get("stopped_at") is not None or bool(sc.get("flatten_pending"))
        shown = "reducing" if (stopped or name in held) and state == "active" else state
        scopes.append({
            "scope": name, "state": shown, "daily_stop_hit_at": sc.get("stopped_at"),
            "flatten_requested": bool(h.flatten_requested) if h else False,
            "reason": h.reason if h else "", "set_by": h.set_by if h else "",
            "realized": float(pnl.get("realized", 0)), "unrealized": float(pnl.get("unrealized", 0)),
            "total": float(pnl.get("total", 0)), "daily_stop_loss": stop,
            "entries_held_by_unknown_orders": name in held,
            "closed_trades_today": closed_today.get(name, 0.0),
            **({} if name == ACCOUNT else {
                "closed_trades_to_date": to_date[name],
                "starting_cash": cfg.strategies[name].starting_cash,
                "return_on_starting_cash": to_date[name] / cfg.strategies[name].starting_cash}),
        })
    return {
        "state_path": str(path), "daemon_pid": pid, "trading_day": coord.get("trading_day"),
        "last_bar_processed": cp.data["close_time"] if cp else None, "scopes": scopes,
        "positions": [{
            "strategy": p.strategy, "symbol": p.symbol, "quantity": p.quantity,
            "entry_time": p.entry_time.isoformat(), "entry_price": float(p.entry_price),
            "last_mark": float(marks.get((p.strategy, p.symbol), {}).get("last_mark", p.entry_price)),
        } for p in positions],
        "orders_needing_attention": [{"intent_id": r.intent_id, "status": shown_status(r, pid),
                                      "detail": r.detail} for r in backlog],
        "last_bar": {s: t.isoformat() for s, t in sorted(bars.items())},
    }


def status(cfg: AppConfig, *, as_json: bool, out: TextIO) -> int:
    data = status_data(cfg)
    if as_json:
        print(json.dumps(data, indent=2), file=out)
        return 0
    p = print
    run = f"daemon running (pid {data['daemon_pid']})" if data["daemon_pid"] else "no daemon running"
    p(f"state {data['state_path']}: {run}", file=out)
    p(f"trading day {data['trading_day']}   last bar processed {data['last_bar_processed']}   "
      f"now {datetime.now(UTC).isoformat(timespec='seconds')}", file=out)
    p("", file=out)
    p(f"{'scope':<10} {'state':<10} {'daily P&L':>11} {'stop':>9} {'headroom':>10}  note", file=out)
    for sc in data["scopes"]:
        stop = sc["daily_stop_loss"]
        head = f"{stop + sc['total']:>10,.2f}" if stop else f"{'-':>10}"
        note = []
        if sc["daily_stop_hit_at"]:
            note.append(f"daily stop hit at {sc['daily_stop_hit_at']}: exits only until the next CME day")
        if sc["state"] in ("halted", "reducing") and sc["reason"]:
            note.append(f"{sc['reason']!r} by {sc['set_by']}")
        if sc["flatten_requested"]:
            note.append("flatten requested")
        if sc.get("entries_held_by_unknown_orders"):
            note.append("entries held until its orders of unknown outcome are settled")
        p(f"{sc['scope']:<10} {sc['state'].upper():<10} {sc['total']:>11,.2f} "
          f"{(f'{stop:,.0f}' if stop else '-'):>9} {head}  {'; '.join(note)}", file=out)
    p("", file=out)
    p("closed trades (net of commission):", file=out)
    for sc in data["scopes"]:
        if "closed_trades_to_date" in sc:
            p(f"  {sc['scope']:<10} today {sc['closed_trades_today']:>11,.2f}   to date "
              f"{sc['closed_trades_to_date']:>12,.2f}   {sc['return_on_starting_cash']:+.2%} of starting cash "
              f"{sc['starting_cash']:,.0f}", file=out)
    p(f"open positions: {len(data['positions'])}", file=out)
    for pos in data["positions"]:
        p(f"  {pos['strategy']:<8} {pos['symbol']:<5} {pos['quantity']:>3} @ {pos['entry_price']:<12} "
          f"since {pos['entry_time']}  last {pos['last_mark']}", file=out)
    orders = data["orders_needing_attention"]
    p(f"orders needing attention: {len(orders)}" + ("  (settle with `multialpha orders resolve ID --sent|--not-sent`)"
                                                     if orders else ""), file=out)
    for o in orders:
        p(f"  {o['intent_id']}  {o['status']}  {o['detail'] or ''}", file=out)
    if data["last_bar"]:
        p("last bar per symbol: " + "  ".join(f"{s} {t[5:16]}" for s, t in data["last_bar"].items()), file=out)
    return 0


