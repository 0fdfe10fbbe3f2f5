"""Errors of the portfolio research commands (each names what it is about)."""

from __future__ import annotations

from multialpha.research.errors import ResearchError


class PortfolioResearchError(ResearchError):
    """A search, simulation or export cannot be done with what it was given."""
