"""Resolvers of ``Member.lifecycle``, ``Member.tags`` and ``Member.segments`` (batched)."""

from __future__ import annotations

import strawberry

from hub.api.enums import LifecycleStage
from hub.api.intelligence_types import (
    MemberTag,
    SegmentObject,
    TagSource,
    segment_object,
    tag_object,
)
from hub.wiring import intelligence_programme
from identity.records import MemberRecord
from sync.intelligence.scores import lifecycle_of


async def member_lifecycle(info: strawberry.Info, member: MemberRecord) -> LifecycleStage:
    """The stage of the last refresh; for a member it has not seen yet, from its purchases."""
    stage = await info.context.loaders.lifecycle.load(member.id)
    if stage is None:
        stats = await info.context.loaders.member_stats.load((member.id, info.context.now()))
        stage = lifecycle_of(
            stats.first_purchase_at,
            stats.last_purchase_at,
            now=info.context.now(),
            config=intelligence_programme(info.context.settings).config,
        )
    return LifecycleStage(stage)


async def member_tags(info: strawberry.Info, member: MemberRecord) -> list[MemberTag]:
    loaders = info.context.loaders
    records = await loaders.member_tags.load(member.id)
    tags = await loaders.tag.load_many([r.tag_id for r in records])
    return [
        MemberTag(tag=tag_object(tag), source=TagSource(r.source), tagged_at=r.tagged_at)
        for r, tag in zip(records, tags, strict=True)
        if tag is not None
    ]


async def member_segments(info: strawberry.Info, member: MemberRecord) -> list[SegmentObject]:
    loaders = info.context.loaders
    ids = await loaders.member_segments.load(member.id)
    return [segment_object(s) for s in await loaders.segment.load_many(ids) if s is not None]
