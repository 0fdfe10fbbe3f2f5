"""Model bundles, their integrity checks and exact compiled forest inference."""

from ._schema import json_name as bundle_json_name
from .bundle import ModelBundle, load_model_bundle, write_model_bundle
from .forest import CompiledForest, NotCompilableError, class_column, compile_forest
from .integrity import sha256_file
from .predictor import ProbabilityModel, SklearnProbability, make_predictor

__all__ = [
    "CompiledForest",
    "ModelBundle",
    "NotCompilableError",
    "ProbabilityModel",
    "SklearnProbability",
    "class_column",
    "compile_forest",
    "load_model_bundle",
    "make_predictor",
    "bundle_json_name",
    "sha256_file",
    "write_model_bundle",
]
