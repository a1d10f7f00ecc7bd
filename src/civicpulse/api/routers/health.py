"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 once the server has migrated the store and started its workers, 503 before."""
    ready = bool(getattr(request.app.state, "ready", False))
    return JSONResponse({"status": "ok" if ready else "starting"}, status_code=200 if ready else 503)
