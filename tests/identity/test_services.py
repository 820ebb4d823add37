"""Identity services against the database: invariants the schema itself guards, review
cases, and the lost-race path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from hub.execution.context import is_retryable
from identity.errors import ConcurrentIdentityChange
from identity.link import insert_identity
from identity.lookup import active_member_id, resolve_member
from identity.merge import merge_members
from identity.model import (
    Channel,
    IdentityClaim,
    IdentityConfig,
    IdentityKey,
    IdentityType,
    MemberStatus,
    RawIdentity,
)
from identity.resolve import Outcome, identify

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
CONFIG = IdentityConfig(phone_hash_salt=b"test-salt")


def raw(kind: IdentityType, value: str, namespace: str | None = None, verified: bool = False):
    return RawIdentity(kind, value, namespace=namespace, verified=verified)


async def seen(run_in_transaction, *identities: RawIdentity, channel: Channel = Channel.POS):
    return await run_in_transaction(
        lambda s: identify(
            s, identities=identities, channel=channel, actor="test", now=NOW, config=CONFIG
        )
    )


async def test_the_same_conflict_again_counts_on_one_open_review(run_in_transaction, engine):
    card = raw(IdentityType.POS_CARD, "C-1", "pos")
    email = raw(IdentityType.EMAIL, "a@example.com")
    await seen(run_in_transaction, card)
    await seen(run_in_transaction, email)

    first = await seen(run_in_transaction, card, email)
    second = await seen(run_in_transaction, email, card)

    assert first.outcome is second.outcome is Outcome.CONFLICT
    assert first.review_id == second.review_id
    async with engine.connect() as conn:
        review = (
            await conn.execute(text("SELECT occurrences, status FROM identity_reviews"))
        ).one()
    assert tuple(review) == (2, "OPEN")


async def test_an_identity_cannot_be_stored_twice_even_without_a_namespace(run_in_transaction):
    created = await seen(run_in_transaction, raw(IdentityType.PHONE, "13800138000"))
    duplicate = IdentityClaim(IdentityKey(IdentityType.PHONE, None, "+8613800138000"), False)

    with pytest.raises(ConcurrentIdentityChange) as raised:
        await run_in_transaction(
            lambda s: insert_identity(
                s,
                member_id=created.member.id,
                claim=duplicate,
                channel=Channel.WEB,
                now=NOW,
                config=CONFIG,
            )
        )
    assert is_retryable(raised.value)
    with pytest.raises(IntegrityError):
        await run_in_transaction(
            lambda s: s.execute(
                text(
                    "INSERT INTO member_identities (member_id, type, value, channel, linked_at,"
                    " last_seen_at) VALUES (:m, 'PHONE', '+8613800138000', 'WEB', now(), now())"
                ),
                {"m": created.member.id},
            )
        )


async def test_the_database_refuses_identities_on_a_member_that_is_not_active(
    run_in_transaction,
):
    survivor = (await seen(run_in_transaction, raw(IdentityType.POS_CARD, "A", "pos-a"))).member
    merged = (await seen(run_in_transaction, raw(IdentityType.POS_CARD, "B", "pos-b"))).member
    await run_in_transaction(
        lambda s: merge_members(
            s,
            survivor_id=survivor.id,
            merged_id=merged.id,
            reason="dup",
            actor="test",
            now=NOW,
            config=CONFIG,
        )
    )

    with pytest.raises(DBAPIError, match="not ACTIVE"):
        await run_in_transaction(
            lambda s: s.execute(
                text("UPDATE member_identities SET member_id = :m"), {"m": merged.id}
            )
        )
    with pytest.raises(DBAPIError, match="still holds identities"):
        await run_in_transaction(
            lambda s: s.execute(
                text("UPDATE members SET status = 'ERASED' WHERE id = :m"), {"m": survivor.id}
            )
        )


async def test_member_tokens_resolve_through_merges_to_the_active_survivor(run_in_transaction):
    a = (await seen(run_in_transaction, raw(IdentityType.POS_CARD, "A", "pos-a"))).member
    b = (await seen(run_in_transaction, raw(IdentityType.POS_CARD, "B", "pos-b"))).member
    await run_in_transaction(
        lambda s: merge_members(
            s, survivor_id=b.id, merged_id=a.id, reason="dup", actor="t", now=NOW, config=CONFIG
        )
    )

    resolved = await run_in_transaction(lambda s: active_member_id(s.execute, a.id))
    unknown = await run_in_transaction(lambda s: active_member_id(s.execute, 999_999))
    member = await run_in_transaction(lambda s: resolve_member(s.execute, a.id))

    assert resolved == b.id
    assert unknown is None
    assert member.status is MemberStatus.ACTIVE and member.id == b.id
