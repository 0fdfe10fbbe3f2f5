"""Choosing between the compiled forest and sklearn, and the scoring contract of both."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from multialpha.models import (
    CompiledForest,
    NotCompilableError,
    ProbabilityModel,
    SklearnProbability,
    compile_forest,
    make_predictor,
)
from multialpha.models.predictor import compare_with_sklearn


class _ShiftedForest(RandomForestClassifier):
    """Overrides predict_proba, so compiling it would not reproduce it."""

    def predict_proba(self, X: Any) -> Any:
        return super().predict_proba(X)[:, ::-1]


def data(n: int = 200, n_features: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(seed).normal(size=(n, n_features))
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def test_forest_gets_compiled_predictor(small_forest: RandomForestClassifier) -> None:
    predictor = make_predictor(small_forest)
    assert isinstance(predictor, CompiledForest) and isinstance(predictor, ProbabilityModel)
    assert predictor.kind == "compiled" and predictor.n_features == 4


@pytest.mark.parametrize("build", [
    lambda: GradientBoostingClassifier(n_estimators=5, random_state=0),
    lambda: make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, n_jobs=-1, random_state=0)),
    lambda: _ShiftedForest(n_estimators=5, random_state=0),
])
def test_unsupported_estimator_falls_back_to_sklearn_with_warning(
        build: Any, caplog: pytest.LogCaptureFixture) -> None:
    X, y = data()
    estimator = build().fit(X, y)
    with pytest.raises(NotCompilableError):
        compile_forest(estimator)
    with caplog.at_level(logging.WARNING, logger="multialpha.models"):
        predictor = make_predictor(estimator)
    assert isinstance(predictor, SklearnProbability) and predictor.kind == "sklearn"
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    expected = estimator.predict_proba(X)[:, 1]
    assert predictor.score(X[5]) == expected[5]
    assert predictor.score_many(X).tobytes() == expected.tobytes()


def test_fallback_scores_single_rows_on_one_thread() -> None:
    X, y = data()
    pipeline = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, n_jobs=-1, random_state=0))
    SklearnProbability(pipeline.fit(X, y), 4)
    assert pipeline.get_params()["randomforestclassifier__n_jobs"] == 1


def test_compare_with_sklearn_reports_a_different_model() -> None:
    X, y = data()
    one = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0).fit(X, y)
    other = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=1).fit(X, y)
    assert compare_with_sklearn(compile_forest(one), one) is None
    assert compare_with_sklearn(compile_forest(one), other) is not None


def test_compare_with_sklearn_ignores_estimator_n_jobs() -> None:
    X, y = data()
    forest = RandomForestClassifier(n_estimators=40, max_depth=5, n_jobs=-1, random_state=0).fit(X, y)
    assert compare_with_sklearn(compile_forest(forest), forest) is None
    assert forest.n_jobs == -1


def test_score_coerces_lists_float32_and_strided_rows(small_forest: RandomForestClassifier) -> None:
    compiled = compile_forest(small_forest)
    X = np.random.default_rng(3).normal(size=(6, 8))
    strided = X[2, ::2]
    assert not strided.flags.c_contiguous
    expected = small_forest.predict_proba(np.ascontiguousarray(X[:, ::2]))[:, 1]
    assert compiled.score(strided) == expected[2]
    assert compiled.score(list(X[2, ::2])) == expected[2]  # type: ignore[arg-type]
    as32 = X[2, ::2].astype(np.float32)
    assert compiled.score(as32) == small_forest.predict_proba(as32.reshape(1, -1))[0, 1]
    assert compiled.score_many(X[:, ::2]).tobytes() == expected.tobytes()


@pytest.mark.parametrize("row", [np.zeros(3), np.zeros(5), np.zeros((1, 4))])
def test_score_when_row_has_wrong_shape_then_value_error(small_forest: RandomForestClassifier, row: Any) -> None:
    with pytest.raises(ValueError):
        compile_forest(small_forest).score(row)


def test_score_many_names_first_bad_row(small_forest: RandomForestClassifier) -> None:
    X = np.zeros((5, 4))
    X[3, 2] = np.inf
    with pytest.raises(ValueError, match="row 3"):
        compile_forest(small_forest).score_many(X)
    with pytest.raises(ValueError):
        compile_forest(small_forest).score_many(np.zeros((5, 3)))


def test_score_many_of_no_rows_is_empty(small_forest: RandomForestClassifier) -> None:
    assert compile_forest(small_forest).score_many(np.zeros((0, 4))).shape == (0,)
