"""Writing and reading campaigns: create as DRAFT, start, pause, list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from sync.campaigns.model import (
    ArmSpec,
    Campaign,
    CampaignNotFound,
    CampaignSpec,
    InvalidCampaign,
    Message,
    MessageChannel,
    Status,
    Trigger,
    check_spec,
)
from sync.rows import record_from

_COLUMNS = (
    "id, name, status, trigger, trigger_days, trigger_category, audience_segment_id,"
    " starts_at, ends_at, frequency_cap_days, conversion_window_days"
)


def campaign_from_row(row: Any) -> Campaign:
    return record_from(Campaign, row, status=Status(row.status), trigger=Trigger(row.trigger))


async def create_campaign(
    *, session: AsyncSession, spec: CampaignSpec, actor: str, now: datetime
) -> Campaign:
    """Write a DRAFT campaign and its arms; InvalidCampaign or CampaignNotFound (an unknown
    segment or coupon template) write nothing."""
    spec = check_spec(spec)
    if spec.audience_segment_id is not None and not await session.scalar(
        text("SELECT 1 FROM segments WHERE id = :id"), {"id": spec.audience_segment_id}
    ):
        raise CampaignNotFound("no such segment", field=("input", "audienceSegmentId"))
    templates = {a.coupon_template_id for a in spec.arms if a.coupon_template_id is not None}
    if templates:
        found = set(
            (
                await session.execute(
                    text("SELECT id FROM coupon_templates WHERE id = ANY(:ids) AND active"),
                    {"ids": sorted(templates)},
                )
            ).scalars()
        )
        if missing := templates - found:
            n = next(i for i, a in enumerate(spec.arms) if a.coupon_template_id in missing)
            raise CampaignNotFound(
                "no active coupon template of that ID",
                field=("input", "arms", str(n), "action", "issueCouponTemplateId"),
            )
    row = (
        await session.execute(
            text(
                "INSERT INTO campaigns (name, audience_segment_id, trigger, trigger_days,"
                " trigger_category, starts_at, ends_at, frequency_cap_days,"
                " conversion_window_days, created_by, created_at)"
                " VALUES (:name, :segment, :trigger, :days, :category, :starts, :ends, :cap,"
                f" :window, :actor, :now) RETURNING {_COLUMNS}"
            ),
            {
                "name": spec.name,
                "segment": spec.audience_segment_id,
                "trigger": spec.trigger.value,
                "days": spec.trigger_days,
                "category": spec.trigger_category,
                "starts": spec.starts_at,
                "ends": spec.ends_at,
                "cap": spec.frequency_cap_days,
                "window": spec.conversion_window_days,
                "actor": actor,
                "now": now,
            },
        )
    ).one()
    await session.execute(
        text(
            "INSERT INTO campaign_arms (campaign_id, position, name, weight, coupon_template_id,"
            " award_points, message_channel, message_template_id, message_data)"
            " VALUES (:campaign, :position, :name, :weight, :coupon, :points, :channel,"
            " :template, CAST(:data AS jsonb))"
        ),
        [
            {
                "campaign": row.id,
                "position": n,
                "name": arm.name,
                "weight": arm.weight,
                "coupon": arm.coupon_template_id,
                "points": arm.award_points,
                "channel": arm.message.channel.value if arm.message else None,
                "template": arm.message.template_id if arm.message else None,
                "data": orjson.dumps(list(arm.message.data) if arm.message else []).decode(),
            }
            for n, arm in enumerate(spec.arms)
        ],
    )
    return campaign_from_row(row)


async def _set_status(
    session: AsyncSession,
    campaign_id: int,
    to: Status,
    allowed_from: Sequence[Status],
    now: datetime,
) -> Campaign:
    row = (
        await session.execute(
            text(f"SELECT {_COLUMNS} FROM campaigns WHERE id = :id FOR UPDATE"),
            {"id": campaign_id},
        )
    ).one_or_none()
    if row is None:
        raise CampaignNotFound(f"no campaign {campaign_id}", field=("id",))
    if Status(row.status) == to:
        return campaign_from_row(row)
    if Status(row.status) not in allowed_from:
        raise InvalidCampaign(f"a {row.status} campaign cannot become {to.value}", field=("id",))
    row = (
        await session.execute(
            text(
                "UPDATE campaigns SET status = :to, started_at = coalesce(started_at, :now)"
                f" WHERE id = :id RETURNING {_COLUMNS}"
            ),
            {"id": campaign_id, "to": to.value, "now": now},
        )
    ).one()
    return campaign_from_row(row)


async def start_campaign(*, session: AsyncSession, campaign_id: int, now: datetime) -> Campaign:
    """DRAFT or PAUSED -> RUNNING: the next evaluation assigns and acts."""
    return await _set_status(
        session, campaign_id, Status.RUNNING, (Status.DRAFT, Status.PAUSED), now
    )


async def pause_campaign(*, session: AsyncSession, campaign_id: int, now: datetime) -> Campaign:
    """RUNNING -> PAUSED: nobody new is assigned and no waiting message is sent."""
    return await _set_status(session, campaign_id, Status.PAUSED, (Status.RUNNING,), now)


async def load_campaigns(execute: Any, ids: Sequence[int]) -> list[Campaign | None]:
    rows = await execute(
        text(f"SELECT {_COLUMNS} FROM campaigns WHERE id = ANY(CAST(:ids AS bigint[]))"),
        {"ids": list(ids)},
    )
    found = {r.id: campaign_from_row(r) for r in rows}
    return [found.get(i) for i in ids]


async def list_campaigns(execute: Any, status: Status | None) -> list[Campaign]:
    rows = await execute(
        text(
            f"SELECT {_COLUMNS} FROM campaigns"
            " WHERE CAST(:status AS text) IS NULL OR status = :status ORDER BY id"
        ),
        {"status": status.value if status else None},
    )
    return [campaign_from_row(r) for r in rows]


async def load_arms(execute: Any, campaign_id: int) -> list[ArmSpec]:
    rows = await execute(
        text(
            "SELECT name, weight, coupon_template_id, award_points, message_channel,"
            " message_template_id, message_data FROM campaign_arms"
            " WHERE campaign_id = :id ORDER BY position"
        ),
        {"id": campaign_id},
    )
    return [
        ArmSpec(
            name=r.name,
            weight=r.weight,
            coupon_template_id=r.coupon_template_id,
            award_points=r.award_points,
            message=Message(
                MessageChannel(r.message_channel),
                r.message_template_id,
                tuple((k, v) for k, v in r.message_data),
            )
            if r.message_channel
            else None,
        )
        for r in rows
    ]


def check_no_nul(value: str, field: Sequence[str]) -> None:
    if "\x00" in value:
        raise InvalidCampaign("text must not hold NUL", field=field)
