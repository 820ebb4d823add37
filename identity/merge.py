"""Merging two members into one and undoing it.

A merge moves everything member-owned to the survivor in the merge transaction. The
identity package moves identities and fills profile gaps; every other package that owns
member data (ledger, purchases, tags) subscribes to MembersMerged / MembersUnmerged on
the event bus (``bus.hooks``) and moves its own rows in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import publish
from identity.errors import IdentityConflict, InvalidIdentity, MemberNotActive, MemberNotFound
from identity.events import MembersMerged, MembersUnmerged
from identity.link import new_violations
from identity.lookup import identities_of, lock_members, survivor_id
from identity.members import set_profile
from identity.model import IdentityConfig, MemberStatus, empty_value
from identity.records import MemberRecord, MergeRecord, merge_from_row
from identity.tables import member_identities, member_merges, members


async def merge_into(
    session: AsyncSession,
    *,
    survivor: MemberRecord,
    merged: MemberRecord,
    reason: str,
    evidence_identity_id: int | None,
    actor: str,
    now: datetime,
) -> MergeRecord:
    """Fold ``merged`` into ``survivor``; both ACTIVE and row-locked by the caller.

    Records what moved (identity ids, profile fields filled) so unmerge gives back exactly
    the merged member's own.
    """
    moved = (
        (
            await session.execute(
                update(member_identities)
                .where(member_identities.c.member_id == merged.id)
                .values(member_id=survivor.id)
                .returning(member_identities.c.id)
            )
        )
        .scalars()
        .all()
    )
    filled = survivor.profile.gaps_filled_from(merged.profile)
    await set_profile(session, survivor.id, filled, now=now)
    await session.execute(
        update(members)
        .where(members.c.id == merged.id)
        .values(status=MemberStatus.MERGED.value, merged_into=survivor.id, updated_at=now)
    )
    row = (
        await session.execute(
            insert(member_merges)
            .values(
                survivor_id=survivor.id,
                merged_id=merged.id,
                reason=reason,
                evidence_identity_id=evidence_identity_id,
                actor=actor,
                moved_identity_ids=sorted(moved),
                filled_fields=list(filled),
                created_at=now,
            )
            .returning(member_merges)
        )
    ).one()
    merge = merge_from_row(row)
    await publish(
        session,
        MembersMerged(
            member_id=survivor.id,
            merged_id=merged.id,
            merge_id=merge.id,
            reason=reason,
            actor=actor,
        ),
    )
    return merge


async def merge_members(
    session: AsyncSession,
    *,
    survivor_id: int,
    merged_id: int,
    reason: str,
    actor: str,
    now: datetime,
    config: IdentityConfig,
) -> MergeRecord:
    """An operator's merge: ``merged_id`` into ``survivor_id``, both as given and ACTIVE.

    Raises InvalidIdentity, MemberNotFound, MemberNotActive, or IdentityConflict when the
    survivor would break a merge rule (unlink the extra identity first).
    """
    if not reason.strip():
        raise InvalidIdentity("give a reason", field=("reason",))
    if survivor_id == merged_id:
        raise InvalidIdentity("a member cannot be merged into itself", field=("mergedId",))
    locked = await lock_members(session, [survivor_id, merged_id])
    for field, member_id in (("survivorId", survivor_id), ("mergedId", merged_id)):
        member = locked.get(member_id)
        if member is None:
            raise MemberNotFound(f"no member {member_id}", field=(field,))
        if member.status is not MemberStatus.ACTIVE:
            raise MemberNotActive(f"member {member_id} is {member.status}", field=(field,))
    held = await identities_of(session, [survivor_id, merged_id])
    broken = new_violations(
        config.merge_rules,
        [[(r.key, r.verified) for r in held if r.member_id == m] for m in (survivor_id, merged_id)],
        [(r.key, r.verified) for r in held],
    )
    if broken:
        raise IdentityConflict(
            f"the merged member would break the merge rules: {', '.join(sorted(broken))}; "
            "unlink the extra identity first",
            field=("mergedId",),
        )
    return await merge_into(
        session,
        survivor=locked[survivor_id],
        merged=locked[merged_id],
        reason=reason.strip(),
        evidence_identity_id=None,
        actor=actor,
        now=now,
    )


async def unmerge(
    session: AsyncSession, *, merge_id: int, reason: str, actor: str, now: datetime
) -> MergeRecord:
    """Undo merge ``merge_id``: the merged member is ACTIVE again with the identities that
    were its own when merged (wherever later merges took them) and its own profile; profile
    gaps the merge filled in the survivor are emptied again unless changed since.

    Raises InvalidIdentity (already undone, no reason), MemberNotFound, MemberNotActive
    (the member holding its things was erased).
    """
    if not reason.strip():
        raise InvalidIdentity("give a reason", field=("reason",))
    row = (
        await session.execute(
            select(member_merges).where(member_merges.c.id == merge_id).with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise MemberNotFound(f"no merge {merge_id}", field=("mergeId",))
    merge = merge_from_row(row)
    if merge.undone_at is not None:
        raise InvalidIdentity("this merge was already undone", field=("mergeId",))
    holder_id = await survivor_id(session, merge.survivor_id)
    locked = await lock_members(session, [holder_id or merge.survivor_id, merge.merged_id])
    holder = locked.get(holder_id) if holder_id is not None else None
    if holder is None or holder.status is not MemberStatus.ACTIVE:
        raise MemberNotActive("the member holding the merged one's data is not active")
    merged = locked[merge.merged_id]
    await session.execute(
        update(members)
        .where(members.c.id == merged.id)
        .values(status=MemberStatus.ACTIVE.value, merged_into=None, updated_at=now)
    )
    if merge.moved_identity_ids:
        await session.execute(
            update(member_identities)
            .where(
                member_identities.c.id.in_(merge.moved_identity_ids),
                member_identities.c.member_id == holder.id,
            )
            .values(member_id=merged.id)
        )
    await _empty_filled_fields(session, merge, merged, now=now)
    undone = (
        await session.execute(
            update(member_merges)
            .where(member_merges.c.id == merge.id)
            .values(undone_at=now, undone_by=actor, undo_reason=reason.strip())
            .returning(member_merges)
        )
    ).one()
    await publish(
        session,
        MembersUnmerged(
            member_id=holder.id,
            restored_id=merged.id,
            merge_id=merge.id,
            reason=reason.strip(),
            actor=actor,
            survivor_id=merge.survivor_id,
        ),
    )
    return merge_from_row(undone)


async def _empty_filled_fields(
    session: AsyncSession, merge: MergeRecord, merged: MemberRecord, *, now: datetime
) -> None:
    if not merge.filled_fields:
        return
    survivor = (
        await session.execute(select(members).where(members.c.id == merge.survivor_id))
    ).one()
    own = merged.profile
    emptied = {
        name: empty_value(name)
        for name in merge.filled_fields
        if getattr(survivor, name) == _column(getattr(own, name))
    }
    await set_profile(session, merge.survivor_id, emptied, now=now)


def _column(value: object) -> object:
    return getattr(value, "value", value)
