"""Loading, validating and resolving the daemon's configuration, with secrets kept out of sight."""

from multialpha.config.env import expand, substitute_env
from multialpha.config.loader import DEFAULT_CONFIG_FILE, load_app_config
from multialpha.config.merge import (
    CLASS_DEFAULT,
    ResolvedStrategy,
    Sourced,
    display_path,
    merge_params,
    resolve_strategies,
)
from multialpha.config.redact import RedactingFilter, redact_text, redact_url, secrets_of
from multialpha.config.schema import (
    AlertsConfig,
    AppConfig,
    DatabentoConfig,
    DataConfig,
    DataSource,
    HealthConfig,
    PortfolioConfig,
    RuntimeConfig,
    RuntimeMode,
    StrategyConfig,
    WebhookConfig,
)
from multialpha.config.strategy_files import (
    PortfolioOptimization,
    instrument_params_path,
    load_instrument_params,
    load_portfolio_optimization,
    portfolio_file_path,
)

__all__ = [
    "CLASS_DEFAULT",
    "DEFAULT_CONFIG_FILE",
    "AlertsConfig",
    "AppConfig",
    "DataConfig",
    "DataSource",
    "DatabentoConfig",
    "HealthConfig",
    "PortfolioConfig",
    "PortfolioOptimization",
    "RedactingFilter",
    "ResolvedStrategy",
    "RuntimeConfig",
    "RuntimeMode",
    "Sourced",
    "StrategyConfig",
    "WebhookConfig",
    "display_path",
    "expand",
    "instrument_params_path",
    "load_app_config",
    "load_instrument_params",
    "load_portfolio_optimization",
    "merge_params",
    "portfolio_file_path",
    "redact_text",
    "redact_url",
    "resolve_strategies",
    "secrets_of",
    "substitute_env",
]
