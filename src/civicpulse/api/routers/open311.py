"""Open311 GeoReport v2 under /open311/v2 (being built)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

router = APIRouter(prefix="/open311/v2", tags=["open311"])


def render_open311_error(request: Request, status: int, message: str) -> Response:
    """Errors in the GeoReport v2 shape: a list of ``{code, description}``."""
    return JSONResponse([{"code": status, "description": message}], status_code=status)
