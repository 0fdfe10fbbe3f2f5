"""Feature names to kernel codes: which engine fills which output column."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from multialpha.features.catalog import BASE_FEATURES, ref_feature_parts, unknown_features
from multialpha.features.kernel import REF_CODES

_BASE_CODES = {name: code for code, name in enumerate(BASE_FEATURES)}


@dataclass(frozen=True)
class Group:
    """The columns one engine fills: ``out[cols[q]] = feature codes[q]``."""

    codes: np.ndarray  # int64
    cols: np.ndarray  # int64


@dataclass(frozen=True)
class FeaturePlan:
    width: int
    own: Group
    refs: dict[str, Group]  # reference symbol -> its columns, in order of first use


def _group(pairs: list[tuple[int, int]]) -> Group:
    codes = np.array([c for c, _ in pairs], dtype=np.int64)
    cols = np.array([k for _, k in pairs], dtype=np.int64)
    codes.flags.writeable = cols.flags.writeable = False  # plans are shared (see plan_features)
    return Group(codes, cols)


def unknown_error(names: Sequence[str], reference_symbols: Iterable[str]) -> ValueError | None:
    """The error listing every name the engine cannot compute, or None if there is none."""
    refs = list(reference_symbols)
    unknown = unknown_features(names, refs)
    if not unknown:
        return None
    return ValueError(f"unknown feature name(s) {unknown}; reference symbols given: "
                      f"{sorted(refs)}; base features: {list(BASE_FEATURES)}")


def plan_features(names: Sequence[str], reference_symbols: Iterable[str]) -> FeaturePlan:
    """Parse ``names`` once; ValueError listing every name the engine cannot compute.

    Plans are remembered per (names, reference symbols): research asks for the same list for
    every symbol, and a plan's arrays are never written to.
    """
    return _plan(tuple(names), frozenset(reference_symbols))


@lru_cache(maxsize=256)
def _plan(names: tuple[str, ...], reference_symbols: frozenset[str]) -> FeaturePlan:
    error = unknown_error(names, reference_symbols)
    if error is not None:
        raise error
    own: list[tuple[int, int]] = []
    by_ref: dict[str, list[tuple[int, int]]] = {}
    for col, name in enumerate(names):
        if name in _BASE_CODES:
            own.append((_BASE_CODES[name], col))
        else:
            symbol, suffix = ref_feature_parts(name)  # type: ignore[misc]  # known above
            by_ref.setdefault(symbol, []).append((REF_CODES[suffix], col))
    plan = FeaturePlan(len(names), _group(own), {s: _group(p) for s, p in by_ref.items()})
    filled = np.concatenate([plan.own.cols, *(g.cols for g in plan.refs.values())])
    assert np.array_equal(np.sort(filled), np.arange(len(names))), "every column is filled exactly once"
    return plan
