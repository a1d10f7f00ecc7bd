"""Where a bench's database time goes: the statements a block of code runs, timed from the
client, and on PostgreSQL each one's own server time by ``EXPLAIN (ANALYZE, BUFFERS)``."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class Statements:
    """Statements run while recording: ``(sql, parameters, seconds from the client)``."""

    runs: list[tuple[str, Any, float]] = field(default_factory=list)

    def by_text(self) -> list[tuple[str, int, float]]:
        """``(first words of the SQL, times run, total seconds)``, the longest first."""
        found: dict[str, list[float]] = defaultdict(list)
        for sql, _, seconds in self.runs:
            found[_short(sql)].append(seconds)
        return sorted(((sql, len(t), sum(t)) for sql, t in found.items()), key=lambda item: -item[2])


def _short(sql: str, width: int = 110) -> str:
    return " ".join(sql.split())[:width]


@contextmanager
def recorded(engine: Engine) -> Iterator[Statements]:
    """Record every statement the engine runs inside the block."""
    found = Statements()
    started: list[float] = []

    def before(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool) -> None:
        started.append(time.perf_counter())

    def after(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool) -> None:
        found.runs.append((sql, parameters, time.perf_counter() - started.pop()))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def explained(engine: Engine, statements: Statements) -> list[tuple[str, int, float, float, str]]:
    """On PostgreSQL: ``(SQL, times run, server execution ms, planning ms, top plan node)`` of each
    recorded ``SELECT`` run again under ``EXPLAIN (ANALYZE, BUFFERS)``, summed per SQL text, the
    longest first."""
    totals: dict[str, list[Any]] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for sql, parameters, _ in statements.runs:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, parameters)
            plan = cursor.fetchone()[0][0]
            entry = totals.setdefault(_short(sql), [0, 0.0, 0.0, _nodes(plan["Plan"])])
            entry[0] += 1
            entry[1] += plan["Execution Time"]
            entry[2] += plan["Planning Time"]
        raw.rollback()
    finally:
        raw.close()
    return sorted(((sql, *values) for sql, values in totals.items()), key=lambda item: -item[2])


def _nodes(plan: dict[str, Any], depth: int = 0) -> str:
    """The plan's nodes, one per line, with their rows, time and shared buffers read or hit."""
    label = plan["Node Type"] + (f" on {plan['Relation Name']}" if "Relation Name" in plan else "")
    if "Index Name" in plan:
        label += f" using {plan['Index Name']}"
    line = (
        f"{'  ' * depth}{label}: rows {plan.get('Actual Rows')} x{plan.get('Actual Loops')}, "
        f"{plan.get('Actual Total Time', 0):.1f} ms, buffers hit {plan.get('Shared Hit Blocks', 0)} "
        f"read {plan.get('Shared Read Blocks', 0)}"
    )
    return "\n".join([line, *(_nodes(child, depth + 1) for child in plan.get("Plans", []))])
