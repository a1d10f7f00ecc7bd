"""Server-rendered pages: templates, vendored static files and the page routers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from civicpulse.settings import Settings
from civicpulse.web import (
    alert_pages,
    ask_pages,
    auth_pages,
    case_pages,
    claim_pages,
    document_pages,
    inbox_pages,
    overview_pages,
    public_pages,
    report_pages,
    themes_pages,
)
from civicpulse.web.render import build_templates

WEB_DIR = Path(__file__).parent


def install(app: FastAPI, settings: Settings) -> None:
    """Mount templates, static files and page routes on ``app``."""
    app.state.templates = build_templates()
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.include_router(auth_pages.router)
    app.include_router(inbox_pages.router)
    app.include_router(themes_pages.router)
    app.include_router(report_pages.router)
    app.include_router(overview_pages.router)
    app.include_router(case_pages.router)
    app.include_router(claim_pages.router)
    app.include_router(alert_pages.router)
    app.include_router(document_pages.router)
    app.include_router(ask_pages.router)
    app.include_router(public_pages.router)
