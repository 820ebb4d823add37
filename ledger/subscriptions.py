"""The ledger's handlers of identity's events, run inside identity's transaction: a new
member's points account opens with it, bonuses are paid, merges move points."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import ledger.checkin  # noqa: F401  (registers the CHECKIN_DAILY rule)
from bus.hooks import EventHooks
from identity.events import IdentityLinked, MemberCreated, MembersMerged, MembersUnmerged
from ledger.bonuses import (
    channel_of,
    claim_referral,
    grant_signup_bonus,
    grant_signup_bonuses,
    pay_referral_bonus,
)
from ledger.merges import move_points_on_merge, return_points_on_unmerge
from ledger.model import LedgerConfig
from ledger.posting import open_accounts

_REFERRAL_CLAIMS = text(
    "SELECT member_id FROM points_referral_claims WHERE member_id = ANY(CAST(:members AS bigint[]))"
)
#: The transaction's start time, as PostgreSQL's now() answers it.
_TRANSACTION_TIME = text("SELECT now()")


class LedgerSubscriber:
    """One per process; ``subscribe_ledger`` sets its programme and clock."""

    def __init__(self) -> None:
        self.config = LedgerConfig()
        #: The hub's clock; without one, the database's transaction time.
        self.clock: Callable[[], datetime] | None = None

    async def now(self, session: AsyncSession) -> datetime:
        if self.clock is not None:
            return self.clock()
        return await session.scalar(_TRANSACTION_TIME)  # type: ignore[return-value]

    async def on_member_created(self, session: AsyncSession, event: MemberCreated) -> None:
        if event.member_id is None:
            return
        await open_accounts(session, [event.member_id])
        if event.referrer_id is None:
            return
        await claim_referral(
            session=session,
            member_id=event.member_id,
            referrer_id=event.referrer_id,
            channel=channel_of(event.channel),
            now=await self.now(session),
            config=self.config,
        )

    async def on_members_created(
        self, session: AsyncSession, events: Sequence[MemberCreated]
    ) -> None:
        """Many enrolments at once (``identity.enrolment``): the accounts in one statement."""
        await open_accounts(session, [e.member_id for e in events if e.member_id is not None])
        for event in events:
            if event.member_id is not None and event.referrer_id is not None:
                await claim_referral(
                    session=session,
                    member_id=event.member_id,
                    referrer_id=event.referrer_id,
                    channel=channel_of(event.channel),
                    now=await self.now(session),
                    config=self.config,
                )

    async def on_identity_linked(self, session: AsyncSession, event: IdentityLinked) -> None:
        if not event.verified or event.member_id is None:
            return
        await pay_referral_bonus(
            session=session,
            member_id=event.member_id,
            channel=channel_of(event.channel),
            now=await self.now(session),
            config=self.config,
        )
        if event.identity_type != "PHONE" or not event.phone_hash:
            return
        await grant_signup_bonus(
            session=session,
            member_id=event.member_id,
            phone_hash=event.phone_hash,
            channel=channel_of(event.channel),
            now=await self.now(session),
            config=self.config,
        )

    async def on_identities_linked(
        self, session: AsyncSession, events: Sequence[IdentityLinked]
    ) -> None:
        """Many links at once (``identity.enrolment``): the referral claims read in one
        statement, the sign-up bonuses claimed and posted as one batch."""
        verified = [e for e in events if e.verified and e.member_id is not None]
        if not verified:
            return
        now = await self.now(session)
        claimed = set(
            (
                await session.execute(
                    _REFERRAL_CLAIMS, {"members": [e.member_id for e in verified]}
                )
            ).scalars()
        )
        for event in verified:
            if event.member_id in claimed:
                await pay_referral_bonus(
                    session=session,
                    member_id=event.member_id,
                    channel=channel_of(event.channel),
                    now=now,
                    config=self.config,
                )
        await grant_signup_bonuses(
            session=session,
            phones=[
                (e.member_id, e.phone_hash, channel_of(e.channel))
                for e in verified
                if e.identity_type == "PHONE" and e.phone_hash and e.member_id is not None
            ],
            now=now,
            config=self.config,
        )

    async def on_members_merged(self, session: AsyncSession, event: MembersMerged) -> None:
        assert event.member_id is not None
        await move_points_on_merge(
            session=session,
            survivor_id=event.member_id,
            merged_id=event.merged_id,
            merge_id=event.merge_id,
            now=await self.now(session),
            config=self.config,
        )

    async def on_members_unmerged(self, session: AsyncSession, event: MembersUnmerged) -> None:
        assert event.member_id is not None
        await return_points_on_unmerge(
            session=session,
            survivor_id=event.member_id,
            restored_id=event.restored_id,
            merge_id=event.merge_id,
            now=await self.now(session),
            config=self.config,
        )


subscriber = LedgerSubscriber()


def subscribe_ledger(
    hooks: EventHooks,
    config: LedgerConfig,
    *,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Subscribe the ledger's handlers (once, however often called); the latest ``config``
    and ``clock`` apply."""
    subscriber.config = config
    subscriber.clock = clock
    hooks.subscribe(MemberCreated, subscriber.on_member_created, many=subscriber.on_members_created)
    hooks.subscribe(
        IdentityLinked, subscriber.on_identity_linked, many=subscriber.on_identities_linked
    )
    hooks.subscribe(MembersMerged, subscriber.on_members_merged)
    hooks.subscribe(MembersUnmerged, subscriber.on_members_unmerged)
