"""``POST /api/v1/analyze``: run the analysis stages on a text and store nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.summary import summarize
from civicpulse.api.context import AppContext
from civicpulse.api.deps import Ctx, CurrentUser
from civicpulse.domain import AnalysisOut, ShortText, Strict, SubmissionText
from civicpulse.errors import Unprocessable
from civicpulse.insight.campaigns import CampaignRules, campaign_for_group

router = APIRouter(prefix="/api/v1", tags=["analysis"])


class AnalyzeIn(Strict):
    """A text to analyse, with optional hints."""

    text: SubmissionText
    language: Annotated[str, Field(min_length=2, max_length=16)] | None = None
    locality: ShortText | None = None


@router.post("/analyze", response_model=AnalysisOut)
async def analyze(body: AnalyzeIn, ctx: Ctx, user: CurrentUser) -> AnalysisOut:
    """What the analysis stages make of a text; nothing is stored."""
    item = AnalysisItem(id=0, text=body.text, language_hint=body.language, locality=body.locality)
    pipeline = await run_in_threadpool(ctx.analysis.get)
    result = await run_in_threadpool(pipeline.run, [item])
    if 0 in result.failures:
        raise Unprocessable(f"the text could not be analysed: {result.failures[0]}")
    summary = summarize(result.outputs[0], body.text)
    group = result.outputs[0].get("dedup", {}).get("group")
    if group is not None and group > 0:
        campaign = await run_in_threadpool(_campaign, ctx, group)
        summary = summary.model_copy(update={"campaign": campaign})
    return summary


def _campaign(ctx: AppContext, group: int) -> dict | None:
    with ctx.db.read() as session:
        found = campaign_for_group(session, group, CampaignRules.from_settings(ctx.settings))
    return None if found is None else found.as_dict()
