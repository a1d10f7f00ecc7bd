"""Accounts: ``users`` and ``token``."""

from __future__ import annotations

import getpass
import sys
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
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Asked for (hidden, twice) when not given.",
        ),
    ],
    agency: Annotated[list[str] | None, typer.Option(help="Agency code (repeatable).")] = None,
) -> None:
    """Add a user; the password is asked for when --password is not given."""
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


def _cli_actor() -> str:
    """Who runs the command, as the audit log records it."""
    try:
        return f"cli:{getpass.getuser()}"[:254]
    except (OSError, KeyError):
        return "cli"


def _secret_from_stdin(label: str) -> str:
    """One line read from stdin (hidden prompt on a terminal), so it never lands in shell history."""
    if sys.stdin.isatty():
        return typer.prompt(label, hide_input=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("set-password")
def users_set_password(
    email: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from stdin's first line.")
    ] = False,
) -> None:
    """Give a user a new password (asked twice, hidden); every session of theirs is signed out."""
    from civicpulse.store.users import set_password

    db = open_store(load_settings())
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        with db.write() as session:
            ended = set_password(session, email, password, actor=_cli_actor())
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(f"password of {email} changed; {ended} session(s) signed out")


@users_app.command("disable")
def users_disable(email: str) -> None:
    """Mark a user inactive: they cannot sign in, their sessions end and their tokens are revoked."""
    from civicpulse.store.users import disable_user

    db = open_store(load_settings())
    try:
        with db.write() as session:
            ended, revoked = disable_user(session, email, actor=_cli_actor())
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(f"disabled {email}; {ended} session(s) signed out, {revoked} token(s) revoked")


@users_app.command("enable")
def users_enable(email: str) -> None:
    """Let a disabled user sign in again (their revoked tokens stay revoked)."""
    from civicpulse.store.users import enable_user

    db = open_store(load_settings())
    try:
        with db.write() as session:
            enable_user(session, email, actor=_cli_actor())
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(f"enabled {email}")


@token_app.command("revoke")
def token_revoke(
    user: Annotated[
        str | None, typer.Option(help="Revoke this user's tokens (with --name or --all) instead.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="With --user: the label of the tokens to revoke.")] = None,
    all_tokens: Annotated[bool, typer.Option("--all", help="With --user: every token of theirs.")] = False,
) -> None:
    """Revoke an API token: its value is read from stdin (or a hidden prompt), never from the
    command line; or, with --user, that user's tokens of one --name, or --all of them."""
    from civicpulse.store.users import revoke_token, revoke_user_tokens

    if user is None and (name is not None or all_tokens):
        err.print("[red]error:[/red] --name and --all need --user")
        raise typer.Exit(2)
    if user is not None and (name is None) == (not all_tokens):
        err.print("[red]error:[/red] with --user give either --name NAME or --all")
        raise typer.Exit(2)
    token = _secret_from_stdin("token") if user is None else ""
    if user is None and not token.strip():
        err.print("[red]error:[/red] no token given on stdin")
        raise typer.Exit(2)
    db = open_store(load_settings())
    actor = _cli_actor()
    try:
        with db.write() as session:
            if user is not None:
                count = revoke_user_tokens(session, user, None if all_tokens else name, actor=actor)
                message = f"revoked {count} token(s) of {user}"
            else:
                row = revoke_token(session, token, actor=actor)
                message = f"revoked token {row.id} ({row.name or 'unnamed'})"
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(message)


@token_app.command("list")
def token_list(user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None) -> None:
    """List API tokens (never their values): id, user, name, created, revoked."""
    from civicpulse.store.users import list_tokens

    db = open_store(load_settings())
    table = Table("id", "user", "name", "created", "revoked")
    with db.read() as session:
        for row, owner in list_tokens(session, user):
            created = row.created_at.strftime("%Y-%m-%d %H:%M")
            table.add_row(str(row.id), owner, row.name or "", created, "yes" if row.revoked else "no")
    Console().print(table)
