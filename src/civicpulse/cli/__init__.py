"""The ``civicpulse`` command line; each module adds the commands of one job to ``app``."""

from civicpulse.cli import (
    accounts,
    analysis,
    cases,
    forecast,
    intake,
    maintenance,
    reports,
    routing,
    server,
    trends,
)
from civicpulse.cli.base import app

__all__ = [
    "accounts",
    "analysis",
    "app",
    "cases",
    "forecast",
    "intake",
    "maintenance",
    "reports",
    "routing",
    "server",
    "trends",
]
