"""Reads and locks: following merge chains, finding identities, serialising on them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from identity.model import IdentityKey, MemberStatus
from identity.records import IdentityRecord, MemberRecord, identity_from_row, member_from_row
from identity.tables import erased_phones, member_identities

#: Runs a statement with its parameters: ``AsyncSession.execute`` or a read path.
Execute = Callable[..., Awaitable[Any]]

#: Merge chains are short (a member is merged once per undo); this bounds a corrupt one.
MAX_CHAIN = 64

#: The merge chain from ``:member_id`` on; its survivor is the row not merged into another.
#: Give it ``:max_chain`` too (``MAX_CHAIN``).
MERGE_CHAIN = """
    WITH RECURSIVE chain (id, merged_into, depth) AS (
        SELECT id, merged_into, 0 FROM members WHERE id = :member_id
        UNION ALL
        SELECT m.id, m.merged_into, c.depth + 1
        FROM members m JOIN chain c ON m.id = c.merged_into
        WHERE c.depth < :max_chain
    )
"""
_SURVIVOR = text(MERGE_CHAIN + "SELECT id FROM chain WHERE merged_into IS NULL")


async def survivor_id(session: AsyncSession, member_id: int) -> int | None:
    """The member at the end of ``member_id``'s merge chain (itself if never merged)."""
    result = await session.execute(_SURVIVOR, {"member_id": member_id, "max_chain": MAX_CHAIN})
    return result.scalar_one_or_none()


#: The member at the end of a merge chain, in one round trip (the ``member(id:)`` lookup).
_RESOLVED_MEMBER = text(
    MERGE_CHAIN
    + "SELECT members.* FROM members JOIN chain USING (id) WHERE chain.merged_into IS NULL"
)


async def resolve_member(execute: Execute, member_id: int) -> MemberRecord | None:
    """The member ``member_id`` answers as now: its survivor (ACTIVE or ERASED), or None.

    ``execute`` is a session's ``execute`` or the request's read path."""
    result = await execute(_RESOLVED_MEMBER, {"member_id": member_id, "max_chain": MAX_CHAIN})
    row = result.one_or_none()
    return None if row is None else member_from_row(row)


async def active_member_id(execute: Execute, member_id: int) -> int | None:
    """The ACTIVE member ``member_id`` acts as (a merged one: its survivor); None if erased
    or unknown. This validates member tokens. ``execute`` as for ``resolve_member``."""
    member = await resolve_member(execute, member_id)
    return member.id if member is not None and member.status is MemberStatus.ACTIVE else None


_ACTIVE_SURVIVORS = text(
    """
    WITH RECURSIVE chain (origin, id, merged_into, status, depth) AS (
        SELECT id, id, merged_into, status, 0 FROM members
        WHERE id = ANY(CAST(:member_ids AS bigint[]))
        UNION ALL
        SELECT c.origin, m.id, m.merged_into, m.status, c.depth + 1
        FROM members m JOIN chain c ON m.id = c.merged_into
        WHERE c.depth < :max_chain
    )
    SELECT origin, id FROM chain WHERE merged_into IS NULL AND status = 'ACTIVE'
    """
)


async def active_member_ids(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, int]:
    """``active_member_id`` of many members in one query: each ID that acts as an ACTIVE
    member, mapped to that member; erased and unknown IDs are left out."""
    rows = await session.execute(
        _ACTIVE_SURVIVORS, {"member_ids": sorted(set(member_ids)), "max_chain": MAX_CHAIN}
    )
    return {row.origin: row.id for row in rows}


async def find_identities(
    session: AsyncSession, keys: Iterable[IdentityKey]
) -> dict[IdentityKey, IdentityRecord]:
    keys = list(keys)
    if not keys:
        return {}
    known, _ = await identities_by_key_or_member(session, keys, ())
    return known


#: Two shapes, with or without a namespace, so that the unique index on (type, namespace,
#: value) serves both: this is the lookup every till and mini-program does first.
_BY_KEY = text(
    "SELECT members.* FROM members JOIN member_identities ON member_identities.member_id"
    " = members.id WHERE member_identities.type = :type"
    " AND member_identities.namespace = :namespace AND member_identities.value = :value"
)
_BY_KEY_WITHOUT_NAMESPACE = text(
    "SELECT members.* FROM members JOIN member_identities ON member_identities.member_id"
    " = members.id WHERE member_identities.type = :type"
    " AND member_identities.namespace IS NULL AND member_identities.value = :value"
)


async def member_by_identity(execute: Execute, key: IdentityKey) -> MemberRecord | None:
    """The member holding ``key`` (identities only ever sit on ACTIVE members).

    ``execute`` is a session's ``execute`` or the request's read path."""
    parameters = {"type": key.type.value, "value": key.value}
    if key.namespace is None:
        statement = _BY_KEY_WITHOUT_NAMESPACE
    else:
        statement, parameters["namespace"] = _BY_KEY, key.namespace
    row = (await execute(statement, parameters)).one_or_none()
    return None if row is None else member_from_row(row)


async def identities_of(session: AsyncSession, member_ids: Iterable[int]) -> list[IdentityRecord]:
    rows = await session.execute(
        select(member_identities)
        .where(member_identities.c.member_id.in_(list(member_ids)))
        .order_by(member_identities.c.id)
    )
    return [identity_from_row(row) for row in rows]


#: One statement for any number of keys, taken in the order given (ascending).
_LOCK_KEYS = text(
    "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[]))"
    " WITH ORDINALITY AS locks(k, n) ORDER BY n"
)


async def lock_identities(session: AsyncSession, keys: Iterable[IdentityKey]) -> None:
    """Serialise with every transaction touching any of ``keys``, until this one ends.

    Locks are taken in ascending key order, so two transactions never wait on each other
    in a cycle; the unique constraint on (type, namespace, value) stays the last word.
    """
    lock_keys = sorted({key.lock_key for key in keys})
    if lock_keys:
        await session.execute(_LOCK_KEYS, {"keys": lock_keys})


#: The keys of those given that another transaction holds; every other one is now held.
_TRY_LOCK_KEYS = text(
    "SELECT k FROM unnest(CAST(:keys AS bigint[])) AS locks(k)"
    " WHERE NOT pg_try_advisory_xact_lock(k)"
)


async def try_lock_identities(
    session: AsyncSession, keys: Iterable[IdentityKey]
) -> set[IdentityKey]:
    """Take the locks of ``keys`` that no other transaction holds, without waiting (so in
    any order); answer the keys left to their holders."""
    by_lock: dict[int, list[IdentityKey]] = {}
    for key in set(keys):
        by_lock.setdefault(key.lock_key, []).append(key)
    if not by_lock:
        return set()
    busy = await session.execute(_TRY_LOCK_KEYS, {"keys": list(by_lock)})
    return {key for (k,) in busy for key in by_lock[k]}


async def lock_members(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, MemberRecord]:
    """Row-lock members in id order; a merge, link or erasure of one waits for the other."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    rows = await session.execute(_LOCK_MEMBERS, {"ids": ids})
    return {row.id: member_from_row(row) for row in rows}


async def lock_member_statuses(
    session: AsyncSession, member_ids: Iterable[int]
) -> dict[int, MemberStatus]:
    """``lock_members`` for a caller that needs only each member's status (a batch's
    buyers), without building their records."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    rows = await session.execute(_LOCK_MEMBER_STATUSES, {"ids": ids})
    return {row.id: MemberStatus(row.status) for row in rows}


#: One statement text for any number of members: prepared once per connection, where an IN
#: list was a new statement (and its compilation) for every count.
_MEMBERS_LOCKED = " FROM members WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR UPDATE"
_LOCK_MEMBERS = text("SELECT members.*" + _MEMBERS_LOCKED)
_LOCK_MEMBER_STATUSES = text("SELECT id, status" + _MEMBERS_LOCKED)


@lru_cache(maxsize=64)
def _keys_condition(namespaced: tuple[bool, ...]) -> str:
    """The identities holding keys with (True) and without a namespace, in this order; its
    parameters are ``_key_parameters``. Two shapes per key, so that the unique index on
    (type, namespace, value) serves both. Text cached by shape: building SQLAlchemy's
    expression tree on every call cost more than the statement's round trip."""
    return " OR ".join(
        f"(member_identities.type = :type_{n} AND member_identities.value = :value_{n}"
        + (
            f" AND member_identities.namespace = :namespace_{n})"
            if has_namespace
            else " AND member_identities.namespace IS NULL)"
        )
        for n, has_namespace in enumerate(namespaced)
    )


def _key_parameters(keys: Sequence[IdentityKey]) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for n, key in enumerate(keys):
        parameters[f"type_{n}"] = key.type.value
        parameters[f"value_{n}"] = key.value
        if key.namespace is not None:
            parameters[f"namespace_{n}"] = key.namespace
    return parameters


@lru_cache(maxsize=64)
def _lock_owners_statement(namespaced: tuple[bool, ...]) -> TextClause:
    # A UNION, not an OR: with OR the planner scans every member.
    held = (
        " UNION SELECT member_identities.member_id FROM member_identities"
        f" WHERE {_keys_condition(namespaced)}"
        if namespaced
        else ""
    )
    return text(
        "SELECT members.* FROM members WHERE members.id IN"
        " (SELECT unnest(CAST(:member_ids AS bigint[]))" + held + ")"
        " ORDER BY members.id FOR UPDATE"
    )


@lru_cache(maxsize=64)
def _identities_statement(namespaced: tuple[bool, ...]) -> TextClause:
    by_key = f" OR {_keys_condition(namespaced)}" if namespaced else ""
    return text(
        "SELECT member_identities.* FROM member_identities"
        " WHERE member_identities.member_id = ANY(CAST(:member_ids AS bigint[]))"
        + by_key
        + " ORDER BY member_identities.id"
    )


async def lock_owners(
    session: AsyncSession, keys: Sequence[IdentityKey], member_ids: Iterable[int] = ()
) -> dict[int, MemberRecord]:
    """Row-lock, in id order, the members holding any of ``keys`` and ``member_ids``: one
    statement where reading the owners and then locking them took two."""
    shape = tuple(key.namespace is not None for key in keys)
    rows = await session.execute(
        _lock_owners_statement(shape),
        {"member_ids": sorted(set(member_ids)), **_key_parameters(keys)},
    )
    return {row.id: member_from_row(row) for row in rows}


async def identities_by_key_or_member(
    session: AsyncSession, keys: Sequence[IdentityKey], member_ids: Iterable[int]
) -> tuple[dict[IdentityKey, IdentityRecord], list[IdentityRecord]]:
    """The identities holding ``keys``, and every identity of ``member_ids`` (by id), from
    one read."""
    held = set(member_ids)
    shape = tuple(key.namespace is not None for key in keys)
    rows = await session.execute(
        _identities_statement(shape), {"member_ids": sorted(held), **_key_parameters(keys)}
    )
    records = [identity_from_row(row) for row in rows]
    wanted = set(keys)
    return (
        {record.key: record for record in records if record.key in wanted},
        [record for record in records if record.member_id in held],
    )


async def phone_was_erased(session: AsyncSession, phone_hash: str) -> bool:
    """True when a member holding this phone (by its salted hash) was erased."""
    row = await session.execute(
        select(erased_phones.c.phone_hash).where(erased_phones.c.phone_hash == phone_hash)
    )
    return row.first() is not None


#: Any number of keys in one statement: those with a namespace and those without, each
#: shape served by the unique index on (type, namespace, value).
_BY_KEYS = text(
    "SELECT i.* FROM unnest(CAST(:types AS text[]), CAST(:namespaces AS text[]),"
    " CAST(:values AS text[])) AS k(type, namespace, value)"
    " JOIN member_identities i ON i.type = k.type AND i.value = k.value"
    " AND i.namespace = k.namespace"
    " UNION ALL SELECT i.* FROM unnest(CAST(:bare_types AS text[]),"
    " CAST(:bare_values AS text[])) AS k(type, value)"
    " JOIN member_identities i ON i.type = k.type AND i.value = k.value"
    " AND i.namespace IS NULL"
)


async def identities_by_keys(
    execute: Execute, keys: Iterable[IdentityKey]
) -> dict[IdentityKey, IdentityRecord]:
    """The identities holding ``keys`` (those held), from one read."""
    wanted = set(keys)
    if not wanted:
        return {}
    spaced = [k for k in wanted if k.namespace is not None]
    bare = [k for k in wanted if k.namespace is None]
    rows = await execute(
        _BY_KEYS,
        {
            "types": [k.type.value for k in spaced],
            "namespaces": [k.namespace for k in spaced],
            "values": [k.value for k in spaced],
            "bare_types": [k.type.value for k in bare],
            "bare_values": [k.value for k in bare],
        },
    )
    found = [identity_from_row(row) for row in rows]
    return {record.key: record for record in found}
