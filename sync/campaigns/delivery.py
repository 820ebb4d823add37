"""Sending the messages that assignment left waiting, one touch per transaction.

A touch is claimed with ``FOR UPDATE SKIP LOCKED`` (so workers running side by side never
take the same one), checked (campaign still running, consent now, quiet hours now), sent,
and its outcome written in that same transaction. A worker killed mid-run loses only the
transaction of the touch it was on: that touch is still due and is sent by the next run;
every touch committed before stays done. The provider gets the touch as the idempotency
key, so the one message that may have left before the kill is not a second message to it.
WEBHOOK messages are outbox events written in the touch's transaction: exactly once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import DomainEvent, publish
from sync.campaigns.channels import (
    Recipient,
    SendFailed,
    SendRefused,
    SendResult,
    SmsProvider,
    WechatSubscribe,
    filled_data,
)
from sync.campaigns.model import MessageChannel, Outcome
from sync.campaigns.quiet_hours import QuietHours, quiet_until
from sync.outbox import outbox_written_at_end


class Sender(Protocol):
    async def send(
        self,
        client: httpx.AsyncClient,
        recipient: Recipient,
        template_id: str,
        data: Mapping[str, str],
        key: str,
    ) -> SendResult: ...


@dataclass(frozen=True, kw_only=True)
class CampaignMessage(DomainEvent):
    """A message for the partners' systems to deliver to the member."""

    event_type = "campaign.message"
    campaign_id: int
    arm: str
    template_id: str
    data: dict[str, str]


@dataclass(frozen=True)
class CampaignConfig:
    zone: str = "Asia/Shanghai"
    quiet_hours: QuietHours | None = None
    consent_defaults: Mapping[str, bool] = field(default_factory=dict)
    sms: SmsProvider | None = None
    wechat: WechatSubscribe | None = None
    first_retry: timedelta = timedelta(seconds=30)
    max_retry_delay: timedelta = timedelta(hours=1)
    retry_for: timedelta = timedelta(hours=24)
    #: Touches one run sends at most; the next run goes on.
    batch: int = 5000


@dataclass
class DeliveryRun:
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


_CLAIM = text(
    "SELECT t.id, t.campaign_id, t.member_id, t.assigned_at, t.attempts, t.coupon_id,"
    " a.name AS arm, a.message_channel, a.message_template_id, a.message_data,"
    " c.status AS campaign_status, m.status AS member_status, m.name AS member_name,"
    " coalesce(g.granted, (CAST(:defaults AS jsonb) ->> a.message_channel) = 'true') AS consent,"
    " coalesce((SELECT b.balance FROM points_balances b WHERE b.member_id = t.member_id"
    "  AND b.bucket = 'AVAILABLE'), 0) AS points,"
    " (SELECT k.code FROM coupons k WHERE k.id = t.coupon_id) AS coupon_code,"
    " (SELECT i.value FROM member_identities i WHERE i.member_id = t.member_id"
    "  AND i.type = 'PHONE' ORDER BY i.verified DESC, i.id LIMIT 1) AS phone,"
    " (SELECT i.value FROM member_identities i WHERE i.member_id = t.member_id"
    "  AND i.type = 'WECHAT_OPENID' AND i.namespace = :app ORDER BY i.id LIMIT 1) AS openid"
    " FROM campaign_touches t"
    " JOIN campaigns c ON c.id = t.campaign_id"
    " JOIN campaign_arms a ON a.campaign_id = t.campaign_id AND a.position = t.arm_position"
    " JOIN members m ON m.id = t.member_id"
    " LEFT JOIN member_consents g ON g.member_id = t.member_id AND g.channel = a.message_channel"
    " WHERE t.next_attempt_at <= :now AND c.status IN ('RUNNING', 'FINISHED')"
    " ORDER BY t.next_attempt_at, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED"
)


async def _finish(
    session: AsyncSession,
    touch_id: int,
    outcome: Outcome,
    *,
    channel: str | None,
    reached_at: datetime | None,
    next_attempt_at: datetime | None,
    attempts: int,
    error: str | None,
    message_id: str | None = None,
) -> None:
    # A provider handing out an ID it already gave another message would break the unique
    # index and, with it, this touch's transaction (a resend): that touch keeps no ID and its
    # receipts count as unknown instead.
    await session.execute(
        text(
            "UPDATE campaign_touches SET outcome = :outcome, channel = :channel,"
            " reached_at = :reached, next_attempt_at = :next, attempts = :attempts,"
            " last_error = :error, provider_message_id = (SELECT CAST(:message_id AS text)"
            "  WHERE NOT EXISTS (SELECT 1 FROM campaign_touches o WHERE o.channel = :channel"
            "  AND o.provider_message_id = :message_id))"
            " WHERE id = :id"
        ),
        {
            "message_id": message_id,
            "id": touch_id,
            "outcome": outcome.value,
            "channel": channel,
            "reached": reached_at,
            "next": next_attempt_at,
            "attempts": attempts,
            "error": error[:500] if error else None,
        },
    )


def _retry_delay(attempts: int, config: CampaignConfig, fraction: Callable[[], float]) -> timedelta:
    """Exponential backoff with full jitter, as webhooks retry."""
    ceiling = min(config.max_retry_delay, config.first_retry * 2 ** min(attempts - 1, 30))
    return max(ceiling * fraction(), timedelta(seconds=1))


def _senders(config: CampaignConfig) -> dict[str, Sender | None]:
    return {
        MessageChannel.SMS.value: config.sms,
        MessageChannel.WECHAT_SUBSCRIBE.value: config.wechat,
    }


async def _deliver_one(
    session: AsyncSession,
    row: Any,
    *,
    client: httpx.AsyncClient,
    now: datetime,
    config: CampaignConfig,
    senders: Mapping[str, Sender | None],
    fraction: Callable[[], float],
) -> Outcome:
    channel = row.message_channel
    done: dict[str, Any] = {"channel": channel, "attempts": row.attempts, "error": None}
    if row.member_status != "ACTIVE" or not row.consent:
        await _finish(
            session,
            row.id,
            Outcome.SKIPPED_NO_CONSENT,
            reached_at=None,
            next_attempt_at=None,
            **done,
        )
        return Outcome.SKIPPED_NO_CONSENT
    waits_until = quiet_until(now, config.quiet_hours, config.zone)
    if waits_until is not None:
        await _finish(
            session,
            row.id,
            Outcome.SKIPPED_QUIET_HOURS,
            reached_at=None,
            next_attempt_at=waits_until,
            **done,
        )
        return Outcome.SKIPPED_QUIET_HOURS
    recipient = Recipient(
        member_id=row.member_id,
        name=row.member_name,
        points_available=row.points,
        coupon_code=row.coupon_code,
        phone=row.phone,
        openid=row.openid,
    )
    data = filled_data([(k, v) for k, v in row.message_data], recipient)
    if channel == MessageChannel.WEBHOOK.value:
        await publish(
            session,
            CampaignMessage(
                member_id=row.member_id,
                campaign_id=row.campaign_id,
                arm=row.arm,
                template_id=row.message_template_id,
                data=data,
            ),
        )
        await _finish(session, row.id, Outcome.SENT, reached_at=now, next_attempt_at=None, **done)
        return Outcome.SENT
    attempts = row.attempts + 1
    done["attempts"] = attempts
    sender = senders.get(channel)
    try:
        if sender is None:
            raise SendRefused(f"no {channel} provider is configured")
        result = await sender.send(
            client, recipient, row.message_template_id, data, f"campaign-touch-{row.id}"
        )
    except SendFailed as error:
        if now - row.assigned_at >= config.retry_for:
            done["error"] = f"gave up after {attempts} attempts: {error}"
            await _finish(
                session, row.id, Outcome.FAILED, reached_at=None, next_attempt_at=None, **done
            )
            return Outcome.FAILED
        done["error"] = str(error)
        retry_at = now + _retry_delay(attempts, config, fraction)
        await _finish(
            session, row.id, Outcome.PENDING, reached_at=None, next_attempt_at=retry_at, **done
        )
        return Outcome.PENDING
    except SendRefused as error:
        done["error"] = str(error)
        await _finish(
            session, row.id, Outcome.FAILED, reached_at=None, next_attempt_at=None, **done
        )
        return Outcome.FAILED
    outcome = Outcome.DELIVERED if result.delivered else Outcome.SENT
    await _finish(
        session,
        row.id,
        outcome,
        reached_at=now,
        next_attempt_at=None,
        message_id=result.message_id,
        **done,
    )
    return outcome


async def deliver_due_messages(
    session_factory: Callable[[], AsyncSession],
    *,
    now: datetime,
    config: CampaignConfig,
    senders: Mapping[str, Sender | None] | None = None,
    fraction: Callable[[], float] = random.random,
) -> DeliveryRun:
    """Send every message due at ``now`` (up to ``config.batch``), each in its own
    transaction; answer how many ended how."""
    import orjson

    senders = _senders(config) if senders is None else senders
    defaults = orjson.dumps(dict(config.consent_defaults)).decode()
    app = config.wechat.app_id if config.wechat else ""
    run = DeliveryRun()
    async with httpx.AsyncClient() as client:
        for _ in range(config.batch):
            async with (
                session_factory() as session,
                session.begin(),
                outbox_written_at_end(session),
            ):
                row = (
                    await session.execute(_CLAIM, {"now": now, "defaults": defaults, "app": app})
                ).one_or_none()
                if row is None:
                    break
                outcome = await _deliver_one(
                    session,
                    row,
                    client=client,
                    now=now,
                    config=config,
                    senders=senders,
                    fraction=fraction,
                )
            run.count(outcome.value)
    return run
