"""The coordinator's state as plain JSON-serialisable data, and back (an exact round trip).

Money is kept as decimal text and times as ISO-8601 UTC text, so nothing is rounded on the
way through the state store. Pending reservations are not part of it: an entry that had not
filled before a restart is not a position.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from multialpha.contracts import ContractSpec
from multialpha.errors import ConfigError, StateError
from multialpha.portfolio.book import DailyPnl, PnlBook
from multialpha.portfolio.limits import ACCOUNT, ScopeControl
from multialpha.portfolio.stats import StatsBook

SNAPSHOT_VERSION = 1


@dataclass
class SavedState:
    day: date
    ledger: PnlBook
    controls: dict[str, ScopeControl]
    stats: StatsBook


def pnl_parts(daily: DailyPnl) -> dict[str, Decimal]:
    return {"realized": daily.realized, "unrealized": daily.unrealized, "total": daily.total}


def dump_state(state: SavedState, dailies: Mapping[str, DailyPnl]) -> dict[str, Any]:
    return {
        "version": SNAPSHOT_VERSION,
        "trading_day": state.day.isoformat(),
        **state.ledger.to_dict(),  # positions, realized_today
        # derived from positions and realized_today, kept for readers; ignored by load_state()
        "daily_pnl": {scope: {k: str(v) for k, v in pnl_parts(d).items()} for scope, d in dailies.items()},
        "scopes": {name: ctl.to_dict() for name, ctl in sorted(state.controls.items())},
        "stats": state.stats.to_dict(),
    }


def load_state(raw: Mapping[str, Any], strategies: Collection[str],
         contracts: Mapping[str, ContractSpec]) -> SavedState:
    """Rebuild state from ``dump_state``. StateError if malformed; ConfigError if it holds positions
    of strategies no longer configured (they must not silently disappear). A strategy removed
    or disabled with no open position is dropped; its realized P&L of the day still counts
    toward the account's daily stop until the day rolls."""
    try:
        if raw.get("version") != SNAPSHOT_VERSION:
            raise StateError(f"portfolio snapshot version {raw.get('version')!r} is not {SNAPSHOT_VERSION}")
        stats_raw = raw["stats"]
        configured = set(strategies)
        holding = sorted({p["strategy"] for p in raw["positions"]} - configured)
        if holding:
            raise ConfigError(f"saved portfolio state holds open positions of strategies that are not "
                              f"configured: {holding}; configure them again (at least until their positions "
                              "are closed)")
        day = date.fromisoformat(raw["trading_day"])
        ledger = PnlBook(contracts, strategies)
        ledger.load(raw)
        controls = {ACCOUNT: ScopeControl(), **{name: ScopeControl() for name in strategies}}
        for name, scope_raw in raw["scopes"].items():
            if name == ACCOUNT or name in configured:
                controls[name] = ScopeControl.from_dict(scope_raw)
        stats = StatsBook(strategies)
        stats.load({**stats_raw,
                    "run_by_strategy": {k: v for k, v in stats_raw["run_by_strategy"].items() if k in configured},
                    "today_by_strategy": {k: v for k, v in stats_raw["today_by_strategy"].items()
                                          if k in configured}})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateError(f"portfolio snapshot is not usable: {exc!r}") from exc
    return SavedState(day, ledger, controls, stats)
