"""The public view of one item's analysis: the fields the API and ``civicpulse analyze`` return."""

from __future__ import annotations

from typing import Any

from civicpulse.domain import AnalysisOut


def summarize(outputs: dict[str, dict[str, Any]], text: str) -> AnalysisOut:
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
