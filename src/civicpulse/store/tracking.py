"""Tracking codes: the short public codes (``CP-7K3M-9QXD``) citizens use to follow a submission."""

from __future__ import annotations

import secrets

TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
_CODE_CHARS = 8  # about 40 bits of randomness per code
# Random bytes below 248 (8 x 31) fall evenly on the 31 letters; the rest are dropped.
_USABLE = 256 - 256 % len(TRACKING_ALPHABET)
_TO_LETTER = bytes(
    ord(TRACKING_ALPHABET[b % len(TRACKING_ALPHABET)]) if b < _USABLE else 0 for b in range(256)
)
_UNUSABLE = bytes(range(_USABLE, 256))


def new_tracking_codes(count: int) -> list[str]:
    """``count`` fresh codes such as ``CP-7K3M-9QXD``, drawn from one read of the system's randomness."""
    wanted = _CODE_CHARS * count
    letters = b""
    while len(letters) < wanted:
        missing = wanted - len(letters)
        letters += secrets.token_bytes(missing + missing // 16 + 16).translate(_TO_LETTER, _UNUSABLE)
    text = letters[:wanted].decode("ascii")
    return [f"CP-{text[i : i + 4]}-{text[i + 4 : i + 8]}" for i in range(0, wanted, _CODE_CHARS)]
