"""The nightly refresh (and ``refreshMemberIntelligence``): RFM, lifecycle, every rule tag
and every segment, in that order (segments and tags may use RFM and lifecycle), in the
caller's transaction. Merges re-evaluate the survivor through ``subscribe_intelligence``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import EventHooks
from identity.events import MembersMerged, MembersUnmerged
from sync.intelligence.builtin_tags import BUILTINS, ensure_builtins
from sync.intelligence.memberships import (
    Changes,
    refresh_builtin_tag,
    refresh_rule_tag,
    refresh_segment,
)
from sync.intelligence.rule_sql import TierRanks
from sync.intelligence.scores import IntelligenceConfig, refresh_lifecycle, refresh_rfm


@dataclass(frozen=True)
class Programme:
    """What the refresh needs from the settings."""

    config: IntelligenceConfig
    tiers: TierRanks
    time_zone: str
    #: The time limit of one rule's statement; None for none of its own.
    rule_timeout_ms: int | None = None


@dataclass(frozen=True)
class RefreshReport:
    scored_members: int
    segments_refreshed: int
    tags_refreshed: int
    membership_changes: int
    duration_ms: int


async def refresh_segments(
    session: AsyncSession,
    *,
    now: datetime,
    programme: Programme,
    only: Sequence[int] | None = None,
    segment_ids: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Refresh segments (all, or ``segment_ids``); answers (segments, membership changes)."""
    rows = (
        await session.execute(
            text(
                "SELECT id, name, rule FROM segments"
                " WHERE CAST(:ids AS bigint[]) IS NULL OR id = ANY(:ids) ORDER BY id"
            ),
            {"ids": list(segment_ids) if segment_ids is not None else None},
        )
    ).all()
    changes = 0
    for row in rows:
        result = await refresh_segment(
            session,
            segment_id=row.id,
            name=row.name,
            rule=row.rule,
            now=now,
            tiers=programme.tiers,
            only=only,
            timeout_ms=programme.rule_timeout_ms,
        )
        changes += result.total
    return len(rows), changes


async def refresh_tags(
    session: AsyncSession, *, now: datetime, programme: Programme, only: Sequence[int] | None = None
) -> tuple[int, int]:
    rules = (
        await session.execute(text("SELECT id, rule FROM tags WHERE rule IS NOT NULL ORDER BY id"))
    ).all()
    total = Changes()
    for row in rules:
        result = await refresh_rule_tag(
            session,
            tag_id=row.id,
            rule=row.rule,
            now=now,
            tiers=programme.tiers,
            only=only,
            timeout_ms=programme.rule_timeout_ms,
        )
        total = Changes(total.entered + result.entered, total.exited + result.exited)
    for builtin in BUILTINS:
        result = await refresh_builtin_tag(
            session, builtin=builtin, now=now, time_zone=programme.time_zone, only=only
        )
        total = Changes(total.entered + result.entered, total.exited + result.exited)
    return len(rules) + len(BUILTINS), total.total


async def refresh_member_intelligence(
    session: AsyncSession, *, now: datetime, programme: Programme
) -> RefreshReport:
    started = time.perf_counter()
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('intelligence.refresh'))"))
    await ensure_builtins(session, now=now)
    scored = await refresh_rfm(session, now=now, config=programme.config)
    await refresh_lifecycle(session, now=now, config=programme.config)
    tags, tag_changes = await refresh_tags(session, now=now, programme=programme)
    segments, segment_changes = await refresh_segments(session, now=now, programme=programme)
    return RefreshReport(
        scored_members=scored,
        segments_refreshed=segments,
        tags_refreshed=tags,
        membership_changes=tag_changes + segment_changes,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )


#: The merged member's tags go to the survivor; its manual tags are noted with whether the
#: survivor lacked them, so that unmerge gives them back and takes only those away again
#: (rule tags follow from the rules on both sides).
_MOVE_TAGS = text(
    "WITH own AS (DELETE FROM member_tags WHERE member_id = :merged"
    "  RETURNING tag_id, source, tagged_at),"
    " added AS (INSERT INTO member_tags (tag_id, member_id, source, tagged_at)"
    "  SELECT tag_id, :survivor, source, tagged_at FROM own ON CONFLICT DO NOTHING"
    "  RETURNING tag_id)"
    " INSERT INTO member_tag_merge_moves (merge_id, tag_id, tagged_at, added_to_survivor)"
    " SELECT :merge, own.tag_id, own.tagged_at, own.tag_id IN (SELECT tag_id FROM added)"
    " FROM own WHERE own.source = 'MANUAL' ON CONFLICT DO NOTHING"
)
_RETURN_TAGS = text(
    "WITH moved AS (SELECT tag_id, tagged_at, added_to_survivor FROM member_tag_merge_moves"
    "  WHERE merge_id = :merge),"
    " back AS (INSERT INTO member_tags (tag_id, member_id, source, tagged_at)"
    "  SELECT tag_id, :restored, 'MANUAL', tagged_at FROM moved ON CONFLICT DO NOTHING)"
    " DELETE FROM member_tags WHERE member_id = :holder AND source = 'MANUAL'"
    " AND tag_id IN (SELECT tag_id FROM moved WHERE added_to_survivor)"
)


class _MergeHandlers:
    programme: Programme | None = None

    async def on_merged(self, session: AsyncSession, event: MembersMerged) -> None:
        await session.execute(
            _MOVE_TAGS,
            {"survivor": event.member_id, "merged": event.merged_id, "merge": event.merge_id},
        )
        await self._reevaluate(session, [event.member_id, event.merged_id])

    async def on_unmerged(self, session: AsyncSession, event: MembersUnmerged) -> None:
        await session.execute(
            _RETURN_TAGS,
            {"holder": event.member_id, "restored": event.restored_id, "merge": event.merge_id},
        )
        await self._reevaluate(session, [event.member_id, event.restored_id])

    async def _reevaluate(self, session: AsyncSession, member_ids: list[int]) -> None:
        if self.programme is None:
            return
        now = datetime.now(UTC)
        await refresh_tags(session, now=now, programme=self.programme, only=member_ids)
        await refresh_segments(session, now=now, programme=self.programme, only=member_ids)


_handlers = _MergeHandlers()


def subscribe_intelligence(hooks: EventHooks, programme: Programme) -> None:
    """Merges move tags to the survivor and re-evaluate both members' tags and segments."""
    _handlers.programme = programme
    hooks.subscribe(MembersMerged, _handlers.on_merged)
    hooks.subscribe(MembersUnmerged, _handlers.on_unmerged)
