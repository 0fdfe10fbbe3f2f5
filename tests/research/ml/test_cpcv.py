"""Combinatorial purged k-fold: purge, embargo, coverage, path assembly and input errors."""

from __future__ import annotations

import doctest
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations
from math import comb

import multialpha.research.ml.cpcv as cpcv_module
import numpy as np
import pandas as pd
import pytest
from multialpha.research.ml.cpcv import CombinatorialPurgedKFold


def _disjoint_spans(n: int) -> np.ndarray:
    """Sample i enters at 10*i and exits at 10*i + 5: no label reaches another sample."""
    entries = np.arange(n) * 10
    return np.column_stack([entries, entries + 5])


def _folds(cv: CombinatorialPurgedKFold, spans: np.ndarray | list) -> list[tuple[list[int], list[int]]]:
    n = len(spans)
    return [(train.tolist(), test.tolist()) for train, test in cv.split(np.zeros((n, 1)), spans=spans)]


def test_docstring_example_runs_and_shows_the_exact_folds() -> None:
    result = doctest.testmod(cpcv_module, raise_on_error=False, verbose=False)
    assert result.attempted >= 5
    assert result.failed == 0


def test_constructor_stores_arguments_as_given() -> None:
    cv = CombinatorialPurgedKFold(n_groups=5, n_test_groups=3, embargo=0.02)
    assert (cv.n_groups, cv.n_test_groups, cv.embargo) == (5, 3, 0.02)
    assert repr(cv) == "CombinatorialPurgedKFold(n_groups=5, n_test_groups=3, embargo=0.02)"


def test_get_n_splits_and_paths_when_6_groups_2_tested_then_15_and_5() -> None:
    cv = CombinatorialPurgedKFold()
    assert cv.get_n_splits() == 15
    # phi = k / N * C(N, k) = 2 / 6 * 15
    assert cv.get_n_paths() == 5


def test_split_when_spans_disjoint_then_train_is_everything_but_the_test_groups() -> None:
    cv = CombinatorialPurgedKFold(n_groups=3, n_test_groups=1)
    assert _folds(cv, _disjoint_spans(6)) == [
        ([2, 3, 4, 5], [0, 1]),
        ([0, 1, 4, 5], [2, 3]),
        ([0, 1, 2, 3], [4, 5]),
    ]


def test_split_when_label_spans_overlap_test_group_then_purged() -> None:
    # Groups {0, 1}, {2, 3}, {4, 5}. Sample 1's label runs into group 1 (ends at 22 > 20);
    # group 1's latest exit (43, sample 3) is after sample 4's entry (40).
    spans = [(0, 5), (10, 22), (20, 25), (30, 43), (40, 45), (50, 55)]
    cv = CombinatorialPurgedKFold(n_groups=3, n_test_groups=1)
    assert _folds(cv, spans) == [
        ([3, 4, 5], [0, 1]),  # group 0 spans 0-22: sample 2 (enters at 20) purged
        ([0, 5], [2, 3]),  # group 1 spans 20-43: sample 1 (10-22) and sample 4 (40-45) purged
        ([0, 1, 2], [4, 5]),  # group 2 spans 40-55: sample 3 (30-43) purged
    ]


def test_split_when_label_ends_exactly_where_test_group_starts_then_purged() -> None:
    spans = [(0, 5), (10, 20), (20, 25), (30, 35)]  # sample 1 exits at 20, sample 2 enters at 20
    cv = CombinatorialPurgedKFold(n_groups=4, n_test_groups=1)
    train, test = _folds(cv, spans)[2]
    assert test == [2]
    assert train == [0, 3]


def test_split_embargo_removes_exactly_the_first_samples_entering_after_each_test_group() -> None:
    # 10 disjoint samples, 5 groups of 2, embargo 0.2 -> 2 samples after each test group.
    cv = CombinatorialPurgedKFold(n_groups=5, n_test_groups=1, embargo=0.2)
    folds = _folds(cv, _disjoint_spans(10))
    assert folds[0] == ([4, 5, 6, 7, 8, 9], [0, 1])
    assert folds[1] == ([0, 1, 6, 7, 8, 9], [2, 3])
    assert folds[3] == ([0, 1, 2, 3, 4, 5], [6, 7])
    assert folds[4] == ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])  # nothing after the last group


def test_split_embargo_counts_from_the_test_groups_latest_exit() -> None:
    # Group {2, 3}: sample 3 is held to 47, so sample 4 (40) is purged and the one-sample
    # embargo falls on sample 5, the first to enter after 47.
    spans = [(0, 5), (10, 15), (20, 25), (30, 47), (40, 45), (50, 55), (60, 65), (70, 75)]
    cv = CombinatorialPurgedKFold(n_groups=4, n_test_groups=1, embargo=0.125)
    train, test = _folds(cv, spans)[1]
    assert test == [2, 3]
    assert train == [0, 1, 6, 7]


def test_split_embargo_fraction_converts_to_rows_with_ceil() -> None:
    n = 30  # 6 groups of 5, disjoint spans; test group 0 is rows 0-4
    rows_after_group_0 = {}
    for embargo in (0.1, 0.05, 0.001, 1e-12):
        cv = CombinatorialPurgedKFold(n_groups=6, n_test_groups=1, embargo=embargo)
        train, _ = _folds(cv, _disjoint_spans(n))[0]
        rows_after_group_0[embargo] = train[0] - 5
    # 0.1 * 30 = 3 rows exactly (not 4 from floating error); ceil(1.5) = 2; ceil(0.03) = 1;
    # any positive embargo is at least one row
    assert rows_after_group_0 == {0.1: 3, 0.05: 2, 0.001: 1, 1e-12: 1}


def test_split_every_sample_is_tested_exactly_c_n_minus_1_k_minus_1_times() -> None:
    n, n_groups, k = 23, 6, 2
    cv = CombinatorialPurgedKFold(n_groups=n_groups, n_test_groups=k, embargo=0.05)
    splits = list(cv.split(np.zeros((n, 3)), spans=_disjoint_spans(n)))
    assert len(splits) == comb(n_groups, k) == cv.get_n_splits()
    tested = Counter(int(i) for _, test in splits for i in test)
    assert tested == {i: comb(n_groups - 1, k - 1) for i in range(n)}
    for train, test in splits:
        assert train.dtype == np.int64 and test.dtype == np.int64
        assert not set(train.tolist()) & set(test.tolist())


def test_split_groups_are_contiguous_and_the_first_ones_take_the_remainder() -> None:
    cv = CombinatorialPurgedKFold(n_groups=6, n_test_groups=1)
    tests = [test for _, test in _folds(cv, _disjoint_spans(23))]
    assert tests == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18, 19],
                     [20, 21, 22]]


def test_split_when_spans_are_times_then_same_folds_as_numbers() -> None:
    t0 = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
    numeric = [(0, 5), (10, 22), (20, 25), (30, 43), (40, 45), (50, 55)]
    as_times = [(t0 + timedelta(minutes=a), t0 + timedelta(minutes=b)) for a, b in numeric]
    as_datetime64 = np.array([[np.datetime64("2024-03-01T14:30") + np.timedelta64(v, "m") for v in row]
                              for row in numeric])
    mixed = [(a, pd.Timestamp(b).as_unit("ns")) for a, b in as_times]  # datetime entries, ns Timestamp exits
    cv = CombinatorialPurgedKFold(n_groups=3, n_test_groups=1, embargo=0.2)
    assert _folds(cv, as_times) == _folds(cv, numeric) == _folds(cv, as_datetime64) == _folds(cv, mixed)


def test_split_ignores_y_and_groups() -> None:
    cv = CombinatorialPurgedKFold(n_groups=3, n_test_groups=1)
    X, spans = np.zeros((6, 2)), _disjoint_spans(6)
    plain = [(a.tolist(), b.tolist()) for a, b in cv.split(X, spans=spans)]
    with_yg = [(a.tolist(), b.tolist()) for a, b in cv.split(X, np.ones(6), np.arange(6), spans=spans)]
    assert plain == with_yg


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"n_groups": 1}, "n_groups"),
    ({"n_groups": 4.0}, "n_groups"),
    ({"n_groups": 4, "n_test_groups": 0}, "n_test_groups"),
    ({"n_groups": 4, "n_test_groups": 4}, "n_test_groups"),
    ({"embargo": -0.01}, "embargo"),
    ({"embargo": 1.0}, "embargo"),
    ({"embargo": "0.1"}, "embargo"),
])
def test_split_when_parameter_invalid_then_value_error_names_it(kwargs: dict, argument: str) -> None:
    cv = CombinatorialPurgedKFold(**kwargs)
    with pytest.raises(ValueError, match=argument):
        next(cv.split(np.zeros((12, 1)), spans=_disjoint_spans(12)))
    with pytest.raises(ValueError, match=argument):
        cv.get_n_splits()


@pytest.mark.parametrize(("spans", "message"), [
    (np.arange(12), "shape"),
    (np.zeros((12, 3)), "shape"),
    (_disjoint_spans(11), "11 spans for 12 samples"),
    (np.array([[0, 5], [20, 25], [10, 15]] + [[30 + 10 * i, 35 + 10 * i] for i in range(9)]), "sorted"),
    (np.array([[0, 5], [10, 9]] + [[20 + 10 * i, 25 + 10 * i] for i in range(10)]), "sample 1 exits before"),
    (np.array([[0.0, np.nan]] + [[10.0 * i, 10.0 * i + 5] for i in range(1, 12)]), "finite"),
    (np.array([["a", "b"]] * 12), "numbers or times"),
    (np.array([["2024-03-01", "2024-03-02"]] * 12, dtype=object), "got text"),
])
def test_split_when_spans_invalid_then_value_error_names_spans(spans: np.ndarray, message: str) -> None:
    cv = CombinatorialPurgedKFold(n_groups=3, n_test_groups=1)
    with pytest.raises(ValueError, match=f"spans.*{message}"):
        next(cv.split(np.zeros((12, 1)), spans=spans))


def test_split_when_fewer_samples_than_groups_then_value_error_names_x() -> None:
    cv = CombinatorialPurgedKFold(n_groups=6, n_test_groups=2)
    with pytest.raises(ValueError, match="X: 4 samples"):
        next(cv.split(np.zeros((4, 1)), spans=_disjoint_spans(4)))


def _split_ids(cv: CombinatorialPurgedKFold, n: int) -> list[np.ndarray]:
    """Per-split 'predictions' that record which split produced them."""
    return [np.full(test.shape[0], s) for s, (_, test) in
            enumerate(cv.split(np.zeros((n, 1)), spans=_disjoint_spans(n)))]


def test_assemble_paths_when_4_groups_2_tested_then_paths_take_the_pth_split_testing_each_group() -> None:
    # Splits in order: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3). Group 0 is tested by splits 0, 1, 2;
    # group 1 by 0, 3, 4; group 2 by 1, 3, 5; group 3 by 2, 4, 5. Path p takes the p-th of each.
    cv = CombinatorialPurgedKFold(n_groups=4, n_test_groups=2)
    paths = cv.assemble_paths(_split_ids(cv, 8))
    assert paths.tolist() == [
        [0, 0, 0, 0, 1, 1, 2, 2],
        [1, 1, 3, 3, 3, 3, 4, 4],
        [2, 2, 4, 4, 5, 5, 5, 5],
    ]


def test_assemble_paths_covers_every_sample_once_per_path() -> None:
    n = 23
    cv = CombinatorialPurgedKFold(n_groups=6, n_test_groups=2)
    tests = [test for _, test in cv.split(np.zeros((n, 1)), spans=_disjoint_spans(n))]
    paths = cv.assemble_paths(tests)  # each split "predicts" the sample's own index
    assert paths.shape == (cv.get_n_paths(), n)
    assert all(path.tolist() == list(range(n)) for path in paths)


def test_assemble_paths_uses_each_split_group_pair_exactly_once() -> None:
    n, n_groups, k = 23, 6, 2
    cv = CombinatorialPurgedKFold(n_groups=n_groups, n_test_groups=k)
    paths = cv.assemble_paths(_split_ids(cv, n))
    starts = [0, 4, 8, 12, 16, 20]  # first sample of each group (23 = 4*5 + 3)
    used = Counter((int(path[start]), g) for path in paths for g, start in enumerate(starts))
    expected = {(s, g): 1 for s, groups in enumerate(combinations(range(n_groups), k)) for g in groups}
    assert used == expected


def test_assemble_paths_keeps_trailing_dimensions() -> None:
    cv = CombinatorialPurgedKFold(n_groups=3, n_test_groups=1)
    probas = [np.column_stack([np.full(2, s), np.arange(2)]) for s in range(3)]
    paths = cv.assemble_paths(probas)
    assert paths.shape == (1, 6, 2)
    assert paths[0, :, 0].tolist() == [0, 0, 1, 1, 2, 2]


def test_assemble_paths_when_split_count_wrong_then_value_error_names_argument() -> None:
    cv = CombinatorialPurgedKFold(n_groups=4, n_test_groups=2)
    with pytest.raises(ValueError, match="split_predictions: expected 6 splits"):
        cv.assemble_paths(_split_ids(cv, 8)[:5])


def test_assemble_paths_when_a_split_has_the_wrong_length_then_value_error_names_the_split() -> None:
    cv = CombinatorialPurgedKFold(n_groups=4, n_test_groups=2)
    preds = _split_ids(cv, 8)
    preds[1], preds[2] = preds[1][:-1], np.append(preds[2], 2)
    with pytest.raises(ValueError, match="split_predictions: split 1 has shape"):
        cv.assemble_paths(preds)
