"""The candidate features of a search, in groups the search switches on and off.

The search picks a per-symbol feature list by including or excluding whole groups of related
features rather than single features, for three reasons:

* the space stays small enough for 420 trials to explore: 9 base groups plus one per
  reference symbol is ~2**11 subsets, against 2**32 and more for single features, which a
  TPE sampler (one model per binary choice) cannot learn from a few hundred trials;
* the features of a group are strongly correlated (``atr_z`` and ``atr_z_pct``, ``rsi2`` and
  ``ibs_x_rsi2``), and a random forest splits among correlated features almost at random, so
  dropping one member alone changes little and mostly adds selection noise;
* every choice is evaluated inside the cross-validation like the forest's own parameters, so
  no importance ranking fitted on the whole search period (which would leak every fold's test
  data into the selection) is needed.

The ``signal`` group (the IBS state the rule fired on) is always in: the filter judges an IBS
signal. A name given to ``resolve_candidates`` is a feature if the engine has one by that name
(``hour``), else a group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from multialpha.research.errors import ResearchError

from multialpha.features import REF_SUFFIXES, feature_catalog, unknown_features

ALWAYS_ON = "signal"
BASE_GROUPS: Mapping[str, tuple[str, ...]] = {
    "signal": ("ibs", "prev_ibs", "ibs_pct", "ibs_x_prev_ibs"),
    "rsi": ("rsi2", "rsi14", "ibs_x_rsi2"),
    "volume": ("volume_z", "volume_z_pct", "ibs_x_volume_z"),
    "volatility": ("atr_z", "atr_z_pct", "ibs_x_atr_z"),
    "returns": ("bar_return", "prev_bar_return", "close_z20"),
    "session": ("daily_ibs", "prev_daily_ibs"),
    "daily": ("day_return", "prev_day_return", "daily_rsi2"),
    "calendar": ("dow", "month"),
    "hour": ("hour",),
}


def feature_groups(references: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Every group of the catalogue with these reference symbols: the base groups, then
    ``ref_<R>`` with R's four cross-market features for each reference R."""
    groups = dict(BASE_GROUPS)
    for ref in references:
        groups[f"ref_{ref}"] = tuple(f"{ref}_{suffix}" for suffix in REF_SUFFIXES)
    return groups


def restrict_groups(groups: Mapping[str, tuple[str, ...]], allowed: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The groups cut down to the ``allowed`` features (catalogue order kept, empty groups dropped)."""
    keep = set(allowed)
    out = {name: tuple(f for f in members if f in keep) for name, members in groups.items()}
    return {name: members for name, members in out.items() if members}


def resolve_candidates(references: Sequence[str], wanted: Sequence[str] | None, *, context: str) -> list[str]:
    """The candidate features of a search: the whole catalogue, or ``wanted`` (feature or group
    names) in catalogue order. Unknown names are one ``ResearchError`` listing them."""
    catalogue = feature_catalog(references)
    if not wanted:
        return catalogue
    groups = feature_groups(references)
    chosen: set[str] = set()
    unknown = []
    for name in wanted:
        if not unknown_features([name], references):
            chosen.add(name)
        elif name in groups:
            chosen.update(groups[name])
        else:
            unknown.append(name)
    if unknown:
        raise ResearchError(
            f"{context}: unknown feature(s) {unknown}; the feature engine computes {catalogue} with "
            f"reference symbols {list(references)}, in groups {list(groups)}")
    return [f for f in catalogue if f in chosen]


def features_of(groups: Mapping[str, tuple[str, ...]], selected: Iterable[str]) -> list[str]:
    """The features of the ``selected`` groups, in the groups' order."""
    on = set(selected)
    return [f for name, members in groups.items() if name in on for f in members]
