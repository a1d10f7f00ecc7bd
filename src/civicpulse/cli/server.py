"""Setting up and running: ``init``, ``serve``, ``worker`` and ``channels``."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from civicpulse.cli.base import LOADING_MODELS, app, err, fail, load_settings, open_store
from civicpulse.domain import Role
from civicpulse.errors import CivicPulseError


@app.command()
def init(
    admin_email: Annotated[str, typer.Option(help="E-mail of the first admin.")],
    admin_password: Annotated[str, typer.Option(help="Password of the first admin.")],
) -> None:
    """Create or upgrade the database and the first admin (safe to run twice)."""
    from civicpulse.store.users import create_user

    settings = load_settings()
    db = open_store(settings)
    try:
        with db.write() as session:
            user = create_user(session, admin_email, admin_password, Role.admin, exist_ok=True)
            email = user.email
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(f"database ready at {settings.database_url}; admin: {email}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Analysis worker threads (default from settings; 0: none).")
    ] = None,
) -> None:
    """Serve the API, Open311, the citizen form and the dashboard, with analysis workers."""
    import uvicorn

    from civicpulse.service import create_app

    settings = load_settings()
    if workers is not None:
        settings = settings.model_copy(update={"worker_threads": workers})
    # Hand the GIL over more often, so that the event loop answers while intake and analysis
    # threads work (shorter tail latency; measured with bench/intake.py).
    sys.setswitchinterval(0.001)
    service = create_app(settings)
    # What the imports built (modules, tables, routes: a third more objects since issue 10) lives as
    # long as the process: frozen, the cyclic collector no longer walks it on every full collection
    # (HTTP intake back within 10 % of before; docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    # The app itself takes the caller from X-Forwarded-For, and only from settings.trusted_proxies.
    uvicorn.run(
        service,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=10,
        proxy_headers=False,
    )


@app.command()
def worker(
    threads: Annotated[int | None, typer.Option(help="Worker threads.")] = None,
    drain: Annotated[bool, typer.Option(help="Process what is queued, then exit.")] = False,
) -> None:
    """Run analysis workers (several processes may run at once on PostgreSQL)."""
    from civicpulse.runtime.process import Runtime
    from civicpulse.store.contacts import ContactCipher, check_contact_key
    from civicpulse.store.jobs import queue_counts

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = load_settings()
    db = open_store(settings)
    try:
        with db.read() as session:  # a wrong key would store redacted values no key can open
            check_contact_key(session, ContactCipher(settings.fernet_key))
    except CivicPulseError as exc:
        raise fail(exc) from exc
    runtime = Runtime(settings, db)
    err.print(LOADING_MODELS)
    if drain:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with db.read() as session:
            queued = queue_counts(session).get("queued", 0)
        drainer = runtime.worker()
        columns = ("analysing", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        handled = 0
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("analysing", total=queued or None)
            while batch := drainer.run_once():
                handled += batch
                progress.update(task, completed=handled)
        with db.read() as session:
            counts = queue_counts(session)
        err.print(f"analysed {handled} submissions; queue: {counts}")
        return
    count = settings.worker_threads if threads is None else threads
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    runtime.start_workers(count)
    err.print(f"{count} worker threads running; Ctrl-C to stop")
    stopped.wait()
    runtime.close()


@app.command("channels")
def list_channels() -> None:
    """The intake channels, built-in and added, with what they take in."""
    from civicpulse.intake.channels import describe_all

    table = Table("name", "channel", "polled", "description", title="Channels")
    for info in describe_all():
        table.add_row(info.name, info.channel.value, "yes" if info.poll else "", info.description)
    Console().print(table)
