"""Who is in each segment and carries each rule tag: recomputed by one statement each.

A refresh computes the matching members, deletes the memberships that no longer match,
inserts the new ones and, for segments, writes a ``segment.entered`` / ``segment.exited``
outbox event per change, all in the same statement. ``only`` limits a refresh to some
members (a merge re-evaluates the survivor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from sync.intelligence.builtin_tags import builtin_targets
from sync.intelligence.rule_sql import TierRanks, compile_rule
from sync.intelligence.rules import parse_rule

#: PostgreSQL's SQLSTATE of a statement cancelled by ``statement_timeout``.
QUERY_CANCELED = "57014"


class RuleTimedOut(Exception):
    """A rule's statement ran past its time limit; the transaction is to be rolled back."""

    code = "LIMIT_EXCEEDED"
    field = ("rule",)


def _cancelled(error: DBAPIError) -> bool:
    cause = error.orig
    while cause is not None:
        if getattr(cause, "sqlstate", None) == QUERY_CANCELED:
            return True
        cause = cause.__cause__
    return False


async def _execute_rule(
    session: AsyncSession, statement: str, params: dict[str, Any], timeout_ms: int | None
) -> Any:
    """Run a rule's statement within ``timeout_ms`` (None: no limit of its own), restoring
    the transaction's own limit after it."""
    if timeout_ms is None:
        return (await session.execute(text(statement), params)).one()
    previous = (
        await session.execute(
            text(
                "SELECT current_setting('statement_timeout') AS previous,"
                " set_config('statement_timeout', :limit, true)"
            ),
            {"limit": f"{timeout_ms}ms"},
        )
    ).one()[0]
    try:
        row = (await session.execute(text(statement), params)).one()
    except DBAPIError as error:
        if _cancelled(error):
            raise RuleTimedOut(f"the rule ran longer than {timeout_ms} ms") from error
        raise
    await session.execute(
        text("SELECT set_config('statement_timeout', :previous, true)"), {"previous": previous}
    )
    return row


@dataclass(frozen=True)
class Changes:
    entered: int = 0
    exited: int = 0

    @property
    def total(self) -> int:
        return self.entered + self.exited


def _only(only: Sequence[int] | None, column: str, params: dict[str, Any]) -> str:
    if only is None:
        return ""
    params["only_ids"] = list(only)
    return f" AND {column} = ANY(:only_ids)"


async def refresh_segment(
    session: AsyncSession,
    *,
    segment_id: int,
    name: str,
    rule: dict[str, Any],
    now: datetime,
    tiers: TierRanks,
    only: Sequence[int] | None = None,
    timeout_ms: int | None = None,
) -> Changes:
    compiled = compile_rule(parse_rule(rule), now=now, tiers=tiers, only=only)
    params = {**compiled.params, "segment_id": segment_id, "segment_name": name}
    scope = _only(only, "sm.member_id", params)
    row = await _execute_rule(
        session,
        (
            f"WITH target AS ({compiled.sql}),"
            " gone AS (DELETE FROM segment_members sm"
            f"  WHERE sm.segment_id = :segment_id{scope}"
            "  AND NOT EXISTS (SELECT 1 FROM target t WHERE t.id = sm.member_id)"
            "  RETURNING sm.member_id),"
            " added AS (INSERT INTO segment_members (segment_id, member_id, since)"
            "  SELECT :segment_id, t.id, CAST(:now AS timestamptz) FROM target t"
            "  ON CONFLICT DO NOTHING RETURNING member_id),"
            " events AS (INSERT INTO outbox_events"
            "  (event_id, event_type, version, member_id, payload, occurred_at)"
            "  SELECT gen_random_uuid(), e.kind, 1, e.member_id,"
            "   jsonb_build_object('member_id', e.member_id,"
            "    'segment_id', CAST(:segment_id AS bigint),"
            "    'segment', CAST(:segment_name AS text)), now()"
            "  FROM (SELECT 'segment.entered' AS kind, member_id FROM added"
            "   UNION ALL SELECT 'segment.exited', member_id FROM gone) e)"
            " SELECT (SELECT count(*) FROM added) AS entered,"
            "  (SELECT count(*) FROM gone) AS exited"
        ),
        params,
        timeout_ms,
    )
    await session.execute(
        text("UPDATE segments SET refreshed_at = :now WHERE id = :id"),
        {"now": now, "id": segment_id},
    )
    return Changes(row.entered, row.exited)


async def _apply_tags(
    session: AsyncSession,
    *,
    target_sql: str,
    params: dict[str, Any],
    tags_sql: str,
    only: Sequence[int] | None,
    now: datetime,
    timeout_ms: int | None = None,
) -> Changes:
    """Make the RULE memberships of the tags ``tags_sql`` selects equal to ``target_sql``'s
    (tag_id, member_id) pairs."""
    scope = _only(only, "mt.member_id", params)
    if only is not None:
        target_sql = f"SELECT * FROM ({target_sql}) x WHERE x.member_id = ANY(:only_ids)"
    row = await _execute_rule(
        session,
        (
            f"WITH target AS ({target_sql}), scope_tags AS ({tags_sql}),"
            " gone AS (DELETE FROM member_tags mt"
            "  WHERE mt.source = 'RULE' AND mt.tag_id IN (SELECT id FROM scope_tags)"
            f"{scope} AND NOT EXISTS (SELECT 1 FROM target t"
            "   WHERE t.tag_id = mt.tag_id AND t.member_id = mt.member_id)"
            "  RETURNING 1),"
            " added AS (INSERT INTO member_tags (tag_id, member_id, source, tagged_at)"
            "  SELECT tag_id, member_id, 'RULE', CAST(:now AS timestamptz) FROM target"
            "  ON CONFLICT DO NOTHING RETURNING 1)"
            " SELECT (SELECT count(*) FROM added) AS entered,"
            "  (SELECT count(*) FROM gone) AS exited"
        ),
        {**params, "now": now},
        timeout_ms,
    )
    return Changes(row.entered, row.exited)


async def refresh_rule_tag(
    session: AsyncSession,
    *,
    tag_id: int,
    rule: dict[str, Any],
    now: datetime,
    tiers: TierRanks,
    only: Sequence[int] | None = None,
    timeout_ms: int | None = None,
) -> Changes:
    compiled = compile_rule(parse_rule(rule), now=now, tiers=tiers, only=only)
    changes = await _apply_tags(
        session,
        target_sql=f"SELECT CAST(:tag_id AS bigint) AS tag_id, r.id AS member_id"
        f" FROM ({compiled.sql}) r",
        params={**compiled.params, "tag_id": tag_id},
        tags_sql="SELECT CAST(:tag_id AS bigint) AS id",
        only=only,
        now=now,
        timeout_ms=timeout_ms,
    )
    await session.execute(
        text("UPDATE tags SET refreshed_at = :now WHERE id = :id"), {"now": now, "id": tag_id}
    )
    return changes


async def refresh_builtin_tag(
    session: AsyncSession,
    *,
    builtin: str,
    now: datetime,
    time_zone: str,
    only: Sequence[int] | None = None,
) -> Changes:
    target_sql, params = await builtin_targets(session, builtin, now=now, time_zone=time_zone)
    changes = await _apply_tags(
        session,
        target_sql=target_sql,
        params={**params, "builtin": builtin},
        tags_sql="SELECT id FROM tags WHERE builtin = :builtin",
        only=only,
        now=now,
    )
    await session.execute(
        text("UPDATE tags SET refreshed_at = :now WHERE builtin = :builtin"),
        {"now": now, "builtin": builtin},
    )
    return changes
