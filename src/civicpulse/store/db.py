"""Engine and sessions for SQLite (WAL) and PostgreSQL, and schema upgrades through Alembic."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, any_, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from civicpulse.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values``. On PostgreSQL it is one array parameter (``= ANY``), so the statement's
    text stays the same whatever the number of values: SQLAlchemy's compiled form, psycopg's
    conversion of it and the server's prepared plan are reused from one batch to the next."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, transactions that SQLAlchemy controls, and a ``lower()``
    that knows more than ASCII (SQLite's own leaves "Đ" or "É" as they are, so case-insensitive
    search would miss Vietnamese capitals)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below emit BEGIN
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock up front so that a read-then-write transaction never fails
        # with SQLITE_BUSY on upgrade; read-only sessions begin deferred.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """A store: one engine, short sessions, ``write()`` for transactions that change data."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            path = url.split("///", 1)[-1] if "///" in url else ""
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                kwargs.update(pool_size=16, max_overflow=48)
        else:  # as many connections as request threads, kept open; recycled, not pinged
            kwargs.update(pool_size=40, max_overflow=0, pool_recycle=1800, pool_timeout=30)
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __getstate__(self) -> dict[str, Any]:
        """Only the URL travels (e.g. with a stage's port to a Ray actor); the engine is made anew."""
        return {"url": self.url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The store named by ``settings.database_url``."""
        return cls(settings.database_url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads; nothing is committed."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe to run again)."""
        from alembic import command

        command.upgrade(alembic_config(self), "head")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_config(db: Database) -> Any:
    """An Alembic config that points at the packaged migrations and this store's engine."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = db.engine
    return config
