"""``POST /api/v1/analyze``: run the analysis stages on a text and store nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from civicpulse.api.deps import Ctx, CurrentUser
from civicpulse.domain import AnalysisOut, ShortText, Strict, SubmissionText

router = APIRouter(prefix="/api/v1", tags=["analysis"])


class AnalyzeIn(Strict):
    """A text to analyse, with optional hints."""

    text: SubmissionText
    language: Annotated[str, Field(min_length=2, max_length=16)] | None = None
    locality: ShortText | None = None


@router.post("/analyze", response_model=AnalysisOut)
async def analyze(body: AnalyzeIn, ctx: Ctx, user: CurrentUser) -> AnalysisOut:
    """What the analysis stages make of a text; nothing is stored."""
    return await run_in_threadpool(ctx.runtime.analyze_text, body.text, body.language, body.locality)
