"""Turning validation failures into one readable line each, never showing a secret."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from multialpha.config.redact import redact_text
from multialpha.errors import ConfigError

# Keys whose values are secrets wherever they appear; their values are never shown.
SECRET_KEYS = frozenset({"broker_account", "discord_webhook_url", "api_key"})

_MAX_SHOWN_CHARS = 80
_MAX_SHOWN_ITEMS = 20


def key_path(loc: Sequence[Any]) -> str:
    """``("strategies", "ibs_a", "instruments", 2)`` -> ``strategies.ibs_a.instruments[2]``."""
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for an invalid mapping key
            continue
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def shown_value(value: Any) -> str | None:
    """A short repr of a scalar (or a short list of scalars); None when it should not be shown."""
    if _is_scalar(value):
        text = repr(value)
        return text if len(text) <= _MAX_SHOWN_CHARS else text[:_MAX_SHOWN_CHARS] + "..."
    if isinstance(value, list | tuple) and len(value) <= _MAX_SHOWN_ITEMS and all(map(_is_scalar, value)):
        return repr(list(value))
    return None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def secret_values_in(tree: Any) -> list[str]:
    """Every non-empty string found under a secret key anywhere in a parsed document."""
    found: list[str] = []
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            if key in SECRET_KEYS and isinstance(value, str) and value:
                found.append(value)
            else:
                found.extend(secret_values_in(value))
    elif isinstance(tree, list):
        for item in tree:
            found.extend(secret_values_in(item))
    return found


def validation_config_error(exc: ValidationError, *, file: str, model: type[BaseModel] | None = None,
                            secrets: Iterable[str] = ()) -> ConfigError:
    """One ConfigError listing every validation failure, one line each, naming the key path."""
    secret_list = list(secrets)
    problems = [(key_path(err["loc"]), redact_text(_describe(err, model), secret_list))
                for err in exc.errors(include_url=False)]
    if len(problems) == 1:
        key, message = problems[0]
        return ConfigError(message, file=file, key=key or None)
    lines = "\n".join(f"  {key or '(top level)'}: {message}" for key, message in problems)
    return ConfigError(f"{len(problems)} problems:\n{lines}", file=file)


def _describe(err: ErrorDetails, model: type[BaseModel] | None) -> str:
    loc = err["loc"]
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key" + did_you_mean(str(loc[-1]), _known_keys(model, loc)) if loc else "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = err["msg"].removeprefix("Value error, ")
    if any(part in SECRET_KEYS for part in loc if isinstance(part, str)):
        return message
    shown = shown_value(err.get("input"))
    return message if shown is None else f"{message} (got {shown})"


def _known_keys(model: type[BaseModel] | None, loc: Sequence[Any]) -> list[str]:
    """The keys the model accepts at the mapping that holds ``loc[-1]``."""
    current: Any = model
    for part in loc[:-1]:
        current = _unwrap(current)
        if _is_model(current) and isinstance(part, str) and part in current.model_fields:
            current = current.model_fields[part].annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
    current = _unwrap(current)
    return list(current.model_fields) if _is_model(current) else []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is UnionType:
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | date)
