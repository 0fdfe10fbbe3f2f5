"""The compiled forest returns exactly what sklearn's predict_proba (n_jobs=1) returns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

from multialpha.models import NotCompilableError, class_column, compile_forest
from multialpha.models.forest import Layout

LABEL_SETS = [(0, 1), (-1, 1), (1, 2), (0, 1, 2), (1, 3, 7)]
KINDS = ["random_forest", "extra_trees", "decision_tree", "extra_tree"]
LAYOUTS: list[Layout] = ["perfect", "linked"]
F32_MAX = float(np.finfo(np.float32).max)

# sklearn's finiteness check sums the float32 input first; +-float32-max overflows that sum.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")

EXACT = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_estimator(kind: str, *, seed: int, n_estimators: int, max_depth: int | None) -> Any:
    if kind == "random_forest":
        return RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=seed)
    if kind == "extra_trees":
        return ExtraTreesClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=seed)
    if kind == "decision_tree":
        return DecisionTreeClassifier(max_depth=max_depth, random_state=seed)
    return ExtraTreeClassifier(max_depth=max_depth, random_state=seed)


def training_data(seed: int, n_samples: int, n_features: int, labels: tuple[int, ...],
                  nan_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    X[:, 0] = np.round(X[:, 0], 1)  # ties: thresholds between repeated values
    if n_features > 1:
        X[:, 1] *= 1e-3  # small scale: float32 rounding matters near thresholds
    score = X[:, 0] + rng.normal(scale=0.7, size=n_samples)
    y = np.asarray(labels)[np.digitize(score, np.quantile(score, np.linspace(0, 1, len(labels) + 1)[1:-1]))]
    y[: len(labels)] = labels  # every class present
    if nan_fraction:
        X[rng.random(X.shape) < nan_fraction] = np.nan
    return X, y


@st.composite
def fitted(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(KINDS))
    labels = draw(st.sampled_from(LABEL_SETS))
    n_features = draw(st.integers(1, 5))
    X, y = training_data(draw(st.integers(0, 2**16)), draw(st.integers(30, 150)), n_features, labels,
                         draw(st.sampled_from([0.0, 0.0, 0.15])))
    estimator = make_estimator(kind, seed=draw(st.integers(0, 1000)), n_estimators=draw(st.integers(1, 10)),
                               max_depth=draw(st.sampled_from([1, 2, 3, 5, 8, None])))
    return estimator.fit(X, y)


def thresholds_by_feature(estimator: Any) -> list[np.ndarray]:
    trees = getattr(estimator, "estimators_", None) or [estimator]
    feature = np.concatenate([t.tree_.feature for t in trees])
    threshold = np.concatenate([t.tree_.threshold for t in trees])
    return [threshold[feature == f] for f in range(estimator.n_features_in_)]


def values_near(cuts: np.ndarray) -> st.SearchStrategy[float]:
    """Values on split thresholds and on either side of their float32 roundings."""
    anywhere = st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-F32_MAX, max_value=F32_MAX),
        st.sampled_from([0.0, -0.0, np.nan, 1e-45, -1e-45, 1e-39, F32_MAX, -F32_MAX]),
    )
    finite = cuts[np.isfinite(cuts)]
    if finite.size == 0:
        return anywhere

    def around(t: float, how: int) -> float:
        t32 = np.float32(t)
        up, down = np.nextafter(t32, np.float32(np.inf)), np.nextafter(t32, np.float32(-np.inf))
        ulp64 = np.spacing(t)
        return float([
            t,  # exactly on the float64 threshold
            t32,  # its float32 rounding (can sit either side of t)
            up, down,  # neighbouring float32 values
            t + ulp64, t - ulp64,  # float64 neighbours that still round to t32
            (float(t32) + float(up)) / 2, (float(t32) + float(down)) / 2,  # round-half-even ties
        ][how])

    near = st.builds(around, st.sampled_from(finite.tolist()), st.integers(0, 7))
    return st.one_of(near, near, anywhere)


def rows_for(data: st.DataObject, estimator: Any, n_rows: int) -> np.ndarray:
    columns = [data.draw(st.lists(values_near(cuts), min_size=n_rows, max_size=n_rows))
               for cuts in thresholds_by_feature(estimator)]
    return np.array(columns, dtype=np.float64).T.copy()


def reference(estimator: Any, X: np.ndarray, label: Any = 1) -> np.ndarray:
    return estimator.predict_proba(X)[:, class_column(estimator, label)]


@EXACT
@given(estimator=fitted(), data=st.data())
def test_compiled_forest_matches_predict_proba_bit_for_bit(estimator: Any, data: st.DataObject) -> None:
    X = rows_for(data, estimator, n_rows=data.draw(st.integers(1, 12)))
    expected = reference(estimator, X)
    for layout in LAYOUTS:
        compiled = compile_forest(estimator, layout=layout)
        assert compiled.score_many(X).tobytes() == expected.tobytes()
        singles = np.array([compiled.score(row) for row in X])
        assert singles.tobytes() == expected.tobytes()


@EXACT
@given(estimator=fitted(), data=st.data())
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_compiled_forest_rejects_infinity_like_sklearn(estimator: Any, data: st.DataObject) -> None:
    X = rows_for(data, estimator, n_rows=1)
    column = data.draw(st.integers(0, X.shape[1] - 1))
    X[0, column] = data.draw(st.sampled_from([np.inf, -np.inf, 1e39, -1e300]))
    with pytest.raises(ValueError):
        estimator.predict_proba(X)
    for layout in LAYOUTS:
        compiled = compile_forest(estimator, layout=layout)
        with pytest.raises(ValueError, match="infinity"):
            compiled.score(X[0])
        with pytest.raises(ValueError, match="row 0"):
            compiled.score_many(X)


@pytest.mark.parametrize("labels", LABEL_SETS)
def test_class_column_follows_class_1(labels: tuple[int, ...]) -> None:
    X, y = training_data(3, 80, 3, labels, 0.0)
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=1).fit(X, y)
    compiled = compile_forest(forest)
    assert compiled.class_index == list(forest.classes_).index(1)
    assert compiled.score_many(X).tobytes() == reference(forest, X).tobytes()


def test_compile_when_class_1_absent_then_not_compilable() -> None:
    X, y = training_data(3, 80, 3, (0, 2), 0.0)
    forest = RandomForestClassifier(n_estimators=3, random_state=1).fit(X, y)
    with pytest.raises(NotCompilableError, match="class 1"):
        compile_forest(forest)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_nan_follows_learnt_direction_when_trained_with_nan(layout: Layout) -> None:
    X, y = training_data(11, 300, 4, (0, 1), 0.2)
    forest = RandomForestClassifier(n_estimators=25, max_depth=6, random_state=2).fit(X, y)
    assert any(t.tree_.missing_go_to_left.any() for t in forest.estimators_)
    probe = np.random.default_rng(0).normal(size=(200, 4))
    probe[np.random.default_rng(1).random(probe.shape) < 0.4] = np.nan
    assert compile_forest(forest, layout=layout).score_many(probe).tobytes() == reference(forest, probe).tobytes()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_nan_goes_to_larger_child_when_trained_without_nan(layout: Layout) -> None:
    X, y = training_data(12, 300, 4, (0, 1), 0.0)
    forest = ExtraTreesClassifier(n_estimators=25, max_depth=6, random_state=2).fit(X, y)
    probe = np.full((3, 4), np.nan)
    probe[1, 0] = 0.3
    assert compile_forest(forest, layout=layout).score_many(probe).tobytes() == reference(forest, probe).tobytes()


def test_nan_rejected_when_estimator_does_not_accept_missing_values() -> None:
    X, y = training_data(5, 100, 3, (0, 1), 0.0)
    tree = ExtraTreeClassifier(splitter="best", random_state=0).fit(X, y)
    row = np.array([0.1, np.nan, 0.2])
    with pytest.raises(ValueError):
        tree.predict_proba(row.reshape(1, -1))
    with pytest.raises(ValueError, match="NaN"):
        compile_forest(tree).score(row)


def test_perfect_layout_pads_shallow_leaves_of_unbalanced_trees() -> None:
    X, y = training_data(8, 500, 5, (0, 1), 0.0)
    forest = RandomForestClassifier(n_estimators=17, max_depth=9, min_samples_leaf=20, random_state=4).fit(X, y)
    depths = {t.tree_.max_depth for t in forest.estimators_}
    compiled = compile_forest(forest)
    assert compiled.layout == "perfect" and compiled.depth == max(depths)
    assert compiled.score_many(X).tobytes() == reference(forest, X).tobytes()


def test_single_leaf_tree_scores_its_class_fraction() -> None:
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.array([0] * 5 + [1] * 15)
    stump = DecisionTreeClassifier(max_depth=1, min_samples_split=100).fit(X, y)
    assert stump.tree_.node_count == 1
    for layout in LAYOUTS:
        assert compile_forest(stump, layout=layout).score(X[0]) == stump.predict_proba(X[:1])[0, 1] == 0.75


def test_deep_forest_defaults_to_linked_layout() -> None:
    X, y = training_data(9, 3000, 5, (0, 1), 0.0)
    forest = RandomForestClassifier(n_estimators=3, max_depth=None, random_state=0).fit(X, y)
    assert max(t.tree_.max_depth for t in forest.estimators_) > 12
    compiled = compile_forest(forest)
    assert compiled.layout == "linked"
    assert compiled.score_many(X[:300]).tobytes() == reference(forest, X[:300]).tobytes()


def test_parallel_sklearn_agrees_to_rounding() -> None:
    X, y = training_data(10, 400, 4, (0, 1), 0.0)
    forest = RandomForestClassifier(n_estimators=60, max_depth=6, random_state=0, n_jobs=2).fit(X, y)
    compiled = compile_forest(forest)
    np.testing.assert_allclose(compiled.score_many(X), reference(forest, X), rtol=0, atol=1e-15)
