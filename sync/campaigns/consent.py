"""Marketing consent per (member, channel), and what erasing a member removes from campaigns.

Without a row the channel's default applies (``CampaignConfig.consent_defaults``): SMS is
opt-in. Consent is read when a message is about to leave, never only when it was planned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import EventHooks
from identity.events import MemberErased
from sync.campaigns.model import CampaignNotFound, MessageChannel

#: Without MEMBERHUB_CAMPAIGN_CONSENT_DEFAULTS: every channel is opt-in.
DEFAULT_CONSENT: Mapping[str, bool] = {c.value: False for c in MessageChannel}


@dataclass(frozen=True)
class Consent:
    channel: MessageChannel
    granted: bool
    updated_at: datetime


async def set_consent(
    *,
    session: AsyncSession,
    member_id: int,
    channel: MessageChannel,
    granted: bool,
    now: datetime,
) -> None:
    """Record the member's choice; CampaignNotFound for a member that is not active."""
    status = await session.scalar(
        text("SELECT status FROM members WHERE id = :id FOR SHARE"), {"id": member_id}
    )
    if status != "ACTIVE":
        raise CampaignNotFound(f"no active member {member_id}", field=("memberId",))
    await session.execute(
        text(
            "INSERT INTO member_consents (member_id, channel, granted, updated_at)"
            " VALUES (:member, :channel, :granted, :now) ON CONFLICT (member_id, channel)"
            " DO UPDATE SET granted = EXCLUDED.granted, updated_at = EXCLUDED.updated_at"
        ),
        {"member": member_id, "channel": channel.value, "granted": granted, "now": now},
    )


async def consents_of(execute: object, member_ids: list[int]) -> dict[int, list[Consent]]:
    rows = await execute(  # type: ignore[operator]
        text(
            "SELECT member_id, channel, granted, updated_at FROM member_consents"
            " WHERE member_id = ANY(CAST(:ids AS bigint[])) ORDER BY member_id, channel"
        ),
        {"ids": member_ids},
    )
    found: dict[int, list[Consent]] = {m: [] for m in member_ids}
    for r in rows:
        found[r.member_id].append(Consent(MessageChannel(r.channel), r.granted, r.updated_at))
    return found


async def forget_erased_member(session: AsyncSession, event: MemberErased) -> None:
    """Erasure: the member's consents go, waiting messages are dropped, errors (which may
    quote a provider's answer about the recipient) are cleared, and so are the providers'
    message IDs (they join the providers' records of the phone and text to this member;
    a later receipt for one of them counts as unknown)."""
    await session.execute(
        text("DELETE FROM member_consents WHERE member_id = :m"), {"m": event.member_id}
    )
    await session.execute(
        text(
            "UPDATE campaign_touches SET last_error = NULL, next_attempt_at = NULL,"
            " provider_message_id = NULL, receipt_error = NULL,"
            " outcome = CASE WHEN outcome IN ('PENDING', 'SKIPPED_QUIET_HOURS')"
            "  THEN 'SKIPPED_NO_CONSENT' ELSE outcome END"
            " WHERE member_id = :m"
        ),
        {"m": event.member_id},
    )


def subscribe_campaigns(hooks: EventHooks) -> None:
    hooks.subscribe(MemberErased, forget_erased_member)
