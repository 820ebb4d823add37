"""Coupon codes: unguessable, readable aloud and typed without confusion.

A code is 80 random bits written in Crockford's base32 (digits and capitals without I, L,
O and U), 16 characters: guessing one live code among a billion takes about
2^50 tries, and the unique constraint on ``coupons.code`` is the last word on collisions.
What a cashier types is normalised first: case, spaces and dashes do not matter, and the
letters people confuse with digits read as those digits.
"""

from __future__ import annotations

CODE_BITS = 80
CODE_LENGTH = 16
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def random_bits_sql(uuid_text: str) -> str:
    """80 random bits of a version-4 UUID's text (``gen_random_uuid`` reads PostgreSQL's
    strong random source): its hex digits but the one holding the version and the one
    holding the variant."""
    u = uuid_text
    return (
        f"CAST('x' || substr({u}, 1, 8) || substr({u}, 10, 4) || substr({u}, 16, 3)"
        f" || substr({u}, 21, 3) || substr({u}, 25, 2) AS bit(80))"
    )


def code_sql(bits: str) -> str:
    """The code of a ``bit(80)`` SQL value: five bits a character, in Crockford's base32."""
    return " || ".join(
        f"substr('{ALPHABET}', CAST(substring({bits} FROM {5 * i + 1} FOR 5) AS int) + 1, 1)"
        for i in range(CODE_LENGTH)
    )


def normalise_code(typed: str) -> str:
    """The code a cashier or scanner gave, as stored."""
    return typed.strip().upper().translate(_READ_AS)
