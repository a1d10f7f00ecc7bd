"""``create_api(settings)``: the FastAPI app with the API routers, middleware and the runtime's workers.

The dashboard's pages are added by ``civicpulse.service.create_app``, which composes both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from civicpulse import __version__
from civicpulse.api.context import AppContext
from civicpulse.api.errors import install_error_handlers
from civicpulse.api.middleware import AuditMiddleware, BodyLimitMiddleware
from civicpulse.api.routers import analyze, health, open311, submissions, themes
from civicpulse.intake.feeds import FeedPoller
from civicpulse.settings import Settings


def create_api(settings: Settings, *, run_workers: bool = True) -> FastAPI:
    """The API for these settings; nothing is shared with other apps."""
    ctx = AppContext.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.db.upgrade()
        ctx.intake.start()
        if run_workers:
            ctx.runtime.start_workers()
        feeds = FeedPoller(ctx.db, settings)
        feeds.start()  # only when settings.feeds lists feeds
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            feeds.stop()
            ctx.intake.stop()
            ctx.runtime.close()

    app = FastAPI(
        title="CivicPulse",
        version=__version__,
        summary="Citizen feedback intake, analysis and follow-up.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.ready = False
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(submissions.router)
    app.include_router(analyze.router)
    app.include_router(themes.router)
    app.include_router(open311.router)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="civicpulse_session",
        same_site="lax",
        https_only=settings.env == "production",
        max_age=12 * 3600,
    )
    app.add_middleware(AuditMiddleware, db=ctx.db)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    return app
