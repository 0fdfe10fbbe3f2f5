"""The schema of ``config.multi_alpha.yml``: frozen models, unknown keys rejected, defaults here only.

Relative paths resolve against the directory passed as validation context ``base_dir``
(the loader passes the config file's directory).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from multialpha.calendar import EXCHANGE_TZ
from multialpha.errors import ConfigError

SYMBOL_PATTERN = re.compile(r"[A-Z0-9]{1,6}")
STRATEGY_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
BASE_DIR_CONTEXT = "base_dir"


def _check_symbol(value: str) -> str:
    if not SYMBOL_PATTERN.fullmatch(value):
        raise ValueError("not a valid symbol: 1 to 6 upper-case letters or digits, e.g. ES or 6A")
    return value


def _check_strategy_name(value: str) -> str:
    if not STRATEGY_NAME_PATTERN.fullmatch(value):
        raise ValueError("not a valid strategy name: lower-case letters, digits and '_', "
                         "starting with a letter")
    return value


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty")
    return value


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    value = value.expanduser()
    base = (info.context or {}).get(BASE_DIR_CONTEXT)
    if base is None or value.is_absolute():
        return value
    return Path(os.path.normpath(Path(base) / value))


def _check_http_url(secret: SecretStr) -> SecretStr:
    # Messages here must never include the value: it is a secret.
    url = secret.get_secret_value()
    if not url:
        raise ValueError("is empty; expected an http(s) URL")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("must be an http(s) URL with a host")
    return secret


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _secret_not_blank(secret: SecretStr) -> SecretStr:
    if not secret.get_secret_value().strip():
        raise ValueError("must not be empty")
    return secret


def _no_duplicates(values: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"duplicate symbol(s) {', '.join(repeated)}")
    return values


def _empty_section() -> Any:
    # An omitted section is validated from {} (not taken from a prebuilt instance),
    # so its default paths resolve against the config file's directory too.
    return {}


Symbol = Annotated[str, AfterValidator(_check_symbol)]
Symbols = Annotated[tuple[Symbol, ...], AfterValidator(_no_duplicates)]
StrategyName = Annotated[str, AfterValidator(_check_strategy_name)]
ConfigPath = Annotated[Path, BeforeValidator(_not_blank), AfterValidator(_resolve_path)]
SecretUrl = Annotated[SecretStr, AfterValidator(_check_http_url)]
NonEmptyStr = Annotated[str, AfterValidator(_not_blank)]
Usd = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class StrictModel(BaseModel):
    """Frozen, unknown keys rejected, defaults validated (so default paths resolve too)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class RuntimeMode(StrEnum):
    REPLAY = "replay"
    PAPER = "paper"
    LIVE = "live"


class DataSource(StrEnum):
    REPLAY = "replay"
    DATABENTO = "databento"


class DatabentoConfig(StrictModel):
    dataset: NonEmptyStr = "GLBX.MDP3"
    api_key: Annotated[SecretStr, AfterValidator(_secret_not_blank)]


class DataConfig(StrictModel):
    source: DataSource = DataSource.REPLAY
    path: ConfigPath = Path("data/sample")
    reference_symbols: Symbols = ()
    warmup_bars: int = Field(default=600, ge=0)  # >= the feature engine's REQUIRED_HISTORY_BARS
    start: date | None = None
    end: date | None = None
    databento: DatabentoConfig | None = None

    @field_validator("end")
    @classmethod
    def _end_not_before_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise ValueError(f"end {end} is before start {start}")
        return end

    @field_validator("databento")
    @classmethod
    def _databento_for_databento_source(cls, value: DatabentoConfig | None,
                                        info: ValidationInfo) -> DatabentoConfig | None:
        if value is None and info.data.get("source") == DataSource.DATABENTO:
            raise ValueError("required when source is databento (needs at least api_key)")
        return value


class WebhookConfig(StrictModel):
    timeout_secs: float = Field(default=5.0, gt=0, allow_inf_nan=False)
    max_attempts: int = Field(default=4, ge=1)
    max_retry_wait_secs: float = Field(default=30.0, ge=0, allow_inf_nan=False)


class AlertsConfig(StrictModel):
    discord_webhook_url: Annotated[SecretUrl | None, BeforeValidator(_blank_to_none)] = None
    queue_size: int = Field(default=1000, ge=1)


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class FailurePolicy(StrEnum):
    FLATTEN = "flatten"  # exit the failed strategy's positions at the next bar time and halt it
    REDUCING = "reducing"  # the whole account goes REDUCING; the positions keep their exit rules


class RuntimeConfig(StrictModel):
    mode: RuntimeMode = RuntimeMode.REPLAY
    on_strategy_failure: FailurePolicy = FailurePolicy.FLATTEN
    exchange_timezone: str = "America/Chicago"
    state_path: ConfigPath = Path("state/multialpha.sqlite")
    contracts_path: ConfigPath = Path("config/contracts.yml")
    rolls_path: ConfigPath = Path("config/rolls.yml")  # the roll schedule: which contract month is traded
    config_dir: ConfigPath = Path("config")
    log_level: Annotated[LogLevel, BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)] = "INFO"
    fail_fast: bool = False
    allow_unverified_models: bool = False
    data: DataConfig = Field(default_factory=_empty_section)
    webhook: WebhookConfig = Field(default_factory=_empty_section)
    alerts: AlertsConfig = Field(default_factory=_empty_section)

    @property
    def exchange_tz(self) -> ZoneInfo:
        return ZoneInfo(self.exchange_timezone)

    @field_validator("exchange_timezone")
    @classmethod
    def _cme_timezone(cls, value: str) -> str:
        # The trading day is CME's (multialpha.calendar: 17:00 America/Chicago) whatever is
        # written here; another zone would be a setting that silently does nothing.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as America/Chicago") from None
        if value != EXCHANGE_TZ.key:
            raise ValueError(f"the trading day is CME's (17:00 {EXCHANGE_TZ.key}); "
                             f"only {EXCHANGE_TZ.key} is supported")
        return value


class PortfolioConfig(StrictModel):
    """Account-wide limits over every strategy; None means no account-wide limit."""

    max_positions: int | None = Field(default=None, ge=1)
    daily_stop_loss: float | None = Field(default=None, gt=0, allow_inf_nan=False)  # USD


class StrategyConfig(StrictModel):
    enabled: bool = True
    strategy: NonEmptyStr = "ibs"
    broker_account: SecretUrl | None = None  # TradersPost webhook URL
    # The broker account the webhook trades: strategies sharing one may not both hold a symbol.
    account: NonEmptyStr = "default"
    # Protective stop sent with each entry: the strategy's stop distance times this; 0 sends none.
    broker_stop_mult: float = Field(default=2.0, ge=0, allow_inf_nan=False)
    starting_cash: Usd
    models_path: ConfigPath
    max_positions: int = Field(ge=1)
    daily_stop_loss: Usd
    instruments: Annotated[Symbols, Field(min_length=1)]
    strategy_params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("broker_account")
    @classmethod
    def _required_when_enabled(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None and info.data.get("enabled", False):
            raise ValueError("required when the strategy is enabled (the TradersPost webhook URL)")
        return value


class ConfigFile(StrictModel):
    """The document ``config.multi_alpha.yml`` holds."""

    runtime: RuntimeConfig = Field(default_factory=_empty_section)
    portfolio: PortfolioConfig = Field(default_factory=_empty_section)
    strategies: dict[StrategyName, StrategyConfig] = Field(min_length=1)

    @field_validator("strategies")
    @classmethod
    def _one_enabled(cls, value: dict[str, StrategyConfig]) -> dict[str, StrategyConfig]:
        if not any(s.enabled for s in value.values()):
            raise ValueError("no strategy is enabled; set enabled: true on at least one")
        return value


@dataclass(frozen=True)
class AppConfig:
    """The validated configuration, every path absolute."""

    runtime: RuntimeConfig
    portfolio: PortfolioConfig
    strategies: Mapping[str, StrategyConfig]  # in file order
    source_file: Path
    base_dir: Path

    def enabled_strategies(self) -> dict[str, StrategyConfig]:
        return {name: s for name, s in self.strategies.items() if s.enabled}

    def with_mode(self, mode: RuntimeMode | str) -> AppConfig:
        """A copy running in ``mode`` (a command-line override of ``runtime.mode``)."""
        try:
            checked = RuntimeMode(mode)
        except ValueError:
            choices = ", ".join(m.value for m in RuntimeMode)
            raise ConfigError(f"unknown mode; expected one of {choices}", key="runtime.mode", value=mode,
                              show_value=True) from None
        return replace(self, runtime=self.runtime.model_copy(update={"mode": checked}))
