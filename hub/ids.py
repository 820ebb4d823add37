"""Global object IDs (Relay): base64 of ``Type:key``, so ``node(id)`` knows the type."""

from __future__ import annotations

import base64
import binascii


class InvalidGlobalId(ValueError):
    """Not an ID this hub issued, or an ID of another type than expected."""


def encode_id(type_name: str, key: int | str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def decode_id(global_id: str) -> tuple[str, str]:
    try:
        type_name, _, key = base64.b64decode(global_id, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidGlobalId(f"{global_id!r} is not a valid ID") from exc
    if not type_name or not key:
        raise InvalidGlobalId(f"{global_id!r} is not a valid ID")
    return type_name, key


def decode_int_id(global_id: str, type_name: str) -> int:
    """The integer key of an ID of ``type_name``; InvalidGlobalId for anything else."""
    found_type, key = decode_id(global_id)
    if found_type != type_name or not key.isdigit():
        raise InvalidGlobalId(f"{global_id!r} is not a {type_name} ID")
    return int(key)
