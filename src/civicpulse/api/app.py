"""``create_api(settings)``: the FastAPI app with the API routers, middleware and the runtime's workers.

The dashboard's pages are added by ``civicpulse.service.create_app``, which composes both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware

from civicpulse import __version__
from civicpulse.api.context import AppContext
from civicpulse.api.docs import install_docs
from civicpulse.api.encoding import FormEncodingMiddleware
from civicpulse.api.errors import install_error_handlers
from civicpulse.api.middleware import AuditMiddleware, BodyLimitMiddleware, SecurityHeadersMiddleware
from civicpulse.api.openapi import install_openapi
from civicpulse.api.proxies import ForwardedClientMiddleware, TrustedProxies
from civicpulse.api.queries import single_query_values
from civicpulse.api.routers import (
    alerts,
    analyze,
    answers,
    ask,
    cases,
    claims,
    documents,
    forecasts,
    health,
    open311,
    reports,
    routing,
    submissions,
    themes,
    trends,
)
from civicpulse.cases.answer_mail import AnswerMailer
from civicpulse.insight.alert_runs import AlertRunner
from civicpulse.insight.overview_refresh import OverviewRefresher
from civicpulse.intake.feeds import FeedPoller
from civicpulse.knowledge.library import warm_in_background
from civicpulse.settings import Settings
from civicpulse.store.contacts import check_contact_key


def create_api(settings: Settings, *, run_workers: bool = True) -> FastAPI:
    """The API for these settings; nothing is shared with other apps."""
    ctx = AppContext.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.db.upgrade()
        with ctx.db.read() as session:
            check_contact_key(session, ctx.cipher)  # a wrong key refuses to start: docs/operations.md
        ctx.intake.start()
        if run_workers:
            ctx.runtime.start_workers()
        feeds = FeedPoller(ctx.db, settings)
        feeds.start()  # only when settings.feeds lists feeds
        answer_mail.start()  # only when mail is configured
        alert_runner = AlertRunner(ctx.db, settings, alerts.scope_of_owner(ctx.taxonomy))
        alert_runner.start()  # only when alert_run_interval_seconds > 0
        overview = OverviewRefresher(ctx.db, settings)
        overview.start()  # only when overview_refresh_seconds > 0
        warm_in_background(documents.library_of(ctx, app.state), ctx.db)  # /ask's index and model
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            feeds.stop()
            alert_runner.stop()
            overview.stop()
            answer_mail.stop()
            ctx.intake.stop()
            ctx.runtime.close()

    app = FastAPI(
        title="CivicPulse",
        version=__version__,
        summary="Citizen feedback intake, analysis and follow-up.",
        lifespan=lifespan,
        docs_url=None,  # api.docs serves /docs and /redoc from vendored assets
        redoc_url=None,
    )
    app.state.ctx = ctx
    answer_mail = AnswerMailer(ctx.db, ctx.cipher, settings)
    app.state.answer_mail = answer_mail
    app.state.ready = False
    install_error_handlers(app)
    install_docs(app)
    install_openapi(app)
    app.include_router(health.router)
    one_value_each = [Depends(single_query_values)]
    for api in (
        submissions,
        cases,
        answers,
        analyze,
        themes,
        reports,
        routing,
        trends,
        forecasts,
        alerts,
        claims,
    ):
        app.include_router(api.router, dependencies=one_value_each)
    for api in (documents, ask):
        app.include_router(api.router, dependencies=one_value_each)
    app.include_router(open311.router)
    app.add_middleware(FormEncodingMiddleware)  # innermost: sessions and the audit see its 400
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="civicpulse_session",
        same_site="lax",
        https_only=settings.env == "production",
        max_age=round(settings.session_hours * 3600),
    )
    app.add_middleware(AuditMiddleware, db=ctx.db)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, production=settings.env == "production")
    trusted = TrustedProxies(settings.trusted_proxies)
    app.add_middleware(ForwardedClientMiddleware, trusted=trusted)  # outermost: all below see the caller
    return app
