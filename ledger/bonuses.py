"""Programme bonuses paid from identity's events, inside identity's transaction.

- Sign-up: ``signup_bonus`` points when a member is created with, or first links, a verified
  phone; once per phone hash ever and once per member (``points_signup_bonuses``).
- Referral: ``referral_bonus`` points to the new member and to the referrer, once per new
  member (``points_referrals``), paid when the new member holds a verified identity (a
  referral named at sign-up waits in ``points_referral_claims`` until then). The referrer
  is paid at most ``referral_cap`` bonuses per ``referral_cap_days``, and not at all when
  it is no longer an active member.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.batch_posting import BatchOperation, post_batch
from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import PostingResult, lock_members, post_entries
from ledger.tables import points_referral_claims, points_referrals

#: The operation the anti-fraud checks see a sign-up bonus as.
SIGNUP = "bonus.signup"


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
        operation=SIGNUP,
    )


_CLAIM_SIGNUP_BONUSES = text(
    "INSERT INTO points_signup_bonuses (phone_hash, member_id, created_at)"
    " SELECT v.phone_hash, v.member_id, :created_at FROM unnest(CAST(:phone_hashes AS text[]),"
    " CAST(:members AS bigint[])) WITH ORDINALITY AS v(phone_hash, member_id, n) ORDER BY v.n"
    " ON CONFLICT DO NOTHING RETURNING member_id"
)


async def grant_signup_bonuses(
    *,
    session: AsyncSession,
    phones: Sequence[tuple[int, str, Channel]],
    now: datetime,
    config: LedgerConfig,
) -> None:
    """``grant_signup_bonus`` for many (member, phone hash, channel) at once: the claims in
    one statement, the bonuses posted as one batch."""
    if config.signup_bonus <= 0 or not phones:
        return
    claimed = set(
        (
            await session.execute(
                _CLAIM_SIGNUP_BONUSES,
                {
                    "phone_hashes": [h for _, h, _ in phones],
                    "members": [m for m, _, _ in phones],
                    "created_at": now,
                },
            )
        ).scalars()
    )
    bonuses = [
        EntryRequest(
            member_id=member_id,
            kind=EntryKind.BONUS,
            bucket=Bucket.AVAILABLE,
            amount=config.signup_bonus,
            channel=channel,
            reference="sign-up bonus",
        )
        for member_id, channel in {m: c for m, _, c in reversed(phones) if m in claimed}.items()
    ]
    if not bonuses:
        return
    posted = await post_batch(
        session=session,
        operations=[BatchOperation(requests=(bonus,)) for bonus in bonuses],
        now=now,
        config=config,
        operation=SIGNUP,
    )
    if posted is None:
        # A rule judges bonuses that has no batch form: one by one, as it would judge them.
        for bonus in bonuses:
            await post_entries(
                session=session, requests=[bonus], now=now, config=config, operation=SIGNUP
            )


async def claim_referral(
    *,
    session: AsyncSession,
    member_id: int,
    referrer_id: int,
    channel: Channel,
    now: datetime,
    config: LedgerConfig,
) -> PostingResult | None:
    """Note that ``referrer_id`` referred the new member; pay at once if the new member is
    verified already, else when it is (``pay_referral_bonus``). None when nothing was paid.

    Unverified sign-ups cost nothing to make, so they earn nobody anything.
    """
    if config.referral_bonus <= 0 or referrer_id == member_id:
        return None
    # The members table is identity's; the ledger only asks whether the referrer is active.
    status = await session.scalar(
        text("SELECT status FROM members WHERE id = :id"), {"id": referrer_id}
    )
    if status != "ACTIVE":
        return None
    await session.execute(
        insert(points_referral_claims)
        .values(member_id=member_id, referrer_id=referrer_id, created_at=now)
        .on_conflict_do_nothing()
    )
    verified = await session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM member_identities WHERE member_id = :member AND verified)"
        ),
        {"member": member_id},
    )
    if not verified:
        return None
    return await pay_referral_bonus(
        session=session, member_id=member_id, channel=channel, now=now, config=config
    )


async def pay_referral_bonus(
    *,
    session: AsyncSession,
    member_id: int,
    channel: Channel,
    now: datetime,
    config: LedgerConfig,
) -> PostingResult | None:
    """Pay the referral of ``member_id``, now verified: its own half always, the referrer's
    unless the referrer was paid ``referral_cap`` bonuses within ``referral_cap_days``.
    Once per referred member; None when there is no claim or it was paid."""
    if config.referral_bonus <= 0:
        return None
    referrer_id = await session.scalar(
        text("SELECT referrer_id FROM points_referral_claims WHERE member_id = :member"),
        {"member": member_id},
    )
    if referrer_id is None:
        return None
    # The referrer's account lock queues its referees, so the cap is counted exactly.
    await lock_members(session, [member_id, referrer_id])
    paid_lately = await session.scalar(
        text(
            "SELECT count(*) FROM points_referrals WHERE referrer_id = :referrer"
            " AND referrer_paid AND created_at > :since"
        ),
        {"referrer": referrer_id, "since": now - timedelta(days=config.referral_cap_days)},
    )
    referrer_active = (
        await session.scalar(text("SELECT status FROM members WHERE id = :id"), {"id": referrer_id})
        == "ACTIVE"
    )
    referrer_paid = referrer_active and paid_lately < config.referral_cap
    claimed = await session.execute(
        insert(points_referrals)
        .values(
            member_id=member_id,
            referrer_id=referrer_id,
            created_at=now,
            referrer_paid=referrer_paid,
        )
        .on_conflict_do_nothing()
        .returning(points_referrals.c.member_id)
    )
    if claimed.first() is None:
        return None
    beneficiaries = [member_id, referrer_id] if referrer_paid else [member_id]
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
            for beneficiary in beneficiaries
        ],
        now=now,
        config=config,
        operation="bonus.referral",
    )
