"""Batch reads of intelligence for the API's dataloaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text


@dataclass(frozen=True)
class RfmRecord:
    member_id: int
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    segment: str
    computed_at: datetime


@dataclass(frozen=True)
class TagRecord:
    id: int
    name: str
    description: str | None
    source: str
    rule: dict[str, Any] | None


@dataclass(frozen=True)
class SegmentRecord:
    id: int
    name: str
    description: str | None
    kind: str
    rule: dict[str, Any]
    refreshed_at: datetime | None


@dataclass(frozen=True)
class MemberTagRecord:
    tag_id: int
    source: str
    tagged_at: datetime


def tag_from_row(row: Any) -> TagRecord:
    return TagRecord(row.id, row.name, row.description, row.source, row.rule)


def segment_from_row(row: Any) -> SegmentRecord:
    return SegmentRecord(row.id, row.name, row.description, row.kind, row.rule, row.refreshed_at)


async def load_rfm(execute: Any, member_ids: Sequence[int]) -> list[RfmRecord | None]:
    rows = await execute(
        text("SELECT * FROM member_rfm WHERE member_id = ANY(:ids)"), {"ids": list(member_ids)}
    )
    found = {
        r.member_id: RfmRecord(
            r.member_id,
            r.recency_days,
            r.frequency,
            r.monetary,
            r.r_score,
            r.f_score,
            r.m_score,
            r.segment,
            r.computed_at,
        )
        for r in rows
    }
    return [found.get(m) for m in member_ids]


async def load_lifecycle(execute: Any, member_ids: Sequence[int]) -> list[str | None]:
    rows = await execute(
        text("SELECT member_id, stage FROM member_lifecycle WHERE member_id = ANY(:ids)"),
        {"ids": list(member_ids)},
    )
    found = {r.member_id: r.stage for r in rows}
    return [found.get(m) for m in member_ids]


async def load_member_tags(execute: Any, member_ids: Sequence[int]) -> list[list[MemberTagRecord]]:
    rows = await execute(
        text(
            "SELECT member_id, tag_id, source, tagged_at FROM member_tags"
            " WHERE member_id = ANY(:ids) ORDER BY tag_id"
        ),
        {"ids": list(member_ids)},
    )
    grouped: dict[int, list[MemberTagRecord]] = defaultdict(list)
    for r in rows:
        grouped[r.member_id].append(MemberTagRecord(r.tag_id, r.source, r.tagged_at))
    return [grouped.get(m, []) for m in member_ids]


async def load_member_segments(execute: Any, member_ids: Sequence[int]) -> list[list[int]]:
    rows = await execute(
        text(
            "SELECT member_id, segment_id FROM segment_members"
            " WHERE member_id = ANY(:ids) ORDER BY segment_id"
        ),
        {"ids": list(member_ids)},
    )
    grouped: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        grouped[r.member_id].append(r.segment_id)
    return [grouped.get(m, []) for m in member_ids]


async def load_tags(execute: Any, ids: Sequence[int]) -> list[TagRecord | None]:
    rows = await execute(text("SELECT * FROM tags WHERE id = ANY(:ids)"), {"ids": list(ids)})
    found = {r.id: tag_from_row(r) for r in rows}
    return [found.get(i) for i in ids]


async def load_segments(execute: Any, ids: Sequence[int]) -> list[SegmentRecord | None]:
    rows = await execute(text("SELECT * FROM segments WHERE id = ANY(:ids)"), {"ids": list(ids)})
    found = {r.id: segment_from_row(r) for r in rows}
    return [found.get(i) for i in ids]


async def load_tag_counts(execute: Any, ids: Sequence[int]) -> list[int]:
    rows = await execute(
        text(
            "SELECT mt.tag_id, count(*) AS n FROM member_tags mt"
            " JOIN members m ON m.id = mt.member_id AND m.status = 'ACTIVE'"
            " WHERE mt.tag_id = ANY(:ids) GROUP BY mt.tag_id"
        ),
        {"ids": list(ids)},
    )
    found = {r.tag_id: r.n for r in rows}
    return [found.get(i, 0) for i in ids]


async def load_segment_counts(execute: Any, ids: Sequence[int]) -> list[int]:
    rows = await execute(
        text(
            "SELECT segment_id, count(*) AS n FROM segment_members"
            " WHERE segment_id = ANY(:ids) GROUP BY segment_id"
        ),
        {"ids": list(ids)},
    )
    found = {r.segment_id: r.n for r in rows}
    return [found.get(i, 0) for i in ids]


@dataclass(frozen=True)
class SegmentPage:
    member_ids: tuple[int, ...]
    has_next: bool


async def load_segment_pages(
    execute: Any, keys: Sequence[tuple[int, int, int]]
) -> list[SegmentPage]:
    """Pages of segment members by (segment, first, after member ID), ID order, all in one
    statement."""
    rows = await execute(
        text(
            "SELECT k.n, q.member_id FROM unnest(CAST(:segments AS bigint[]),"
            " CAST(:firsts AS int[]), CAST(:afters AS bigint[])) WITH ORDINALITY"
            " AS k(segment_id, first, after, n)"
            " CROSS JOIN LATERAL (SELECT s.member_id FROM segment_members s"
            "  WHERE s.segment_id = k.segment_id AND s.member_id > k.after"
            "  ORDER BY s.member_id LIMIT k.first + 1) q"
        ),
        {
            "segments": [k[0] for k in keys],
            "firsts": [k[1] for k in keys],
            "afters": [k[2] for k in keys],
        },
    )
    grouped: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        grouped[row.n].append(row.member_id)
    pages = []
    for n, key in enumerate(keys, start=1):
        found = grouped.get(n, [])
        pages.append(SegmentPage(tuple(found[: key[1]]), len(found) > key[1]))
    return pages
