"""Coupon codes: unguessable, readable aloud and typed without confusion.

A code is 80 bits from ``secrets`` written in Crockford's base32 (digits and capitals
without I, L, O and U), 16 characters: guessing one live code among a billion takes about
2^50 tries, and the unique constraint on ``coupons.code`` is the last word on collisions.
What a cashier types is normalised first: case, spaces and dashes do not matter, and the
letters people confuse with digits read as those digits.
"""

from __future__ import annotations

import base64
import secrets

CODE_BYTES = 10
CODE_LENGTH = 16
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC4648 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = bytes.maketrans(_RFC4648, ALPHABET.encode())
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def new_codes(count: int) -> list[str]:
    """``count`` fresh codes, drawn in one call to the system's CSPRNG."""
    if count <= 0:
        return []
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES * count)).translate(_TO_CROCKFORD)
    text = raw.decode()
    return [text[i : i + CODE_LENGTH] for i in range(0, CODE_LENGTH * count, CODE_LENGTH)]


def normalise_code(typed: str) -> str:
    """The code a cashier or scanner gave, as stored."""
    return typed.strip().upper().translate(_READ_AS)
