"""What the app holds for its lifetime: settings, store, cipher, limiter, taxonomy, workers."""

from __future__ import annotations

from dataclasses import dataclass, field

from civicpulse.analysis.worker import WorkerPool
from civicpulse.api.ratelimit import RateLimiter
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.taxonomy import Taxonomy, load_taxonomy


@dataclass
class AppContext:
    """Built once by ``create_app(settings)`` and kept on ``app.state.ctx``."""

    settings: Settings
    db: Database
    cipher: ContactCipher
    limiter: RateLimiter
    taxonomy: Taxonomy
    workers: WorkerPool | None = field(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        """Everything the app needs, built from settings (I/O: the engine and the taxonomy file)."""
        return cls(
            settings=settings,
            db=Database.from_settings(settings),
            cipher=ContactCipher(settings.fernet_key),
            limiter=RateLimiter(settings.public_rate_limit),
            taxonomy=load_taxonomy(settings.taxonomy_file),
        )
