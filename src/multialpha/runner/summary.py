"""The end-of-run summary a trader reads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from multialpha.runner.runner import RunReport

MAX_STOPS_LISTED = 12


def _fmt_counter(c: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) or "-"


def format_summary(report: RunReport, sink_records: Iterable[Mapping[str, Any]] | None = None) -> str:
    lines: list[str] = []
    add = lines.append
    add("=" * 100)
    add(f"multialpha run summary: {report.bar_times} bar times replayed ({report.live_bar_times} live, "
        f"{report.bar_times - report.live_bar_times} warm-up), orders allowed from {report.first_live_time}, "
        f"{report.wall_secs:.1f}s")
    add("=" * 100)
    for note in report.notes:
        add(f"note: {note}")
    for name, err in report.failed.items():
        add(f"FAILED strategy {name}: {err}")
    head = (f"{'symbol':<7}{'signals':>8}{'ml_no':>7}{'ml_yes':>7}{'blocked':>8}{'entries':>8}"
            f"{'exits':>6}{'win%':>6}{'P&L $':>12}  blocked by reason / exits by reason")
    for strategy, per_symbol in report.strategies.items():
        add("")
        add(f"strategy {strategy}")
        add(head)
        tot: Counter[str] = Counter()
        pnl_total = 0.0
        blocked_all: Counter[str] = Counter()
        exits_all: Counter[str] = Counter()
        for symbol, st in per_symbol.items():
            blocked = Counter(st["blocked"])
            exits = Counter(st["exits"])
            n_exits = sum(exits.values())
            win = 100.0 * st["wins"] / n_exits if n_exits else 0.0
            add(f"{symbol:<7}{st['signals']:>8}{st['ml_rejected']:>7}{st['ml_passed']:>7}{sum(blocked.values()):>8}"
                f"{st['entries']:>8}{n_exits:>6}{win:>6.0f}{st['realized_pnl']:>12,.2f}  "
                f"{_fmt_counter(blocked)} / {_fmt_counter(exits)}")
            for k in ("signals", "ml_rejected", "ml_passed", "entries"):
                tot[k] += st[k]
            tot["blocked"] += sum(blocked.values())
            tot["exits"] += n_exits
            tot["wins"] += st["wins"]
            pnl_total += st["realized_pnl"]
            blocked_all.update(blocked)
            exits_all.update(exits)
        win = 100.0 * tot["wins"] / tot["exits"] if tot["exits"] else 0.0
        add(f"{'total':<7}{tot['signals']:>8}{tot['ml_rejected']:>7}{tot['ml_passed']:>7}{tot['blocked']:>8}"
            f"{tot['entries']:>8}{tot['exits']:>6}{win:>6.0f}{pnl_total:>12,.2f}  "
            f"{_fmt_counter(blocked_all)} / {_fmt_counter(exits_all)}")
    add("")
    add(_coordinator_lines(report.coordinator, report.daily_stops))
    open_positions = report.coordinator.get("positions", [])
    if open_positions:
        add(f"open positions at the end: {len(open_positions)}")
    if sink_records is not None:
        records = list(sink_records)
        actions = Counter(str(r.get("body", {}).get("action")) for r in records)
        paths = Counter(str(r.get("path")) for r in records)
        add("")
        add(f"webhook sink received {len(records)} payloads: {_fmt_counter(actions)}; by path: {_fmt_counter(paths)}")
        for r in records[:3]:
            add(f"  e.g. {r.get('path')} {r.get('body')}")
    delivered = Counter(str(d.row.status) for d in report.delivered)
    add(f"orders routed: {len(report.routed)}; delivered: {len(report.delivered)} ({_fmt_counter(delivered)})")
    add("=" * 100)
    return "\n".join(lines)


def _coordinator_lines(snap: Mapping[str, Any], stops: Iterable[Mapping[str, Any]]) -> str:
    stats = snap.get("stats", {}) if isinstance(snap, Mapping) else {}
    out = ["portfolio coordinator (whole run):"]
    rows = {**stats.get("run_by_strategy", {}), "account": stats.get("run", {})}
    for scope, st in rows.items():
        if not st:
            continue
        out.append(f"  {scope:<10} entries requested {st['entries_requested']:>5}  allowed {st['entries_allowed']:>5}  "
                   f"blocked {st['blocked']:>5} ({100 * st['block_rate']:.0f}%: {_fmt_counter(st['entries_blocked'])})  "
                   f"daily stops {st['stop_triggers']}")
    stops = list(stops)
    out.append(f"  daily stops hit: {len(stops)}")
    for ev in stops[:MAX_STOPS_LISTED]:
        out.append(f"    {ev['trading_day']} {ev['scope']:<10} at {ev['at']} (P&L {ev['pnl']}): positions flattened")
    if len(stops) > MAX_STOPS_LISTED:
        out.append(f"    ... and {len(stops) - MAX_STOPS_LISTED} more")
    return "\n".join(out)
