"""``identify``: resolve every identity a channel saw to one member, in one transaction.

Serialised on the identities (advisory locks in key order) and then on the members found
(row locks in id order), so any interleaving of calls for one person ends with one member;
the unique key on (type, namespace, value) is the last word.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from identity.errors import (
    ConcurrentIdentityChange,
    IdentityConflict,
    InvalidIdentity,
    MemberNotFound,
)
from identity.link import insert_identity, mark_seen, new_violations
from identity.lookup import (
    active_member_id,
    identities_by_key_or_member,
    lock_identities,
    lock_owners,
)
from identity.members import clean_profile, create_member, set_profile
from identity.merge import merge_into
from identity.model import (
    Channel,
    IdentityClaim,
    IdentityConfig,
    IdentityKey,
    IdentityType,
    MemberStatus,
    Profile,
    RawIdentity,
    normalise_claims,
)
from identity.records import IdentityRecord, MemberRecord, MergeRecord

#: How often a call re-reads after finding a member merged away under it before retrying.
MAX_REREADS = 5

#: Evidence preference when several verified identities tie members together.
EVIDENCE_ORDER = (
    IdentityType.PHONE,
    IdentityType.WECHAT_UNIONID,
    IdentityType.WECHAT_OPENID,
    IdentityType.EMAIL,
    IdentityType.WEB_ACCOUNT,
    IdentityType.POS_CARD,
    IdentityType.PARTNER_ID,
)


class Outcome(enum.StrEnum):
    CREATED = "CREATED"
    MATCHED = "MATCHED"
    LINKED = "LINKED"
    MERGED = "MERGED"
    CONFLICT = "CONFLICT"


#: Reason of a review case when known identities tie members without a verified one.
NO_VERIFIED_EVIDENCE = "NO_VERIFIED_EVIDENCE"


@dataclass(frozen=True)
class IdentifyResult:
    outcome: Outcome
    member: MemberRecord | None
    merge: MergeRecord | None = None
    review_id: int | None = None


async def identify(
    session: AsyncSession,
    *,
    identities: Sequence[RawIdentity],
    channel: Channel,
    profile: Mapping[str, Any] | None = None,
    create_if_missing: bool = True,
    referrer_id: int | None = None,
    acting_member_id: int | None = None,
    vouched: bool = True,
    actor: str,
    now: datetime,
    config: IdentityConfig,
) -> IdentifyResult:
    """Resolve ``identities`` to one member: CREATED, MATCHED, LINKED, MERGED or CONFLICT.

    ``acting_member_id`` (a member identifying itself) counts as already known. ``profile``
    fills the member's gaps, never overwriting. ``vouched`` is False for a caller that
    cannot vouch for what it claims (a member token, a key shipped in an app): its claims
    count as unverified, so they earn nothing a verified identity earns, and it may not
    reach an identity another member holds, which would merge or link across members.

    Raises InvalidIdentity (field path under the input, nothing written), MemberNotFound
    when nothing is known and ``create_if_missing`` is false, IdentityConflict when an
    unvouched claim names another member's identity (nothing written), and
    ConcurrentIdentityChange when the transaction must be retried.
    """
    claims = normalise_claims(identities, region=config.phone_region)
    if not vouched:
        claims = [replace(claim, verified=False) for claim in claims]
    try:
        patch = clean_profile(profile or {}, today=now.date())
    except InvalidIdentity as error:
        raise error.under("profile") from None
    referrer = None
    if referrer_id is not None:
        referrer = await active_member_id(session.execute, referrer_id)
        if referrer is None:
            raise InvalidIdentity("no active member with this ID", field=("referrerId",))
    await lock_identities(session, [claim.key for claim in claims])
    known, owners, held = await _lock_owners(session, claims, acting_member_id)
    if not vouched and len(owners) > 1:
        raise IdentityConflict(
            "another member holds one of these identities; an operator can merge members",
            field=("identities",),
        )

    if not owners:
        if not create_if_missing:
            raise MemberNotFound("no member holds these identities", field=("identities",))
        member = await create_member(
            session, channel=channel, profile=patch, referrer_id=referrer, now=now
        )
        for claim in claims:
            await insert_identity(
                session, member_id=member.id, claim=claim, channel=channel, now=now, config=config
            )
        return IdentifyResult(Outcome.CREATED, member)

    unknown = [claim for claim in claims if claim.key not in known]
    verified_now = {claim.key for claim in claims if claim.verified}
    after = [(r.key, r.verified or r.key in verified_now) for r in held]
    after += [(claim.key, claim.verified) for claim in unknown]
    broken = new_violations(
        config.merge_rules,
        [[(r.key, r.verified) for r in held if r.member_id == m] for m in owners],
        after,
    )
    evidence = _evidence(claims, known) if len(owners) > 1 else None
    if broken or (len(owners) > 1 and evidence is None):
        reason = ",".join(sorted(broken)) if broken else NO_VERIFIED_EVIDENCE
        review_id = await _open_review(
            session,
            member_ids=sorted(owners),
            identity_ids=sorted(record.id for record in known.values()),
            reason=reason,
            channel=channel,
            actor=actor,
            now=now,
        )
        return IdentifyResult(Outcome.CONFLICT, None, review_id=review_id)

    ordered = sorted(owners.values(), key=lambda m: (m.created_at, m.id))
    survivor, others = ordered[0], ordered[1:]
    merge = None
    for other in others:
        merge = await merge_into(
            session,
            survivor=survivor,
            merged=other,
            reason=f"identify via {channel.value}",
            evidence_identity_id=evidence.id if evidence is not None else None,
            actor=actor,
            now=now,
        )
        # The survivor's profile gained the merged member's gaps: read on from the new state.
        survivor = _with_profile(survivor, survivor.profile.gaps_filled_from(other.profile))
    await mark_seen(
        session,
        seen=[(record, claim.verified) for claim in claims if (record := known.get(claim.key))],
        channel=channel,
        now=now,
        config=config,
    )
    for claim in unknown:
        await insert_identity(
            session, member_id=survivor.id, claim=claim, channel=channel, now=now, config=config
        )
    filled = survivor.profile.gaps_filled_from(Profile(**patch))
    await set_profile(session, survivor.id, filled, now=now)
    survivor = _with_profile(survivor, filled)
    if merge is not None:
        return IdentifyResult(Outcome.MERGED, survivor, merge=merge)
    return IdentifyResult(Outcome.LINKED if unknown else Outcome.MATCHED, survivor)


async def _lock_owners(
    session: AsyncSession, claims: Sequence[IdentityClaim], acting_member_id: int | None
) -> tuple[dict[IdentityKey, IdentityRecord], dict[int, MemberRecord], list[IdentityRecord]]:
    """The known identities, their (row-locked, ACTIVE) members and every identity those
    members hold, read after the lock.

    A member merged away between the lock's read and the lock moved its identities, and an
    identity may have moved to a member not locked: lock again.
    """
    keys = [claim.key for claim in claims]
    for _ in range(MAX_REREADS):
        acting: list[int] = []
        if acting_member_id is not None:
            active = await active_member_id(session.execute, acting_member_id)
            if active is None:
                raise MemberNotFound("the acting member is gone", field=("memberId",))
            acting.append(active)
        owners = await lock_owners(session, keys, acting)
        if not owners:
            # Nobody holds the keys, and the keys' advisory locks keep it so.
            return {}, owners, []
        if all(m.status is MemberStatus.ACTIVE for m in owners.values()):
            known, held = await identities_by_key_or_member(session, keys, owners)
            if {r.member_id for r in known.values()} <= set(owners):
                return known, owners, held
    raise ConcurrentIdentityChange("members kept changing under identify")


def _evidence(
    claims: Sequence[IdentityClaim], known: Mapping[IdentityKey, IdentityRecord]
) -> IdentityRecord | None:
    """A verified, known identity proving the caller is one of the members found."""
    candidates = [known[c.key] for c in claims if c.verified and c.key in known]
    candidates.sort(key=lambda r: (EVIDENCE_ORDER.index(r.type), r.id))
    return candidates[0] if candidates else None


def _with_profile(member: MemberRecord, fields: Mapping[str, Any]) -> MemberRecord:
    return replace(member, **fields) if fields else member


_OPEN_REVIEW = text(
    """
    INSERT INTO identity_reviews
        (reason, member_ids, identity_ids, channel, actor, created_at, last_seen_at)
    VALUES (:reason, :member_ids, :identity_ids, :channel, :actor, :now, :now)
    ON CONFLICT (member_ids, reason) WHERE status = 'OPEN'
    DO UPDATE SET occurrences = identity_reviews.occurrences + 1,
                  last_seen_at = EXCLUDED.last_seen_at,
                  identity_ids = (
                      SELECT array_agg(DISTINCT i ORDER BY i)
                      FROM unnest(identity_reviews.identity_ids || EXCLUDED.identity_ids) i
                  )
    RETURNING id
    """
)


async def _open_review(
    session: AsyncSession,
    *,
    member_ids: list[int],
    identity_ids: list[int],
    reason: str,
    channel: Channel,
    actor: str,
    now: datetime,
) -> int:
    """Record the conflict for operators; the same conflict again counts on its open case."""
    result = await session.execute(
        _OPEN_REVIEW,
        {
            "reason": reason,
            "member_ids": member_ids,
            "identity_ids": identity_ids,
            "channel": channel.value,
            "actor": actor,
            "now": now,
        },
    )
    return result.scalar_one()
