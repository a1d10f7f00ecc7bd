"""What the app holds for its lifetime: settings, the runtime (store, stages, workers), cipher,
rate limits, taxonomy, and the short cache of who a token or session belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field

from cachetools import TTLCache

from civicpulse.api.ratelimit import RateLimits
from civicpulse.intake.batcher import IntakeBatcher
from civicpulse.runtime.process import Runtime
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
    limits: RateLimits
    taxonomy: Taxonomy
    intake: IntakeBatcher
    runtime: Runtime
    principals: TTLCache = field(default_factory=lambda: TTLCache(maxsize=10_000, ttl=2))

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        """Everything the app needs, built from settings (I/O: the engine and the taxonomy file)."""
        runtime = Runtime(settings)
        db = runtime.db
        cipher = ContactCipher(settings.fernet_key)
        taxonomy = load_taxonomy(settings.taxonomy_file)
        intake = IntakeBatcher(
            db,
            cipher,
            agency_by_service=taxonomy.agency_by_service(),
            max_items=settings.intake_group_items,
            committers=1 if db.is_sqlite else settings.intake_committers,
        )
        return cls(
            settings=settings,
            db=db,
            cipher=cipher,
            limits=RateLimits.from_settings(settings),
            taxonomy=taxonomy,
            intake=intake,
            runtime=runtime,
            principals=TTLCache(maxsize=10_000, ttl=settings.token_cache_seconds),
        )
