"""A member's campaign touches, for ``Member.campaignTouches`` (batched across members)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text


@dataclass(frozen=True)
class Touch:
    campaign_id: int
    arm: str
    assigned_at: datetime
    reached_at: datetime | None
    channel: str | None
    #: PENDING reads as what the member sees: nothing reached them yet.
    outcome: str
    #: What the trigger fired for, e.g. ``2027`` (a birthday), ``purchase:42``.
    occurrence: str


async def touches_of(execute: Any, member_ids: Sequence[int]) -> list[list[Touch]]:
    rows = await execute(
        text(
            "SELECT t.member_id, t.campaign_id, a.name AS arm, t.assigned_at, t.reached_at,"
            " coalesce(t.channel, a.message_channel) AS channel, t.outcome, t.occurrence"
            " FROM campaign_touches t JOIN campaign_arms a"
            " ON a.campaign_id = t.campaign_id AND a.position = t.arm_position"
            " WHERE t.member_id = ANY(CAST(:ids AS bigint[])) ORDER BY t.assigned_at DESC, t.id"
        ),
        {"ids": list(member_ids)},
    )
    found: dict[int, list[Touch]] = {m: [] for m in member_ids}
    for r in rows:
        found[r.member_id].append(
            Touch(
                r.campaign_id,
                r.arm,
                r.assigned_at,
                r.reached_at,
                r.channel,
                r.outcome,
                r.occurrence,
            )
        )
    return [found[m] for m in member_ids]
