"""Contact details: encrypted at rest with Fernet, read only through ``read_contact`` (audited)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from civicpulse.domain import Contact
from civicpulse.errors import NotFound
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import ContactRow, FoundPiiRow, utcnow


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
        try:
            return json.loads(self._fernet.decrypt(ciphertext))
        except InvalidToken as exc:
            raise RuntimeError("data cannot be decrypted with the configured key") from exc

    def decrypt(self, ciphertext: bytes) -> Contact:
        """The contact back; a wrong key is an error, never garbage."""
        try:
            plain = self._fernet.decrypt(ciphertext)
        except InvalidToken as exc:
            raise RuntimeError("contact details cannot be decrypted with the configured key") from exc
        return Contact.model_validate_json(plain)


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
