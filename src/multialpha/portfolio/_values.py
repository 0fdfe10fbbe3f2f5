"""Exact money and UTC time values, and their plain-text form in snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

ZERO = Decimal(0)


def to_decimal(value: object, *, name: str) -> Decimal:
    """An exact decimal: a float is read by its shortest repr, so 4500.25 stays 4500.25."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        if isinstance(value, Decimal):
            result = value
        elif isinstance(value, float):
            result = Decimal(repr(value))
        elif isinstance(value, int | str):
            result = Decimal(value)
        else:
            raise TypeError(f"{name} must be a number, got {value!r}")
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def utc(when: datetime, *, name: str = "timestamp") -> datetime:
    """The same instant in UTC; naive datetimes are refused (their instant is unknown)."""
    if not isinstance(when, datetime):
        raise TypeError(f"{name} must be a datetime, got {when!r}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} {when.isoformat()} has no timezone; pass UTC-aware datetimes")
    return when.astimezone(UTC)


def iso_or_none(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def parse_utc(text: str) -> datetime:
    return utc(datetime.fromisoformat(text))


def parse_utc_or_none(text: str | None) -> datetime | None:
    return None if text is None else parse_utc(text)
