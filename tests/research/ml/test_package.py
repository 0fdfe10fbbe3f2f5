"""The package's public names resolve, and importing the package alone loads no trainer."""

from __future__ import annotations

import subprocess
import sys

import multialpha.research.ml as ml


def test_every_public_name_resolves() -> None:
    for name in ml.__all__:
        assert getattr(ml, name).__name__ == name


def test_importing_the_package_does_not_import_scikit_learn_or_optuna() -> None:
    code = "import sys, multialpha.research.ml; print('sklearn' in sys.modules, 'optuna' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
