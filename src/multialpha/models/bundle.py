"""Model bundles: ``<SYMBOL>_best.json`` next to ``<SYMBOL>_rf_model.pkl``.

Loading checks everything before the first bar: schema, the model file's SHA-256 (before
anything is unpickled), and that the estimator scores class 1 from exactly the bundle's
features. Each problem is one ``BundleError`` naming the symbol and the file.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import joblib
import numpy as np

from ..errors import BundleError
from . import _schema as schema
from .integrity import atomic_write_bytes, read_verified, sha256_bytes
from .predictor import ProbabilityModel, make_predictor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelBundle:
    """One symbol's trained filter: threshold, features, strategy params and the model."""

    symbol: str
    threshold: float
    features: tuple[str, ...]
    params: Mapping[str, Any] = field(repr=False)
    metrics: Mapping[str, float]
    meta: Mapping[str, Any] = field(repr=False)  # the whole JSON, extra keys included
    json_path: Path
    model_path: Path
    sha256: str
    model: Any = field(repr=False)
    predictor: ProbabilityModel = field(repr=False)

    def score(self, row: np.ndarray) -> float:
        """P(class 1) for one row: 1-D float64, one value per feature, in ``features`` order."""
        return self.predictor.score(row)

    def score_many(self, X: np.ndarray) -> np.ndarray:
        """P(class 1) for each row of a 2-D array."""
        return self.predictor.score_many(X)

    def accepts(self, probability: float) -> bool:
        """Whether the filter lets a trade through (NaN never does)."""
        return probability >= self.threshold


def load_model_bundle(
    symbol: str,
    base_dir: str | Path,
    *,
    allow_unverified: bool = False,
    unknown_features: Callable[[Sequence[str]], list[str]] | None = None,
) -> ModelBundle:
    """Load and check ``<base_dir>/<symbol>_best.json`` and the model file it names.

    ``unknown_features`` receives the bundle's feature names and returns those the feature
    engine cannot compute. A bundle without ``Model_SHA256`` is refused unless
    ``allow_unverified`` (then it loads with a logged warning).
    """
    base = Path(base_dir)
    json_path = base / schema.json_name(str(symbol))
    try:
        schema.check_symbol(symbol)
        text = _read_text(json_path)
        spec = schema.parse_bundle_json(text, symbol)
        schema.check_unknown(spec.features, unknown_features)
    except schema.SchemaError as exc:
        raise BundleError(str(symbol), json_path, str(exc)) from None

    model_path = base / spec.model_file
    if spec.sha256 is None and not allow_unverified:
        raise BundleError(symbol, json_path,
                          "no Model_SHA256 recorded: refusing to unpickle an unverified model "
                          "(allow_unverified=True overrides)")
    data, actual = read_verified(symbol, model_path, spec.sha256)
    if spec.sha256 is None:
        log.warning("bundle_unverified symbol=%s file=%s sha256=%s: no Model_SHA256 recorded, "
                    "loading because allow_unverified=True", symbol, model_path, actual)
    try:
        loaded = joblib.load(io.BytesIO(data))
    except Exception as exc:  # any unpickling failure, whatever the library raises
        raise BundleError(symbol, model_path, f"cannot unpickle model: {type(exc).__name__}: {exc}") from None
    try:
        estimator = schema.unwrap_model(loaded, spec.features)
        schema.check_estimator(estimator, spec.features)
    except schema.SchemaError as exc:
        raise BundleError(symbol, model_path, str(exc)) from None
    try:
        predictor = make_predictor(estimator, class_label=1, context=f"symbol={symbol} file={model_path}")
    except Exception as exc:  # the model cannot score even a dummy row
        raise BundleError(symbol, model_path, f"model cannot score a row: {type(exc).__name__}: {exc}") from None
    return ModelBundle(
        symbol=symbol,
        threshold=spec.threshold,
        features=spec.features,
        params=MappingProxyType(spec.params),
        metrics=MappingProxyType(spec.metrics),
        meta=MappingProxyType(spec.meta),
        json_path=json_path,
        model_path=model_path,
        sha256=actual,
        model=estimator,
        predictor=predictor,
    )


def write_model_bundle(
    directory: str | Path,
    symbol: str,
    model: Any,
    features: Sequence[str],
    threshold: float,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    extra: Mapping[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write ``<symbol>_rf_model.pkl`` then ``<symbol>_best.json`` recording its SHA-256.

    ``metrics`` holds ``Sharpe``, ``Profit_Factor``, ``Trades`` and optionally
    ``Deflated_Sharpe``; ``extra`` adds other top-level keys (``Holdout``, ...). Each file is
    replaced atomically, model first: a reader that catches the new model with the old JSON
    sees a hash mismatch and refuses, never a wrong model. Returns ``(json_path, model_path)``.
    """
    try:
        schema.check_symbol(symbol)
        feature_names = schema.check_features(list(features))
        prod_threshold = schema.check_threshold(threshold)
        schema.check_estimator(model, feature_names)
    except schema.SchemaError as exc:
        raise ValueError(f"{symbol}: {exc}") from None
    missing = [key for key in schema.REQUIRED_METRICS if key not in metrics]
    unexpected = sorted(set(metrics) - {*schema.REQUIRED_METRICS, *schema.OPTIONAL_METRICS})
    if missing or unexpected:
        raise ValueError(f"{symbol}: metrics need {list(schema.REQUIRED_METRICS)} (+ optional "
                         f"{list(schema.OPTIONAL_METRICS)}); missing {missing}, unexpected {unexpected}")
    clashing = sorted(set(extra or {}) & schema.RESERVED_KEYS)
    if clashing:
        raise ValueError(f"{symbol}: extra may not set {clashing}")

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / schema.default_model_name(symbol)
    json_path = out / schema.json_name(symbol)
    buffer = io.BytesIO()
    joblib.dump({"model": model, "features": list(feature_names)}, buffer)
    blob = buffer.getvalue()
    document = {
        "Symbol": symbol,
        "Prod_Threshold": prod_threshold,
        "Params": dict(params),
        "Features": list(feature_names),
        **{key: metrics[key] for key in (*schema.REQUIRED_METRICS, *schema.OPTIONAL_METRICS) if key in metrics},
        **dict(extra or {}),
        "Model_File": model_path.name,
        "Model_SHA256": sha256_bytes(blob),
    }
    text = json.dumps(document, indent=2, default=_plain) + "\n"
    atomic_write_bytes(model_path, blob)
    atomic_write_bytes(json_path, text.encode("utf-8"))
    return json_path, model_path


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as the JSON numbers and lists they stand for."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise schema.SchemaError("bundle file not found") from None
    except UnicodeDecodeError as exc:
        raise schema.SchemaError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise schema.SchemaError(f"cannot read bundle file: {exc.strerror or exc}") from None
