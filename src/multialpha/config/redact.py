"""Keeping secrets (webhook URLs, API keys) out of anything shown or logged."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from multialpha.redaction import redact_url

if TYPE_CHECKING:
    from multialpha.config.schema import AppConfig

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime"}


def _replacements(secrets: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(secret, its redacted form), longest first, so a secret that contains another is replaced whole."""
    return tuple((s, redact_url(s)) for s in sorted({s for s in secrets if s}, key=len, reverse=True))


def _replace(text: str, replacements: tuple[tuple[str, str], ...]) -> str:
    for secret, shown in replacements:
        if secret in text:
            text = text.replace(secret, shown)
    return text


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of every secret replaced by its redacted form."""
    return _replace(text, _replacements(secrets))


class RedactingFilter(logging.Filter):
    """Scrubs secrets from a record's message, arguments, extras and traceback text.

    Attach it to handlers: filters on a logger do not see records propagated from its children.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._replacements = _replacements(secrets)  # once, not on every record

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._replacements:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # Arguments that do not fit the format: scrub the parts; the handler reports the misuse.
            self._scrub_parts(record)
        else:
            scrubbed = self._scrub(message)
            if scrubbed != message:
                # Rendering once is the only way to catch a secret split across msg and args.
                record.msg, record.args = scrubbed, None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_RECORD_ATTRS and isinstance(value, str):
                setattr(record, name, self._scrub(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self._scrub(record.stack_info)
        return True

    def _scrub_parts(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str):
            record.msg = self._scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: self._scrub(v) if isinstance(v, str) else v for k, v in record.args.items()}

    def _scrub(self, text: str) -> str:
        return _replace(text, self._replacements)


def secrets_of(cfg: AppConfig) -> list[str]:
    """Every secret value present in the configuration, for RedactingFilter and redact_text."""
    found: list[str] = []
    candidates: list[Any] = [s.broker_account for s in cfg.strategies.values()]
    candidates.append(cfg.runtime.alerts.discord_webhook_url)
    if cfg.runtime.data.databento is not None:
        candidates.append(cfg.runtime.data.databento.api_key)
    for secret in candidates:
        if secret is not None and secret.get_secret_value():
            found.append(secret.get_secret_value())
    return found

