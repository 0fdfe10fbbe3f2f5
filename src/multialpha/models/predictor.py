"""Probability models behind a bundle: the compiled forest, or scikit-learn as a fallback."""

from __future__ import annotations

import copy
import logging
import warnings
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .forest import CompiledForest, NotCompilableError, class_column, compile_forest

log = logging.getLogger(__name__)

#: Rows of the load-time comparison between the compiled forest and ``predict_proba``.
PROBE_ROWS = 64


@runtime_checkable
class ProbabilityModel(Protocol):
    """Scores rows of features with the probability of the positive class."""

    kind: str  # "compiled" or "sklearn"
    n_features: int

    def score(self, row: np.ndarray) -> float: ...

    def score_many(self, X: np.ndarray) -> np.ndarray: ...


class SklearnProbability:
    """``predict_proba`` of any fitted classifier, one column of it.

    The estimator's ``n_jobs`` (and any nested ``*__n_jobs``) is set to 1: for one row,
    handing trees to a thread pool costs far more than scoring them.
    """

    kind = "sklearn"

    def __init__(self, estimator: Any, n_features: int, *, class_label: Any = 1) -> None:
        self.estimator = estimator
        self.n_features = n_features
        self.class_label = class_label
        self.class_index = class_column(estimator, class_label)
        _single_thread(estimator)

    def score(self, row: np.ndarray) -> float:
        X = np.asarray(row, dtype=np.float64).reshape(1, -1)
        return float(self.estimator.predict_proba(X)[0, self.class_index])

    def score_many(self, X: np.ndarray) -> np.ndarray:
        proba = self.estimator.predict_proba(np.asarray(X, dtype=np.float64))
        return np.ascontiguousarray(proba[:, self.class_index], dtype=np.float64)

    def __repr__(self) -> str:
        return f"SklearnProbability({type(self.estimator).__name__}, class_label={self.class_label!r})"


def make_predictor(estimator: Any, *, class_label: Any = 1, context: str = "") -> ProbabilityModel:
    """The compiled forest if the estimator compiles and agrees with ``predict_proba`` on
    probe rows, else ``SklearnProbability`` (with a logged warning). Warmed up either way."""
    n_features = int(estimator.n_features_in_)
    reason: object
    try:
        compiled = compile_forest(estimator, class_label=class_label)
    except NotCompilableError as exc:
        reason = exc
    else:
        reason = compare_with_sklearn(compiled, estimator)
        if not reason:
            return _warmed(compiled)
    log.warning("model_fallback %s reason=%s: scoring with sklearn predict_proba", context, reason)
    return _warmed(SklearnProbability(estimator, n_features, class_label=class_label))


def compare_with_sklearn(compiled: CompiledForest, estimator: Any, *, n_rows: int = PROBE_ROWS,
                         seed: int = 0) -> str | None:
    """Why the compiled forest differs from ``predict_proba`` (n_jobs=1) on probe rows that sit
    on, next to and between split thresholds, and on NaN; ``None`` when bit-identical."""
    X = probe_rows(estimator, n_rows=n_rows, seed=seed, allow_nan=compiled.allow_nan)
    reference = copy.copy(estimator)  # shallow: same trees, own n_jobs
    if hasattr(reference, "n_jobs"):
        reference.n_jobs = 1
    with warnings.catch_warnings():
        # ndarray input to a model fitted on named columns; names were checked by the caller.
        warnings.simplefilter("ignore", UserWarning)
        expected = reference.predict_proba(X)[:, compiled.class_index]
    got = compiled.score_many(X)
    single = np.array([compiled.score(row) for row in X[:4]])
    if np.array_equal(got, expected) and np.array_equal(single, expected[:4]):
        return None
    differing = int(np.count_nonzero(got != expected))
    return (f"compiled forest differs from predict_proba on {differing} of {len(X)} probe rows "
            f"(max abs diff {np.max(np.abs(got - expected)):.3g})")


def probe_rows(estimator: Any, *, n_rows: int, seed: int, allow_nan: bool) -> np.ndarray:
    """Rows mixing exact split thresholds, their float32 neighbours, random values and NaN."""
    rng = np.random.default_rng(seed)
    n_features = int(estimator.n_features_in_)
    trees = getattr(estimator, "estimators_", None) or [estimator]
    feature = np.concatenate([t.tree_.feature for t in trees])
    threshold = np.concatenate([t.tree_.threshold for t in trees])
    inner = feature >= 0
    feature, threshold = feature[inner], threshold[inner]
    X = rng.normal(size=(n_rows, n_features))
    for f in range(n_features):
        cuts = threshold[feature == f]
        cuts = cuts[np.isfinite(cuts)]
        if cuts.size == 0:
            continue
        picked = rng.choice(cuts, size=n_rows)
        t32 = picked.astype(np.float32)
        kind = rng.integers(0, 5, size=n_rows)
        X[:, f] = np.select(
            [kind == 0, kind == 1, kind == 2, kind == 3],
            [picked, t32, np.nextafter(t32, np.float32(np.inf)), np.nextafter(t32, np.float32(-np.inf))],
            default=picked + rng.normal(scale=cuts.std() + 1e-12, size=n_rows),
        )
    if allow_nan:
        X[rng.random(size=X.shape) < 0.05] = np.nan
    return X


def _single_thread(estimator: Any) -> None:
    get_params = getattr(estimator, "get_params", None)
    if get_params is None:
        return
    try:
        names = [name for name in get_params(deep=True) if name == "n_jobs" or name.endswith("__n_jobs")]
        if names:
            estimator.set_params(**dict.fromkeys(names, 1))
    except (TypeError, ValueError, AttributeError) as exc:  # exotic estimators: leave as is
        log.warning("model_n_jobs_unchanged estimator=%s reason=%s", type(estimator).__name__, exc)


def _warmed(model: ProbabilityModel) -> ProbabilityModel:
    model.score(np.zeros(model.n_features))
    return model
