"""API keys are stored hashed; member tokens are signed and expire."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import text

from hub.member_tokens import issue_member_token, verify_member_token


async def test_key_is_stored_only_as_its_hash(new_key, engine):
    key = await new_key("pos", name="till-7", store="S007")

    async with engine.connect() as conn:
        dump = (await conn.execute(text("SELECT api_clients::text FROM api_clients"))).scalar_one()
        stored = (await conn.execute(text("SELECT key_hash FROM api_clients"))).scalar_one()

    assert key not in dump
    assert key.removeprefix("mh_") not in dump
    assert stored == hashlib.sha256(key.encode()).digest()


def test_member_token_round_trip_and_expiry(clock):
    token, expires_at = issue_member_token(
        b"secret", member_id=42, client_id=3, ttl=timedelta(minutes=5), now=clock.now()
    )

    claims = verify_member_token(b"secret", token, now=clock.now())
    expired = verify_member_token(b"secret", token, now=clock.now() + timedelta(minutes=6))
    wrong_secret = verify_member_token(b"other", token, now=clock.now())
    tampered = verify_member_token(b"secret", token[:-2] + "xx", now=clock.now())

    assert claims is not None and claims.member_id == 42 and claims.client_id == 3
    assert claims.expires_at == expires_at
    assert expired is None and wrong_secret is None and tampered is None
