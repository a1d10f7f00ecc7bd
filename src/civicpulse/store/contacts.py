"""Contact details: encrypted at rest with Fernet, read only through ``read_contact`` (audited)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from civicpulse.domain import Contact
from civicpulse.errors import NotFound
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import ContactRow


class ContactCipher:
    """Encrypts and decrypts contact details with the key from settings."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def encrypt(self, contact: Contact) -> bytes:
        """Ciphertext of the contact as JSON."""
        return self._fernet.encrypt(contact.model_dump_json(exclude_none=True).encode())

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
