"""What the 1M-submission benches (overview, trends) share: the synthetic vocabularies, provinces
weighted like a country's (two large cities, three mid-sized ones), and a throwaway database per engine."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

TOPICS = ["traffic", "environment", "land", "health", "education", "welfare", "security", "utilities"]
CHANNELS = ["web_form", "api", "open311", "email", "hotline", "social_media"]
SENTIMENTS = ["negative", "neutral", "positive"]


def weighted_provinces() -> tuple[list[str], list[float]]:
    """Province codes and their weights: Hà Nội and TP. Hồ Chí Minh 8, three others 2, the rest 1."""
    from civicpulse.analysis.gazetteer import gazetteer

    codes = sorted(gazetteer().provinces)
    weights = [8.0 if code in ("01", "79") else 2.0 if code in ("31", "48", "92") else 1.0 for code in codes]
    return codes, weights


@contextmanager
def throwaway_database(engine: str, prefix: str) -> Iterator[str]:
    """The URL of an empty database of ``engine`` (``sqlite`` or ``postgresql``), gone afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        if engine != "postgresql":
            yield f"sqlite:///{folder}/bench.db"
            return
        from tests.pg import PostgresServer

        server = PostgresServer().start()
        try:
            yield server.url()
        finally:
            server.stop()


def analyze(url: str) -> None:
    """Refresh the planner's statistics of every table (committed: an ``ANALYZE`` inside a
    transaction that is rolled back leaves PostgreSQL planning on default estimates)."""
    from civicpulse.store.db import Database

    db = Database(url)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()
