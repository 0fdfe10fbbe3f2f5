"""Alerts: operator notifications (Discord or log) that never block the trading threads."""

from multialpha.alerts.discord import DiscordDeliveryError, DiscordNotifier, build_webhook, make_notifier
from multialpha.alerts.notifier import Alert, AlertQueue, Level, LogNotifier, Notifier, RecordingNotifier

__all__ = [
    "Alert",
    "AlertQueue",
    "DiscordDeliveryError",
    "DiscordNotifier",
    "Level",
    "LogNotifier",
    "Notifier",
    "RecordingNotifier",
    "build_webhook",
    "make_notifier",
]
