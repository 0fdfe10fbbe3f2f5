"""The ``<SYMBOL>_best.json`` schema: parsing and the checks shared by reader and writer."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .forest import class_column
from .integrity import SHA256_HEX

REQUIRED_METRICS = ("Sharpe", "Profit_Factor", "Trades")
OPTIONAL_METRICS = ("Deflated_Sharpe",)
#: Keys the writer fills in itself; ``extra`` may not set them.
RESERVED_KEYS = frozenset(
    {"Symbol", "Prod_Threshold", "Params", "Features", "Model_File", "Model_SHA256",
     *REQUIRED_METRICS, *OPTIONAL_METRICS}
)


def json_name(symbol: str) -> str:
    return f"{symbol}_best.json"


def default_model_name(symbol: str) -> str:
    return f"{symbol}_rf_model.pkl"


class SchemaError(ValueError):
    """One problem with a bundle's JSON or model; the caller adds symbol and file."""


@dataclass(frozen=True)
class BundleSpec:
    """The validated content of a ``<SYMBOL>_best.json``."""

    meta: dict[str, Any]
    threshold: float
    features: tuple[str, ...]
    params: dict[str, Any]
    metrics: dict[str, float]
    model_file: str
    sha256: str | None


def parse_bundle_json(text: str, symbol: str) -> BundleSpec:
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(meta, dict):
        raise SchemaError(f"top level must be a JSON object, got {type(meta).__name__}")
    recorded = _required(meta, "Symbol", str, "a string")
    if recorded != symbol:
        raise SchemaError(f"Symbol is {recorded!r}, expected {symbol!r}")
    threshold = check_threshold(_required(meta, "Prod_Threshold", _is_number, "a number"))
    params = _required(meta, "Params", dict, "an object")
    features = check_features(_required(meta, "Features", list, "a list of strings"))
    metrics: dict[str, float] = {}
    for key in REQUIRED_METRICS[:2]:
        metrics[key] = _required(meta, key, _is_number, "a number")
    metrics["Trades"] = _required(meta, "Trades", _is_count, "a non-negative integer")
    if meta.get("Deflated_Sharpe") is not None:
        metrics["Deflated_Sharpe"] = _optional(meta, "Deflated_Sharpe", _is_number, "a number")
    if meta.get("Holdout") is not None:
        _optional(meta, "Holdout", dict, "an object")
    model_file = check_file_name(_optional(meta, "Model_File", str, "a string") or default_model_name(symbol))
    sha256 = _optional(meta, "Model_SHA256", str, "a string")
    if sha256 is not None and not SHA256_HEX.fullmatch(sha256.lower()):
        raise SchemaError("Model_SHA256 must be 64 hexadecimal characters")
    return BundleSpec(meta=meta, threshold=float(threshold), features=features, params=params,
                      metrics=metrics, model_file=model_file, sha256=None if sha256 is None else sha256.lower())


def check_threshold(value: Any) -> float:
    if not _is_number(value) or not 0.0 < value < 1.0:
        raise SchemaError(f"Prod_Threshold must lie strictly between 0 and 1, got {value!r}")
    return float(value)


def check_features(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise SchemaError("Features must be a non-empty list of strings")
    bad = [name for name in value if not isinstance(name, str) or not name]
    if bad:
        raise SchemaError(f"Features must be non-empty strings, got {bad!r}")
    duplicated = sorted(name for name, count in Counter(value).items() if count > 1)
    if duplicated:
        raise SchemaError(f"Features lists {duplicated!r} more than once")
    return tuple(value)


def check_file_name(name: str) -> str:
    """A bundle's model must sit next to its JSON: a bare file name, no directories."""
    if not name or name in {".", ".."} or Path(name).name != name or "\\" in name:
        raise SchemaError(f"Model_File must be a file name in the bundle directory, got {name!r}")
    return name


def check_symbol(symbol: Any) -> str:
    """Symbols become file names, so no path separators and nothing empty."""
    if not isinstance(symbol, str) or not symbol or symbol in {".", ".."} or any(c in symbol for c in "/\\"):
        raise SchemaError(f"symbol must be a plain non-empty name, got {symbol!r}")
    return symbol


def check_unknown(features: Sequence[str], unknown_features: Callable[[Sequence[str]], list[str]] | None) -> None:
    if unknown_features is None:
        return
    unknown = list(unknown_features(features))
    if unknown:
        raise SchemaError(f"unknown features {unknown!r}: the feature engine does not compute them")


def check_estimator(estimator: Any, features: Sequence[str]) -> None:
    """The estimator scores class 1 from exactly ``features``, in order."""
    if not callable(getattr(estimator, "predict_proba", None)):
        raise SchemaError(f"{type(estimator).__name__} has no predict_proba")
    try:
        class_column(estimator, 1)
    except ValueError as exc:
        raise SchemaError(str(exc)) from None
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is None:
        raise SchemaError(f"{type(estimator).__name__} is not fitted (no n_features_in_)")
    if int(n_features) != len(features):
        raise SchemaError(f"model expects {int(n_features)} features, bundle lists {len(features)}")
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and [str(n) for n in np.asarray(names)] != list(features):
        raise SchemaError(f"model was fitted on columns {list(names)!r}, bundle lists {list(features)!r}")


def unwrap_model(obj: Any, features: Sequence[str]) -> Any:
    """The estimator inside a model file: bare, or ``{"model": ..., "features": [...]}``."""
    if not isinstance(obj, dict):
        return obj
    if "model" not in obj:
        raise SchemaError(f"model file holds a dict without a 'model' key (keys: {sorted(map(str, obj))})")
    carried = obj.get("features")
    if carried is not None and list(carried) != list(features):
        raise SchemaError(f"model file lists features {list(carried)!r}, bundle lists {list(features)!r}")
    return obj["model"]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _required(meta: dict[str, Any], key: str, kind: Any, described: str) -> Any:
    if key not in meta:
        raise SchemaError(f"missing required key {key!r}")
    return _optional(meta, key, kind, described)


def _optional(meta: dict[str, Any], key: str, kind: Any, described: str) -> Any:
    value = meta.get(key)
    if value is None:
        if key in meta:
            raise SchemaError(f"{key} must be {described}, got null")
        return None
    ok = isinstance(value, kind) if isinstance(kind, type) else kind(value)
    if not ok:
        raise SchemaError(f"{key} must be {described}, got {type(value).__name__} {value!r}")
    return value
