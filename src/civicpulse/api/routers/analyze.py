"""``POST /api/v1/analyze``: run the analysis stages on a text and store nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from civicpulse.analysis.base import AnalysisItem
from civicpulse.api.deps import Ctx, CurrentUser
from civicpulse.domain import AnalysisOut, ShortText, Strict, SubmissionText
from civicpulse.errors import Unprocessable

router = APIRouter(prefix="/api/v1", tags=["analysis"])


class AnalyzeIn(Strict):
    """A text to analyse, with optional hints."""

    text: SubmissionText
    language: Annotated[str, Field(min_length=2, max_length=16)] | None = None
    locality: ShortText | None = None


def to_analysis(outputs: dict[str, dict[str, Any]], text: str) -> AnalysisOut:
    """The API's view of the stages' outputs (fields absent when their stage is not configured)."""
    language = outputs.get("language", {})
    normalize = outputs.get("normalize", {})
    pii = outputs.get("pii", {})
    places = outputs.get("places", {})
    dedup = outputs.get("dedup", {})
    return AnalysisOut(
        language=language.get("language"),
        text_restored=normalize.get("text", text),
        redacted_text=pii.get("redacted_text"),
        pii=[{k: span[k] for k in ("type", "start", "end")} for span in pii.get("spans", [])],
        topic=outputs.get("topic"),
        sentiment=outputs.get("sentiment"),
        urgency=outputs.get("urgency"),
        places=_places(places),
        toxicity=outputs.get("toxicity"),
        duplicate_of=dedup.get("duplicate_of"),
        campaign=dedup.get("campaign"),
        stages={
            name: {k: v for k, v in out.items() if not k.startswith("_")} for name, out in outputs.items()
        },
    )


def _places(output: dict[str, Any]) -> list[dict[str, Any]]:
    """Units mentioned, plus the province they resolve to when it was not named itself."""
    found = [{k: p.get(k) for k in ("name", "level", "code")} for p in output.get("places", [])]
    province = output.get("province")
    if province and not any(p["level"] == "province" and p["code"] == province["code"] for p in found):
        found.append({"name": province["name"], "level": "province", "code": province["code"]})
    return found


@router.post("/analyze", response_model=AnalysisOut)
async def analyze(body: AnalyzeIn, ctx: Ctx, user: CurrentUser) -> AnalysisOut:
    """What the analysis stages make of a text; nothing is stored."""
    item = AnalysisItem(id=0, text=body.text, language_hint=body.language, locality=body.locality)
    pipeline = await run_in_threadpool(ctx.analysis.get)
    result = await run_in_threadpool(pipeline.run, [item])
    if 0 in result.failures:
        raise Unprocessable(f"the text could not be analysed: {result.failures[0]}")
    return to_analysis(result.outputs[0], body.text)
