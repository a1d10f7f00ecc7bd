"""Who may call what: every route of the app × every role and anonymous, over real HTTP (SQLite).

``EXPECTED`` decides each route's access explicitly; a route of the app without an entry (or an
entry without a route) fails the test, so no route is added without deciding who may call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from civicpulse.domain import Role
from civicpulse.service import create_app
from civicpulse.store.themes import ThemeRow, ThemeRunRow
from tests.conftest import LiveServer
from tests.web.conftest import form_token, http_sign_in

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

OK = "ok"  # served: 2xx, or a redirect anywhere but the sign-in page
PASSES = "passes"  # past the access check, whatever the (empty) body then gets: no 401/403/5xx
LOGIN = "login"  # sent to the sign-in page
ROLES = ("anonymous", "admin", "analyst", "officer", "viewer")
PASSWORDS = {"admin": "admin-password"}
EMAILS = {"admin": "admin@example.org"}
AGENCY = "so-nnmt"  # the officer's agency, which handles the service code "land"

Outcome = str | int


def access(
    anonymous: Outcome, admin: Outcome, analyst: Outcome, officer: Outcome, viewer: Outcome
) -> dict[str, Outcome]:
    return dict(zip(ROLES, (anonymous, admin, analyst, officer, viewer), strict=True))


PUBLIC = access(OK, OK, OK, OK, OK)
SIGNED_IN = access(401, OK, OK, OK, OK)
WRITERS = access(401, OK, OK, OK, 403)
ANALYSTS = access(401, OK, OK, 403, 403)
HANDLERS = access(401, OK, 403, OK, 403)
PAGE = access(LOGIN, OK, OK, OK, OK)
ADMIN_WRITES = access(401, PASSES, 403, 403, 403)
ANALYST_WRITES = access(401, PASSES, PASSES, 403, 403)
WRITER_WRITES = access(401, PASSES, PASSES, PASSES, 403)
SIGNED_IN_READS = access(401, PASSES, PASSES, PASSES, PASSES)
AGGREGATE_READS = access(401, PASSES, PASSES, 403, PASSES)
PAGE_ANALYSTS = access(LOGIN, OK, OK, 403, 403)
PAGE_WRITER_WRITES = access(LOGIN, PASSES, PASSES, PASSES, 403)
PAGE_READERS = access(LOGIN, OK, OK, 403, OK)
PAGE_READER_DATA = access(LOGIN, PASSES, PASSES, 403, PASSES)
PAGE_ADMIN = access(LOGIN, OK, 403, 403, 403)
PAGE_ADMIN_WRITES = access(LOGIN, PASSES, 403, 403, 403)
PAGE_SIGNED_IN_WRITES = access(LOGIN, PASSES, PASSES, PASSES, PASSES)
CITIZEN_WRITES = access(PASSES, PASSES, PASSES, PASSES, PASSES)

EXPECTED: dict[tuple[str, str], dict[str, Outcome]] = {
    # documentation and health
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/api-static/{path}"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/static/{path}"): PUBLIC,
    # REST API
    ("POST", "/api/v1/submissions"): WRITERS,
    ("GET", "/api/v1/submissions"): SIGNED_IN,
    ("GET", "/api/v1/submissions/{submission_id}"): SIGNED_IN,
    ("GET", "/api/v1/submissions/{submission_id}/contact"): HANDLERS,
    ("POST", "/api/v1/submissions/{submission_id}/labels"): ANALYSTS,
    ("POST", "/api/v1/analyze"): SIGNED_IN,
    ("GET", "/api/v1/themes"): SIGNED_IN,
    ("POST", "/api/v1/themes/{theme_id}/decisions"): ANALYSTS,
    # cases and agencies (writes are called with an empty body or an unknown id: access only)
    ("GET", "/api/v1/submissions/{submission_id}/case"): SIGNED_IN_READS,
    ("POST", "/api/v1/submissions/{submission_id}/case"): WRITER_WRITES,
    ("GET", "/api/v1/cases"): SIGNED_IN,
    ("GET", "/api/v1/cases/{case_id}"): SIGNED_IN_READS,
    ("POST", "/api/v1/cases/{case_id}/merge"): WRITER_WRITES,
    ("POST", "/api/v1/cases/{case_id}/split"): WRITER_WRITES,
    ("POST", "/api/v1/cases/{case_id}/notes"): WRITER_WRITES,
    ("GET", "/api/v1/agencies"): SIGNED_IN,
    ("GET", "/api/v1/agencies/{code}"): SIGNED_IN,
    ("PUT", "/api/v1/agencies/{code}"): ADMIN_WRITES,
    ("DELETE", "/api/v1/agencies/{code}"): ADMIN_WRITES,
    # answers: templates (admins write), approval, bulk answers
    ("GET", "/api/v1/answer-templates"): SIGNED_IN,
    ("POST", "/api/v1/answer-templates"): ADMIN_WRITES,
    ("GET", "/api/v1/answer-templates/{template_id}"): SIGNED_IN_READS,
    ("PUT", "/api/v1/answer-templates/{template_id}"): ADMIN_WRITES,
    ("DELETE", "/api/v1/answer-templates/{template_id}"): ADMIN_WRITES,
    ("GET", "/api/v1/answer-templates/{template_id}/render"): WRITER_WRITES,
    ("GET", "/api/v1/answers"): SIGNED_IN,
    ("GET", "/api/v1/cases/{case_id}/answers"): SIGNED_IN_READS,
    ("POST", "/api/v1/answers/{answer_id}/approve"): WRITER_WRITES,
    ("POST", "/api/v1/answers/{answer_id}/return"): WRITER_WRITES,
    ("POST", "/api/v1/answers/bulk"): WRITER_WRITES,
    # official documents (analysts add, staff read) and cited answers (public, rate-limited)
    ("POST", "/api/v1/documents"): ANALYST_WRITES,
    ("GET", "/api/v1/documents"): SIGNED_IN,
    ("GET", "/api/v1/documents/{document_id}"): SIGNED_IN_READS,
    ("POST", "/api/v1/answers"): CITIZEN_WRITES,
    # claim base (analysts enter, staff read), rumour panel, sourced responses (published ones public)
    ("POST", "/api/v1/claims"): ANALYST_WRITES,
    ("GET", "/api/v1/claims"): SIGNED_IN,
    ("GET", "/api/v1/claims/export"): SIGNED_IN,
    ("GET", "/api/v1/claims/{claim_id}"): SIGNED_IN_READS,
    ("POST", "/api/v1/claims/{claim_id}/passages"): ANALYST_WRITES,
    ("GET", "/api/v1/rumours"): SIGNED_IN,
    ("POST", "/api/v1/responses"): WRITER_WRITES,
    ("GET", "/api/v1/responses"): SIGNED_IN,
    ("GET", "/api/v1/published-responses"): PUBLIC,
    ("GET", "/api/v1/responses/{response_id}"): SIGNED_IN_READS,
    ("PUT", "/api/v1/responses/{response_id}"): WRITER_WRITES,
    ("POST", "/api/v1/responses/{response_id}/approve"): WRITER_WRITES,
    ("POST", "/api/v1/responses/{response_id}/return"): WRITER_WRITES,
    ("POST", "/api/v1/responses/{response_id}/publish"): WRITER_WRITES,
    # routing
    ("GET", "/api/v1/routing/rules"): ANALYSTS,
    ("POST", "/api/v1/routing/rules"): ADMIN_WRITES,
    ("PUT", "/api/v1/routing/rules/{rule_id}"): ADMIN_WRITES,
    ("DELETE", "/api/v1/routing/rules/{rule_id}"): ADMIN_WRITES,
    ("GET", "/api/v1/routing/triage"): ANALYSTS,
    ("POST", "/api/v1/routing/assignments"): ANALYST_WRITES,
    # reports
    ("GET", "/api/v1/reports/situation"): ANALYSTS,
    # forecasts, aggregates like trends (an empty store has no history: 422 past the access check)
    ("GET", "/api/v1/forecasts"): AGGREGATE_READS,
    ("GET", "/reports/situation"): PAGE_ANALYSTS,
    # trends and warnings: aggregates for analysts, admins and viewers
    ("GET", "/api/v1/trends"): access(401, OK, OK, 403, OK),
    ("GET", "/api/v1/warnings"): access(401, OK, OK, 403, OK),
    # alerts: each signed-in user's own rules and alerts (officers: their agencies' series);
    # writes with an empty body or an unknown id: access only
    ("GET", "/api/v1/alerts/rules"): SIGNED_IN,
    ("POST", "/api/v1/alerts/rules"): SIGNED_IN_READS,
    ("GET", "/api/v1/alerts/rules/{rule_id}"): SIGNED_IN_READS,
    ("PUT", "/api/v1/alerts/rules/{rule_id}"): SIGNED_IN_READS,
    ("PATCH", "/api/v1/alerts/rules/{rule_id}"): SIGNED_IN_READS,
    ("DELETE", "/api/v1/alerts/rules/{rule_id}"): SIGNED_IN_READS,
    ("GET", "/api/v1/alerts"): SIGNED_IN,
    ("POST", "/api/v1/alerts/{alert_id}/ack"): SIGNED_IN_READS,
    ("GET", "/alerts"): PAGE,
    ("POST", "/alerts/rules"): access(LOGIN, PASSES, PASSES, PASSES, PASSES),
    ("POST", "/alerts/rules/{rule_id}/mute"): access(LOGIN, PASSES, PASSES, PASSES, PASSES),
    ("POST", "/alerts/rules/{rule_id}/delete"): access(LOGIN, PASSES, PASSES, PASSES, PASSES),
    ("POST", "/alerts/{alert_id}/ack"): access(LOGIN, PASSES, PASSES, PASSES, PASSES),
    # Open311 GeoReport v2: public reads, keyed writes (the api_key is the user's token)
    ("GET", "/open311/v2/services.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): PUBLIC,
    ("POST", "/open311/v2/requests.{fmt}"): WRITERS,
    ("GET", "/open311/v2/requests.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/tokens/{token}.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/servicerequestupdates.{fmt}"): PUBLIC,
    # dashboard
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): access(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),  # everyone ends on the sign-in page
    ("GET", "/"): PAGE,
    ("GET", "/submissions/{submission_id}"): PAGE,
    ("POST", "/submissions/{submission_id}/labels"): PAGE_ANALYSTS,
    ("GET", "/inbox/export"): PAGE,
    ("POST", "/inbox/views"): PAGE_SIGNED_IN_WRITES,
    ("POST", "/inbox/views/{view_id}/delete"): PAGE_SIGNED_IN_WRITES,
    ("GET", "/themes"): PAGE,
    ("GET", "/overview"): PAGE_READERS,
    ("GET", "/overview/forecast.json"): PAGE_READER_DATA,
    ("GET", "/overview/warnings"): PAGE_READERS,
    ("POST", "/themes/{theme_id}/decisions"): PAGE_ANALYSTS,
    ("POST", "/themes/runs"): PAGE_ANALYSTS,
    ("GET", "/cases"): PAGE,
    ("GET", "/submissions/{submission_id}/case"): PAGE,
    ("POST", "/submissions/{submission_id}/case"): PAGE_WRITER_WRITES,
    ("POST", "/answers/{answer_id}/review"): PAGE_WRITER_WRITES,
    ("GET", "/answer-templates"): PAGE_ADMIN,
    ("POST", "/answer-templates"): PAGE_ADMIN_WRITES,
    ("POST", "/answer-templates/{template_id}/delete"): PAGE_ADMIN_WRITES,
    ("GET", "/claims"): PAGE,
    ("POST", "/claims"): access(LOGIN, PASSES, PASSES, 403, 403),
    ("GET", "/rumours"): PAGE,
    ("POST", "/rumours/responses"): PAGE_WRITER_WRITES,
    ("POST", "/responses/{response_id}"): PAGE_WRITER_WRITES,
    ("GET", "/documents"): PAGE,
    ("POST", "/documents"): access(LOGIN, PASSES, PASSES, 403, 403),  # without a file: access only
    ("GET", "/documents/{document_id}"): PAGE_SIGNED_IN_WRITES,  # an unknown id: access only
    # citizens' pages
    ("GET", "/submit"): PUBLIC,
    ("POST", "/submit"): PUBLIC,
    ("GET", "/track"): PUBLIC,
    ("GET", "/track/{code}"): PUBLIC,
    ("GET", "/ask"): PUBLIC,
    ("POST", "/ask"): CITIZEN_WRITES,  # an empty question is refused: access only
    ("POST", "/track/{code}/feedback"): CITIZEN_WRITES,  # refused without an answer: access only
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; HEAD goes with GET, a mount serves its files."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found.add(("GET", f"{route.path}/{{path}}"))
            continue
        found.update((method, route.path or "") for method in route.methods or () if method != "HEAD")
    return found


@dataclass
class Caller:
    """One role's credentials: a bearer client for the API, a signed-in cookie client for pages."""

    role: str
    token: str | None
    api: httpx.Client
    page: httpx.Client
    csrf: str
    email: str | None
    password: str | None


def page_client(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Accept": "text/html"}, timeout=60)


def make_caller(server: LiveServer, role: str) -> Caller:
    if role == "anonymous":
        email = password = token = None
    elif role == "admin":
        email, password, token = EMAILS["admin"], PASSWORDS["admin"], server.admin_token
    else:
        email, password = f"{role}@example.org", "password-123"
        agencies = (AGENCY,) if role == "officer" else ()
        token = server.user_token(email, Role.agency_officer if role == "officer" else Role[role], agencies)
    page = page_client(server)
    if email is not None and password is not None:
        assert http_sign_in(page, email, password).status_code == 303
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    api = httpx.Client(base_url=server.url, headers=headers, timeout=60)
    return Caller(role, token, api, page, form_token(page, "/submit"), email, password)


@dataclass(frozen=True)
class Ids:
    """Path parameters of things that exist, so that every call tests access, not a 404."""

    submission_id: int
    theme_id: int
    code: str

    def fill(self, method: str, path: str) -> str:
        values: dict[str, object] = {
            "submission_id": self.submission_id,
            "theme_id": self.theme_id,
            "service_request_id": self.code,
            "token": self.code,
            "code": self.code,
            "service_code": "land",
            "fmt": "json",
            "case_id": UNKNOWN_ID,
            "rule_id": UNKNOWN_ID,
            "template_id": UNKNOWN_ID,
            "answer_id": UNKNOWN_ID,
            "alert_id": UNKNOWN_ID,
            "claim_id": UNKNOWN_ID,
            "response_id": UNKNOWN_ID,
            "view_id": UNKNOWN_ID,
        }
        return path.format(**(values | ROUTE_PARAMS.get((method, path), {}))) + QUERIES.get(
            (method, path), ""
        )


UNKNOWN_ID = 2**40  # writes and reads of things not made here: the access check comes first
QUERIES = {  # keep the calls cheap
    ("GET", "/api/v1/reports/situation"): "?format=html",
    ("GET", "/reports/situation"): "?format=html",
}
ROUTE_PARAMS: dict[tuple[str, str], dict[str, object]] = {
    ("GET", "/static/{path}"): {"path": "civicpulse.css"},
    ("GET", "/api-static/{path}"): {"path": "swagger-init.js"},
    ("GET", "/api/v1/agencies/{code}"): {"code": AGENCY},
    ("PUT", "/api/v1/agencies/{code}"): {"code": "matrix-unknown"},
    ("DELETE", "/api/v1/agencies/{code}"): {"code": "matrix-unknown"},
    ("GET", "/api/v1/documents/{document_id}"): {"document_id": UNKNOWN_ID},
    ("GET", "/documents/{document_id}"): {"document_id": UNKNOWN_ID},
}


def fresh_sign_in(server: LiveServer, caller: Caller) -> tuple[httpx.Client, str]:
    """A new cookie client signed in as ``caller`` (anonymous: just a session) and its CSRF token."""
    client = page_client(server)
    if caller.email is not None and caller.password is not None:
        assert http_sign_in(client, caller.email, caller.password).status_code == 303
    return client, form_token(client, "/submit")


def sign_in_again(server: LiveServer, caller: Caller, url: str) -> httpx.Response:
    login = caller.email or "viewer@example.org"
    password = caller.password or "password-123"
    client, token = fresh_sign_in(server, caller)
    try:
        return client.post(url, data={"email": login, "password": password, "csrf_token": token})
    finally:
        client.close()


def sign_out(server: LiveServer, caller: Caller, url: str) -> httpx.Response:
    client, token = fresh_sign_in(server, caller)
    try:
        return client.post(url, data={"csrf_token": token})
    finally:
        client.close()


Call = Callable[[LiveServer, Caller, str], httpx.Response]


def api_post(body: dict[str, Any]) -> Call:
    return lambda server, caller, url: caller.api.post(url, json=body)


def page_post(form: dict[str, str]) -> Call:
    return lambda server, caller, url: caller.page.post(url, data={**form, "csrf_token": caller.csrf})


def open311_post(server: LiveServer, caller: Caller, url: str) -> httpx.Response:
    form = {
        "service_code": "land",
        "description": f"Lấn chiếm đất công ({caller.role})",
        "lat": "21",
        "long": "105",
    }
    if caller.token:
        form["api_key"] = caller.token
    return caller.api.post(url, data=form)


CALLS: dict[tuple[str, str], Call] = {
    ("POST", "/api/v1/submissions"): api_post({"text": "Đèn đường hỏng", "service_code": "land"}),
    ("POST", "/api/v1/submissions/{submission_id}/labels"): api_post({"task": "topic", "value": "land"}),
    ("POST", "/api/v1/analyze"): api_post({"text": "Đường ngập sâu sau mưa"}),
    ("POST", "/api/v1/themes/{theme_id}/decisions"): api_post({"action": "rename", "value": "Ngập"}),
    ("POST", "/open311/v2/requests.{fmt}"): open311_post,
    ("POST", "/login"): sign_in_again,
    ("POST", "/logout"): sign_out,
    ("POST", "/submissions/{submission_id}/labels"): page_post({"topic": "land"}),
    ("POST", "/themes/{theme_id}/decisions"): page_post({"action": "rename", "value": "Ngập"}),
    ("POST", "/themes/runs"): page_post({}),
    ("POST", "/submit"): page_post({"text": "Rác thải tràn lan ở chợ"}),
    ("POST", "/submissions/{submission_id}/case"): page_post({}),
    ("POST", "/answers/{answer_id}/review"): page_post({}),
    ("POST", "/answer-templates"): page_post({}),
    ("POST", "/answer-templates/{template_id}/delete"): page_post({}),
    ("POST", "/track/{code}/feedback"): page_post({}),
    ("POST", "/claims"): page_post({}),
    ("POST", "/rumours/responses"): page_post({}),
    ("POST", "/responses/{response_id}"): page_post({}),
    ("POST", "/documents"): page_post({}),
    ("POST", "/ask"): page_post({}),
    ("POST", "/alerts/rules"): page_post({}),
    ("POST", "/alerts/rules/{rule_id}/mute"): page_post({}),
    ("POST", "/alerts/rules/{rule_id}/delete"): page_post({}),
    ("POST", "/alerts/{alert_id}/ack"): page_post({}),
    ("POST", "/inbox/views"): page_post({}),
    ("POST", "/inbox/views/{view_id}/delete"): page_post({}),
}


def default_call(method: str) -> Call:
    """The API client under /api and /open311 (an empty JSON body for writes), the page client elsewhere."""

    def call(server: LiveServer, caller: Caller, url: str) -> httpx.Response:
        if url.startswith(("/api/", "/open311/")):
            return caller.api.request(method, url, json={} if method in ("POST", "PUT") else None)
        return caller.page.request(method, url)

    return call


def outcome(response: httpx.Response, expected: Outcome) -> Outcome:
    """What happened, in the table's words."""
    if response.status_code in (401, 403):
        return response.status_code
    if response.is_redirect and response.headers.get("location", "").startswith("/login"):
        return LOGIN
    if response.is_success or response.is_redirect:
        return OK if expected != PASSES else PASSES
    if expected == PASSES and response.status_code < 500:
        return PASSES
    return response.status_code


def existing_things(server: LiveServer) -> Ids:
    """A submission of the officer's agency with a contact, an Open311 request and a stored theme."""
    request = {"api_key": server.admin_token, "service_code": "land", "description": "Cột điện nghiêng"}
    with server.client() as client:
        item = {"text": "Lấn chiếm vỉa hè", "service_code": "land", "contact": {"phone": "0912345678"}}
        created = client.post("/api/v1/submissions", json=item)
        posted = client.post("/open311/v2/requests.json", data={**request, "lat": "21", "long": "105"})
    assert created.status_code == 201, created.text
    assert posted.status_code == 201, posted.text
    with server.db.write() as session:
        run = ThemeRunRow(
            slice_key="matrix", items=0, unassigned=0, unassigned_share=0.0, model="test", space={}
        )
        session.add(run)
        session.flush()
        session.add(ThemeRow(run_id=run.id, theme_id=1, label="Ngập", senders=1, weight=1.0, detail={}))
    return Ids(created.json()["id"], 1, posted.json()[0]["service_request_id"])


def test_every_route_has_a_decided_access_for_every_role(live_server: LiveServer) -> None:
    routes = app_routes(create_app(live_server.settings, run_workers=False))
    assert sorted(routes - set(EXPECTED)) == [], (
        "routes without an entry in EXPECTED: decide who may call them"
    )
    assert sorted(set(EXPECTED) - routes) == [], "entries of EXPECTED for routes that no longer exist"

    ids = existing_things(live_server)
    callers = [make_caller(live_server, role) for role in ROLES]
    observed: dict[tuple[str, str], dict[str, Outcome]] = {}
    try:
        for key in sorted(EXPECTED):
            call = CALLS.get(key) or default_call(key[0])
            url = ids.fill(*key)
            observed[key] = {
                caller.role: outcome(call(live_server, caller, url), EXPECTED[key][caller.role])
                for caller in callers
            }
    finally:
        for caller in callers:
            caller.api.close()
            caller.page.close()
    wrong = {key: (EXPECTED[key], seen) for key, seen in observed.items() if seen != EXPECTED[key]}
    assert wrong == {}
