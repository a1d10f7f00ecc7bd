"""Analysts' corrections (topic, sentiment, toxicity): stored as facts, winning over the models."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpulse.annotations import PiiOut, stored_redacted_text
from civicpulse.domain import SENTIMENT_LABELS, TOXICITY_LABELS
from civicpulse.errors import NotFound, Unprocessable
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import AnnotationRow, EventRow, LabelRow, SubmissionRow, utcnow

TASKS = ("topic", "sentiment", "toxicity")


def allowed_values(task: str, topic_codes: Iterable[str]) -> tuple[str, ...]:
    """The values a correction of ``task`` may take."""
    if task == "topic":
        return tuple(topic_codes)
    if task == "sentiment":
        return SENTIMENT_LABELS
    if task == "toxicity":
        return TOXICITY_LABELS
    raise Unprocessable(f"unknown task {task!r}; known: {', '.join(TASKS)}")


def record_corrections(
    session: Session,
    submission_id: int,
    labels: Mapping[str, str],
    *,
    actor: str,
    topic_codes: Iterable[str],
    client: str | None = None,
    status: int | None = None,
) -> list[LabelRow]:
    """Validate and store an analyst's corrections of one submission (``task -> value``), each with a
    line in the submission's history, and one audit event for them all (``status`` is the caller's
    response status)."""
    codes = tuple(topic_codes)
    rows = [
        _add_label(session, submission_id, task, value, actor=actor, topic_codes=codes)
        for task, value in labels.items()
    ]
    record_audit(
        session,
        actor=actor,
        action="label.create",
        target=f"submission:{submission_id}",
        client=client,
        status=status,
        detail=dict(labels),
    )
    return rows


def _add_label(
    session: Session, submission_id: int, task: str, value: str, *, actor: str, topic_codes: Iterable[str]
) -> LabelRow:
    """Record a correction (and a line in the submission's history)."""
    allowed = allowed_values(task, topic_codes)
    if value not in allowed:
        raise Unprocessable(f"{value!r} is not a {task}; choose one of: {', '.join(allowed)}")
    if session.get(SubmissionRow, submission_id) is None:
        raise NotFound(f"submission {submission_id} does not exist")
    now = utcnow()
    row = LabelRow(submission_id=submission_id, task=task, value=value, actor=actor, created_at=now)
    session.add(row)
    session.add(
        EventRow(
            submission_id=submission_id,
            at=now,
            kind="corrected",
            actor=actor,
            detail={"task": task, "value": value},
        )
    )
    session.flush()
    return row


def current_labels(session: Session, submission_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """The latest correction per task of each submission."""
    ids = list(submission_ids)
    if not ids:
        return {}
    latest = (
        select(func.max(LabelRow.id))
        .where(LabelRow.submission_id.in_(ids))
        .group_by(LabelRow.submission_id, LabelRow.task)
    )
    found: dict[int, dict[str, str]] = {}
    for row in session.scalars(select(LabelRow).where(LabelRow.id.in_(latest))):
        found.setdefault(row.submission_id, {})[row.task] = row.value
    return found


def labelled_texts(session: Session, task: str) -> list[tuple[str, str]]:
    """``(redacted text, label)`` of the latest correction of each submission for ``task``.

    Models keep their vocabulary, so they are trained on redacted text only: a model file must
    never carry personal data.
    """
    latest = select(func.max(LabelRow.id)).where(LabelRow.task == task).group_by(LabelRow.submission_id)
    rows = session.execute(
        select(LabelRow.value, AnnotationRow.data)
        .join(
            AnnotationRow,
            (AnnotationRow.submission_id == LabelRow.submission_id) & (AnnotationRow.stage == PiiOut.stage),
        )
        .where(LabelRow.id.in_(latest))
        .order_by(LabelRow.submission_id)
    )
    return [(text, value) for value, data in rows if (text := stored_redacted_text(data)) is not None]
