"""Accounts: ``users`` and ``token``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from civicpulse.cli.base import app, err, fail, load_settings, open_store
from civicpulse.domain import Role
from civicpulse.errors import CivicPulseError

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(token_app, name="token")


@users_app.command("create")
def users_create(
    email: str,
    role: Annotated[Role, typer.Option(help="admin, analyst, agency_officer or viewer.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    agency: Annotated[list[str] | None, typer.Option(help="Agency code (repeatable).")] = None,
) -> None:
    """Add a user."""
    from civicpulse.store.users import create_user

    db = open_store(load_settings())
    try:
        with db.write() as session:
            create_user(session, email, password, role, agency or [])
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(f"created {role.value} {email}")


@users_app.command("list")
def users_list() -> None:
    """List users."""
    from civicpulse.store.users import list_users

    db = open_store(load_settings())
    table = Table("id", "email", "role", "agencies", "active")
    with db.read() as session:
        for row in list_users(session):
            table.add_row(
                str(row.id), row.email, row.role, ", ".join(row.agencies or []), "yes" if row.active else "no"
            )
    Console().print(table)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="E-mail of the token's user.")],
    name: Annotated[str | None, typer.Option(help="A label for the token.")] = None,
) -> None:
    """Create an API token and print it alone on stdout (it is shown only once)."""
    from civicpulse.store.users import create_token, find_user

    db = open_store(load_settings())
    try:
        with db.write() as session:
            token = create_token(session, find_user(session, user), name)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    typer.echo(token)
