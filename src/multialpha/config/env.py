"""``${VAR}`` and ``${VAR:-default}`` substitution in the string scalars of a parsed document.

Substituting on the parsed tree (not the raw text) means an error can name the key path,
and a value can never inject YAML structure. ``$${`` stands for a literal ``${``.
A variable that is set but empty counts as set: its value is the empty string.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from multialpha.config.problems import key_path
from multialpha.errors import ConfigError

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_REFERENCE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


def expand(text: str, env: Mapping[str, str] | None = None, *, file: str | None = None,
           key: str | None = None) -> str:
    """``text`` with every reference replaced; ``file`` and ``key`` only name the place in errors."""
    environ: Mapping[str, str] = os.environ if env is None else env

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        inner = match.group(1)
        if inner is None:
            raise ConfigError("unterminated '${' (write '$${' for a literal '${')", file=file, key=key)
        reference = _REFERENCE.fullmatch(inner)
        if reference is None:
            raise ConfigError(f"invalid environment reference '${{{inner}}}'; "
                              "write ${NAME} or ${NAME:-default}", file=file, key=key)
        name, default = reference.group(1), reference.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(f"environment variable {name} is not set", file=file, key=key)

    return _TOKEN.sub(replace, text)


def referenced_variables(text: str) -> list[str]:
    """Names of the variables ``text`` refers to (malformed references are left to ``expand``)."""
    names = []
    for match in _TOKEN.finditer(text):
        reference = _REFERENCE.fullmatch(match.group(1) or "")
        if reference is not None:
            names.append(reference.group(1))
    return names


def substitute_env(tree: Any, env: Mapping[str, str] | None = None, *, file: str | None = None,
                   path: tuple[Any, ...] = ()) -> Any:
    """A copy of a parsed YAML tree with references expanded in string values (keys are left alone)."""
    environ: Mapping[str, str] = os.environ if env is None else env
    if isinstance(tree, str):
        return expand(tree, environ, file=file, key=key_path(path) or None)
    if isinstance(tree, Mapping):
        return {k: substitute_env(v, environ, file=file, path=(*path, k)) for k, v in tree.items()}
    if isinstance(tree, list):
        return [substitute_env(v, environ, file=file, path=(*path, i)) for i, v in enumerate(tree)]
    return tree
