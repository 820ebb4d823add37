"""Batch loads of identity records for the per-request dataloaders (hub/loading/loaders.py).

Plain ``text()``, so that they run on the read pool (``hub.execution.context.Context.execute``): a
Core ``select`` would open the request's session and a transaction for a read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

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
R = TypeVar("R")

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
    return await _one_each(execute, _MEMBERS, ids, member_from_row)


async def identities_by_member(
    execute: Execute, member_ids: Sequence[int]
) -> list[list[IdentityRecord]]:
    return await _all_of_each(execute, _IDENTITIES_OF, member_ids, "member_id", identity_from_row)


async def identities_by_id(execute: Execute, ids: Sequence[int]) -> list[IdentityRecord | None]:
    return await _one_each(execute, _IDENTITIES, ids, identity_from_row)


async def merges_by_id(execute: Execute, ids: Sequence[int]) -> list[MergeRecord | None]:
    return await _one_each(execute, _MERGES, ids, merge_from_row)


async def merges_by_survivor(
    execute: Execute, survivor_ids: Sequence[int]
) -> list[list[MergeRecord]]:
    """Merges into each member, newest first."""
    return await _all_of_each(execute, _MERGES_INTO, survivor_ids, "survivor_id", merge_from_row)


async def _one_each(
    execute: Execute, statement: Any, ids: Sequence[int], record: Callable[[Any], R]
) -> list[R | None]:
    """The record of each id's row (by ``id``), None for an id without one."""
    rows = await execute(statement, {"ids": list(ids)})
    found = {row.id: record(row) for row in rows}
    return [found.get(i) for i in ids]


async def _all_of_each(
    execute: Execute, statement: Any, ids: Sequence[int], key: str, record: Callable[[Any], R]
) -> list[list[R]]:
    """The records of the rows whose ``key`` column is each id, in the statement's order."""
    rows = await execute(statement, {"ids": list(ids)})
    grouped: dict[int, list[R]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(record(row))
    return [grouped.get(i, []) for i in ids]
