"""``previewSegment``: the members a rule would select now, counted before it is saved."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from sqlalchemy import text

from hub.api.intelligence_types import SegmentRuleInput, rule_json
from hub.api.member_types import MemberConnection, MemberEdge, member_object
from hub.api.pagination import PageInfo, check_page_size, decode_cursor, encode_cursor
from hub.http.permissions import requires
from hub.http.principal import Scope
from hub.wiring import intelligence_programme
from identity.records import member_from_row
from sync.intelligence.rule_sql import compile_rule
from sync.intelligence.rules import RuleError, parse_rule

#: Members answered with the count by default: enough to recognise the audience.
SAMPLE_SIZE = 10


@strawberry.type
class SegmentPreviewQuery:
    @strawberry.field(
        description="How many members a rule selects today, and a few of them; writes nothing."
    )
    @requires(Scope.MEMBERS_READ)
    async def preview_segment(
        self,
        info: strawberry.Info,
        rule: SegmentRuleInput,
        first: int | None = SAMPLE_SIZE,
        after: str | None = None,
    ) -> MemberConnection:
        context = info.context
        size = SAMPLE_SIZE if first is None else first
        check_page_size(size)
        start = decode_cursor(after, "member") if after else 0
        try:
            parsed = parse_rule(rule_json(rule), ("rule",))
        except RuleError as error:
            raise GraphQLError(
                str(error), extensions={"code": "INVALID_INPUT", "field": list(error.field)}
            ) from None
        programme = intelligence_programme(context.settings)
        compiled = compile_rule(parsed, now=context.now(), tiers=programme.tiers)
        # One statement: the count over every match and a page of them, oldest first (the
        # count rides on a row of its own, so that it comes with an empty page too).
        rows = (
            await context.execute(
                text(
                    f"WITH target AS ({compiled.sql}),"
                    " page AS (SELECT m.* FROM members m WHERE m.id IN (SELECT id FROM target)"
                    "  AND m.id > :start ORDER BY m.id LIMIT :size)"
                    " SELECT (SELECT count(*) FROM target) AS total, page.* FROM"
                    " (SELECT 1) one LEFT JOIN page ON true ORDER BY page.id"
                ),
                {**compiled.params, "start": start, "size": size + 1},
            )
        ).all()
        total = int(rows[0].total)
        found = [member_from_row(row) for row in rows if row.id is not None]
        page = found[:size]
        edges = [
            MemberEdge(node=member_object(m), cursor=encode_cursor("member", m.id)) for m in page
        ]
        return MemberConnection(
            edges=edges,
            page_info=PageInfo.of(
                [e.cursor for e in edges], has_next=len(found) > size, after=after or None
            ),
            total_count=total,
        )
