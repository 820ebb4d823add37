"""Member tokens: signed, expiring bearer tokens that act for one member.

Format: ``mt.<payload>.<signature>``, both base64url; the payload is JSON
``{"m": member_id, "c": issuing client id, "exp": unix seconds}`` and the signature an
HMAC-SHA256 of the payload with the hub's token secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

TOKEN_PREFIX = "mt."


@dataclass(frozen=True)
class MemberClaims:
    member_id: int
    client_id: int | None
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def issue_member_token(
    secret: bytes, *, member_id: int, client_id: int | None, ttl: timedelta, now: datetime
) -> tuple[str, datetime]:
    expires_at = (now + ttl).replace(microsecond=0)
    payload = _b64(
        orjson.dumps({"m": member_id, "c": client_id, "exp": int(expires_at.timestamp())})
    )
    return f"{TOKEN_PREFIX}{payload}.{_sign(secret, payload)}", expires_at


def verify_member_token(secret: bytes, token: str, *, now: datetime) -> MemberClaims | None:
    """The claims of a well-signed, unexpired token; None for anything else."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    try:
        payload, signature = token[len(TOKEN_PREFIX) :].split(".")
    except ValueError:
        return None
    if not hmac.compare_digest(signature, _sign(secret, payload)):
        return None
    try:
        claims = orjson.loads(_unb64(payload))
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        member_id = int(claims["m"])
        client_id = None if claims.get("c") is None else int(claims["c"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires_at <= now:
        return None
    return MemberClaims(member_id=member_id, client_id=client_id, expires_at=expires_at)
