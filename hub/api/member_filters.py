"""``members(filter)``: each MemberFilter field as a condition on the members table, with
bound parameters only; the fields combine (AND)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from sqlalchemy import BigInteger, column, text

from hub.api.member_inputs import MemberFilter
from hub.ids import InvalidGlobalId, decode_int_id
from identity.tables import members as members_table
from sync.tiers import TierProgramme

#: The one column each subquery selects (typed, so that SQLAlchemy renders it as one).
MEMBER_ID = column("member_id", BigInteger)


def filter_conditions(filter: MemberFilter, programme: TierProgramme) -> list[Any]:
    found = _intelligence_conditions(filter)
    if filter.registered_channel:
        found.append(members_table.c.registered_channel == filter.registered_channel.value)
    if filter.tier_code:
        found.append(_in_tier(filter.tier_code, programme))
    return found


def _intelligence_conditions(filter: MemberFilter) -> list[Any]:
    """Tag, segment, lifecycle and RFM filters, as bound subqueries on the member ID."""
    found: list[Any] = []
    ids = members_table.c.id
    if filter.tag_id:
        tag = _key(filter.tag_id, "Tag")
        found.append(
            ids.in_(
                text("SELECT member_id FROM member_tags WHERE tag_id = :tag")
                .columns(MEMBER_ID)
                .bindparams(tag=tag)
            )
        )
    if filter.segment_id:
        segment = _key(filter.segment_id, "Segment")
        found.append(
            ids.in_(
                text("SELECT member_id FROM segment_members WHERE segment_id = :seg")
                .columns(MEMBER_ID)
                .bindparams(seg=segment)
            )
        )
    if filter.lifecycle:
        stage = filter.lifecycle.value
        recorded = text("SELECT member_id FROM member_lifecycle WHERE stage = :stage")
        found.append(ids.in_(recorded.columns(MEMBER_ID).bindparams(stage=stage)))
    if filter.rfm_segment:
        found.append(
            ids.in_(
                text("SELECT member_id FROM member_rfm WHERE segment = :rfm")
                .columns(MEMBER_ID)
                .bindparams(rfm=filter.rfm_segment.value)
            )
        )
    return found


def _key(global_id: str, type_name: str) -> int:
    try:
        return decode_int_id(str(global_id), type_name)
    except InvalidGlobalId as error:
        raise GraphQLError(str(error), extensions={"code": "INVALID_INPUT"}) from None


def _in_tier(code: str, programme: TierProgramme) -> Any:
    """Members whose current tier is ``code`` (no tier row: the lowest tier)."""
    current = (
        text("SELECT member_id FROM member_tiers WHERE until IS NULL AND tier_code = :tier_code")
        .columns(MEMBER_ID)
        .bindparams(tier_code=code)
    )
    if code == programme.tiers[0].code:
        others = (
            text("SELECT member_id FROM member_tiers WHERE until IS NULL AND tier_code <> :lowest")
            .columns(MEMBER_ID)
            .bindparams(lowest=code)
        )
        return members_table.c.id.not_in(others)
    return members_table.c.id.in_(current)
