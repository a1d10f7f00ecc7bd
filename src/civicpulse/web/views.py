"""Server-rendered pages (being built)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates

from civicpulse.settings import Settings

WEB_DIR = Path(__file__).parent


def install(app: FastAPI, settings: Settings) -> None:
    """Mount templates, static files and page routes on ``app``."""
    app.state.templates = Jinja2Templates(directory=WEB_DIR / "templates")
