"""API keys are stored hashed; member tokens are signed and expire."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

from sqlalchemy import text

from hub.http.auth import Authenticator
from hub.http.member_tokens import issue_member_token, verify_member_token
from identity.lookup import active_member_id
from tests.statements import counted_statements


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


async def _no_member_tokens_here(*_: object) -> None:
    raise AssertionError("only API keys are authenticated here")


async def test_concurrent_requests_with_a_lapsed_key_share_one_lookup(
    new_key, engine, session_factory, clock
):
    key = await new_key("partner", name="busy-partner")
    authenticator = Authenticator(
        session_factory,
        read=_no_member_tokens_here,
        token_secret=b"secret",
        resolve_member=active_member_id,
        cache_seconds=5,
    )

    with counted_statements(engine) as statements:
        principals = await asyncio.gather(
            *(authenticator.authenticate(key, now=clock.now()) for _ in range(64))
        )
    lookups = [s for s in statements if "api_clients" in s]

    assert {p.name for p in principals if p is not None} == {"busy-partner"}
    assert len(principals) == 64 and None not in principals
    assert len(lookups) == 1
