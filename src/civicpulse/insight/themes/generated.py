"""Optional abstractive theme labels and summaries from a chat model, every sentence cited.

The model sees only a theme's keywords and numbered verbatim excerpts of redacted text. An answer
is kept only when its label is short and every summary sentence cites at least one excerpt it was
shown; anything else is dropped (the extractive label and summary remain).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from civicpulse.insight.themes.models import CitedSentence, GeneratedText
from civicpulse.insight.themes.represent import Theme, ThemeItem, window
from civicpulse.llm import ChatClient, LLMError

log = logging.getLogger(__name__)

EXCERPTS = 8
EXCERPT_CHARS = 300
LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English"}

SYSTEM = (
    "You help public officials read citizens' feedback. You are given the keywords of one theme and "
    "numbered excerpts of submissions (personal data already replaced by placeholders such as "
    "[PHONE]). Use only what the excerpts say; do not invent facts, numbers or places. Answer with a "
    'JSON object: {"label": a short title of the issue (at most 8 words), "summary": a list of 1 to '
    '3 objects {"text": one plain sentence, "cites": the excerpt numbers it rests on}}. Every '
    "sentence must cite at least one excerpt. Write in {language}."
)


class _Sentence(BaseModel):
    text: str = Field(min_length=3, max_length=400)
    cites: list[int] = Field(min_length=1, max_length=10)


class _Answer(BaseModel):
    label: str = Field(min_length=2, max_length=120)
    summary: list[_Sentence] = Field(min_length=1, max_length=3)


def excerpts_of(theme: Theme, members: Sequence[ThemeItem]) -> list[tuple[int, str]]:
    """``(submission id, redacted excerpt)`` shown to the model: the theme's quotes and summary
    sentences, then the beginnings of other members, at most ``EXCERPTS``."""
    chosen: list[tuple[int, str]] = []
    seen: set[str] = set()
    candidates = [(q.submission_id, q.text) for q in theme.quotes + theme.summary]
    candidates += [(m.id, window(m.text, 0, len(m.text), EXCERPT_CHARS)) for m in members]
    for sid, text in candidates:
        key = text.strip().lower()
        if len(key) < 3 or key in seen:
            continue
        seen.add(key)
        chosen.append((sid, text.strip()))
        if len(chosen) == EXCERPTS:
            break
    return chosen


def main_language(members: Sequence[ThemeItem]) -> str:
    """The language most members are in (``vi`` when unknown)."""
    counts: dict[str, float] = {}
    for m in members:
        if m.language:
            counts[m.language] = counts.get(m.language, 0.0) + m.weight
    return max(counts, key=lambda k: (counts[k], k)) if counts else "vi"


def generate(client: ChatClient, theme: Theme, members: Sequence[ThemeItem]) -> GeneratedText | None:
    """The model's label and cited summary of ``theme``, or ``None`` when it failed or its answer
    did not cite the excerpts it was shown."""
    excerpts = excerpts_of(theme, members)
    if not excerpts:
        return None
    language = main_language(members)
    lines = [f"Keywords: {', '.join(k.replace('_', ' ') for k in theme.keywords)}", "Excerpts:"]
    lines += [f"[{n}] {text}" for n, (_, text) in enumerate(excerpts, start=1)]
    system = SYSTEM.replace("{language}", LANGUAGE_NAMES.get(language, language))
    try:
        raw: dict[str, Any] = client.complete_json(system, "\n".join(lines))
        answer = _Answer.model_validate(raw)
    except (LLMError, ValidationError) as exc:
        log.warning("theme %s: generated label dropped: %s", theme.index, str(exc)[:300])
        return None
    summary = []
    for sentence in answer.summary:
        if any(not 1 <= n <= len(excerpts) for n in sentence.cites):
            log.warning("theme %s: generated sentence cites an excerpt it was not shown", theme.index)
            return None
        ids = sorted({excerpts[n - 1][0] for n in sentence.cites})
        summary.append(CitedSentence(text=sentence.text.strip(), submission_ids=ids))
    return GeneratedText(label=answer.label.strip(), summary=summary, model=client.model)
