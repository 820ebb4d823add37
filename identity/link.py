"""Attaching identities to members and taking them off again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import publish
from identity.errors import (
    ConcurrentIdentityChange,
    IdentityConflict,
    InvalidIdentity,
    MemberNotFound,
)
from identity.events import IdentityLinked, IdentityUnlinked
from identity.lookup import find_identities, identities_of, lock_identities
from identity.members import lock_active_member
from identity.model import (
    Channel,
    IdentityClaim,
    IdentityConfig,
    IdentityKey,
    IdentityType,
    MergeRules,
    RawIdentity,
    mask_value,
    normalise,
    phone_hash,
)
from identity.records import IdentityRecord, MemberRecord, identity_from_row
from identity.tables import member_identities


def linked_event(
    record: IdentityRecord, *, channel: Channel, config: IdentityConfig
) -> IdentityLinked:
    return IdentityLinked(
        member_id=record.member_id,
        identity_type=record.type.value,
        namespace=record.namespace,
        masked_value=mask_value(record.type, record.value),
        verified=record.verified,
        channel=channel.value,
        phone_hash=(
            phone_hash(record.value, config.phone_hash_salt)
            if record.type is IdentityType.PHONE
            else None
        ),
        identity_id=record.id,
    )


#: Built once, as plain text: an expression tree cost more to build per call than the
#: round trip, and text runs on the session's fast path (``hub.db.driver_session``).
_INSERT_IDENTITY = text(
    "INSERT INTO member_identities"
    " (member_id, type, namespace, value, verified, channel, linked_at, last_seen_at)"
    " VALUES (:member_id, :type, :namespace, :value, :verified, :channel, :linked_at,"
    " :last_seen_at) ON CONFLICT ON CONSTRAINT member_identities_key DO NOTHING RETURNING *"
)


async def insert_identity(
    session: AsyncSession,
    *,
    member_id: int,
    claim: IdentityClaim,
    channel: Channel,
    now: datetime,
    config: IdentityConfig,
) -> IdentityRecord:
    """Link a new identity and publish IdentityLinked.

    The caller holds the identity's advisory lock, so a clash with the unique key means
    another path raced past it: the transaction is retried (ConcurrentIdentityChange).
    """
    row = (
        await session.execute(
            _INSERT_IDENTITY,
            {
                "member_id": member_id,
                "type": claim.key.type.value,
                "namespace": claim.key.namespace,
                "value": claim.key.value,
                "verified": claim.verified,
                "channel": channel.value,
                "linked_at": now,
                "last_seen_at": now,
            },
        )
    ).one_or_none()
    if row is None:
        raise ConcurrentIdentityChange(f"{claim.key.type} was linked concurrently")
    record = identity_from_row(row)
    await publish(session, linked_event(record, channel=channel, config=config))
    return record


_MARK_SEEN = text(
    "UPDATE member_identities SET last_seen_at = :now WHERE id = ANY(CAST(:ids AS bigint[]))"
)


async def mark_seen(
    session: AsyncSession,
    *,
    seen: Iterable[tuple[IdentityRecord, bool]],
    channel: Channel,
    now: datetime,
    config: IdentityConfig,
) -> None:
    """Update ``lastSeenAt`` of identities seen again; a claim now verified upgrades the
    stored one (published as IdentityLinked, verified), never the other way round."""
    seen = list(seen)
    if not seen:
        return
    await session.execute(_MARK_SEEN, {"ids": [record.id for record, _ in seen], "now": now})
    upgraded = [record for record, verified in seen if verified and not record.verified]
    if upgraded:
        rows = await session.execute(
            update(member_identities)
            .where(member_identities.c.id.in_([record.id for record in upgraded]))
            .values(verified=True)
            .returning(member_identities)
        )
        for row in rows:
            await publish(
                session, linked_event(identity_from_row(row), channel=channel, config=config)
            )


def new_violations(
    rules: MergeRules,
    before: Iterable[Iterable[tuple[IdentityKey, bool]]],
    after: Iterable[tuple[IdentityKey, bool]],
) -> set[str]:
    """Rules the combined identities ``after`` break that no member broke ``before`` (a
    limit tightened later does not freeze members already over it)."""
    already: set[str] = set()
    for member_identities_before in before:
        already |= rules.violations(member_identities_before)
    return rules.violations(after) - already


async def link_identity(
    session: AsyncSession,
    *,
    member_id: int,
    identity: RawIdentity,
    channel: Channel,
    now: datetime,
    config: IdentityConfig,
) -> MemberRecord:
    """Link one identity to the member ``member_id`` acts as (a verified claim upgrades it
    when the member already has it).

    Raises InvalidIdentity (field under ``identity``), MemberNotFound, MemberNotActive, or
    IdentityConflict when another member holds it or a merge rule would break.
    """
    try:
        key = normalise(identity, region=config.phone_region)
    except InvalidIdentity as error:
        raise error.under("identity") from None
    claim = IdentityClaim(key=key, verified=identity.verified)
    await lock_identities(session, [key])
    member = await lock_active_member(session, member_id)
    existing = (await find_identities(session, [key])).get(key)
    if existing is not None and existing.member_id != member.id:
        raise IdentityConflict(
            "another member holds this identity; merge the members instead", field=("identity",)
        )
    own = await identities_of(session, [member.id])
    before = [(r.key, r.verified) for r in own]
    after = [(r.key, r.verified or (r.key == key and claim.verified)) for r in own]
    if existing is None:
        after.append((key, claim.verified))
    broken = new_violations(config.merge_rules, [before], after)
    if broken:
        raise IdentityConflict(
            f"the member would break the merge rules: {', '.join(sorted(broken))}",
            field=("identity",),
        )
    if existing is None:
        await insert_identity(
            session, member_id=member.id, claim=claim, channel=channel, now=now, config=config
        )
    else:
        await mark_seen(
            session, seen=[(existing, claim.verified)], channel=channel, now=now, config=config
        )
    return member


async def unlink_identity(
    session: AsyncSession,
    *,
    member_id: int,
    identity: RawIdentity,
    config: IdentityConfig,
) -> MemberRecord:
    """Take one identity off the member ``member_id`` acts as; it may then be linked anew.

    Raises InvalidIdentity, MemberNotFound (also when the member does not hold it),
    MemberNotActive.
    """
    try:
        key = normalise(identity, region=config.phone_region)
    except InvalidIdentity as error:
        raise error.under("identity") from None
    await lock_identities(session, [key])
    member = await lock_active_member(session, member_id)
    existing = (await find_identities(session, [key])).get(key)
    if existing is None or existing.member_id != member.id:
        raise MemberNotFound("the member does not hold this identity", field=("identity",))
    await session.execute(delete(member_identities).where(member_identities.c.id == existing.id))
    await publish(
        session,
        IdentityUnlinked(
            member_id=member.id,
            identity_type=existing.type.value,
            namespace=existing.namespace,
            masked_value=mask_value(existing.type, existing.value),
            identity_id=existing.id,
        ),
    )
    return member
