from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

FEATURES = ("ibs", "rsi2", "atr_z", "vol_z")


@pytest.fixture(scope="session")
def small_forest() -> RandomForestClassifier:
    """A 12-tree forest on four features, class labels 0/1."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, len(FEATURES)))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=400) > 0).astype(int)
    return RandomForestClassifier(n_estimators=12, max_depth=4, random_state=0).fit(X, y)


@pytest.fixture(scope="session")
def feature_names() -> tuple[str, ...]:
    return FEATURES
