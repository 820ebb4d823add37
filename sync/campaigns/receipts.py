"""Delivery receipts: what the SMS provider and WeChat report, later, about sent messages.

A receipt names the provider's message ID (kept on the touch when it was sent) and says
delivered or failed. The rule, whatever order receipts arrive in:

- SENT -> DELIVERED or FAILED; FAILED -> DELIVERED (a provider reports a failed attempt,
  then delivers on its own retry: the proof of delivery wins, whenever it arrives);
- DELIVERED is final: a FAILED for the same message, late or duplicated, changes nothing;
- a repeat changes nothing (a FAILED keeps the first error code);
- touches in any other state (PENDING, SKIPPED_*, FAILED by the hub itself, which hold no
  message ID) are not moved; IDs no touch holds are counted as unknown and ignored.

A FAILED receipt clears ``reached_at``: a message that never arrived did not reach the
member, so ``Campaign.report``'s ``reached`` (which counts ``reached_at``) and the frequency
cap (which reads it) stay exact. A DELIVERED one keeps the time it was sent, or takes the
reported time when it follows a FAILED.

A whole request is one set-based UPDATE, so a provider's batch of a thousand reports is one
statement; concurrent requests about the same message serialise on its row, and the UPDATE's
condition is re-read after the wait, so the rule above holds between them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from identity.lookup import member_by_identity
from identity.model import IdentityKey, IdentityType
from sync.campaigns.consent import set_consent
from sync.campaigns.model import CampaignNotFound, MessageChannel

#: Longest error code kept (the column's limit).
MAX_ERROR_CODE = 64


@dataclass(frozen=True)
class Receipt:
    message_id: str
    delivered: bool
    #: The provider's error code of a failed delivery.
    error_code: str | None
    #: When the provider says it happened; None: when the hub heard of it.
    at: datetime | None


@dataclass(frozen=True)
class ReceiptCount:
    #: Receipts in the request (repeats of one message inside it count once).
    received: int
    #: Touches moved to DELIVERED or FAILED.
    applied: int
    #: Receipts about known messages that changed nothing (repeats, a FAILED after DELIVERED).
    unchanged: int
    #: Receipts naming IDs no touch of the channel holds.
    unknown: int


_RECORD = text(
    # Within one request a message's DELIVERED goes before its FAILED, as across requests.
    "WITH given AS (SELECT DISTINCT ON (g.id) g.id, g.delivered, g.error,"
    "  least(coalesce(g.at, CAST(:now AS timestamptz)), CAST(:now AS timestamptz)) AS at"
    "  FROM unnest(CAST(:ids AS text[]), CAST(:delivered AS boolean[]),"
    "  CAST(:errors AS text[]), CAST(:ats AS timestamptz[])) WITH ORDINALITY"
    "  AS g(id, delivered, error, at, n)"
    "  ORDER BY g.id, g.delivered DESC, g.n),"
    " moved AS (UPDATE campaign_touches t SET"
    "  outcome = CASE WHEN g.delivered THEN 'DELIVERED' ELSE 'FAILED' END,"
    "  reached_at = CASE WHEN g.delivered THEN coalesce(t.reached_at, g.at) END,"
    "  receipt_at = g.at,"
    "  receipt_error = CASE WHEN g.delivered THEN NULL ELSE coalesce(g.error, 'UNKNOWN') END"
    "  FROM given g WHERE t.channel = :channel AND t.provider_message_id = g.id"
    "  AND (t.outcome = 'SENT' OR (t.outcome = 'FAILED' AND g.delivered))"
    "  RETURNING t.id)"
    " SELECT (SELECT count(*) FROM given) AS received,"
    "  (SELECT count(*) FROM moved) AS applied,"
    "  (SELECT count(*) FROM given g WHERE NOT EXISTS (SELECT 1 FROM campaign_touches t"
    "   WHERE t.channel = :channel AND t.provider_message_id = g.id)) AS unknown"
)


async def record_receipts(
    *,
    session: AsyncSession,
    channel: MessageChannel,
    receipts: Sequence[Receipt],
    now: datetime,
) -> ReceiptCount:
    """Apply ``receipts`` of ``channel`` in one statement; flushes, never commits.

    Reported times after ``now`` are taken as ``now`` (a provider's clock running ahead
    must not date a delivery in the future)."""
    if not receipts:
        return ReceiptCount(0, 0, 0, 0)
    row = (
        await session.execute(
            _RECORD,
            {
                "channel": channel.value,
                "now": now,
                "ids": [r.message_id for r in receipts],
                "delivered": [r.delivered for r in receipts],
                "errors": [
                    r.error_code[:MAX_ERROR_CODE] if r.error_code else None for r in receipts
                ],
                "ats": [r.at for r in receipts],
            },
        )
    ).one()
    return ReceiptCount(
        received=row.received,
        applied=row.applied,
        unchanged=row.received - row.applied - row.unknown,
        unknown=row.unknown,
    )


@dataclass(frozen=True)
class Refusal:
    """A member refused the app's subscribe messages (WeChat's reject/change events)."""

    openid: str
    #: When WeChat says the member refused.
    at: datetime


async def withdraw_wechat_consent(
    *, session: AsyncSession, app_id: str, refusals: Sequence[Refusal], now: datetime
) -> int:
    """Record each refusal as WECHAT_SUBSCRIBE consent withdrawn, through ``set_consent``
    (as ``setConsent`` does); answer how many members it withdrew.

    OpenIDs no active member holds are ignored. A choice recorded after the refusal (the
    member granted consent again since; a push WeChat retried late) stands."""
    withdrawn = 0
    for refusal in refusals:
        member = await member_by_identity(
            session.execute, IdentityKey(IdentityType.WECHAT_OPENID, app_id, refusal.openid)
        )
        if member is None:
            continue
        decided = await session.scalar(
            text("SELECT updated_at FROM member_consents WHERE member_id = :m AND channel = :c"),
            {"m": member.id, "c": MessageChannel.WECHAT_SUBSCRIBE.value},
        )
        at = min(refusal.at, now)
        if decided is not None and decided > at:
            continue
        try:
            await set_consent(
                session=session,
                member_id=member.id,
                channel=MessageChannel.WECHAT_SUBSCRIBE,
                granted=False,
                now=at,
            )
        except CampaignNotFound:
            continue  # the member was erased or merged away meanwhile: nothing to withdraw
        withdrawn += 1
    return withdrawn
