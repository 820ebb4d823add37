"""Batch loads of identity records for the per-request dataloaders (hub/loading/loaders.py).

Plain ``text()``, so that they run on the read pool (``hub.execution.context.Context.execute``): a
Core ``select`` would open the request's session and a transaction for a read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import text

from identity.records import (
    IdentityRecord,
    MemberRecord,
    MergeRecord,
    identity_from_row,
    member_from_row,
    merge_from_row,
)

Execute = Callable[..., Awaitable[Any]]

_MEMBERS = text("SELECT * FROM members WHERE id = ANY(CAST(:ids AS bigint[]))")
_IDENTITIES_OF = text(
    "SELECT * FROM member_identities WHERE member_id = ANY(CAST(:ids AS bigint[])) ORDER BY id"
)
_IDENTITIES = text("SELECT * FROM member_identities WHERE id = ANY(CAST(:ids AS bigint[]))")
_MERGES = text("SELECT * FROM member_merges WHERE id = ANY(CAST(:ids AS bigint[]))")
_MERGES_INTO = text(
    "SELECT * FROM member_merges WHERE survivor_id = ANY(CAST(:ids AS bigint[])) ORDER BY id DESC"
)


async def members_by_id(execute: Execute, ids: Sequence[int]) -> list[MemberRecord | None]:
    rows = await execute(_MEMBERS, {"ids": list(ids)})
    found = {row.id: member_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def identities_by_member(
    execute: Execute, member_ids: Sequence[int]
) -> list[list[IdentityRecord]]:
    rows = await execute(_IDENTITIES_OF, {"ids": list(member_ids)})
    grouped: dict[int, list[IdentityRecord]] = defaultdict(list)
    for row in rows:
        grouped[row.member_id].append(identity_from_row(row))
    return [grouped.get(i, []) for i in member_ids]


async def identities_by_id(execute: Execute, ids: Sequence[int]) -> list[IdentityRecord | None]:
    rows = await execute(_IDENTITIES, {"ids": list(ids)})
    found = {row.id: identity_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def merges_by_id(execute: Execute, ids: Sequence[int]) -> list[MergeRecord | None]:
    rows = await execute(_MERGES, {"ids": list(ids)})
    found = {row.id: merge_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def merges_by_survivor(
    execute: Execute, survivor_ids: Sequence[int]
) -> list[list[MergeRecord]]:
    """Merges into each member, newest first."""
    rows = await execute(_MERGES_INTO, {"ids": list(survivor_ids)})
    grouped: dict[int, list[MergeRecord]] = defaultdict(list)
    for row in rows:
        grouped[row.survivor_id].append(merge_from_row(row))
    return [grouped.get(i, []) for i in survivor_ids]
