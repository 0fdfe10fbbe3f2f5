"""Errors of the portfolio research commands (each names what it is about)."""

from __future__ import annotations

from multialpha.errors import MultialphaError


class PortfolioResearchError(MultialphaError):
    """A search, simulation or export cannot be done with what it was given."""
