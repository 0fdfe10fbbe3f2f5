"""Errors of the research commands.

Every one stops the command: ``multialpha-research`` prints ``error: <message>`` on stderr
and exits 1. Problems with a data file are ``DataError``s (``BarFileError`` names the file,
line or row, ts and column); the rest of what research refuses is a ``ResearchError``.
"""

from __future__ import annotations

from multialpha.errors import MultialphaError


class ResearchError(MultialphaError):
    """A research command cannot go on with the options or data it was given."""
