"""Logging: one event per line, secrets scrubbed on every handler."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from multialpha.config import RedactingFilter

FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s %(message)s"


def setup_logging(level: str, secrets: Sequence[str] = (), *, file: Path | None = None) -> None:
    """Log to stderr, or to ``file`` when given. urllib3 logs request lines, which carry the
    webhook URL (a secret), so it is held at WARNING whatever the level."""
    handler: logging.Handler
    if file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter(list(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("urllib3").setLevel(logging.WARNING)
