"""One error tree: each class carries its HTTP status and a stable code."""

from __future__ import annotations

from typing import Any


class CivicPulseError(Exception):
    """Base error; routes raise these and one handler renders them."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(CivicPulseError):
    status, code = 400, "bad_request"


class Unauthorized(CivicPulseError):
    status, code = 401, "unauthorized"


class Forbidden(CivicPulseError):
    status, code = 403, "forbidden"


class NotFound(CivicPulseError):
    status, code = 404, "not_found"


class Conflict(CivicPulseError):
    status, code = 409, "conflict"


class PayloadTooLarge(CivicPulseError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(CivicPulseError):
    status, code = 415, "unsupported_media_type"


class Unprocessable(CivicPulseError):
    status, code = 422, "invalid_input"


class TooManyRequests(CivicPulseError):
    status, code = 429, "too_many_requests"


class ContactKeyMismatch(CivicPulseError):
    """The configured contact key cannot decrypt stored contact details: a configuration fault."""

    status, code = 503, "contact_key_mismatch"


class MailNotSent(CivicPulseError):
    """Outgoing mail could not be handed to the SMTP server (or none is configured)."""

    status, code = 502, "mail_not_sent"


class UnknownName(CivicPulseError, KeyError):
    """A registry was asked for a name it does not know."""

    status, code = 400, "unknown_name"

    def __str__(self) -> str:
        return self.message
