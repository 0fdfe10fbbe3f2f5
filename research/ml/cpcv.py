"""Combinatorial purged cross-validation (Lopez de Prado, *Advances in Financial Machine
Learning*, ch. 7 and 12).

Labels of trading samples span time: a sample entered at one bar is labelled by what happens
up to its exit. A training sample whose label span overlaps a test group would leak the test
period into the model, so it is purged; the samples right after a test group are embargoed as
well, because features computed after the test period can still carry its information.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import combinations
from math import ceil, comb
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

# Tolerance for the embargo's fraction-to-rows conversion, so that 0.1 * 30 is 3 rows, not 4.
_ROW_EPS = 1e-9


class CombinatorialPurgedKFold:
    """Purged and embargoed cross-validation over every combination of contiguous test groups.

    The samples, sorted by entry, are cut into ``n_groups`` contiguous groups (the first
    ``n_samples % n_groups`` groups hold one sample more). Every one of the
    ``C(n_groups, n_test_groups)`` combinations of ``n_test_groups`` groups is a test set,
    yielded in lexicographic order of the group numbers; each sample is therefore tested
    ``C(n_groups - 1, n_test_groups - 1)`` times, which is the number of backtest paths
    (``get_n_paths``, see ``assemble_paths``).

    The training set of a split is every other sample except:

    * purged samples: a sample whose label span ``[entry, exit]`` overlaps the span of any
      test group, that group's span running from its first entry to its latest exit (both
      ends inclusive, so a label ending exactly when a test group starts is purged);
    * embargoed samples: after each test group, the first ``ceil(embargo * n_samples)``
      samples that enter strictly after the group's latest exit.

    Parameters
    ----------
    n_groups : int, default 6
        Number of contiguous groups, at least 2.
    n_test_groups : int, default 2
        Groups per test set, from 1 to ``n_groups - 1``.
    embargo : float, default 0.0
        Embargo as a fraction of the number of samples, in ``[0, 1)``; it is converted to
        rows with ``ceil``, so any positive fraction embargoes at least one sample.

    Examples
    --------
    Eight trades entered at bars 0, 10, ..., 70 and held 5 bars, except the fourth, held from
    bar 30 to bar 42 (past the fifth trade's entry at bar 40):

    >>> import numpy as np
    >>> spans = [(0, 5), (10, 15), (20, 25), (30, 42), (40, 45), (50, 55), (60, 65), (70, 75)]
    >>> cv = CombinatorialPurgedKFold(n_groups=4, n_test_groups=2)
    >>> cv.get_n_splits(), cv.get_n_paths()
    (6, 3)
    >>> for train, test in cv.split(np.zeros((8, 1)), spans=spans):
    ...     print("train", train, "test", test)
    train [5 6 7] test [0 1 2 3]
    train [2 6 7] test [0 1 4 5]
    train [2 3 4 5] test [0 1 6 7]
    train [0 1 6 7] test [2 3 4 5]
    train [0 1 5] test [2 3 6 7]
    train [0 1 2] test [4 5 6 7]

    Sample 4 (bars 40-45) is purged whenever group 1 (samples 2-3, bars 20-42) is tested, and
    sample 3 whenever group 2 (samples 4-5, bars 40-55) is. An embargo of 1/8 also drops, after
    each test group, the first sample entered after the group's latest exit:

    >>> cv = CombinatorialPurgedKFold(n_groups=4, n_test_groups=2, embargo=0.125)
    >>> for train, test in cv.split(np.zeros((8, 1)), spans=spans):
    ...     print("train", train, "test", test)
    train [6 7] test [0 1 2 3]
    train [7] test [0 1 4 5]
    train [3 4 5] test [0 1 6 7]
    train [0 1 7] test [2 3 4 5]
    train [0 1] test [2 3 6 7]
    train [0 1 2] test [4 5 6 7]
    """

    def __init__(self, n_groups: int = 6, n_test_groups: int = 2, embargo: float = 0.0) -> None:
        self.n_groups = n_groups
        self.n_test_groups = n_test_groups
        self.embargo = embargo

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_groups={self.n_groups!r}, "
                f"n_test_groups={self.n_test_groups!r}, embargo={self.embargo!r})")

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of splits, ``C(n_groups, n_test_groups)``."""
        self._check_params()
        return comb(self.n_groups, self.n_test_groups)

    def get_n_paths(self) -> int:
        """Number of backtest paths, ``n_test_groups / n_groups * C(n_groups, n_test_groups)``."""
        self._check_params()
        return comb(self.n_groups - 1, self.n_test_groups - 1)

    def split(self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None, *,
              spans: ArrayLike) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, test_idx)`` int64 index arrays, both sorted, one per split.

        ``spans`` holds each sample's label span as ``(entry, exit)`` rows, shape
        ``(n_samples, 2)``, in the order of ``X`` and sorted by entry. Entries and exits may be
        numbers (bar indices) or times (datetime64, or datetimes/Timestamps; naive ones are
        read as UTC). ``y`` and ``groups`` are accepted for scikit-learn and ignored.
        """
        self._check_params()
        n = _n_samples(X)
        entry, exit_ = _check_spans(spans, n)
        if n < self.n_groups:
            raise ValueError(f"X: {n} samples cannot make n_groups={self.n_groups} groups")
        bounds = _group_bounds(n, self.n_groups)
        n_embargo = max(1, ceil(self.embargo * n - _ROW_EPS)) if self.embargo > 0 else 0
        everything = np.arange(n, dtype=np.int64)
        for test_groups in combinations(range(self.n_groups), self.n_test_groups):
            is_test = np.zeros(n, dtype=bool)
            dropped = np.zeros(n, dtype=bool)
            for g in test_groups:
                lo, hi = bounds[g], bounds[g + 1]
                is_test[lo:hi] = True
                start, end = entry[lo], exit_[lo:hi].max()
                dropped |= (entry <= end) & (exit_ >= start)
                if n_embargo:
                    after = int(np.searchsorted(entry, end, side="right"))
                    dropped[after:after + n_embargo] = True
            yield everything[~is_test & ~dropped], everything[is_test]

    def assemble_paths(self, split_predictions: Sequence[ArrayLike]) -> np.ndarray:
        """Combine per-split test predictions into the backtest paths.

        ``split_predictions[s]`` holds split ``s``'s predictions (or returns), aligned with
        that split's ``test_idx``, splits in the order ``split`` yields them. Path ``p`` takes
        each group's values from the ``p``-th split (in split order) that tests that group, so
        every path has exactly one value per sample and every split's values are used once.
        Returns an array of shape ``(n_paths, n_samples, ...)``.
        """
        self._check_params()
        n_splits, n_paths = self.get_n_splits(), self.get_n_paths()
        if len(split_predictions) != n_splits:
            raise ValueError(f"split_predictions: expected {n_splits} splits (one per split of "
                             f"{self!r}), got {len(split_predictions)}")
        preds = [np.asarray(p) for p in split_predictions]
        if any(p.ndim == 0 for p in preds):
            raise ValueError("split_predictions: each split's predictions must be an array, not a scalar")
        total = sum(p.shape[0] for p in preds)
        if total % n_paths:
            raise ValueError(f"split_predictions: {total} predictions in all cannot cover every "
                             f"sample {n_paths} times")
        n = total // n_paths
        if n < self.n_groups:
            raise ValueError(f"split_predictions: {n} samples cannot make n_groups={self.n_groups} groups")
        bounds = _group_bounds(n, self.n_groups)
        trailing = preds[0].shape[1:]
        out = np.empty((n_paths, n, *trailing), dtype=np.result_type(*preds))
        uses = np.zeros(self.n_groups, dtype=np.int64)  # splits seen so far that test each group
        for s, test_groups in enumerate(combinations(range(self.n_groups), self.n_test_groups)):
            size = sum(int(bounds[g + 1] - bounds[g]) for g in test_groups)
            if preds[s].shape != (size, *trailing):
                raise ValueError(f"split_predictions: split {s} has shape {preds[s].shape}, its test "
                                 f"set needs {(size, *trailing)}")
            at = 0
            for g in test_groups:
                lo, hi = bounds[g], bounds[g + 1]
                out[uses[g], lo:hi] = preds[s][at:at + hi - lo]
                at += hi - lo
                uses[g] += 1
        return out

    def _check_params(self) -> None:
        if isinstance(self.n_groups, bool) or not isinstance(self.n_groups, int | np.integer) \
                or self.n_groups < 2:
            raise ValueError(f"n_groups must be an integer >= 2, got {self.n_groups!r}")
        if isinstance(self.n_test_groups, bool) or not isinstance(self.n_test_groups, int | np.integer) \
                or not 1 <= self.n_test_groups < self.n_groups:
            raise ValueError(f"n_test_groups must be an integer from 1 to n_groups - 1 = "
                             f"{self.n_groups - 1}, got {self.n_test_groups!r}")
        if not isinstance(self.embargo, int | float | np.integer | np.floating) \
                or isinstance(self.embargo, bool) or not 0 <= self.embargo < 1:
            raise ValueError(f"embargo must be a fraction of the samples in [0, 1), got {self.embargo!r}")


def _n_samples(X: ArrayLike) -> int:
    shape = getattr(X, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise ValueError("X: expected an array of samples, got a scalar")
        return int(shape[0])
    return len(X)  # type: ignore[arg-type]


def _group_bounds(n: int, n_groups: int) -> np.ndarray:
    """Start of each contiguous group and the end of the last: ``n_groups + 1`` offsets."""
    size, extra = divmod(n, n_groups)
    sizes = np.full(n_groups, size, dtype=np.int64)
    sizes[:extra] += 1
    return np.concatenate(([0], np.cumsum(sizes)))


def _check_spans(spans: ArrayLike, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Entries and exits as comparable arrays (int64 ns for times), validated."""
    arr = np.asarray(spans)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"spans: expected (entry, exit) rows of shape (n_samples, 2), got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"spans: {arr.shape[0]} spans for {n} samples in X")
    if arr.dtype.kind == "O" and any(isinstance(v, str) for v in arr.ravel()):
        raise ValueError("spans: entries and exits must be numbers or times, got text")
    if arr.dtype.kind in "OMm":
        try:
            cols = [pd.DatetimeIndex(pd.to_datetime(arr[:, j], utc=True)).as_unit("ns").asi8 for j in (0, 1)]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"spans: entries and exits must be numbers or times ({exc})") from None
        entry, exit_ = cols
    elif arr.dtype.kind in "iuf":
        entry, exit_ = arr[:, 0], arr[:, 1]
    else:
        raise ValueError(f"spans: entries and exits must be numbers or times, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError("spans: every entry and exit must be finite")
    if np.any(exit_ < entry):
        i = int(np.argmax(exit_ < entry))
        raise ValueError(f"spans: sample {i} exits before it enters ({arr[i, 1]} < {arr[i, 0]})")
    if np.any(np.diff(entry) < 0):
        i = int(np.argmax(np.diff(entry) < 0)) + 1
        raise ValueError(f"spans: samples must be sorted by entry; sample {i} enters before sample {i - 1}")
    return entry, exit_
