"""What one portfolio simulation produced: its fills, its daily P&L, its daily stops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

TRADE_COLUMNS = ("strategy", "symbol", "entry_ns", "exit_ns", "entry_price", "exit_price", "quantity",
                 "pnl_usd", "exit_reason")
OPEN_COLUMNS = ("strategy", "symbol", "entry_ns", "entry_price", "quantity")
STOP_COLUMNS = ("trading_day", "scope", "at_ns")
DAILY_STOP = "daily_stop"


@dataclass(frozen=True)
class SimulationResult:
    """Fills in booking order, P&L per trade date, daily stops, open positions over time.

    * ``trades``: one row per closed trade (``TRADE_COLUMNS``); ``pnl_usd`` after the round
      trip's commission; a trade flattened by a daily stop has ``exit_reason`` "daily_stop" and
      exits at that bar time's close (its symbol's last close), never at its own later exit.
    * ``daily_pnl``: USD per CME trade date of the period, marked to market: the day's realized
      P&L plus the change in open positions' value (the coordinator's daily P&L at the day's
      end), 0 on a day without any; every trade date of the period appears once.
    * ``stops``: one row per daily stop that fired (its trade date, its scope: a strategy or
      "account", its bar time).
    * ``positions``: positions open after each bar time of the period (int, index: bar close
      times in ns).
    * ``still_open``: positions open when the period ends (marked to its last close).
    """

    trades: pd.DataFrame
    daily_pnl: pd.Series
    stops: pd.DataFrame
    positions: pd.Series
    still_open: pd.DataFrame


def trades_frame(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(TRADE_COLUMNS))
    return frame.astype({"strategy": str, "symbol": str, "entry_ns": np.int64, "exit_ns": np.int64,
                         "entry_price": np.float64, "exit_price": np.float64, "quantity": np.int64,
                         "pnl_usd": np.float64, "exit_reason": str})


def open_frame(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(OPEN_COLUMNS))
    return frame.astype({"strategy": str, "symbol": str, "entry_ns": np.int64, "entry_price": np.float64,
                         "quantity": np.int64})


def stops_frame(rows: Sequence[tuple[date, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(STOP_COLUMNS))
    return frame.astype({"scope": str, "at_ns": np.int64})


def daily_series(days: Sequence[date], values: Sequence[float] | np.ndarray) -> pd.Series:
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in days], name="trading_day")
    return pd.Series(np.asarray(values, dtype=np.float64), index=index, name="pnl_usd")


def positions_series(close_ns: np.ndarray, counts: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(counts, dtype=np.int64), index=pd.Index(close_ns, name="close_ns"),
                     name="open_positions")
