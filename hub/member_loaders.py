"""Batch loads of identity records for the per-request dataloaders (hub/loaders.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select

from identity.records import (
    IdentityRecord,
    MemberRecord,
    MergeRecord,
    identity_from_row,
    member_from_row,
    merge_from_row,
)
from identity.tables import member_identities, member_merges, members

Execute = Callable[[Any], Awaitable[Any]]


async def members_by_id(execute: Execute, ids: Sequence[int]) -> list[MemberRecord | None]:
    rows = await execute(select(members).where(members.c.id.in_(list(ids))))
    found = {row.id: member_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def identities_by_member(
    execute: Execute, member_ids: Sequence[int]
) -> list[list[IdentityRecord]]:
    rows = await execute(
        select(member_identities)
        .where(member_identities.c.member_id.in_(list(member_ids)))
        .order_by(member_identities.c.id)
    )
    grouped: dict[int, list[IdentityRecord]] = defaultdict(list)
    for row in rows:
        grouped[row.member_id].append(identity_from_row(row))
    return [grouped.get(i, []) for i in member_ids]


async def identities_by_id(execute: Execute, ids: Sequence[int]) -> list[IdentityRecord | None]:
    rows = await execute(select(member_identities).where(member_identities.c.id.in_(list(ids))))
    found = {row.id: identity_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def merges_by_id(execute: Execute, ids: Sequence[int]) -> list[MergeRecord | None]:
    rows = await execute(select(member_merges).where(member_merges.c.id.in_(list(ids))))
    found = {row.id: merge_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def merges_by_survivor(
    execute: Execute, survivor_ids: Sequence[int]
) -> list[list[MergeRecord]]:
    """Merges into each member, newest first."""
    rows = await execute(
        select(member_merges)
        .where(member_merges.c.survivor_id.in_(list(survivor_ids)))
        .order_by(member_merges.c.id.desc())
    )
    grouped: dict[int, list[MergeRecord]] = defaultdict(list)
    for row in rows:
        grouped[row.survivor_id].append(merge_from_row(row))
    return [grouped.get(i, []) for i in survivor_ids]
