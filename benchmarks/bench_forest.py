"""Single-row latency of the compiled forest against scikit-learn's predict_proba.

The live filter scores one row per signal, so the number that matters is one-row latency.
Baselines, measured in the same run: ``predict_proba`` with ``n_jobs=1`` and ``n_jobs=-1``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from _common import Timing, markdown_table, ratio, section, time_calls, time_once
from sklearn.ensemble import RandomForestClassifier

from multialpha.models import compile_forest
from multialpha.models.predictor import compare_with_sklearn

SEED = 20240601
N_TRAIN, N_FEATURES, N_PROBE = 4000, 30, 2000
TREES, DEPTH = 900, 7
COMPILED_CALLS, SKLEARN_CALLS, SCALING_SKLEARN_CALLS, COLD_CALLS = 20000, 60, 25, 300
TARGET_P50_US, TARGET_RATIO = 20.0, 1000.0
EVICT_BYTES = 64 * 2**20


def synthetic(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy non-linear labels over 30 features, like a trade filter's: (X, y, held-out rows)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_TRAIN + N_PROBE, N_FEATURES))
    logit = X[:, 0] - 0.7 * X[:, 1] * X[:, 2] + 0.5 * np.sin(3 * X[:, 3]) + 0.3 * X[:, 4:10].sum(axis=1)
    y = (logit + rng.normal(scale=1.5, size=len(X)) > 0).astype(int)
    return X[:N_TRAIN], y[:N_TRAIN], np.ascontiguousarray(X[N_TRAIN:])


def with_jobs(forest: RandomForestClassifier, n_jobs: int, n_trees: int | None = None) -> Any:
    """A shallow copy sharing the fitted trees, with its own n_jobs (and first n_trees trees)."""
    clone = copy.copy(forest)
    clone.n_jobs = n_jobs
    if n_trees is not None:
        clone.estimators_ = forest.estimators_[:n_trees]
        clone.n_estimators = n_trees
    return clone


def sklearn_row(model: Any) -> Any:
    return lambda row: model.predict_proba(row.reshape(1, -1))[0, 1]


def evictor() -> Any:
    """Sweeps a buffer larger than the CPU's L2 so the next call finds the forest out of cache,
    as it does live, where one row arrives per bar."""
    buffer = np.ones(EVICT_BYTES // 8)
    return lambda: buffer.sum()


def run() -> dict[str, Any]:
    X, y, probe = synthetic(SEED)
    rows = list(probe)
    forests: dict[int, RandomForestClassifier] = {}
    fit_secs = {}
    for depth, n_trees in ((DEPTH, TREES), (5, 300), (9, 300)):
        model = RandomForestClassifier(n_estimators=n_trees, max_depth=depth, random_state=0, n_jobs=-1)
        fit_secs[depth] = time_once(lambda m=model: m.fit(X, y))
        forests[depth] = model
    main = forests[DEPTH]
    compiled = compile_forest(main)
    exact = compare_with_sklearn(compiled, main, n_rows=512) is None
    exact &= compiled.score_many(probe).tobytes() == with_jobs(main, 1).predict_proba(probe)[:, 1].tobytes()

    fast = time_calls(compiled.score, rows, calls=COMPILED_CALLS, warmup=200)
    cold = time_calls(compiled.score, rows, calls=COLD_CALLS, between=evictor())
    one = time_calls(sklearn_row(with_jobs(main, 1)), rows, calls=SKLEARN_CALLS)
    every = time_calls(sklearn_row(with_jobs(main, -1)), rows, calls=SKLEARN_CALLS)
    batch_compiled = time_once(lambda: compiled.score_many(probe))
    batch_sklearn = time_once(lambda: with_jobs(main, -1).predict_proba(probe))

    def line(name: str, t: Timing) -> list[Any]:
        return [name, t.calls, t.p50_us, t.p99_us, ratio(t.p50_us, fast.p50_us)]

    table = markdown_table(
        ["single row, 900 trees, depth 7, 30 features", "calls", "p50 us", "p99 us",
         "p50 / compiled warm p50"],
        [line("compiled forest (numba), warm cache", fast),
         line("compiled forest (numba), cold cache", cold),
         line("sklearn predict_proba, n_jobs=1", one),
         line("sklearn predict_proba, n_jobs=-1", every)],
    )
    batch_row = (f"Batch of {N_PROBE} rows (`score_many`): compiled {batch_compiled * 1e3:,.1f} ms, "
                 f"sklearn n_jobs=-1 {batch_sklearn * 1e3:,.1f} ms ({ratio(batch_sklearn, batch_compiled)}).")
    vs_all = every.p50_us / fast.p50_us
    verdict = (f"Targets: compiled p50 <= {TARGET_P50_US:.0f} us: "
               f"{'met' if fast.p50_us <= TARGET_P50_US else 'MISSED'} ({fast.p50_us:.1f} us); "
               f">= {TARGET_RATIO:,.0f}x faster than n_jobs=-1: "
               f"{'met' if vs_all >= TARGET_RATIO else 'MISSED'} ({vs_all:,.0f}x; "
               f"{every.p50_us / cold.p50_us:,.0f}x even from a cold cache). "
               f"Bit-identical to predict_proba(n_jobs=1) on {N_PROBE} held-out rows and 512 "
               f"threshold probes: {'yes' if exact else 'NO'}.")
    print(verdict)
    scaling = scaling_table(forests, rows)
    note = "\n\n".join([
        verdict,
        batch_row,
        "Warm cache: the same forest scored back to back over 2,000 distinct rows (p99 includes "
        "scheduler noise from other processes on the machine). Cold cache: a 64 MiB buffer is swept "
        "before each timed call, which is closer to live use, where one row arrives per bar.",
        "**Scaling.** The compiled kernel walks every tree to the forest's depth, so its cost is "
        "about trees x depth; sklearn's one-row cost is dominated by per-tree Python overhead, so "
        "it grows with trees and barely with depth. Sub-forests are prefixes of the 900-tree fit; "
        "depths 5 and 9 are separate 300-tree fits:\n\n" + scaling,
        f"Fit times (n_jobs=-1, {N_TRAIN} rows): " + ", ".join(
            f"depth {d}: {s:.1f} s" for d, s in fit_secs.items()) + ".",
    ])
    return section("Compiled random forest vs scikit-learn predict_proba", table, note)


def scaling_table(forests: dict[int, RandomForestClassifier], rows: list[np.ndarray]) -> str:
    cases = [(forests[DEPTH], n) for n in (100, 300, TREES)] + [(forests[5], 300), (forests[9], 300)]
    lines = []
    for forest, n_trees in cases:
        model = with_jobs(forest, 1, n_trees)
        compiled = compile_forest(model)
        fast = time_calls(compiled.score, rows, calls=5000, warmup=100)
        slow = time_calls(sklearn_row(model), rows, calls=SCALING_SKLEARN_CALLS)
        per_step_ns = fast.p50_us * 1e3 / (n_trees * compiled.depth)
        lines.append([n_trees, compiled.depth, fast.p50_us, fast.p99_us, per_step_ns, slow.p50_us,
                      ratio(slow.p50_us, fast.p50_us)])
    return markdown_table(
        ["trees", "depth", "compiled p50 us", "compiled p99 us", "ns per tree level",
         "sklearn n_jobs=1 p50 us", "ratio"], lines)


if __name__ == "__main__":
    import sys

    from _common import format_section

    print(format_section(run()), file=sys.stdout)
