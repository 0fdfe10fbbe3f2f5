"""Reading ``config.multi_alpha.yml``: parse, substitute ``${ENV}``, validate, resolve paths."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import ValidationError

from multialpha.config.env import referenced_variables, substitute_env
from multialpha.config.problems import secret_values_in, validation_config_error
from multialpha.config.schema import BASE_DIR_CONTEXT, AppConfig, ConfigFile
from multialpha.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("config.multi_alpha.yml")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key repeated in one mapping instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable; the base class reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml_mapping(path: Path, *, shown: str) -> dict[Any, Any]:
    """The top-level mapping of a YAML file; errors name the file and the line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=shown) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a YAML file", file=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=shown) from None
    try:
        doc = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(_describe_yaml_error(exc), file=shown) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=shown) from None
    if doc is None:
        raise ConfigError("file is empty; expected a mapping with at least 'strategies'", file=shown)
    if not isinstance(doc, Mapping):
        raise ConfigError(f"top level must be a mapping of keys, not a {type(doc).__name__}", file=shown)
    return dict(doc)


# Stands in for an outbound URL whose variable is not set, for commands that never send.
UNSET_URL = "http://127.0.0.1/unset"


def load_app_config(path: str | Path = DEFAULT_CONFIG_FILE, env: Mapping[str, str] | None = None, *,
                    urls_optional: bool = False) -> AppConfig:
    """Load and validate the daemon's configuration; every failure is one ConfigError naming the key.

    ``urls_optional``: for operator commands that never send (status, halt, resume, orders), a
    webhook or Discord URL whose environment variable is not set is not an error.
    """
    file = Path(path)
    shown = str(path)
    environ: Mapping[str, str] = os.environ if env is None else env
    raw = read_yaml_mapping(file, shown=shown)
    if urls_optional:
        raw = _without_unset_urls(raw, environ)
    tree = substitute_env(raw, environ, file=shown)
    source_file = Path(os.path.abspath(file))
    base_dir = source_file.parent
    try:
        doc = ConfigFile.model_validate(tree, context={BASE_DIR_CONTEXT: base_dir})
    except ValidationError as exc:
        raise validation_config_error(exc, file=shown, model=ConfigFile,
                                      secrets=_secrets(raw, tree, environ)) from None
    return AppConfig(runtime=doc.runtime, portfolio=doc.portfolio,
                     strategies=MappingProxyType(dict(doc.strategies)),
                     source_file=source_file, base_dir=base_dir)


def _without_unset_urls(raw: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    def unset(value: Any) -> bool:
        return isinstance(value, str) and any(n not in env for n in referenced_variables(value)) \
            and "${" in value and ":-" not in value

    doc: dict[str, Any] = dict(raw)
    strategies = doc.get("strategies")
    if isinstance(strategies, Mapping):
        doc["strategies"] = {name: ({**s, "broker_account": UNSET_URL}
                                    if isinstance(s, Mapping) and unset(s.get("broker_account")) else s)
                             for name, s in strategies.items()}
    runtime = doc.get("runtime")
    if isinstance(runtime, Mapping) and isinstance(runtime.get("alerts"), Mapping) \
            and unset(runtime["alerts"].get("discord_webhook_url")):
        doc["runtime"] = {**runtime, "alerts": {**runtime["alerts"], "discord_webhook_url": None}}
    return doc


def _secrets(raw: Mapping[str, Any], tree: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """Values under secret keys, and the variables substituted into them wherever else they appear."""
    found = secret_values_in(tree)
    for text in secret_values_in(raw):
        found.extend(env[name] for name in referenced_variables(text) if env.get(name))
    return found


def _describe_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    text = exc.problem or exc.context or "invalid YAML"
    if mark is None:
        return f"invalid YAML: {text}"
    text = f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {text}"
    context = exc.context_mark
    if exc.problem and exc.context and context is not None and context.line != mark.line:
        text += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
    return text
