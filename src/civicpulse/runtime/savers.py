"""Where stages' private outputs go: found personal data (encrypted), vectors and MinHash signatures.

Stages declare their private fields (``StageOutput.private``); here alone are they saved, each to
its own table, inside the worker's transaction. What is left (``StageOutput.stored``) is the
annotation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from civicpulse.annotations import DedupOut, EmbedOut, PiiOut, StageOutput
from civicpulse.store.contacts import ContactCipher, save_found_pii
from civicpulse.store.neardup import save_signature
from civicpulse.store.vectors import save_vectors

log = logging.getLogger(__name__)

Saver = Callable[[Session, ContactCipher, int, Any], None]


def _save_pii(session: Session, cipher: ContactCipher, submission_id: int, output: PiiOut) -> None:
    save_found_pii(session, cipher, submission_id, [found.model_dump() for found in output.found])


def _save_vector(session: Session, cipher: ContactCipher, submission_id: int, output: EmbedOut) -> None:
    if output.vector is not None:
        save_vectors(session, output.model, [(submission_id, output.vector, output.content_hash)])


def _save_signature(session: Session, cipher: ContactCipher, submission_id: int, output: DedupOut) -> None:
    if output.signature is None or output.group is None:
        return
    save_signature(
        session,
        submission_id,
        scheme=output.scheme,
        signature=output.signature,
        group_id=output.group,
        duplicate_of=output.duplicate_of,
        similarity=output.similarity,
        linked_groups=output.linked_groups,
    )


SAVERS: dict[type[StageOutput], Saver] = {
    PiiOut: _save_pii,
    EmbedOut: _save_vector,
    DedupOut: _save_signature,
}
"""The saver of each output model that has private fields."""


def save_private(session: Session, cipher: ContactCipher, submission_id: int, output: StageOutput) -> None:
    """Hand ``output``'s private fields to their store (a model without a saver loses them, loudly)."""
    if not output.private:
        return
    saver = SAVERS.get(type(output))
    if saver is None:
        log.warning("stage %s: private fields %s have no store and are dropped", output.stage, output.private)
        return
    saver(session, cipher, submission_id, output)
