"""Tags, segments, the nightly refresh on demand, and the dashboard."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import strawberry
from graphql import GraphQLError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.intelligence_types import (
    CountByKey,
    Dashboard,
    SegmentInput,
    SegmentObject,
    TagInput,
    TagObject,
    rule_json,
    segment_object,
    tag_object,
)
from hub.api.member_types import member_object
from hub.api.members import MemberPayload
from hub.errors import ErrorCode, UserError, to_user_error, user_error
from hub.http.permissions import requires
from hub.http.principal import Scope
from hub.ids import InvalidGlobalId, decode_int_id
from hub.wiring import intelligence_programme
from identity.lookup import active_member_id
from sync.intelligence.dashboard import InvalidRange, build_dashboard
from sync.intelligence.memberships import RuleTimedOut, refresh_rule_tag, refresh_segment
from sync.intelligence.queries import segment_from_row, tag_from_row
from sync.intelligence.refresh import Programme, refresh_member_intelligence
from sync.intelligence.rules import RuleError, parse_rule, rule_to_json


class NameTaken(ValueError):
    code = "INVALID_INPUT"
    field = ("input", "name")


@strawberry.type
class SegmentPayload:
    segment: SegmentObject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TagPayload:
    tag: TagObject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RefreshPayload:
    scored_members: int = strawberry.field(
        default=0, description="Members scored by RFM in the window."
    )
    segments_refreshed: int = 0
    tags_refreshed: int = 0
    membership_changes: int = strawberry.field(
        default=0, description="Members whose segment or tag membership changed."
    )
    duration_ms: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > 100:
        raise RuleError("a name needs 1 to 100 characters", field=("input", "name"))
    return name


@strawberry.type
class SegmentQuery:
    @strawberry.field
    @requires(Scope.MEMBERS_READ)
    async def tags(self, info: strawberry.Info) -> list[TagObject]:
        rows = await info.context.execute(text("SELECT * FROM tags ORDER BY name"))
        return [tag_object(tag_from_row(r)) for r in rows]

    @strawberry.field
    @requires(Scope.MEMBERS_READ)
    async def segments(self, info: strawberry.Info) -> list[SegmentObject]:
        rows = await info.context.execute(text("SELECT * FROM segments ORDER BY id"))
        return [segment_object(segment_from_row(r)) for r in rows]

    @strawberry.field
    @requires(Scope.MEMBERS_READ)
    async def segment(self, info: strawberry.Info, id: strawberry.ID) -> SegmentObject | None:
        try:
            key = decode_int_id(str(id), "Segment")
        except InvalidGlobalId:
            return None
        found = await info.context.loaders.segment.load(key)
        return None if found is None else segment_object(found)

    @strawberry.field
    @requires(Scope.ADMIN)
    async def dashboard(
        self,
        info: strawberry.Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        store_id: strawberry.ID | None = None,
    ) -> Dashboard:
        settings = info.context.settings
        try:
            found = await build_dashboard(
                info.context.execute,
                start=from_,
                end=to,
                store_id=str(store_id) if store_id else None,
                zone=ZoneInfo(settings.time_zone),
                lowest_tier=settings.tiers[0].code,
            )
        except InvalidRange as error:
            raise GraphQLError(str(error), extensions={"code": "INVALID_INPUT"}) from None

        def pairs(values: list[tuple[str, int]]) -> list[CountByKey]:
            return [CountByKey(key=k, count=c) for k, c in values]

        return Dashboard(
            from_=found.start,
            to=found.end,
            members=found.members,
            new_members=found.new_members,
            active_members=found.active_members,
            repurchase_rate=found.repurchase_rate,
            average_order_value=found.average_order_value,
            revenue=found.revenue,
            points_issued=found.points_issued,
            points_redeemed=found.points_redeemed,
            points_expired=found.points_expired,
            points_outstanding=found.points_outstanding,
            coupons_issued=found.coupons_issued,
            coupons_redeemed=found.coupons_redeemed,
            promotion_points=found.promotion_points,
            tiers=pairs(found.tiers),
            rfm=pairs(found.rfm),
            lifecycle=pairs(found.lifecycle),
            channels=pairs(found.channels),
        )


async def _save_segment(
    session: AsyncSession,
    input: SegmentInput,
    rule: dict[str, Any],
    now: datetime,
    programme: Programme,
) -> int:

    row = (
        await session.execute(
            text(
                "INSERT INTO segments (name, description, kind, rule, created_at)"
                " VALUES (:name, :description, 'RULE', CAST(:rule AS jsonb), :now)"
                " ON CONFLICT (name) DO UPDATE SET description = :description,"
                " rule = CAST(:rule AS jsonb) WHERE segments.kind = 'RULE' RETURNING id, name"
            ),
            {
                "name": _name(input.name),
                "description": input.description,
                "rule": json.dumps(rule),
                "now": now,
            },
        )
    ).one_or_none()
    if row is None:
        raise NameTaken("a built-in segment has this name")
    await refresh_segment(
        session,
        segment_id=row.id,
        name=row.name,
        rule=rule,
        now=now,
        tiers=programme.tiers,
        timeout_ms=programme.rule_timeout_ms,
    )
    return int(row.id)


@strawberry.type
class SegmentMutation:
    @strawberry.mutation(description="Create or redefine a rule segment; members at once.")
    @requires(Scope.SEGMENTS_WRITE)
    async def define_segment(self, info: strawberry.Info, input: SegmentInput) -> SegmentPayload:
        context = info.context
        try:
            rule = rule_to_json(parse_rule(rule_json(input.rule), ("input", "rule")))
            programme = intelligence_programme(context.settings)
            segment_id = await context.transact(
                lambda s: _save_segment(s, input, rule, context.now(), programme)
            )
        except (RuleError, NameTaken, RuleTimedOut) as error:
            prefix = ("input",) if isinstance(error, RuleTimedOut) else ()
            return SegmentPayload(user_errors=[to_user_error(error, field_prefix=prefix)])
        found = await context.loaders.segment.load(segment_id)
        return SegmentPayload(segment=segment_object(found))

    @strawberry.mutation(description="Create or redefine a tag: a rule tag, or a manual one.")
    @requires(Scope.SEGMENTS_WRITE)
    async def define_tag(self, info: strawberry.Info, input: TagInput) -> TagPayload:
        context = info.context
        try:
            name = _name(input.name)
            rule = (
                rule_to_json(parse_rule(rule_json(input.rule), ("input", "rule")))
                if input.rule is not None
                else None
            )
        except RuleError as error:
            return TagPayload(user_errors=[to_user_error(error)])
        programme = intelligence_programme(context.settings)
        now = context.now()

        async def save(session: AsyncSession) -> int | None:
            row = (
                await session.execute(
                    text(
                        "INSERT INTO tags (name, description, source, rule, created_at)"
                        " VALUES (:name, :description, :source, CAST(:rule AS jsonb), :now)"
                        " ON CONFLICT (name) DO UPDATE SET description = :description,"
                        " rule = CAST(:rule AS jsonb), source = :source"
                        " WHERE tags.builtin IS NULL RETURNING id"
                    ),
                    {
                        "name": name,
                        "description": input.description,
                        "source": "RULE" if rule is not None else "MANUAL",
                        "rule": json.dumps(rule) if rule is not None else None,
                        "now": now,
                    },
                )
            ).scalar_one_or_none()
            if row is not None and rule is not None:
                await refresh_rule_tag(
                    session,
                    tag_id=row,
                    rule=rule,
                    now=now,
                    tiers=programme.tiers,
                    timeout_ms=programme.rule_timeout_ms,
                )
            return row

        try:
            tag_id = await context.transact(save)
        except RuleTimedOut as error:
            return TagPayload(user_errors=[to_user_error(error, field_prefix=("input",))])
        if tag_id is None:
            return TagPayload(
                user_errors=[
                    user_error(
                        ErrorCode.INVALID_INPUT, "a built-in tag has this name", ["input", "name"]
                    )
                ]
            )
        return TagPayload(tag=tag_object(await context.loaders.tag.load(tag_id)))

    @strawberry.mutation(description="Give a member a manual tag.")
    @requires(Scope.SEGMENTS_WRITE)
    async def tag_member(
        self, info: strawberry.Info, member_id: strawberry.ID, tag_id: strawberry.ID
    ) -> MemberPayload:
        return await _manual_tag(info, member_id, tag_id, add=True)

    @strawberry.mutation(description="Take a manual tag off a member.")
    @requires(Scope.SEGMENTS_WRITE)
    async def untag_member(
        self, info: strawberry.Info, member_id: strawberry.ID, tag_id: strawberry.ID
    ) -> MemberPayload:
        return await _manual_tag(info, member_id, tag_id, add=False)

    @strawberry.mutation(
        description="Run RFM, lifecycle, every rule tag and every segment now (the nightly job)."
    )
    @requires(Scope.ADMIN)
    async def refresh_member_intelligence(self, info: strawberry.Info) -> RefreshPayload:
        context = info.context
        programme = intelligence_programme(context.settings)
        report = await context.transact(
            lambda s: refresh_member_intelligence(s, now=context.now(), programme=programme)
        )
        return RefreshPayload(
            scored_members=report.scored_members,
            segments_refreshed=report.segments_refreshed,
            tags_refreshed=report.tags_refreshed,
            membership_changes=report.membership_changes,
            duration_ms=report.duration_ms,
        )


async def _manual_tag(
    info: strawberry.Info, member_gid: strawberry.ID, tag_gid: strawberry.ID, *, add: bool
) -> MemberPayload:
    context = info.context
    try:
        member_key = decode_int_id(str(member_gid), "Member")
    except InvalidGlobalId as error:
        return MemberPayload(user_errors=[to_user_error(error, field_prefix=("memberId",))])
    try:
        tag_key = decode_int_id(str(tag_gid), "Tag")
    except InvalidGlobalId as error:
        return MemberPayload(user_errors=[to_user_error(error, field_prefix=("tagId",))])

    async def change(session: AsyncSession) -> UserError | int:
        member_id = await active_member_id(session.execute, member_key)
        if member_id is None:
            return user_error(ErrorCode.NOT_FOUND, "no active member", ["memberId"])
        source = await session.scalar(
            text("SELECT source FROM tags WHERE id = :id"), {"id": tag_key}
        )
        if source is None:
            return user_error(ErrorCode.NOT_FOUND, "no such tag", ["tagId"])
        if source != "MANUAL":
            return user_error(
                ErrorCode.INVALID_INPUT,
                "a rule tag follows its rule; tag by hand a manual tag",
                ["tagId"],
            )
        if add:
            await session.execute(
                text(
                    "INSERT INTO member_tags (tag_id, member_id, source, tagged_at)"
                    " VALUES (:tag, :member, 'MANUAL', :now) ON CONFLICT DO NOTHING"
                ),
                {"tag": tag_key, "member": member_id, "now": context.now()},
            )
        else:
            await session.execute(
                text("DELETE FROM member_tags WHERE tag_id = :tag AND member_id = :member"),
                {"tag": tag_key, "member": member_id},
            )
        return member_id

    outcome = await context.transact(change)
    if not isinstance(outcome, int):
        return MemberPayload(user_errors=[outcome])
    found = await context.loaders.member.load(outcome)
    return MemberPayload(member=member_object(found) if found else None)
