"""The daemon's durable state: one SQLite file (WAL) with positions, daily P&L, halts,
the order outbox, the trade journal and last bar times. Only the standard library is used.
"""

from multialpha.state.bars import BarRepo
from multialpha.state.daily import DailyRepo, DayRecord, Snapshot
from multialpha.state.db import (
    Database,
    NotFound,
    PositionAlreadyOpen,
    StateConflict,
)
from multialpha.state.halts import (
    TRADING_STATE_TRANSITIONS,
    HaltChange,
    HaltEvent,
    HaltRecord,
    HaltRepo,
    TradingState,
)
from multialpha.state.journal import JournalRepo, Trade
from multialpha.state.migrations import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Migration
from multialpha.state.outbox import (
    OutboxIntent,
    OutboxRecord,
    OutboxRepo,
)
from multialpha.state.positions import Position, PositionRepo
from multialpha.state.store import Clock, StateStore
from multialpha.state.values import ACCOUNT_SCOPE, cents_to_dollars, to_cents, to_decimal

__all__ = [
    "ACCOUNT_SCOPE",
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "TRADING_STATE_TRANSITIONS",
    "BarRepo",
    "Clock",
    "DailyRepo",
    "Database",
    "DayRecord",
    "HaltChange",
    "HaltEvent",
    "HaltRecord",
    "HaltRepo",
    "JournalRepo",
    "Migration",
    "NotFound",
    "OutboxIntent",
    "OutboxRecord",
    "OutboxRepo",
    "Position",
    "PositionAlreadyOpen",
    "PositionRepo",
    "Snapshot",
    "StateConflict",
    "StateStore",
    "Trade",
    "TradingState",
    "cents_to_dollars",
    "to_cents",
    "to_decimal",
]
