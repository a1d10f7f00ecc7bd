"""The OpenAPI contract: FastAPI's generated schema, completed with what each operation may answer.

FastAPI documents the success answer and a 422 of its own shape. ``install_openapi`` post-processes
that schema once: the security schemes (bearer token, dashboard cookie) on the operations that need a
user, and every error answer the operation can give in the body it really has (``ErrorBody`` under
/api, the GeoReport v2 error list under /open311). The answers are derived from the route
(``derived_statuses``) plus the small table ``SPECIAL`` for what a route cannot tell; an error a route
declares itself (``responses={409: {"description": ...}}``) gets the error body too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from civicpulse.intake.open311 import FORMATS, POST_FIELDS

OPEN311_PREFIX = "/open311/"
BEARER, COOKIE = "bearerToken", "sessionCookie"
SECURITY_SCHEMES = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`civicpulse token create`); the only way to write under /api.",
    },
    COOKIE: {
        "type": "apiKey",
        "in": "cookie",
        "name": "civicpulse_session",
        "description": "The dashboard's session cookie; read-only calls under /api.",
    },
}

ERROR_BODY = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code."},
                "message": {"type": "string"},
                "details": {"description": "More about the error, e.g. the invalid fields."},
            },
        }
    },
}
OPEN311_ERRORS = {
    "title": "Open311Errors",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
OPEN311_JSON_BODY = {"type": "array", "items": {"type": "object"}}
OPEN311_XML = "text/xml"
HEALTH_BODY = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["ok", "starting"]}},
}

DESCRIPTIONS = {
    400: "The request cannot be read (a body that is not JSON, a malformed cursor or form).",
    401: "No valid credentials: sign in or send `Authorization: Bearer <token>`.",
    403: "The user's role or agency may not do this.",
    404: "Not found.",
    409: "Conflicts with the stored state.",
    413: "The request body is larger than the server's limit (`max_body_bytes`).",
    415: "The file is not of a type this route reads.",
    422: "Invalid input; `details.fields` names each invalid field.",
    429: "Too many requests from this client; try again after `Retry-After` seconds.",
    503: "The server is starting: the store is not migrated or the workers are not running yet.",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before the next try.",
        "schema": {"type": "integer", "minimum": 0},
    }
}

# What a dependency (by qualified name) may answer; rate limits are recognised by name.
DEPENDENCY_STATUSES: dict[str, tuple[int, ...]] = {
    "current_user": (401,),
    "optional_user": (401,),
    "require_roles.<locals>.check": (403,),
}
RATE_LIMIT_MARK = "rate_limit"
FASTAPI_422 = "Validation Error"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Special:
    """What a route cannot tell about itself."""

    statuses: tuple[int, ...] = ()
    duplicate: bool = False  # 201 for a new item, 200 (same body) for one stored before
    form_fields: frozenset[str] = field(default_factory=frozenset)
    body: dict[str, Any] | None = None  # the JSON schema of a success answer built by hand
    body_statuses: tuple[int, ...] = ()  # statuses answered with ``body`` rather than an error body


SPECIAL: dict[tuple[str, str], Special] = {
    ("GET", "/healthz"): Special(body=HEALTH_BODY, body_statuses=(503,)),
    ("POST", "/api/v1/submissions"): Special(duplicate=True),
    ("GET", "/api/v1/submissions"): Special(statuses=(400,)),  # a malformed cursor
    ("GET", "/api/v1/submissions/{submission_id}"): Special(statuses=(403,)),  # another agency's
    ("GET", "/api/v1/submissions/{submission_id}/contact"): Special(statuses=(403,)),  # not the handler
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): Special(body={"type": "object"}),
    ("GET", "/open311/v2/requests.{fmt}"): Special(statuses=(400,)),  # filters
    ("POST", "/api/v1/submissions/{submission_id}/case"): Special(statuses=(409,)),  # not allowed now
    ("POST", "/api/v1/cases/{case_id}/merge"): Special(statuses=(409,)),
    ("POST", "/api/v1/cases/{case_id}/split"): Special(statuses=(409,)),
    ("PUT", "/api/v1/answer-templates/{template_id}"): Special(statuses=(409,)),  # the code is taken
    ("DELETE", "/api/v1/agencies/{code}"): Special(statuses=(409,)),  # still referred to
    ("POST", "/api/v1/answers/{answer_id}/approve"): Special(statuses=(409,)),  # the case moved on
    ("POST", "/api/v1/answers/{answer_id}/return"): Special(statuses=(409,)),
    ("POST", "/api/v1/answers/bulk"): Special(statuses=(404, 409)),  # an unknown campaign or theme
    ("POST", "/api/v1/responses"): Special(statuses=(404,)),  # an unknown claim
    ("PUT", "/api/v1/responses/{response_id}"): Special(statuses=(409,)),  # published already
    ("POST", "/api/v1/responses/{response_id}/approve"): Special(statuses=(409,)),  # not a draft
    ("POST", "/api/v1/responses/{response_id}/return"): Special(statuses=(409,)),
    ("POST", "/api/v1/responses/{response_id}/publish"): Special(statuses=(409,)),  # not approved
    ("POST", "/api/v1/alerts/rules"): Special(statuses=(403,)),  # a series outside the owner's sight
    ("PUT", "/api/v1/alerts/rules/{rule_id}"): Special(statuses=(403,)),
    ("PATCH", "/api/v1/alerts/rules/{rule_id}"): Special(statuses=(403,)),
    # stored already; too large; not a document
    ("POST", "/api/v1/documents"): Special(statuses=(409, 413, 415)),
    ("POST", "/open311/v2/requests.{fmt}"): Special(
        statuses=(400, 401, 403, 413), duplicate=True, form_fields=POST_FIELDS
    ),
}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the completed schema (built once, on first use)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(app.state, "openapi_completed", False):
            complete_schema(generate(), app)
            app.state.openapi_completed = True
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete_schema(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Add security and error answers to every operation of ``schema`` (in place)."""
    components = schema.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    schemas = components.setdefault("schemas", {})
    schemas["ErrorBody"] = ERROR_BODY
    schemas["Open311Errors"] = OPEN311_ERRORS
    for method, path, route in api_routes(app):
        operation = schema["paths"].get(path, {}).get(method.lower())
        if operation is not None:
            complete_operation(operation, method, path, route)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """(method, path, route) of every documented API route."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema and context.path_format:
            for method in sorted(context.methods or ()):
                yield method, context.path_format, route


def dependants(dependant: Dependant) -> Iterator[Dependant]:
    """``dependant`` and every dependency below it."""
    yield dependant
    for sub in dependant.dependencies:
        yield from dependants(sub)


def dependency_names(dependant: Dependant) -> Iterator[str]:
    """The qualified names of every dependency, nested ones included."""
    for sub in list(dependants(dependant))[1:]:
        yield getattr(sub.call, "__qualname__", repr(sub.call))


def derived_statuses(route: APIRoute, method: str) -> set[int]:
    """The error statuses a route's own declaration implies."""
    statuses: set[int] = set()
    for name in dependency_names(route.dependant):
        statuses.update(DEPENDENCY_STATUSES.get(name, ()))
        if RATE_LIMIT_MARK in name:
            statuses.add(429)
        if name == "optional_user" and method not in SAFE_METHODS:
            statuses.add(429)  # a write with a bearer token counts against that token's budget
    every = list(dependants(route.dependant))
    if any(d.path_params for d in every):
        statuses.add(404)
    if any(d.path_params or d.query_params or d.header_params or d.body_params for d in every):
        statuses.add(422)
    if any(d.body_params for d in every):
        statuses.update((400, 413))  # 400: a body that is not JSON
    return statuses


def security_of(route: APIRoute, method: str, path: str) -> list[dict[str, list[str]]] | None:
    """Who may call: a user's bearer token or (for reads under /api) the session cookie."""
    names = set(dependency_names(route.dependant))
    if not names & {"current_user", "optional_user"}:
        return None
    schemes = [{BEARER: []}]
    if method in SAFE_METHODS or not path.startswith("/api/"):
        schemes.append({COOKIE: []})
    if "current_user" not in names:
        schemes.append({})  # anonymous callers are welcome too
    return schemes


def complete_operation(operation: dict[str, Any], method: str, path: str, route: APIRoute) -> None:
    """Security, success and error answers of one operation."""
    special = SPECIAL.get((method, path), Special())
    responses: dict[str, Any] = operation.setdefault("responses", {})
    security = security_of(route, method, path)
    if security is not None:
        operation["security"] = security
    open311 = path.startswith(OPEN311_PREFIX)
    if open311:
        _open311_success(operation, responses, special)
    elif special.body is not None:
        responses["200"]["content"] = {"application/json": {"schema": special.body}}
    if special.duplicate and "201" in responses:
        responses["200"] = {
            "description": "Stored before (a duplicate): the same answer as when it was created.",
            "content": responses["201"].get("content", {}),
        }
    if special.form_fields:
        operation["requestBody"] = _form_body(special.form_fields)
    declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    for status in sorted(derived_statuses(route, method) | set(special.statuses) | declared):
        described = responses.get(str(status), {}).get("description")
        responses[str(status)] = _error_answer(status, open311, described)
    for status in special.body_statuses:
        content = {"application/json": {"schema": special.body}}
        responses[str(status)] = {"description": DESCRIPTIONS[status], "content": content}


def _open311_success(operation: dict[str, Any], responses: dict[str, Any], special: Special) -> None:
    body = special.body or OPEN311_JSON_BODY
    content = {"application/json": {"schema": body}, OPEN311_XML: {"schema": {"type": "string"}}}
    for status in ("200", "201"):
        if status in responses or (status == "201" and special.duplicate):
            responses[status] = {
                "description": responses.get(status, {}).get("description", "OK"),
                "content": content,
            }
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "fmt" and parameter.get("in") == "path":
            parameter["schema"] = {"type": "string", "enum": list(FORMATS)}
            parameter["description"] = "The answer's format."


def _form_body(fields: frozenset[str]) -> dict[str, Any]:
    properties = {name: {"type": "string"} for name in sorted(fields)}
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": schema},
            "multipart/form-data": {"schema": schema},
        },
    }


def _error_answer(status: int, open311: bool, described: str | None = None) -> dict[str, Any]:
    if open311:
        content = {
            "application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}},
            OPEN311_XML: {"schema": {"type": "string"}},
        }
    else:
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    if described in (None, FASTAPI_422):
        described = DESCRIPTIONS.get(status, "Error.")
    answer: dict[str, Any] = {"description": described, "content": content}
    if status == 429:
        answer["headers"] = RETRY_AFTER
    return answer
