"""Exact values as the store keeps them: Decimal strings, integer cents, UTC text, clean JSON.

Every conversion between Python values and column text lives here so that each table stores
one spelling of a price, an instant or a day, and so that no secret can slip into a column.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, overload

ACCOUNT_SCOPE = "account"

# Fixed width, always with microseconds: text order is time order, so SQL can compare it.
_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_UTC_TEXT_LEN = len("2024-01-02T03:04:05.000000Z")
_CENT = Decimal(1)
# A URL: a run of scheme characters, then "://". The look-behind lets a match start only where such a
# run starts, so a long run of letters is scanned once, not once per letter (the scan was quadratic:
# a 20,000-letter string took most of a second).
_URL = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z0-9+.\-]+://\S*")
_URL_PATH = re.compile(r"(?i)(\burl\s*[:=]\s*)(\S+)")
_SECRET_KEY_WORDS = ("url", "webhook", "secret", "password", "token", "api_key", "apikey")


def utc_text(when: datetime, *, field: str) -> str:
    """A tz-aware instant as fixed-width UTC text; naive datetimes are refused."""
    if not isinstance(when, datetime):
        raise TypeError(f"{field} must be a datetime, got {when!r}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{field} {when.isoformat()} has no timezone; pass tz-aware UTC datetimes")
    return when.astimezone(UTC).strftime(_UTC_FORMAT)


def parse_utc(text: str) -> datetime:
    """Text written by ``utc_text`` back to an aware UTC datetime (``fromisoformat`` reads that
    fixed form 50x faster than ``strptime``, which still judges any other text)."""
    if len(text) == _UTC_TEXT_LEN and text[-1] == "Z" and text[10] == "T":
        return datetime.fromisoformat(text)
    return datetime.strptime(text, _UTC_FORMAT).replace(tzinfo=UTC)


def parse_utc_or_none(text: str | None) -> datetime | None:
    return None if text is None else parse_utc(text)


def day_text(day: date, *, field: str = "trading_day") -> str:
    """A trading day (a ``date``, not a ``datetime``) as ISO text."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"{field} must be a date (the exchange trading day), got {day!r}")
    return day.isoformat()


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def to_decimal(value: object, *, field: str) -> Decimal:
    """An exact decimal; a float is read by its shortest repr, so 4500.25 stays 4500.25."""
    if isinstance(value, bool):
        raise TypeError(f"{field} must be a number, got {value!r}")
    try:
        if isinstance(value, Decimal):
            result = value
        elif isinstance(value, int | str):
            result = Decimal(value)
        elif isinstance(value, numbers.Real):
            result = Decimal(repr(float(value)))
        else:
            raise TypeError(f"{field} must be a number, got {value!r}")
    except InvalidOperation:
        raise ValueError(f"{field} is not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{field} must be finite, got {value!r}")
    return result


def decimal_text(value: object, *, field: str) -> str:
    return str(to_decimal(value, field=field))


def decimal_text_or_none(value: object, *, field: str) -> str | None:
    return None if value is None else decimal_text(value, field=field)


def parse_decimal_or_none(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def to_cents(amount: object, *, field: str = "amount") -> int:
    """Dollars (float, Decimal, int or str) to integer cents, rounding half to even."""
    return int((to_decimal(amount, field=field) * 100).quantize(_CENT, rounding=ROUND_HALF_EVEN))


def cents_to_dollars(cents: int) -> Decimal:
    return Decimal(check_int(cents, field="cents")).scaleb(-2)


def check_int(value: object, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{field} must be an int, got {value!r}")
    return int(value)


def check_quantity(value: object, *, field: str = "quantity") -> int:
    quantity = check_int(value, field=field)
    if quantity <= 0:
        raise ValueError(f"{field} must be a positive number of contracts, got {quantity}")
    return quantity


def check_score(value: object, *, field: str = "ml_score") -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{field} must be a number or None, got {value!r}")
    score = float(value)
    return score if math.isfinite(score) else None


def check_text(value: object, *, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    return value


def check_name(value: object, *, field: str) -> str:
    """A strategy or symbol name: non-empty, no ':' (it separates intent id parts)."""
    text = check_text(value, field=field)
    if ":" in text or text != text.strip():
        raise ValueError(f"{field} must not contain ':' or surrounding spaces, got {text!r}")
    return text


def check_strategy(value: object) -> str:
    name = check_name(value, field="strategy")
    if name == ACCOUNT_SCOPE:
        raise ValueError(f"strategy must not be named {ACCOUNT_SCOPE!r}: that scope is the whole account")
    return name


@overload
def redact(text: str) -> str: ...
@overload
def redact(text: None) -> None: ...
def redact(text: str | None) -> str | None:
    """Free text from outside (HTTP errors, operator reasons) with any URL removed."""
    if text is None:
        return None
    return _URL_PATH.sub(r"\1<redacted>", _URL.sub("<redacted-url>", str(text)))


def dump_json(value: object, *, field: str) -> str:
    """Canonical JSON; refuses URLs and secret-named keys, stores NaN/inf as null."""
    return json.dumps(_clean(value, field), sort_keys=True, separators=(",", ":"), allow_nan=False)


def load_json(text: str) -> Any:
    return json.loads(text)


@lru_cache(maxsize=8192)  # keys repeat (feature names, snapshot fields): decide each once
def _secret_looking(key: str) -> bool:
    """A key with a secret-like word as one of its parts ("webhook_url", "apiKey"), not inside a
    word ("hourly")."""
    parts = "_" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower().replace("-", "_").replace(".", "_") + "_"
    return any(f"_{word}_" in parts for word in _SECRET_KEY_WORDS) or "apikey" in parts


# Where a value sits, for error messages only: the field name, or (parent, key or index). Built as
# nested pairs and spelled out only when something is refused (states are saved on every fill).
_Where = str | tuple[Any, str | int]


def _spell(where: _Where) -> str:
    parts: list[str] = []
    while isinstance(where, tuple):
        where, key = where
        parts.append(f".{key}" if isinstance(key, str) else f"[{key}]")
    return where + "".join(reversed(parts))


def _clean(value: object, where: _Where) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        if _URL.search(value):
            raise ValueError(f"{_spell(where)}: refusing to store a URL in the state store (secrets stay in the env)")
        return value
    if isinstance(value, dict | Mapping):  # dict first: the ABC check is the slow one
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{_spell(where)}: JSON keys must be strings, got {key!r}")
            if _secret_looking(key):
                raise ValueError(f"{_spell((where, key))}: refusing to store a secret-looking key in the state store")
            out[key] = _clean(item, (where, key))
        return out
    if isinstance(value, list | tuple):
        return [_clean(item, (where, i)) for i, item in enumerate(value)]
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, datetime):
        return utc_text(value, field=_spell(where))
    if isinstance(value, date):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalars, without importing numpy
    if callable(item):
        try:
            scalar = item()
        except (TypeError, ValueError):
            scalar = value
        if scalar is not value:
            return _clean(scalar, where)
    raise TypeError(f"{_spell(where)}: cannot store {type(value).__name__} as JSON")
