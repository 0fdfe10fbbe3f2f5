"""Showing where a secret points without showing the secret (stdlib only: every room may use it)."""

from __future__ import annotations

from urllib.parse import urlsplit

MASK = "***"


def redact_url(url: str) -> str:
    """``scheme://host[:port]/***``: enough to tell endpoints apart, never the token in the path
    or query; ``***`` if it is not a URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not parts.hostname:
        return MASK
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    return f"{parts.scheme}://{netloc}/{MASK}"


def scrub_url(text: str, url: str) -> str:
    """``text`` without ``url``, nor its path, query or credentials on their own (error text
    from HTTP libraries quotes them)."""
    text = text.replace(url, redact_url(url))
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    if len(parts.path) > 1:
        text = text.replace(parts.path, "/" + MASK)
    for secret in (parts.query, parts.password or "", parts.username or ""):
        if secret:
            text = text.replace(secret, MASK)
    return text


def root_cause(exc: BaseException) -> str:
    """The innermost OS-level reason (e.g. 'Connection refused'), else that error's type; never
    the request URL that outer errors quote."""
    seen: set[int] = set()
    current: BaseException | None = exc
    last: BaseException = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        last = current
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror)
        candidates = (getattr(current, "reason", None), *current.args[:1], current.__cause__, current.__context__)
        current = next((c for c in candidates if isinstance(c, BaseException) and id(c) not in seen), None)
    return type(last).__name__
