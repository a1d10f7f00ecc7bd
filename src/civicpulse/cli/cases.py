"""Cases and agencies: ``agencies import|list|export`` and ``cases overdue|escalate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from civicpulse.cli.base import app, cannot_write, err, fail, load_settings, open_store
from civicpulse.errors import CivicPulseError

agencies_app = typer.Typer(help="The agencies directory.", no_args_is_help=True)
cases_app = typer.Typer(help="Cases and their deadlines.", no_args_is_help=True)
app.add_typer(agencies_app, name="agencies")
app.add_typer(cases_app, name="cases")


def _format_of(path: Path, given: str | None) -> str:
    fmt = given or path.suffix.lstrip(".").lower()
    if fmt not in ("toml", "csv"):
        err.print(f"[red]error:[/red] say --format toml or csv for {path}")
        raise typer.Exit(2)
    return fmt


@agencies_app.command("import")
def agencies_import(
    file: Annotated[Path, typer.Argument(help="A TOML ([[agencies]] tables) or CSV file.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="toml or csv (default: the file's suffix).")
    ] = None,
) -> None:
    """Add or replace the agencies of FILE; all of them or none (every problem is listed)."""
    from civicpulse.api.routers.cases import known_places
    from civicpulse.cases.directory import check_agencies, parse_agencies
    from civicpulse.cases.service import load_directory
    from civicpulse.store.agencies import upsert_agencies
    from civicpulse.store.audit import record_audit
    from civicpulse.taxonomy import load_taxonomy

    settings = load_settings()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]error:[/red] cannot read {file}: {exc}")
        raise typer.Exit(1) from exc
    try:
        agencies = parse_agencies(text, _format_of(file, fmt), source=str(file))
        taxonomy = load_taxonomy(settings.taxonomy_file)
        db = open_store(settings)
        with db.write() as session:
            existing = load_directory(session, taxonomy).heads()
            problems = check_agencies(
                agencies, existing=existing, places=known_places(), topics=taxonomy.codes()
            )
            if problems:
                for problem in problems:
                    err.print(f"  {problem}")
                err.print(f"[red]error:[/red] {len(problems)} problem(s) in {file}; nothing imported")
                raise typer.Exit(1)
            created, updated = upsert_agencies(
                session, [a.model_dump(mode="json", exclude={"source"}) for a in agencies]
            )
            record_audit(
                session,
                actor="cli",
                action="agency.import",
                target=str(file),
                detail={"agencies": len(agencies)},
            )
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(f"imported {len(agencies)} agencies from {file}: {created} new, {updated} replaced")


@agencies_app.command("list")
def agencies_list() -> None:
    """List the directory: stored agencies and the taxonomy's that are not stored."""
    from civicpulse.cases.service import load_directory
    from civicpulse.taxonomy import load_taxonomy

    settings = load_settings()
    db = open_store(settings)
    table = Table("code", "name", "kind", "head", "provinces", "communes", "topics", "approval", "source")
    with db.read() as session:
        directory = load_directory(session, load_taxonomy(settings.taxonomy_file))
    for agency in directory.agencies.values():
        table.add_row(
            agency.code,
            agency.name_vi,
            agency.kind.value,
            agency.parent or "",
            ", ".join(agency.provinces),
            str(len(agency.communes)) if agency.communes else "",
            ", ".join(agency.topics),
            "yes" if agency.needs_approval else "",
            agency.source,
        )
    Console(width=200).print(table)


@agencies_app.command("export")
def agencies_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.toml or .csv).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="toml or csv (default: the file's suffix).")
    ] = None,
) -> None:
    """Write the whole directory to a file that "agencies import" reads back."""
    from civicpulse.atomic import atomic_output
    from civicpulse.cases.directory import export_agencies
    from civicpulse.cases.service import load_directory
    from civicpulse.taxonomy import load_taxonomy

    settings = load_settings()
    db = open_store(settings)
    with db.read() as session:
        directory = load_directory(session, load_taxonomy(settings.taxonomy_file))
    text = export_agencies(directory.agencies.values(), _format_of(output, fmt))
    try:
        with atomic_output(output) as partial:
            partial.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise cannot_write(output, exc) from exc
    err.print(f"wrote {len(directory.agencies)} agencies to {output}")


@cases_app.command("overdue")
def cases_overdue(
    agency: Annotated[str | None, typer.Option(help="Only the cases this agency holds or handles.")] = None,
) -> None:
    """List the running cases past their deadline, per agency."""
    from civicpulse.store.cases import member_ids, overdue_cases
    from civicpulse.store.tables import utcnow

    db = open_store(load_settings())
    now = utcnow()
    with db.read() as session:
        rows = overdue_cases(session, now, agency=agency)
        table = Table("agency", "case", "state", "type", "due", "days late", "escalated to", "submissions")
        for case in rows:
            assert case.due_at is not None
            members = member_ids(session, case.id)
            table.add_row(
                case.agency or "(none)",
                str(case.id),
                case.state,
                case.case_type,
                case.due_at.isoformat(timespec="minutes"),
                f"{(now - case.due_at).total_seconds() / 86400:.1f}",
                case.escalated_to or ("(no head agency)" if case.escalated_at else ""),
                ", ".join(map(str, members[:5])) + (" ..." if len(members) > 5 else ""),
            )
    Console(width=200).print(table)
    err.print(f"{len(rows)} overdue case(s)" + (f" of {agency}" if agency else ""))


@cases_app.command("escalate")
def cases_escalate() -> None:
    """Escalate every running case past its deadline to its agency's head agency (once each)."""
    from civicpulse.cases.deadlines import load_policy
    from civicpulse.cases.service import CaseRules, escalate_breaches, load_directory
    from civicpulse.taxonomy import load_taxonomy

    settings = load_settings()
    try:
        policy = load_policy(settings.case_deadlines_file)
        taxonomy = load_taxonomy(settings.taxonomy_file)
        db = open_store(settings)
        with db.write() as session:
            escalated = escalate_breaches(session, CaseRules(policy, load_directory(session, taxonomy)))
    except CivicPulseError as exc:
        raise fail(exc) from exc
    for case in escalated:
        err.print(f"case {case.id} ({case.agency or 'no agency'}) -> {case.escalated_to or 'no head agency'}")
    err.print(f"{len(escalated)} case(s) escalated")


answer_templates_app = typer.Typer(help="Answer templates.", no_args_is_help=True)
app.add_typer(answer_templates_app, name="answer-templates")


@answer_templates_app.command("import")
def answer_templates_import(
    file: Annotated[Path, typer.Argument(help="A TOML file of [[templates]] tables.")],
) -> None:
    """Add or replace (by code) the answer templates of FILE; all of them or none."""
    from civicpulse.cases.service import load_directory
    from civicpulse.cases.templates import parse_templates
    from civicpulse.store.answers import save_template, template_by_code
    from civicpulse.store.audit import record_audit
    from civicpulse.taxonomy import load_taxonomy

    settings = load_settings()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]error:[/red] cannot read {file}: {exc}")
        raise typer.Exit(1) from exc
    try:
        templates = parse_templates(text, source=str(file))
        taxonomy = load_taxonomy(settings.taxonomy_file)
        db = open_store(settings)
        with db.write() as session:
            directory = load_directory(session, taxonomy)
            problems = [
                f"template {t.code!r}: agency {t.agency!r} is not in the directory"
                for t in templates
                if t.agency is not None and t.agency not in directory.agencies
            ] + [
                f"template {t.code!r}: topic {t.topic!r} is not in the taxonomy"
                for t in templates
                if t.topic is not None and t.topic not in taxonomy.codes()
            ]
            if problems:
                for problem in problems:
                    err.print(f"  {problem}")
                err.print(f"[red]error:[/red] {len(problems)} problem(s) in {file}; nothing imported")
                raise typer.Exit(1)
            created = 0
            for template in templates:
                row = template_by_code(session, template.code)
                created += row is None
                save_template(session, template.model_dump(), actor="cli", row=row)
            record_audit(
                session,
                actor="cli",
                action="answer_template.import",
                target=str(file),
                detail={"templates": len(templates)},
            )
    except CivicPulseError as exc:
        raise fail(exc) from exc
    replaced = len(templates) - created
    err.print(f"imported {len(templates)} answer templates from {file}: {created} new, {replaced} replaced")
