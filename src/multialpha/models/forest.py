"""Exact, fast inference for fitted scikit-learn tree classifiers.

``compile_forest`` flattens a ``RandomForestClassifier``, ``ExtraTreesClassifier`` or a bare
``DecisionTreeClassifier``/``ExtraTreeClassifier`` into arrays walked by a numba kernel and
returns what ``predict_proba(X)[:, k]`` returns with ``n_jobs=1``, bit for bit. What
scikit-learn does, and how it is matched:

1. ``X`` is validated and cast to float32 (round to nearest even). A value whose float32
   cast is infinite (``inf`` itself, or a finite float64 beyond float32's range) raises
   ``ValueError``; NaN is accepted when the estimator's tags allow it (every tree classifier
   of scikit-learn >= 1.4 does) and raises otherwise.
2. Each tree goes left when ``float64(x32) <= threshold`` (threshold is float64). Here the
   threshold is stored as the largest float32 not above it, which gives the same answer for
   every float32 ``x`` at half the memory. A NaN goes where ``missing_go_to_left`` says:
   trees trained with NaN learnt that direction; trees trained without NaN still store one
   (the child that received more training samples), so NaN at predict time follows it too.
3. A leaf's probability is ``tree_.value[leaf, 0, k]``: since scikit-learn 1.4 the tree
   stores class fractions, and ``predict_proba`` returns them without further normalisation.
4. A forest starts from 0.0, adds each tree's probability in ``estimators_`` order and divides
   by ``len(estimators_)``. That order is only guaranteed with ``n_jobs=1``; with ``n_jobs=-1``
   threads add their trees as they finish, so sklearn itself varies in the last bits (about
   1e-16). The reference is therefore ``n_jobs=1``; ``n_jobs=-1`` agrees to ~1e-15.

The padded "perfect" layout adds always-left pass-through nodes (threshold +inf, NaN left)
below shallow leaves; they change nothing because infinite inputs are rejected before any
tree is walked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.ensemble._forest import ForestClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import get_tags

from . import _kernels as k

Layout = Literal["auto", "perfect", "linked"]

#: Deepest forest padded to complete trees, and the most memory that padding may use.
MAX_PERFECT_DEPTH = 12
MAX_PERFECT_BYTES = 64 * 2**20

_TREE_LEAF = -1
_MAX_FEATURES = np.iinfo(np.uint16).max


class NotCompilableError(TypeError):
    """The estimator is not a tree model this module can reproduce exactly."""


def class_column(estimator: Any, label: Any = 1) -> int:
    """Column of ``label`` in ``estimator.predict_proba``; ``ValueError`` if it has none."""
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise ValueError("estimator has no classes_ (not a fitted classifier)")
    if isinstance(classes, list):
        raise ValueError("multi-output estimators are not supported")
    matches = np.flatnonzero(np.asarray(classes) == label)
    if matches.size != 1:
        raise ValueError(f"class {label!r} is not among classes_ {list(classes)!r}")
    return int(matches[0])


class CompiledForest:
    """Flattened trees plus the numba kernel that scores them; build with ``compile_forest``."""

    kind = "compiled"

    def __init__(self, *, layout: str, nodes: np.ndarray, leaves: np.ndarray, roots: np.ndarray,
                 depth: int, n_features: int, allow_nan: bool, class_label: Any, class_index: int
                 ) -> None:
        self.layout = layout
        self.depth = depth
        self.n_features = n_features
        self.n_trees = len(roots) if layout == "linked" else len(leaves) >> depth
        self.allow_nan = allow_nan
        self.class_label = class_label
        self.class_index = class_index
        self._nodes = nodes
        self._leaves = leaves
        self._roots = roots
        if layout == "perfect":
            self._row_kernel: Any = k.perfect_score_row
            self._many_kernel: Any = k.perfect_score_many
            self._args: tuple[Any, ...] = (nodes, leaves, depth, n_features, allow_nan)
        else:
            self._row_kernel = k.linked_score_row
            self._many_kernel = k.linked_score_many
            self._args = (nodes, leaves, roots, n_features, allow_nan)

    def score(self, row: np.ndarray) -> float:
        """P(class) for one row: a 1-D float64 array of ``n_features`` values."""
        try:
            p = self._row_kernel(row, *self._args)
        except TypeError:  # numba matched no signature: not a C-contiguous 1-D float64 array
            p = self._row_kernel(self._as_row(row), *self._args)
        if p < 0.0:
            raise self._input_error(p, row)
        return float(p)

    def score_many(self, X: np.ndarray) -> np.ndarray:
        """P(class) for each row of a 2-D array."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected an array of shape (n, {self.n_features}), got {X.shape}")
        out = np.empty(X.shape[0], dtype=np.float64)
        self._many_kernel(X, *self._args, out)
        bad = np.flatnonzero(out < 0.0)
        if bad.size:
            raise ValueError(f"row {bad[0]}: {self._input_error(out[bad[0]], X[bad[0]])}")
        return out

    def _as_row(self, row: Any) -> np.ndarray:
        arr = np.ascontiguousarray(row, dtype=np.float64)
        if arr.ndim != 1:
            raise ValueError(f"expected a 1-D row of {self.n_features} values, got shape {arr.shape}")
        return arr

    def _input_error(self, status: float, row: Any) -> ValueError:
        if status == k.BAD_LENGTH:
            return ValueError(f"row has {len(row)} values, the model expects {self.n_features}")
        if status == k.HAS_INF:
            return ValueError("input contains infinity or a value too large for float32")
        return ValueError("input contains NaN and this model does not accept missing values")

    def __repr__(self) -> str:
        return (f"CompiledForest(layout={self.layout!r}, n_trees={self.n_trees}, depth={self.depth}, "
                f"n_features={self.n_features}, class_label={self.class_label!r})")


def compile_forest(estimator: Any, *, class_label: Any = 1, layout: Layout = "auto") -> CompiledForest:
    """Flatten a fitted tree classifier into a ``CompiledForest`` scoring ``class_label``.

    Raises ``NotCompilableError`` for anything whose ``predict_proba`` this module cannot
    reproduce exactly (other model types, subclasses overriding ``predict_proba``,
    multi-output, unfitted).
    """
    trees = _trees_of(estimator)
    try:
        column = class_column(estimator, class_label)
    except ValueError as exc:
        raise NotCompilableError(str(exc)) from exc
    n_features = int(estimator.n_features_in_)
    if n_features > _MAX_FEATURES:
        raise NotCompilableError(f"{n_features} features exceed the kernel's limit of {_MAX_FEATURES}")
    n_classes = len(estimator.classes_)
    for tree in trees:
        if tree.tree_.n_outputs != 1 or tree.tree_.value.shape[2] != n_classes:
            raise NotCompilableError("a tree's class columns do not line up with the estimator's")
    allow_nan = bool(get_tags(estimator).input_tags.allow_nan)
    depth = max(int(tree.tree_.max_depth) for tree in trees)
    if layout == "auto":
        padded_bytes = len(trees) * (2**depth) * (k.PERFECT_NODE.itemsize + 8)
        fits = depth <= MAX_PERFECT_DEPTH and padded_bytes <= MAX_PERFECT_BYTES
        layout = "perfect" if fits else "linked"
    if layout == "perfect":
        nodes, leaves = _perfect_arrays(trees, column, depth)
        roots = np.zeros(0, dtype=np.int32)
    elif layout == "linked":
        nodes, leaves, roots = _linked_arrays(trees, column)
    else:
        raise ValueError(f"unknown layout {layout!r}")
    return CompiledForest(layout=layout, nodes=nodes, leaves=leaves, roots=roots, depth=depth,
                          n_features=n_features, allow_nan=allow_nan, class_label=class_label,
                          class_index=column)


def _trees_of(estimator: Any) -> Sequence[Any]:
    if isinstance(estimator, RandomForestClassifier | ExtraTreesClassifier):
        if type(estimator).predict_proba is not ForestClassifier.predict_proba:
            raise NotCompilableError(f"{type(estimator).__name__} overrides predict_proba")
        trees = getattr(estimator, "estimators_", None)
        if not trees:
            raise NotCompilableError("forest is not fitted")
        for tree in trees:
            _check_tree(tree)
        return list(trees)
    if isinstance(estimator, DecisionTreeClassifier):
        _check_tree(estimator)
        return [estimator]
    raise NotCompilableError(f"{type(estimator).__name__} is not a supported tree classifier")


def _check_tree(tree: Any) -> None:
    if not isinstance(tree, DecisionTreeClassifier):
        raise NotCompilableError(f"forest member {type(tree).__name__} is not a DecisionTreeClassifier")
    if type(tree).predict_proba is not DecisionTreeClassifier.predict_proba:
        raise NotCompilableError(f"{type(tree).__name__} overrides predict_proba")
    if not hasattr(tree, "tree_"):
        raise NotCompilableError("tree is not fitted")
    if tree.n_outputs_ != 1:
        raise NotCompilableError("multi-output trees are not supported")


def _floor_float32(threshold: np.ndarray) -> np.ndarray:
    """Largest float32 <= each float64 threshold: ``x32 <= t32`` iff ``x32 <= t64``."""
    with np.errstate(over="ignore"):
        t32 = threshold.astype(np.float32)
    above = t32.astype(np.float64) > threshold
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def _positions(tree_: Any) -> tuple[np.ndarray, np.ndarray]:
    """Heap position (root 0, children 2i+1 / 2i+2) and depth of every node."""
    left, right = tree_.children_left, tree_.children_right
    pos = np.zeros(tree_.node_count, dtype=np.int64)
    level = np.zeros(tree_.node_count, dtype=np.int64)
    frontier = np.array([0])
    while frontier.size:
        inner = frontier[left[frontier] != _TREE_LEAF]
        lc, rc = left[inner], right[inner]
        pos[lc], pos[rc] = 2 * pos[inner] + 1, 2 * pos[inner] + 2
        level[lc] = level[rc] = level[inner] + 1
        frontier = np.concatenate([lc, rc])
    return pos, level


def _perfect_arrays(trees: Sequence[Any], column: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
    n_inner, n_leaves = 2**depth - 1, 2**depth
    nodes = np.zeros(len(trees) * n_inner, dtype=k.PERFECT_NODE)
    nodes["threshold"] = np.inf  # pass-through: every finite value and NaN go left
    nodes["missing_left"] = 1
    leaves = np.zeros(len(trees) * n_leaves, dtype=np.float64)
    for t, tree in enumerate(trees):
        tree_ = tree.tree_
        pos, level = _positions(tree_)
        inner = tree_.children_left != _TREE_LEAF
        at = t * n_inner + pos[inner]
        nodes["threshold"][at] = _floor_float32(tree_.threshold[inner])
        nodes["feature"][at] = tree_.feature[inner]
        nodes["missing_left"][at] = tree_.missing_go_to_left[inner]
        # A leaf above the bottom is reached through its always-left pass-through chain.
        bottom = ((pos[~inner] + 1) << (depth - level[~inner])) - 1
        leaves[t * n_leaves + bottom - n_inner] = tree_.value[~inner, 0, column]
    return nodes, leaves


def _linked_arrays(trees: Sequence[Any], column: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_inner = sum(int((t.tree_.children_left != _TREE_LEAF).sum()) for t in trees)
    n_leaf = sum(int(t.tree_.n_leaves) for t in trees)
    nodes = np.zeros(n_inner, dtype=k.LINKED_NODE)
    leaves = np.zeros(n_leaf, dtype=np.float64)
    roots = np.zeros(len(trees), dtype=np.int32)
    node_base = leaf_base = 0
    for t, tree in enumerate(trees):
        tree_ = tree.tree_
        is_leaf = tree_.children_left == _TREE_LEAF
        inner_ids, leaf_ids = np.flatnonzero(~is_leaf), np.flatnonzero(is_leaf)
        # Internal nodes get indices >= 0, leaves -(leaf index + 1): the sign ends the walk.
        remap = np.empty(tree_.node_count, dtype=np.int64)
        remap[inner_ids] = node_base + np.arange(inner_ids.size)
        remap[leaf_ids] = -(leaf_base + np.arange(leaf_ids.size) + 1)
        block = nodes[node_base:node_base + inner_ids.size]
        block["threshold"] = _floor_float32(tree_.threshold[inner_ids])
        block["feature"] = tree_.feature[inner_ids]
        block["missing_left"] = tree_.missing_go_to_left[inner_ids]
        block["left"] = remap[tree_.children_left[inner_ids]]
        block["right"] = remap[tree_.children_right[inner_ids]]
        leaves[leaf_base:leaf_base + leaf_ids.size] = tree_.value[leaf_ids, 0, column]
        roots[t] = remap[0]
        node_base += inner_ids.size
        leaf_base += leaf_ids.size
    return nodes, leaves, roots
