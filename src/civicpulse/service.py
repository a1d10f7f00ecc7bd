"""The service: the API and the dashboard in one app (``civicpulse serve``)."""

from __future__ import annotations

from fastapi import FastAPI

from civicpulse.api.app import create_api
from civicpulse.settings import Settings
from civicpulse.web import views


def create_app(settings: Settings, *, run_workers: bool = True) -> FastAPI:
    """The whole service for these settings: the API, its workers and the dashboard's pages."""
    app = create_api(settings, run_workers=run_workers)
    views.install(app, settings)
    return app
