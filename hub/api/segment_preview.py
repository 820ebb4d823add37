"""``previewSegment``: the members a rule would select now, counted before it is saved."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from sqlalchemy import text

from hub.api.intelligence_types import SegmentRuleInput, rule_json
from hub.api.member_types import MemberConnection, MemberEdge, member_object
from hub.api.pagination import PageInfo, encode_cursor
from hub.permissions import requires
from hub.principal import Scope
from hub.wiring import intelligence_programme
from identity.records import member_from_row
from sync.intelligence.rules import RuleError, compile_rule, parse_rule

#: Members shown with the count: enough to recognise the audience, cheap to load.
SAMPLE_SIZE = 10


@strawberry.type
class SegmentPreviewQuery:
    @strawberry.field(
        description="How many members a rule selects today, and a few of them; writes nothing."
    )
    @requires(Scope.MEMBERS_READ)
    async def preview_segment(
        self, info: strawberry.Info, rule: SegmentRuleInput
    ) -> MemberConnection:
        context = info.context
        try:
            parsed = parse_rule(rule_json(rule), ("rule",))
        except RuleError as error:
            raise GraphQLError(
                str(error), extensions={"code": "INVALID_INPUT", "field": list(error.field)}
            ) from None
        programme = intelligence_programme(context.settings)
        compiled = compile_rule(parsed, now=context.now(), tiers=programme.tiers)
        # One statement: the count over every match, the oldest few members alongside.
        rows = (
            await context.execute(
                text(
                    f"WITH target AS ({compiled.sql})"
                    " SELECT m.*, (SELECT count(*) FROM target) AS total FROM members m"
                    " WHERE m.id IN (SELECT id FROM target) ORDER BY m.id LIMIT :sample"
                ),
                {**compiled.params, "sample": SAMPLE_SIZE + 1},
            )
        ).all()
        total = int(rows[0].total) if rows else 0
        page = [member_from_row(row) for row in rows[:SAMPLE_SIZE]]
        edges = [
            MemberEdge(node=member_object(m), cursor=encode_cursor("member", m.id)) for m in page
        ]
        return MemberConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > SAMPLE_SIZE,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )
