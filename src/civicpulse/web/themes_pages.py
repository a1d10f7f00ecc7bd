"""The dashboard's themes page: the themes of a slice, computed when asked (read only), and the
analysts' decisions about them (rename, merge, split, dismiss) as plain forms that redirect back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import URL

from civicpulse.analysis.gazetteer import gazetteer, phrase, split_type
from civicpulse.api.deps import OptionalUser, ReadSession, client_address
from civicpulse.api.queries import parse_list_query
from civicpulse.errors import Forbidden, NotFound, Unprocessable
from civicpulse.identity import Principal, is_analyst
from civicpulse.insight.themes.decisions import (
    MAX_LABEL,
    MAX_PARTS,
    MIN_PARTS,
    known_theme_ids,
    record_decision,
)
from civicpulse.insight.themes.service import ThemeSlice, refresh_themes, themes_view
from civicpulse.llm import ChatClient
from civicpulse.store.audit import record_audit
from civicpulse.store.themes import DECISIONS
from civicpulse.web.csrf import CsrfProtected
from civicpulse.web.i18n import Translator, translator
from civicpulse.web.inbox_pages import MAX_ID, sign_in_first, translated
from civicpulse.web.render import render
from civicpulse.web.theme_cards import theme_cards

router = APIRouter(include_in_schema=False)

SliceText = Annotated[str | None, Query(max_length=100)]
SliceDay = str | None  # api.queries checks it, with a message in the page's language
SliceField = Annotated[str, Form(max_length=100)]


@dataclass(frozen=True)
class ThemesForm:
    """The slice as typed: local days (``to`` included), a topic code, a province code."""

    date_from: str = ""
    date_to: str = ""
    topic: str = ""
    place: str = ""

    def query(self) -> str:
        """The query string of this slice, without empty values."""
        values = {"from": self.date_from, "to": self.date_to, "topic": self.topic, "place": self.place}
        return urlencode({key: value for key, value in values.items() if value})

    def url(self, anchor: str = "") -> str:
        """The themes page of this slice."""
        query = self.query()
        return "/themes" + ("?" + query if query else "") + (f"#{anchor}" if anchor else "")

    def to_slice(self, request: Request, agencies: tuple[str, ...] | None) -> ThemeSlice:
        """The slice the store reads; unknown topics and places are refused with a clear message."""
        with translated(translator(request)):
            query = parse_list_query(
                since=self.date_from,
                until=self.date_to,
                topic=self.topic,
                place=self.place,
                topics=request.app.state.ctx.taxonomy.codes(),
            )
        return ThemeSlice(
            since=query.since, until=query.until, topic=query.topic, place=query.place, agencies=agencies
        )


def _topics(request: Request, lang: str) -> list[dict[str, str]]:
    return [
        {"code": topic.code, "name": topic.name_en if lang == "en" else topic.name_vi}
        for topic in request.app.state.ctx.taxonomy.topics
    ]


def _provinces() -> list[dict[str, str]]:
    """Current provinces by name (ignoring ``Tỉnh``/``Thành phố`` and diacritics)."""
    units = gazetteer().provinces.values()
    ordered = sorted(units, key=lambda unit: phrase(split_type(unit.name)[1])[0])
    return [{"code": unit.code, "name": unit.name} for unit in ordered]


@dataclass(frozen=True)
class Refusal:
    """A decision that was not recorded: which theme, why, and what the analyst typed."""

    theme_id: int
    message: str
    typed: str = ""


def _themes_page(
    request: Request,
    session: Session,
    user: Principal,
    form: ThemesForm,
    *,
    refusal: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    t = translator(request)
    view = themes_view(
        session,
        form.to_slice(request, user.agency_scope()),
        k_anonymity=request.app.state.ctx.settings.k_anonymity,
    )
    shown = [theme.id for theme in view.themes]
    decidable = known_theme_ids(session) & set(shown)
    context: dict[str, Any] = {
        "form": form,
        "view": view,
        "cards": theme_cards(view),
        "topics": _topics(request, t.lang),
        "provinces": _provinces(),
        "can_decide": is_analyst(user),
        "decidable": decidable,
        "unsaved": any(tid not in decidable for tid in shown),
        "refusal": refusal,
        "refusal_in_card": refusal is not None and refusal.theme_id in shown,
        "split_parts": range(MIN_PARTS, MAX_PARTS + 1),
        "page_url": URL(form.url()),
        "active": "themes",
    }
    return render(request, "themes.html", context, status_code=status_code)


@router.get("/themes")
def themes_page(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    date_from: Annotated[SliceDay, Query(alias="from")] = None,
    date_to: Annotated[SliceDay, Query(alias="to")] = None,
    topic: SliceText = None,
    place: SliceText = None,
) -> Response:
    """The themes of a slice (all time by default), computed now; analysts get the decision forms."""
    if user is None:
        return sign_in_first(request)
    form = ThemesForm(date_from or "", date_to or "", topic or "", place or "")
    return _themes_page(request, session, user, form)


def _refusal(
    t: Translator, theme_id: int, action: str, value: str, target: str, parts: str
) -> Refusal | None:
    """What is wrong with a decision before it reaches the store, if anything."""
    if action not in DECISIONS:
        return Refusal(theme_id, t("themes.err.action", value=action))
    if action == "split" and not (parts.isdigit() and MIN_PARTS <= int(parts) <= MAX_PARTS):
        return Refusal(theme_id, t("themes.err.parts", low=MIN_PARTS, high=MAX_PARTS))
    if action == "rename" and (not value.strip() or len(value.strip()) > MAX_LABEL):
        return Refusal(theme_id, t("themes.err.label", max=MAX_LABEL), value)
    if action == "merge" and (not target.isdigit() or int(target) == theme_id):
        return Refusal(theme_id, t("themes.err.target"))
    return None


@router.post("/themes/{theme_id}/decisions", dependencies=[CsrfProtected])
def decide_theme(
    request: Request,
    user: OptionalUser,
    theme_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    action: Annotated[str, Form(max_length=20)] = "",
    value: Annotated[str, Form(max_length=1000)] = "",
    target_id: Annotated[str, Form(max_length=20)] = "",
    parts: Annotated[str, Form(max_length=2)] = str(MIN_PARTS),
    date_from: Annotated[SliceField, Form(alias="from")] = "",
    date_to: Annotated[SliceField, Form(alias="to")] = "",
    topic: SliceField = "",
    place: SliceField = "",
) -> Response:
    """Record a rename, merge, split or dismissal like the REST route does (audited in the same
    transaction), then show the slice again; a refused decision comes back with its reason."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    if not is_analyst(user):
        raise Forbidden(t("error.403"))
    form = ThemesForm(date_from, date_to, topic, place)
    ctx = request.app.state.ctx
    refusal = _refusal(t, theme_id, action, value, target_id, parts)
    if refusal is None:
        target = int(target_id) if action == "merge" else None
        label = value.strip() if action == "rename" else None
        try:
            with ctx.db.write() as session:
                record_decision(
                    session,
                    theme_id,
                    action,
                    actor=user.email,
                    client=client_address(request),
                    status=303,
                    value=label,
                    target_id=target,
                    parts=int(parts) if action == "split" else MIN_PARTS,
                )
        except NotFound:
            refusal = Refusal(theme_id, t("themes.err.unknown", id=theme_id), value)
        except Unprocessable as exc:
            reason = (
                t("themes.err.target") if action == "merge" else t("themes.err.refused", reason=exc.message)
            )
            refusal = Refusal(theme_id, reason, value)
        else:
            request.state.audited = True
            anchor = "theme-stats" if action in ("dismiss", "split") else f"theme-{target or theme_id}"
            return RedirectResponse(form.url(anchor), status_code=303)
    with ctx.db.read() as session:
        return _themes_page(request, session, user, form, refusal=refusal, status_code=422)


@router.post("/themes/runs", dependencies=[CsrfProtected])
def store_themes_run(
    request: Request,
    user: OptionalUser,
    date_from: Annotated[SliceField, Form(alias="from")] = "",
    date_to: Annotated[SliceField, Form(alias="to")] = "",
    topic: SliceField = "",
    place: SliceField = "",
) -> Response:
    """Store the slice's themes as a run, so that their ids last and decisions can name them."""
    if user is None:
        return sign_in_first(request)
    if not is_analyst(user):
        raise Forbidden(translator(request)("error.403"))
    form = ThemesForm(date_from, date_to, topic, place)
    cut = form.to_slice(request, user.agency_scope())
    ctx = request.app.state.ctx
    with ctx.db.write() as session:
        run_id, view = refresh_themes(
            session, cut, k_anonymity=ctx.settings.k_anonymity, llm=ChatClient.from_settings(ctx.settings)
        )
        record_audit(
            session,
            actor=user.email,
            action="theme.refresh",
            target=f"theme_run:{run_id}",
            client=client_address(request),
            status=303,
            detail={"slice": cut.key(), "themes": len(view.themes)},
        )
    request.state.audited = True
    return RedirectResponse(form.url(), status_code=303)
