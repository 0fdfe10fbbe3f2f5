"""Logging: one event per line, secrets scrubbed on every handler.

``text`` lines read ``<time> <LEVEL> <thread> <logger> <event> key=value ...``; ``json`` puts the
same in one JSON object per line (a traceback becomes the ``exc`` string, so it stays one line),
for log shippers. Secrets are scrubbed before either formatter sees the record.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from multialpha.config import RedactingFilter

FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s %(message)s"
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, thread, logger, event, message, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        head = message.split(" ", 1)[0]
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "thread": record.threadName,
            "logger": record.name,
            "event": head if head and "=" not in head else None,
            "message": message,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in doc:
                doc[key] = value if isinstance(value, str | int | float | bool) or value is None else repr(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        return json.dumps(doc, ensure_ascii=False)


def formatter_for(fmt: str) -> logging.Formatter:
    """The formatter of ``runtime.log_format`` (``text`` or ``json``)."""
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return logging.Formatter(FORMAT)
    raise ValueError(f"unknown log format {fmt!r}; expected text or json")


def setup_logging(level: str, secrets: Sequence[str] = (), *, file: Path | None = None, fmt: str = "text") -> None:
    """Log to stderr, or to ``file`` when given. urllib3 logs request lines, which carry the
    webhook URL (a secret), so it is held at WARNING whatever the level."""
    handler: logging.Handler
    if file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    handler.setFormatter(formatter_for(fmt))
    handler.addFilter(RedactingFilter(list(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("urllib3").setLevel(logging.WARNING)
