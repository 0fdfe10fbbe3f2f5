"""The one error research training raises for bad inputs."""

from __future__ import annotations

from multialpha.errors import MultialphaError


class TrainingError(MultialphaError):
    """A training input is unusable (dates, symbols, features, too few trades); the message says
    which (strategy, symbol, file or option) it is about and what to change."""
