"""Bundles round-trip through write_model_bundle and every bad bundle gives one BundleError."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression

from multialpha.errors import BundleError
from multialpha.models import (
    CompiledForest,
    ModelBundle,
    SklearnProbability,
    load_model_bundle,
    sha256_file,
    write_model_bundle,
)

METRICS = {"Sharpe": 1.2, "Profit_Factor": 1.4, "Trades": 312}
PARAMS = {"ibs_entry_high": 0.2, "stop_atr": 2.5}
DELETE = object()


@pytest.fixture
def bundle_dir(tmp_path: Path, small_forest: RandomForestClassifier, feature_names: tuple[str, ...]) -> Path:
    write_model_bundle(tmp_path, "6A", small_forest, feature_names, 0.55, PARAMS, METRICS,
                       extra={"Holdout": {"sharpe": 0.8}, "Notes": "walk-forward 2015-2024"})
    return tmp_path


def edit_json(directory: Path, changes: dict[str, Any], symbol: str = "6A") -> Path:
    path = directory / f"{symbol}_best.json"
    doc = json.loads(path.read_text())
    for key, value in changes.items():
        if value is DELETE:
            doc.pop(key, None)
        else:
            doc[key] = value
    path.write_text(json.dumps(doc))
    return path


def load_error(directory: Path, symbol: str = "6A", **kwargs: Any) -> BundleError:
    with pytest.raises(BundleError) as info:
        load_model_bundle(symbol, directory, **kwargs)
    assert info.value.symbol == symbol
    return info.value


def reason(error: BundleError) -> str:
    """The message without the symbol and file it starts with (paths may contain anything)."""
    prefix = f"{error.symbol}: {error.file}: "
    assert str(error).startswith(prefix)
    return str(error)[len(prefix):]


def test_round_trip_keeps_every_field(bundle_dir: Path, small_forest: RandomForestClassifier,
                                      feature_names: tuple[str, ...]) -> None:
    bundle = load_model_bundle("6A", bundle_dir)
    assert isinstance(bundle, ModelBundle)
    assert (bundle.symbol, bundle.threshold, bundle.features) == ("6A", 0.55, feature_names)
    assert dict(bundle.params) == PARAMS
    assert dict(bundle.metrics) == METRICS
    assert bundle.meta["Notes"] == "walk-forward 2015-2024" and bundle.meta["Holdout"] == {"sharpe": 0.8}
    assert bundle.model_path == bundle_dir / "6A_rf_model.pkl"
    assert bundle.sha256 == sha256_file(bundle.model_path) == bundle.meta["Model_SHA256"]
    assert isinstance(bundle.predictor, CompiledForest)
    X = np.random.default_rng(0).normal(size=(50, 4))
    expected = small_forest.predict_proba(X)[:, 1]
    assert bundle.score_many(X).tobytes() == expected.tobytes()
    assert [bundle.score(row) for row in X] == expected.tolist()


def test_bundle_mappings_are_read_only(bundle_dir: Path) -> None:
    bundle = load_model_bundle("6A", bundle_dir)
    with pytest.raises(TypeError):
        bundle.params["stop_atr"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        bundle.meta["Symbol"] = "ES"  # type: ignore[index]


def test_accepts_at_and_above_threshold_only(bundle_dir: Path) -> None:
    bundle = load_model_bundle("6A", bundle_dir)
    assert bundle.accepts(0.55) and bundle.accepts(0.9)
    assert not bundle.accepts(0.5499999) and not bundle.accepts(float("nan"))


def test_load_bare_estimator_with_custom_model_file_and_optional_keys(
        tmp_path: Path, small_forest: RandomForestClassifier, feature_names: tuple[str, ...]) -> None:
    model_path = tmp_path / "six_a.joblib"
    joblib.dump(small_forest, model_path)
    doc = {"Symbol": "6A", "Prod_Threshold": 0.6, "Params": {}, "Features": list(feature_names),
           "Sharpe": 1.0, "Profit_Factor": 1.1, "Trades": 40, "Deflated_Sharpe": 0.7,
           "Model_File": "six_a.joblib", "Model_SHA256": sha256_file(model_path).upper()}
    (tmp_path / "6A_best.json").write_text(json.dumps(doc))
    bundle = load_model_bundle("6A", tmp_path)
    assert bundle.metrics["Deflated_Sharpe"] == 0.7
    assert bundle.model_path == model_path


def test_load_when_json_missing_then_names_json(tmp_path: Path) -> None:
    assert load_error(tmp_path).file == str(tmp_path / "6A_best.json")


def test_load_when_model_missing_then_names_model(bundle_dir: Path) -> None:
    (bundle_dir / "6A_rf_model.pkl").unlink()
    assert load_error(bundle_dir).file == str(bundle_dir / "6A_rf_model.pkl")


def test_load_when_json_malformed_then_reports_line_and_column(bundle_dir: Path) -> None:
    (bundle_dir / "6A_best.json").write_text('{\n  "Symbol": "6A",\n  "Prod_Threshold": 0.5,,\n}')
    error = load_error(bundle_dir)
    assert error.file == str(bundle_dir / "6A_best.json")
    assert "line 3, column 25" in reason(error)


def test_load_when_json_not_an_object_then_rejects(bundle_dir: Path) -> None:
    (bundle_dir / "6A_best.json").write_text("[1, 2]")
    load_error(bundle_dir)


def test_load_when_symbol_differs_then_rejects(bundle_dir: Path) -> None:
    edit_json(bundle_dir, {"Symbol": "6E"})
    assert "6E" in reason(load_error(bundle_dir))


@pytest.mark.parametrize("key", ["Symbol", "Prod_Threshold", "Params", "Features", "Sharpe",
                                 "Profit_Factor", "Trades"])
def test_load_when_required_key_missing_then_names_it(bundle_dir: Path, key: str) -> None:
    edit_json(bundle_dir, {key: DELETE})
    assert key in reason(load_error(bundle_dir))


@pytest.mark.parametrize(("key", "value"), [
    ("Params", [1, 2]), ("Features", "ibs"), ("Sharpe", "1.2"), ("Profit_Factor", None),
    ("Trades", 3.5), ("Trades", -1), ("Trades", True), ("Deflated_Sharpe", "x"), ("Holdout", 3),
    ("Model_File", 7), ("Model_SHA256", "abc"), ("Model_SHA256", 5),
])
def test_load_when_key_ill_typed_then_names_it(bundle_dir: Path, key: str, value: Any) -> None:
    edit_json(bundle_dir, {key: value})
    error = load_error(bundle_dir)
    assert key in reason(error) and error.file == str(bundle_dir / "6A_best.json")


@pytest.mark.parametrize("threshold", [0, 0.0, 1, 1.0, -0.1, 1.5, float("nan"), "0.5", True])
def test_load_when_threshold_outside_open_unit_interval_then_rejects(bundle_dir: Path, threshold: Any) -> None:
    edit_json(bundle_dir, {"Prod_Threshold": threshold})
    assert "Prod_Threshold" in reason(load_error(bundle_dir))


@pytest.mark.parametrize("features", [[], ["ibs", "ibs", "rsi2", "x"], ["ibs", 3, "a", "b"], ["", "a", "b", "c"]])
def test_load_when_features_invalid_then_rejects(bundle_dir: Path, features: list[Any]) -> None:
    edit_json(bundle_dir, {"Features": features})
    assert "Features" in reason(load_error(bundle_dir))


@pytest.mark.parametrize("name", ["../6A_rf_model.pkl", "/etc/passwd", "sub/6A.pkl", ".."])
def test_load_when_model_file_leaves_directory_then_rejects(bundle_dir: Path, name: str) -> None:
    edit_json(bundle_dir, {"Model_File": name})
    assert "Model_File" in reason(load_error(bundle_dir))


def test_load_when_model_byte_flipped_then_hash_mismatch(bundle_dir: Path) -> None:
    model = bundle_dir / "6A_rf_model.pkl"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    error = load_error(bundle_dir)
    assert error.file == str(model) and "SHA-256" in reason(error)


class _Tripwire:
    """Unpickling this creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def test_load_when_model_swapped_then_refuses_before_unpickling(bundle_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    joblib.dump(_Tripwire(marker), bundle_dir / "6A_rf_model.pkl")
    assert "SHA-256" in reason(load_error(bundle_dir))
    assert not marker.exists()


def test_load_when_no_hash_recorded_then_refuses(bundle_dir: Path) -> None:
    edit_json(bundle_dir, {"Model_SHA256": DELETE})
    error = load_error(bundle_dir)
    assert "Model_SHA256" in reason(error) and error.file == str(bundle_dir / "6A_best.json")


def test_load_when_no_hash_and_allow_unverified_then_loads_with_warning(
        bundle_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    edit_json(bundle_dir, {"Model_SHA256": DELETE})
    with caplog.at_level(logging.WARNING, logger="multialpha.models"):
        bundle = load_model_bundle("6A", bundle_dir, allow_unverified=True)
    assert bundle.sha256 == sha256_file(bundle.model_path)
    assert [r.levelno for r in caplog.records if r.name.startswith("multialpha.models")] == [logging.WARNING]


def test_load_when_model_not_a_pickle_then_reports_unpickling(bundle_dir: Path) -> None:
    model = bundle_dir / "6A_rf_model.pkl"
    model.write_bytes(b"not a pickle at all")
    edit_json(bundle_dir, {"Model_SHA256": sha256_file(model)})
    error = load_error(bundle_dir)
    assert "unpickle" in reason(error) and error.file == str(model)


def rewrite_model(directory: Path, obj: Any) -> Path:
    """Replace the model file with ``obj`` and record its hash, as a careless trainer would."""
    model = directory / "6A_rf_model.pkl"
    joblib.dump(obj, model)
    edit_json(directory, {"Model_SHA256": sha256_file(model)})
    return model


def test_load_when_carried_features_differ_then_rejects(bundle_dir: Path, small_forest: Any) -> None:
    rewrite_model(bundle_dir, {"model": small_forest, "features": ["ibs", "atr_z", "rsi2", "vol_z"]})
    assert "features" in reason(load_error(bundle_dir))


def test_load_when_dict_has_no_model_then_rejects(bundle_dir: Path, small_forest: Any) -> None:
    rewrite_model(bundle_dir, {"estimator": small_forest})
    assert "'model'" in reason(load_error(bundle_dir))


def test_load_when_estimator_has_no_predict_proba_then_rejects(bundle_dir: Path) -> None:
    regression = LinearRegression().fit(np.random.default_rng(0).normal(size=(20, 4)), np.arange(20.0))
    rewrite_model(bundle_dir, regression)
    assert "predict_proba" in reason(load_error(bundle_dir))


def test_load_when_class_1_absent_then_rejects(bundle_dir: Path) -> None:
    X = np.random.default_rng(0).normal(size=(60, 4))
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, np.where(X[:, 0] > 0, 2, 0))
    rewrite_model(bundle_dir, forest)
    assert "class 1" in reason(load_error(bundle_dir))


def test_load_when_feature_count_differs_then_rejects(bundle_dir: Path, small_forest: Any) -> None:
    rewrite_model(bundle_dir, small_forest)  # bare estimator: only n_features_in_ to compare
    edit_json(bundle_dir, {"Features": ["ibs", "rsi2", "atr_z"]})
    assert "expects 4 features, bundle lists 3" in reason(load_error(bundle_dir))


def test_load_when_fitted_column_names_differ_then_rejects(bundle_dir: Path, small_forest: Any) -> None:
    named = joblib.load(bundle_dir / "6A_rf_model.pkl")["model"]
    named.feature_names_in_ = np.array(["ibs", "rsi2", "vol_z", "atr_z"], dtype=object)
    rewrite_model(bundle_dir, named)
    assert "vol_z" in reason(load_error(bundle_dir))


def test_load_when_fitted_column_names_match_then_loads(bundle_dir: Path, feature_names: Any) -> None:
    named = joblib.load(bundle_dir / "6A_rf_model.pkl")["model"]
    named.feature_names_in_ = np.array(feature_names, dtype=object)
    rewrite_model(bundle_dir, named)
    assert load_model_bundle("6A", bundle_dir).predictor.kind == "compiled"


def test_load_when_feature_engine_does_not_know_features_then_lists_them(bundle_dir: Path) -> None:
    def unknown(features: Any) -> list[str]:
        return [f for f in features if f not in {"ibs", "rsi2"}]

    error = load_error(bundle_dir, unknown_features=unknown)
    assert "atr_z" in reason(error) and "vol_z" in reason(error)
    assert load_model_bundle("6A", bundle_dir, unknown_features=lambda features: []).symbol == "6A"


@pytest.mark.parametrize("symbol", ["", "../6A", "a/b", ".."])
def test_load_when_symbol_not_a_plain_name_then_rejects(tmp_path: Path, symbol: str) -> None:
    load_error(tmp_path, symbol=symbol)


def test_load_unsupported_estimator_falls_back_to_sklearn(tmp_path: Path, feature_names: Any) -> None:
    X = np.random.default_rng(0).normal(size=(100, 4))
    boosted = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, (X[:, 0] > 0).astype(int))
    write_model_bundle(tmp_path, "ES", boosted, feature_names, 0.5, {}, METRICS)
    bundle = load_model_bundle("ES", tmp_path)
    assert isinstance(bundle.predictor, SklearnProbability)
    assert bundle.score(X[3]) == boosted.predict_proba(X[3:4])[0, 1]


@pytest.mark.parametrize(("change", "value"), [
    ("threshold", 1.0), ("features", ["ibs", "ibs", "a", "b"]), ("features", ["a", "b", "c"]),
    ("metrics", {"Sharpe": 1.0}), ("metrics", {**METRICS, "Calmar": 2.0}),
    ("extra", {"Model_SHA256": "0" * 64}), ("symbol", "a/b"),
])
def test_write_rejects_bad_arguments(tmp_path: Path, small_forest: Any, feature_names: Any,
                                     change: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"directory": tmp_path, "symbol": "6A", "model": small_forest,
                              "features": feature_names, "threshold": 0.5, "params": {},
                              "metrics": METRICS, "extra": None}
    kwargs[change] = value
    with pytest.raises(ValueError):
        write_model_bundle(**kwargs)
    assert not list(tmp_path.iterdir())


def test_write_serialises_numpy_values(tmp_path: Path, small_forest: Any, feature_names: Any) -> None:
    write_model_bundle(tmp_path, "6A", small_forest, feature_names, np.float64(0.6),
                       {"window": np.int64(5), "levels": np.array([1.0, 2.0])},
                       {"Sharpe": np.float64(1.5), "Profit_Factor": 1.3, "Trades": 10})
    bundle = load_model_bundle("6A", tmp_path)
    assert dict(bundle.params) == {"window": 5, "levels": [1.0, 2.0]}
