"""Errors of the portfolio room, grouped with the worker errors: the calling step cannot go on."""

from __future__ import annotations

from multialpha.errors import IllegalTransition, WorkerError

__all__ = ["IllegalTransition", "PortfolioError"]


class PortfolioError(WorkerError):
    """A caller broke the coordinator's protocol (unknown strategy, fill without a reservation...)."""
