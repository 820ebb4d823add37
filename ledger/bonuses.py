"""Programme bonuses paid from identity's events, inside identity's transaction.

- Sign-up: ``signup_bonus`` points when a member is created with, or first links, a verified
  phone; once per phone hash ever and once per member (``points_signup_bonuses``).
- Referral: ``referral_bonus`` points to the new member and to the referrer, once per new
  member (``points_referrals``); skipped when the referrer is not an active member.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import PostingResult, post_entries
from ledger.tables import points_referrals


def channel_of(name: str) -> Channel:
    try:
        return Channel(name)
    except ValueError:
        return Channel.ADMIN


#: Built once, as every statement on enrolment's path, and plain text, which runs on the
#: session's fast path: building it per call cost more than its round trip.
_CLAIM_SIGNUP_BONUS = text(
    "INSERT INTO points_signup_bonuses (phone_hash, member_id, created_at)"
    " VALUES (:phone_hash, :member_id, :created_at) ON CONFLICT DO NOTHING RETURNING phone_hash"
)


async def grant_signup_bonus(
    *,
    session: AsyncSession,
    member_id: int,
    phone_hash: str,
    channel: Channel,
    now: datetime,
    config: LedgerConfig,
) -> PostingResult | None:
    """Pay the bonus unless this phone or this member already had one (answer None then)."""
    if config.signup_bonus <= 0:
        return None
    claimed = await session.execute(
        _CLAIM_SIGNUP_BONUS, {"phone_hash": phone_hash, "member_id": member_id, "created_at": now}
    )
    if claimed.first() is None:
        return None
    return await post_entries(
        session=session,
        requests=[
            EntryRequest(
                member_id=member_id,
                kind=EntryKind.BONUS,
                bucket=Bucket.AVAILABLE,
                amount=config.signup_bonus,
                channel=channel,
                reference="sign-up bonus",
            )
        ],
        now=now,
        config=config,
        operation="bonus.signup",
    )


async def grant_referral_bonus(
    *,
    session: AsyncSession,
    member_id: int,
    referrer_id: int,
    channel: Channel,
    now: datetime,
    config: LedgerConfig,
) -> PostingResult | None:
    """Pay both sides once per referred member; None when nothing was paid."""
    if config.referral_bonus <= 0 or referrer_id == member_id:
        return None
    # The members table is identity's; the ledger only asks whether the referrer is active.
    status = await session.scalar(
        text("SELECT status FROM members WHERE id = :id"), {"id": referrer_id}
    )
    if status != "ACTIVE":
        return None
    claimed = await session.execute(
        insert(points_referrals)
        .values(member_id=member_id, referrer_id=referrer_id, created_at=now)
        .on_conflict_do_nothing()
        .returning(points_referrals.c.member_id)
    )
    if claimed.first() is None:
        return None
    return await post_entries(
        session=session,
        requests=[
            EntryRequest(
                member_id=beneficiary,
                kind=EntryKind.BONUS,
                bucket=Bucket.AVAILABLE,
                amount=config.referral_bonus,
                channel=channel,
                reference=f"referral of member {member_id}",
            )
            for beneficiary in (member_id, referrer_id)
        ],
        now=now,
        config=config,
        operation="bonus.referral",
    )
