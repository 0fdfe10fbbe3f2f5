"""Finite-window indicators over float64 arrays.

Every function returns an array as long as its input, NaN where the window is not full
(missing history), and computes each output only from the values in its own window, adding
them in the same order wherever the window sits. So the value at the last bar is bit-for-bit
the same on the full history and on any tail that covers the window; that is what lets the
live strategy compute on a short tail. Recursive smoothing (EMA, Wilder) would break it.

Rolling functions take ``start``: outputs before that row are left NaN and not computed,
because the live path only needs the last row and every row costs time there.
"""

from __future__ import annotations

import numpy as np

# Below this relative size a standard deviation is rounding noise of a flat window.
_FLAT_REL_STD = 1e-12
_MATRIX_MAX_CELLS = 16_384


def _first_row(start: int, window: int) -> int:
    return max(start, window - 1)


def _windows(x: np.ndarray, window: int, first: int) -> np.ndarray:
    """Read-only (rows, window) view whose row j is x[first + j : first + j + window].

    Same as numpy's sliding_window_view, which costs ten times more per call.
    """
    x = np.ascontiguousarray(x[first:])
    rows = x.shape[0] - window + 1
    view = np.ndarray((rows, window), dtype=x.dtype, buffer=x, strides=(x.itemsize, x.itemsize))
    view.flags.writeable = False
    return view


def lag(x: np.ndarray, k: int = 1) -> np.ndarray:
    """x shifted k rows later; the first k rows are NaN."""
    out = np.full(x.shape[0], np.nan)
    if k < x.shape[0]:
        out[k:] = x[: x.shape[0] - k]
    return out


def simple_return(x: np.ndarray) -> np.ndarray:
    """x[i] / x[i-1] - 1; NaN at row 0."""
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] > 1:
        out[1:] = x[1:] / x[:-1] - 1.0
    return out


def ibs(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Internal bar strength (close - low) / (high - low); 0.5 for a bar with no range."""
    rng = high - low
    return np.divide(close - low, rng, out=np.full(rng.shape[0], 0.5), where=rng != 0)


def _row_sums(x: np.ndarray, window: int, lo: int, centre: np.ndarray | None = None) -> np.ndarray:
    """For rows i >= lo: sum over the window of x (or of (x - centre[i])**2), oldest first.

    Two ways to add the same numbers in the same order (so with bit-identical results): one
    numpy call over the (rows, window) matrix when it is small, the live case, and a loop over
    window offsets when it is large, where the matrix would cost more than the loop.
    """
    m = x.shape[0] - lo
    first = lo - window + 1
    if m * window <= _MATRIX_MAX_CELLS:
        cells = _windows(x, window, first)
        if centre is not None:
            cells = cells - centre[:, None]
            cells *= cells
        return np.add.accumulate(cells, axis=1)[:, -1]
    acc = np.zeros(m)
    for k in range(window):
        column = x[first + k : first + k + m]
        if centre is not None:
            column = column - centre
            column = column * column
        acc = column.copy() if k == 0 else np.add(acc, column, out=acc)
    return acc


def window_sum(x: np.ndarray, window: int, start: int = 0) -> np.ndarray:
    """Sum of x[i-window+1 .. i] for rows i >= start, added oldest first."""
    out = np.full(x.shape[0], np.nan)
    lo = _first_row(start, window)
    if lo < x.shape[0]:
        out[lo:] = _row_sums(x, window, lo)
    return out


def rolling_mean_std(x: np.ndarray, window: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rolling mean and population (ddof=0) standard deviation, two-pass for accuracy."""
    mean = window_sum(x, window, start) / window
    std = np.full(x.shape[0], np.nan)
    lo = _first_row(start, window)
    if lo < x.shape[0]:
        std[lo:] = np.sqrt(_row_sums(x, window, lo, mean[lo:]) / window)
    return mean, std


def rolling_zscore(x: np.ndarray, window: int, start: int = 0) -> np.ndarray:
    """(x - rolling mean) / rolling std over the last ``window`` rows; 0 for a flat window."""
    mean, std = rolling_mean_std(x, window, start)
    flat = std <= _FLAT_REL_STD * np.abs(mean)  # False where NaN, so missing stays NaN
    return np.divide(x - mean, std, out=np.where(flat, 0.0, np.nan), where=~flat & (std > 0))


def pct_rank(x: np.ndarray, window: int, start: int = 0) -> np.ndarray:
    """Share of the last ``window`` values (current included) that are <= the current one.

    NaN if any value in the window is NaN.
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    lo = _first_row(start, window)
    if lo >= n:
        return out
    first = lo - window + 1
    windows = _windows(x, window, first)
    counts = np.count_nonzero(windows <= x[lo:, None], axis=1)
    nan_seen = np.concatenate(([0], np.cumsum(np.isnan(x[first:]))))
    nans = nan_seen[window:] - nan_seen[:-window]
    out[lo:] = np.where(nans > 0, np.nan, counts / window)
    return out


def cutler_rsi(close: np.ndarray, period: int, start: int = 0) -> np.ndarray:
    """Cutler's RSI: 100 * sum(gains) / (sum(gains) + sum(losses)) over the last ``period``
    close-to-close changes (simple sums, not Wilder smoothing); 50 when nothing moved."""
    change = close - lag(close)
    gains = window_sum(np.maximum(change, 0.0), period, start)
    losses = window_sum(np.maximum(-change, 0.0), period, start)
    total = gains + losses
    return np.divide(100.0 * gains, total, out=np.where(total == 0, 50.0, np.nan), where=total > 0)


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """max(high, previous close) - min(low, previous close); NaN at row 0."""
    prev = lag(close)
    return np.maximum(high, prev) - np.minimum(low, prev)


def sma_atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int, start: int = 0) -> np.ndarray:
    """Average true range as a simple mean of the last ``period`` true ranges."""
    return window_sum(true_range(high, low, close), period, start) / period
