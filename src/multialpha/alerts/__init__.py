"""Alerts: operator notifications (Discord or log) that never block the trading threads."""

from multialpha.alerts import messages
from multialpha.alerts.conditions import Change, Latch, Transition
from multialpha.alerts.discord import DiscordDeliveryError, DiscordNotifier, build_webhook, make_notifier
from multialpha.alerts.messages import AlertSpec, StrategySummary
from multialpha.alerts.notifier import Alert, AlertQueue, Level, LogNotifier, Notifier, RecordingNotifier
from multialpha.alerts.policy import AlertPolicy, PolicyCounts, marker_for_mode

__all__ = [
    "Alert",
    "AlertPolicy",
    "AlertQueue",
    "AlertSpec",
    "Change",
    "DiscordDeliveryError",
    "DiscordNotifier",
    "Latch",
    "Level",
    "LogNotifier",
    "Notifier",
    "PolicyCounts",
    "RecordingNotifier",
    "StrategySummary",
    "Transition",
    "build_webhook",
    "make_notifier",
    "marker_for_mode",
    "messages",
]
