"""Templates, their filters and the values every page gets (language, translator, CSRF token, user)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from civicpulse.annotations import LanguageOut, parse_stored
from civicpulse.api.deps import SESSION_USER_KEY
from civicpulse.domain import SubmissionOut
from civicpulse.web.csrf import session_csrf_token
from civicpulse.web.i18n import LANGUAGES, translator

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Vietnam keeps UTC+7 all year; times are stored in UTC and shown in local time.
DISPLAY_TZ = timezone(timedelta(hours=7), "ICT")
EXCERPT_CHARS = 140


def local_time(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A stored (UTC) time as Vietnam local time."""
    if value is None:
        return "—"
    return value.astimezone(DISPLAY_TZ).strftime(fmt)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a text on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def show_value(value: Any) -> str:
    """An annotation value as short text: scalars as they are, structures as JSON."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None:
        return "—"
    return str(value)


def detected_language(item: SubmissionOut) -> str | None:
    """The language the analysis found (``language`` annotation), else ``None``."""
    annotation = item.annotations.get(LanguageOut.stage)
    found = parse_stored(LanguageOut.stage, annotation.data) if annotation else None
    return found.language if isinstance(found, LanguageOut) and found.language else None


def page_globals(request: Request) -> dict[str, Any]:
    """What every template sees; names here are reserved (page contexts must not reuse them)."""
    t = translator(request)
    session = request.session if "session" in request.scope else {}
    return {
        "t": t,
        "lang": t.lang,
        "languages": LANGUAGES,
        "csrf_token": session_csrf_token(request),
        "signed_in": session.get(SESSION_USER_KEY) is not None,
        "actor_email": getattr(request.state, "actor", None),
    }


def build_templates() -> Jinja2Templates:
    """The app's templates with their filters and per-request globals."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[page_globals])
    templates.env.filters.update(
        local_time=local_time,
        excerpt=excerpt,
        show_value=show_value,
        detected_language=detected_language,
    )
    return templates


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render one template of the app with the page globals."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code, headers=headers)
