"""Numba kernels that walk flattened decision trees.

Two node layouts, both bit-exact against scikit-learn (see ``forest.py`` for why):

* **perfect**: every tree is padded to a complete binary tree of the forest's depth ``D``.
  Node ``i`` has children ``2i+1`` / ``2i+2``, so a node needs no child pointers (8 bytes),
  every descent takes exactly ``D`` branch-free steps, and eight trees are walked in
  lock-step so their memory loads overlap. Used for shallow forests (the live case).
* **linked**: sklearn's own shape with explicit children, for deep trees where padding
  would cost too much memory.

Row status codes (negative return values) are turned into exceptions by the Python wrapper,
so the kernels never raise and can run without the GIL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import float32, float64, from_dtype, int64, njit, types, uint64

from multialpha.jit import kernel

# threshold: the largest float32 <= sklearn's float64 threshold (exact for float32 inputs).
PERFECT_NODE = np.dtype([("threshold", np.float32), ("feature", np.uint16), ("missing_left", np.uint16)])
LINKED_NODE = np.dtype(
    [("threshold", np.float32), ("feature", np.uint16), ("missing_left", np.uint16),
     ("left", np.int32), ("right", np.int32)]
)


BAD_LENGTH = -1.0
HAS_INF = -2.0
NAN_NOT_ALLOWED = -3.0

_ROW = float64[::1]
_MATRIX = float64[:, ::1]
_PERFECT = from_dtype(PERFECT_NODE)[::1]
_LINKED = from_dtype(LINKED_NODE)[::1]
_LEAVES = float64[::1]
_ROOTS = types.int32[::1]
_OUT = float64[::1]

_SIG_PERFECT_ROW = float64(_ROW, _PERFECT, _LEAVES, int64, int64, types.boolean)
_SIG_PERFECT_MANY = types.void(_MATRIX, _PERFECT, _LEAVES, int64, int64, types.boolean, _OUT)
_SIG_LINKED_ROW = float64(_ROW, _LINKED, _LEAVES, _ROOTS, int64, types.boolean)
_SIG_LINKED_MANY = types.void(_MATRIX, _LINKED, _LEAVES, _ROOTS, int64, types.boolean, _OUT)


def _kernel(signature: Any) -> Callable[[Any], Any]:
    return kernel(signature, nogil=True)


@njit(inline="always")
def _load_row(row, buf, allow_nan):
    """Cast ``row`` to float32 into ``buf`` as sklearn does; return 1 if it holds NaN, 0 if not,
    or a negative status."""
    if row.shape[0] != buf.shape[0]:
        return BAD_LENGTH
    has_nan = 0.0
    for k in range(row.shape[0]):
        value = float32(row[k])
        # sklearn validates after the cast, so finite float64 beyond float32's range is inf too.
        if np.isinf(value):
            return HAS_INF
        if value != value:
            if not allow_nan:
                return NAN_NOT_ALLOWED
            has_nan = 1.0
        buf[k] = value
    return has_nan


@njit(inline="always")
def _step(buf, nodes, base, i, has_nan):
    # Unsigned indices spare numba's negative-index wraparound on every load.
    node = nodes[base + i]
    x = buf[node.feature]
    # float32 x against a float32 floor of the float64 threshold: same answer as sklearn's
    # float32-promoted-to-float64 comparison, for every float32 x.
    left = x <= node.threshold
    if has_nan:
        left = left | ((x != x) & (node.missing_left != 0))
    return i + i + uint64(2) - uint64(left)


@njit(inline="always")
def _walk_perfect(buf, nodes, leaves, depth, has_nan):
    n_trees = uint64(leaves.shape[0] >> depth)
    n_inner = uint64((1 << depth) - 1)
    n_leaves = n_inner + uint64(1)
    zero = uint64(0)
    # sklearn adds the trees' probabilities in tree order starting from 0.0, then divides
    # by the tree count; keep exactly that order of float64 additions.
    acc = 0.0
    t = zero
    while t + uint64(8) <= n_trees:
        b0 = t * n_inner
        b1 = b0 + n_inner
        b2 = b1 + n_inner
        b3 = b2 + n_inner
        b4 = b3 + n_inner
        b5 = b4 + n_inner
        b6 = b5 + n_inner
        b7 = b6 + n_inner
        i0 = i1 = i2 = i3 = i4 = i5 = i6 = i7 = zero
        for _ in range(depth):  # eight independent walks, so their loads overlap
            i0 = _step(buf, nodes, b0, i0, has_nan)
            i1 = _step(buf, nodes, b1, i1, has_nan)
            i2 = _step(buf, nodes, b2, i2, has_nan)
            i3 = _step(buf, nodes, b3, i3, has_nan)
            i4 = _step(buf, nodes, b4, i4, has_nan)
            i5 = _step(buf, nodes, b5, i5, has_nan)
            i6 = _step(buf, nodes, b6, i6, has_nan)
            i7 = _step(buf, nodes, b7, i7, has_nan)
        leaf0 = t * n_leaves - n_inner
        acc += leaves[leaf0 + i0]
        acc += leaves[leaf0 + n_leaves + i1]
        acc += leaves[leaf0 + uint64(2) * n_leaves + i2]
        acc += leaves[leaf0 + uint64(3) * n_leaves + i3]
        acc += leaves[leaf0 + uint64(4) * n_leaves + i4]
        acc += leaves[leaf0 + uint64(5) * n_leaves + i5]
        acc += leaves[leaf0 + uint64(6) * n_leaves + i6]
        acc += leaves[leaf0 + uint64(7) * n_leaves + i7]
        t += uint64(8)
    while t < n_trees:
        i = zero
        for _ in range(depth):
            i = _step(buf, nodes, t * n_inner, i, has_nan)
        acc += leaves[t * n_leaves - n_inner + i]
        t += uint64(1)
    return acc / n_trees


@njit(inline="always")
def _perfect_row(row, buf, nodes, leaves, depth, allow_nan):
    status = _load_row(row, buf, allow_nan)
    if status < 0.0:
        return status
    # Two copies of the walk, with and without the NaN test in the inner step.
    if status > 0.0:
        return _walk_perfect(buf, nodes, leaves, depth, True)
    return _walk_perfect(buf, nodes, leaves, depth, False)


@_kernel(_SIG_PERFECT_ROW)
def perfect_score_row(row, nodes, leaves, depth, n_features, allow_nan):
    buf = np.empty(n_features, np.float32)
    return _perfect_row(row, buf, nodes, leaves, depth, allow_nan)


@_kernel(_SIG_PERFECT_MANY)
def perfect_score_many(X, nodes, leaves, depth, n_features, allow_nan, out):
    buf = np.empty(n_features, np.float32)
    for r in range(X.shape[0]):
        out[r] = _perfect_row(X[r], buf, nodes, leaves, depth, allow_nan)


@njit(inline="always")
def _linked_row(row, buf, nodes, leaves, roots, allow_nan):
    status = _load_row(row, buf, allow_nan)
    if status < 0.0:
        return status
    acc = 0.0
    for t in range(roots.shape[0]):
        n = roots[t]
        while n >= 0:
            node = nodes[n]
            x = buf[node.feature]
            goes_left = x <= node.threshold or (x != x and node.missing_left != 0)
            n = node.left if goes_left else node.right
        acc += leaves[-n - 1]
    return acc / roots.shape[0]


@_kernel(_SIG_LINKED_ROW)
def linked_score_row(row, nodes, leaves, roots, n_features, allow_nan):
    buf = np.empty(n_features, np.float32)
    return _linked_row(row, buf, nodes, leaves, roots, allow_nan)


@_kernel(_SIG_LINKED_MANY)
def linked_score_many(X, nodes, leaves, roots, n_features, allow_nan, out):
    buf = np.empty(n_features, np.float32)
    for r in range(X.shape[0]):
        out[r] = _linked_row(X[r], buf, nodes, leaves, roots, allow_nan)
