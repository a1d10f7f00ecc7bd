"""A slice of the store as theming reads it: redacted texts (and their restored text), figures'
inputs, vectors, weights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.annotations import (
    LanguageOut,
    NormalizeOut,
    PiiOut,
    PlacesOut,
    SentimentOut,
    StageOutput,
    TopicOut,
    UrgencyOut,
    output_of,
    parse_stored,
)
from civicpulse.errors import Unprocessable
from civicpulse.insight.campaigns import count_once
from civicpulse.insight.themes.represent import ThemeItem
from civicpulse.store.labels import current_labels
from civicpulse.store.tables import AnnotationRow, SubmissionRow
from civicpulse.store.vectors import load_vectors, stored_models

_READ = (PiiOut, NormalizeOut, TopicOut, SentimentOut, PlacesOut, LanguageOut, UrgencyOut)
_STAGES = tuple(model.stage for model in _READ)


@dataclass(frozen=True)
class ThemeSlice:
    """Which submissions a theme run covers."""

    since: datetime | None = None
    until: datetime | None = None
    topic: str | None = None
    place: str | None = None
    agencies: tuple[str, ...] | None = None  # an agency officer sees only their agencies' submissions

    def key(self) -> str:
        """A stable name of the slice, to find its earlier runs."""
        parts = [
            self.since.isoformat() if self.since else "",
            self.until.isoformat() if self.until else "",
            self.topic or "",
            self.place or "",
            ",".join(sorted(self.agencies)) if self.agencies is not None else "*",
        ]
        return "|".join(parts)


def load_slice(
    session: Session, cut: ThemeSlice, model: str | None = None
) -> tuple[list[ThemeItem], np.ndarray, str, int]:
    """``(items, vectors, model, without_vector)`` of the slice: redacted texts only (with their
    restored text where the analysis restored diacritics); analysts' corrections win over topic and
    sentiment; campaign members weigh 1 together."""
    if cut.since and cut.until and cut.since >= cut.until:
        raise Unprocessable("'from' must be before 'to'")
    query = select(SubmissionRow.id, SubmissionRow.sender_key, SubmissionRow.received_at)
    if cut.since:
        query = query.where(SubmissionRow.received_at >= cut.since)
    if cut.until:
        query = query.where(SubmissionRow.received_at < cut.until)
    if cut.agencies is not None:
        query = query.where(SubmissionRow.agency.in_(list(cut.agencies)))
    rows = session.execute(query.order_by(SubmissionRow.id)).all()
    ids = [r.id for r in rows]
    outputs: dict[int, dict[str, StageOutput]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = select(AnnotationRow.submission_id, AnnotationRow.stage, AnnotationRow.data).where(
            AnnotationRow.submission_id.in_(chunk), AnnotationRow.stage.in_(_STAGES)
        )
        for sid, stage, data in session.execute(found):
            if (parsed := parse_stored(stage, data)) is not None:
                outputs.setdefault(sid, {})[stage] = parsed
    labels = current_labels(session, ids) if ids else {}
    items: list[ThemeItem] = []
    for row in rows:
        out = outputs.get(row.id, {})
        pii = output_of(out, PiiOut)
        if pii is None or not pii.redacted_text.strip():
            continue  # never theme raw text
        places, topic_out = output_of(out, PlacesOut), output_of(out, TopicOut)
        sentiment_out, language = output_of(out, SentimentOut), output_of(out, LanguageOut)
        province = places.province if places is not None else None
        topic = labels.get(row.id, {}).get("topic") or (topic_out.code if topic_out else None)
        if cut.topic and topic != cut.topic:
            continue
        if cut.place and (province is None or cut.place not in (province.code, province.name)):
            continue
        predicted = sentiment_out.label if sentiment_out else None
        sentiment = labels.get(row.id, {}).get("sentiment") or predicted
        items.append(
            ThemeItem(
                row.id,
                pii.redacted_text,
                row.sender_key,
                row.received_at,
                sentiment,
                province.name if province else None,
                topic,
                language=language.language if language else None,
                urgency=urgency.score if (urgency := output_of(out, UrgencyOut)) else None,
                restored=restored_text(out),
            )
        )
    models = stored_models(session)
    model = model or (max(models, key=lambda m: (models[m], m)) if models else "")
    vector_ids, matrix = (
        load_vectors(session, model, [i.id for i in items]) if items and model else ([], None)
    )
    position = {int(sid): k for k, sid in enumerate(vector_ids)}
    kept = [item for item in items if item.id in position]
    weights = count_once(session, [item.id for item in kept]) if kept else {}
    kept = [_weighted(item, weights.get(item.id, 1.0)) for item in kept]
    vectors = matrix[[position[i.id] for i in kept]] if kept else np.zeros((0, 0), np.float32)
    return kept, vectors, model, len(items) - len(kept)


def restored_text(outputs: Mapping[str, StageOutput]) -> str | None:
    """The redacted text with diacritics restored, when the normalize stage restored them (the
    text the embedder read, as the submission's page shows it)."""
    normalized, pii = output_of(outputs, NormalizeOut), output_of(outputs, PiiOut)
    if normalized is None or not normalized.restored or pii is None or not pii.model_text:
        return None
    return pii.model_text if pii.model_text.strip() else None


def _weighted(item: ThemeItem, weight: float) -> ThemeItem:
    return replace(item, weight=weight)
