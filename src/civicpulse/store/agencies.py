"""The stored agencies directory: rows in, rows out (the cases layer validates them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from civicpulse.store.tables import AgencyRow, CaseRow, utcnow

AGENCY_FIELDS = (
    "name_vi",
    "name_en",
    "kind",
    "parent",
    "provinces",
    "communes",
    "topics",
    "email",
    "days_off",
    "needs_approval",
)


def stored_agencies(session: Session) -> list[AgencyRow]:
    """Every stored agency, by code."""
    return list(session.scalars(select(AgencyRow).order_by(AgencyRow.code)))


def upsert_agencies(session: Session, agencies: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """Insert or replace agencies given as ``code`` plus ``AGENCY_FIELDS``; (created, updated)."""
    created = updated = 0
    now = utcnow()
    for values in agencies:
        row = session.get(AgencyRow, values["code"])
        if row is None:
            row = AgencyRow(code=values["code"])
            session.add(row)
            created += 1
        else:
            updated += 1
        for name in AGENCY_FIELDS:
            setattr(row, name, values.get(name))
        row.updated_at = now
    session.flush()
    return created, updated


def agency_in_use(session: Session, code: str) -> str | None:
    """Why ``code`` cannot be removed (cases or other agencies refer to it), or ``None``."""
    cases = session.scalar(
        select(func.count(CaseRow.id)).where(or_(CaseRow.agency == code, CaseRow.handler == code))
    )
    if cases:
        return f"{cases} case(s) are handled by {code!r}"
    children = session.scalars(select(AgencyRow.code).where(AgencyRow.parent == code)).all()
    if children:
        return f"{', '.join(children)} escalate(s) to {code!r}"
    return None


def delete_agency(session: Session, code: str) -> bool:
    """Remove a stored agency; whether there was one."""
    return bool(session.execute(delete(AgencyRow).where(AgencyRow.code == code)).rowcount)
