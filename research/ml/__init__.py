"""Research ML: the per-symbol filter bundles the daemon loads, trained by CPCV search.

bars -> ``extract_candidates`` (the daemon's step, no filter) -> ``search_set`` (before the
hold-out) -> Optuna search of RandomForest parameters and feature groups under CPCV
(``CpcvObjective``) -> threshold on out-of-fold predictions -> bundle, scored on the hold-out
as saved -> report. ``train_pair`` does one (strategy, symbol), ``train_pairs`` many (local
workers or a Dask cluster), ``train_filter`` the search alone on bars in memory.

The names below are imported on first use: training pulls in scikit-learn and Optuna, which
commands that do not train should not pay for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multialpha.research.ml.batch import PairOutcome, train_pairs
    from multialpha.research.ml.cpcv import CombinatorialPurgedKFold
    from multialpha.research.ml.extract import Candidates, extract_candidates
    from multialpha.research.ml.manifest import Pair, read_manifest
    from multialpha.research.ml.publish import PairResult
    from multialpha.research.ml.settings import CpcvSettings, ForestSpace, Periods, SearchSettings
    from multialpha.research.ml.train import FittedFilter, PairSpec, train_filter, train_pair

_WHERE = {
    "PairOutcome": "batch", "train_pairs": "batch",
    "CombinatorialPurgedKFold": "cpcv",
    "Candidates": "extract", "extract_candidates": "extract",
    "Pair": "manifest", "read_manifest": "manifest",
    "PairResult": "publish",
    "CpcvSettings": "settings", "ForestSpace": "settings", "Periods": "settings", "SearchSettings": "settings",
    "FittedFilter": "train", "PairSpec": "train", "train_filter": "train", "train_pair": "train",
}
__all__ = [
    "Candidates",
    "CombinatorialPurgedKFold",
    "CpcvSettings",
    "FittedFilter",
    "ForestSpace",
    "Pair",
    "PairOutcome",
    "PairResult",
    "PairSpec",
    "Periods",
    "SearchSettings",
    "extract_candidates",
    "read_manifest",
    "train_filter",
    "train_pair",
    "train_pairs",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
