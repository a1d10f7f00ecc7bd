"""Contact details: encrypted at rest with Fernet, read only through ``read_contact`` (audited)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.domain import Contact
from civicpulse.errors import ContactKeyMismatch, NotFound
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import ContactRow, FoundPiiRow, utcnow

KEY_MISMATCH = (
    "the contact key does not match the stored contacts: they cannot be decrypted with the configured "
    "key (CIVICPULSE_CONTACT_KEY, or the key derived from CIVICPULSE_SECRET_KEY when it is unset)"
)
KEY_CHECK_SAMPLE = 20


class ContactCipher:
    """Encrypts and decrypts contact details with the key from settings."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._sender_secret = hashlib.sha256(b"civicpulse-sender-key\0" + key).digest()

    def sender_key(self, contact: Contact | None) -> str | None:
        """A keyed hash that is equal for the same e-mail or phone, so that analysis can count
        distinct senders without seeing who they are; ``None`` without either."""
        if contact is None:
            return None
        if contact.email and contact.email.strip():
            identity = "email:" + contact.email.strip().lower()
        elif contact.phone and (digits := re.sub(r"\D", "", contact.phone)):
            identity = "phone:" + re.sub(r"^(?:84|0)", "", digits)
        else:
            return None
        return hmac.new(self._sender_secret, identity.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, contact: Contact) -> bytes:
        """Ciphertext of the contact as JSON."""
        return self._fernet.encrypt(contact.model_dump_json(exclude_none=True).encode())

    def encrypt_json(self, value: Any) -> bytes:
        """Ciphertext of any JSON value."""
        return self._fernet.encrypt(json.dumps(value, ensure_ascii=False).encode())

    def decrypt_json(self, ciphertext: bytes) -> Any:
        """A JSON value back from ``encrypt_json``."""
        return json.loads(self._plain(ciphertext))

    def decrypt(self, ciphertext: bytes) -> Contact:
        """The contact back; a wrong key is ``ContactKeyMismatch``, never garbage."""
        return Contact.model_validate_json(self._plain(ciphertext))

    def opens(self, ciphertext: bytes) -> bool:
        """Whether this key decrypts ``ciphertext``."""
        try:
            self._fernet.decrypt(ciphertext)
        except InvalidToken:
            return False
        return True

    def _plain(self, ciphertext: bytes) -> bytes:
        try:
            return self._fernet.decrypt(ciphertext)
        except InvalidToken as exc:
            raise ContactKeyMismatch(KEY_MISMATCH) from exc


def check_ciphertexts(cipher: ContactCipher, ciphertexts: Iterable[bytes]) -> int:
    """How many ciphertexts ``cipher`` opened; ``ContactKeyMismatch`` when any of them is not."""
    checked = failed = 0
    for ciphertext in ciphertexts:
        checked += 1
        failed += not cipher.opens(ciphertext)
    if failed:
        raise ContactKeyMismatch(
            f"{KEY_MISMATCH}; {failed} of {checked} sampled values do not open",
            details={"checked": checked, "failed": failed},
        )
    return checked


def sample_ciphertexts(session: Session, sample: int = KEY_CHECK_SAMPLE) -> list[bytes]:
    """Up to ``sample`` encrypted values of each table, contacts and found PII: the oldest and newest."""
    half = max(1, sample // 2)
    found: dict[tuple[str, int], bytes] = {}
    for table in (ContactRow, FoundPiiRow):
        for order in (table.submission_id.asc(), table.submission_id.desc()):
            query = select(table.submission_id, table.ciphertext).order_by(order).limit(half)
            for submission_id, ciphertext in session.execute(query):
                found[(table.__tablename__, submission_id)] = ciphertext
    return list(found.values())


def check_contact_key(session: Session, cipher: ContactCipher, sample: int = KEY_CHECK_SAMPLE) -> int:
    """Prove that ``cipher`` opens the stored contacts (a sample); the number checked (0: none stored).

    Raises ``ContactKeyMismatch`` when a sampled value does not open."""
    return check_ciphertexts(cipher, sample_ciphertexts(session, sample))


def read_contact(
    session: Session,
    cipher: ContactCipher,
    submission_id: int,
    *,
    actor: str,
    client: str | None,
) -> Contact:
    """The one way to read a citizen's contact details; every call writes an audit event."""
    row = session.get(ContactRow, submission_id)
    record_audit(
        session,
        actor=actor,
        action="contact.read",
        target=f"submission:{submission_id}",
        client=client,
        status=200 if row else 404,
    )
    if row is None:
        raise NotFound(f"submission {submission_id} has no contact details")
    return cipher.decrypt(row.ciphertext)


def save_found_pii(
    session: Session, cipher: ContactCipher, submission_id: int, found: list[dict[str, Any]]
) -> None:
    """Keep what redaction found in a text, encrypted; a re-analysis replaces it."""
    row = session.get(FoundPiiRow, submission_id)
    if not found:
        if row is not None:
            session.delete(row)
        return
    ciphertext = cipher.encrypt_json(found)
    if row is None:
        session.add(FoundPiiRow(submission_id=submission_id, ciphertext=ciphertext, created_at=utcnow()))
    else:
        row.ciphertext, row.created_at = ciphertext, utcnow()


def read_found_pii(
    session: Session, cipher: ContactCipher, submission_id: int, *, actor: str, client: str | None
) -> list[dict[str, Any]]:
    """Personal data found in a submission's text (type, offsets, value); every call is audited."""
    row = session.get(FoundPiiRow, submission_id)
    record_audit(
        session,
        actor=actor,
        action="text_pii.read",
        target=f"submission:{submission_id}",
        client=client,
        status=200,
    )
    return [] if row is None else cipher.decrypt_json(row.ciphertext)
