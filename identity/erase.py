"""Erasure on request (PIPL/GDPR): personal data goes, ledger totals and a phone hash stay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import publish
from identity.errors import InvalidIdentity, MemberNotFound
from identity.events import MemberErased
from identity.lookup import identities_of, lock_identities, lock_members, survivor_id
from identity.model import IdentityConfig, IdentityType, MemberStatus, phone_hash
from identity.records import MemberRecord, member_from_row
from identity.tables import erased_phones, member_identities, members

#: Every member folded into the erased one, however deep: their kept profiles go too.
_FOLDED_IN = text(
    """
    WITH RECURSIVE folded (id) AS (
        SELECT id FROM members WHERE merged_into = :member_id
        UNION
        SELECT m.id FROM members m JOIN folded f ON m.merged_into = f.id
    )
    SELECT id FROM folded
    """
)


async def erase_member(
    session: AsyncSession,
    *,
    member_id: int,
    reason: str,
    actor: str,
    now: datetime,
    config: IdentityConfig,
) -> MemberRecord:
    """Erase the member ``member_id`` answers as (a merged ID: its survivor).

    Deletes every identity (their values may then be used by a new member) after keeping
    the salted hash of each phone in ``erased_phones``; empties the profile of the member
    and of every member merged into it; sets ERASED. Erasing again changes nothing more.
    Raises InvalidIdentity (no reason), MemberNotFound.
    """
    if not reason.strip():
        raise InvalidIdentity("give a reason", field=("reason",))
    target_id = await survivor_id(session, member_id)
    if target_id is None:
        raise MemberNotFound(f"no member {member_id}", field=("memberId",))
    held = await identities_of(session, [target_id])
    await lock_identities(session, [record.key for record in held])
    member = (await lock_members(session, [target_id]))[target_id]
    if member.status is MemberStatus.MERGED:
        raise MemberNotFound("the member was merged meanwhile; try again", field=("memberId",))
    held = await identities_of(session, [target_id])
    hashes = {
        phone_hash(record.value, config.phone_hash_salt)
        for record in held
        if record.type is IdentityType.PHONE
    }
    if hashes:
        await session.execute(
            insert(erased_phones)
            .values([{"phone_hash": h, "erased_at": now} for h in sorted(hashes)])
            .on_conflict_do_nothing()
        )
    await session.execute(
        delete(member_identities).where(member_identities.c.member_id == target_id)
    )
    folded = (await session.execute(_FOLDED_IN, {"member_id": target_id})).scalars().all()
    blank = {"name": None, "gender": "UNKNOWN", "birthday": None, "region": None}
    await session.execute(
        update(members)
        .where(members.c.id.in_([target_id, *folded]))
        .values(updated_at=now, **blank)
    )
    row = (
        await session.execute(
            update(members)
            .where(members.c.id == target_id)
            .values(status=MemberStatus.ERASED.value)
            .returning(members)
        )
    ).one()
    if member.status is not MemberStatus.ERASED:
        await publish(
            session, MemberErased(member_id=target_id, reason=reason.strip(), actor=actor)
        )
    return member_from_row(row)
