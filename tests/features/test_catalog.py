"""Feature names: the catalog, unknown names and the history the live path needs."""

from __future__ import annotations

import numpy as np

from multialpha.calendar import TABLE_FIRST_DAY
from multialpha.features import BASE_FEATURES, REQUIRED_HISTORY_BARS, feature_catalog, unknown_features
from multialpha.features.catalog import (
    HOLIDAY_WEEKDAYS,
    MAX_BARS_PER_WEEKDAY,
    REF_DAILY_Z_SESSIONS,
    ref_feature_parts,
)
from multialpha.features.daily import trade_day_table


def test_catalog_lists_base_features_then_four_per_reference_symbol() -> None:
    names = feature_catalog(["VX", "ZB"])
    assert names[: len(BASE_FEATURES)] == list(BASE_FEATURES)
    assert names[len(BASE_FEATURES):] == [
        "VX_hourly_z", "VX_hourly_return", "VX_daily_z", "VX_daily_return",
        "ZB_hourly_z", "ZB_hourly_return", "ZB_daily_z", "ZB_daily_return",
    ]
    assert len(set(names)) == len(names)


def test_unknown_features_names_typos_and_references_not_given() -> None:
    names = ["ibs", "ibz", "VX_hourly_z", "ES_daily_return", "_daily_z", "VX_weekly_z"]
    assert unknown_features(names, ["VX"]) == ["ibz", "ES_daily_return", "_daily_z", "VX_weekly_z"]
    assert unknown_features(names, ["VX", "ES"]) == ["ibz", "_daily_z", "VX_weekly_z"]


def test_reference_feature_names_split_at_the_known_suffix() -> None:
    assert ref_feature_parts("6E_hourly_return") == ("6E", "hourly_return")
    assert ref_feature_parts("MY_SYM_daily_z") == ("MY_SYM", "daily_z")
    assert ref_feature_parts("prev_day_return") is None


def test_required_history_covers_twenty_completed_sessions_of_the_longest_days() -> None:
    # The close of the 20th session back, every bar of the 19 in between, the current session;
    # those 20 sessions may take in the hours of up to HOLIDAY_WEEKDAYS holidays.
    assert REQUIRED_HISTORY_BARS == 1 + (REF_DAILY_Z_SESSIONS + HOLIDAY_WEEKDAYS) * MAX_BARS_PER_WEEKDAY == 577


def test_no_run_of_up_to_21_sessions_takes_in_more_than_holiday_weekdays_non_trade_weekdays() -> None:
    table = trade_day_table()
    trade = np.unique(table)  # every trade date of the table's years, in order
    weekday = ((np.arange(trade[0], trade[-1] + 1) + 3) % 7) < 5
    weekdays_before = np.concatenate(([0], np.cumsum(weekday)))  # weekdays in [trade[0], day)
    at = weekdays_before[trade - trade[0] + 1]  # weekdays in [trade[0], trade date]
    worst = max(int(np.max(at[k:] - at[:-k])) - k for k in range(1, 22))
    assert worst == HOLIDAY_WEEKDAYS
    assert int(table[0]) >= TABLE_FIRST_DAY
