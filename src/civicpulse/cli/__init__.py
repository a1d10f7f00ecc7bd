"""The ``civicpulse`` command line; each module adds the commands of one job to ``app``."""

from civicpulse.cli import (
    accounts,
    alerts,
    analysis,
    cases,
    claims,
    documents,
    forecast,
    intake,
    knowledge,
    maintenance,
    reports,
    routing,
    server,
    trends,
)
from civicpulse.cli.base import app
from civicpulse.cli.help import plain_help

__all__ = [
    "accounts",
    "alerts",
    "analysis",
    "app",
    "cases",
    "claims",
    "documents",
    "forecast",
    "intake",
    "knowledge",
    "maintenance",
    "reports",
    "routing",
    "server",
    "trends",
]

plain_help(app)
