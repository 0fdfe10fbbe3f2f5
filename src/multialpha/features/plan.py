"""Feature names to kernel codes: which engine fills which output column."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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

    def flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(codes, cols, series) over every column; series -1 is the own engine, r the r-th reference."""
        groups = [self.own, *self.refs.values()]
        series = [np.full(g.codes.shape[0], r - 1, dtype=np.int64) for r, g in enumerate(groups)]
        return (np.concatenate([g.codes for g in groups]), np.concatenate([g.cols for g in groups]),
                np.concatenate(series))


def _group(pairs: list[tuple[int, int]]) -> Group:
    return Group(np.array([c for c, _ in pairs], dtype=np.int64), np.array([k for _, k in pairs], dtype=np.int64))


def unknown_error(names: Sequence[str], reference_symbols: Iterable[str]) -> ValueError | None:
    """The error listing every name the engine cannot compute, or None if there is none."""
    refs = list(reference_symbols)
    unknown = unknown_features(names, refs)
    if not unknown:
        return None
    return ValueError(f"unknown feature name(s) {unknown}; reference symbols given: "
                      f"{sorted(refs)}; base features: {list(BASE_FEATURES)}")


def plan_features(names: Sequence[str], reference_symbols: Iterable[str]) -> FeaturePlan:
    """Parse ``names`` once; ValueError listing every name the engine cannot compute."""
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
    return FeaturePlan(len(names), _group(own), {s: _group(p) for s, p in by_ref.items()})
