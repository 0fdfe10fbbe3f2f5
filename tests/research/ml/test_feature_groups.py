"""Feature groups: they partition the engine's catalogue; names are checked against it."""

from __future__ import annotations

import pytest
from multialpha.research.errors import ResearchError
from multialpha.research.ml.feature_groups import (
    BASE_GROUPS,
    feature_groups,
    features_of,
    resolve_candidates,
    restrict_groups,
)

from multialpha.features import BASE_FEATURES, feature_catalog


def test_base_groups_hold_every_base_feature_exactly_once() -> None:
    members = [f for group in BASE_GROUPS.values() for f in group]
    assert sorted(members) == sorted(BASE_FEATURES)


def test_feature_groups_add_one_group_per_reference_and_cover_the_catalogue() -> None:
    groups = feature_groups(["ZB", "VX"])
    assert groups["ref_VX"] == ("VX_hourly_z", "VX_hourly_return", "VX_daily_z", "VX_daily_return")
    assert sorted(f for g in groups.values() for f in g) == sorted(feature_catalog(["ZB", "VX"]))


def test_resolve_candidates_when_groups_and_features_named_then_catalogue_order() -> None:
    got = resolve_candidates(["VX"], ["VX_daily_z", "volatility", "ibs"], context="alpha ES")
    assert got == ["ibs", "atr_z", "atr_z_pct", "ibs_x_atr_z", "VX_daily_z"]
    assert resolve_candidates([], ["signal"], context="x") == ["ibs", "prev_ibs", "ibs_pct", "ibs_x_prev_ibs"]


def test_resolve_candidates_when_nothing_asked_then_whole_catalogue() -> None:
    assert resolve_candidates(["ZB"], None, context="x") == feature_catalog(["ZB"])


def test_resolve_candidates_when_unknown_name_then_training_error_lists_it() -> None:
    with pytest.raises(ResearchError, match=r"alpha ES: unknown feature\(s\) \['ibs_foo', 'NQ_daily_z'\]"):
        resolve_candidates(["VX"], ["ibs", "ibs_foo", "NQ_daily_z"], context="alpha ES")


def test_restrict_groups_drops_features_not_allowed_and_empty_groups() -> None:
    groups = restrict_groups(feature_groups(["VX"]), ["ibs", "prev_ibs", "VX_daily_z"])
    assert groups == {"signal": ("ibs", "prev_ibs"), "ref_VX": ("VX_daily_z",)}


def test_features_of_selected_groups_in_group_order() -> None:
    assert features_of(feature_groups([]), ["hour", "volume"]) == ["volume_z", "volume_z_pct", "ibs_x_volume_z",
                                                                   "hour"]
