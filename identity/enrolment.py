"""Enrolling many new members at once: members, their identities and their events, in a
fixed number of statements whatever their count.

The caller holds the advisory locks of every identity (``lock_identities``) and has read
that nobody holds them, as ``identify`` does before it creates a member: so no other
transaction can link them meanwhile, and the unique key on (type, namespace, value) stays
the last word (a clash means a path raced past the locks: ConcurrentIdentityChange, the
transaction is retried).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import DomainEvent, publish_many
from identity.errors import ConcurrentIdentityChange
from identity.events import MemberCreated
from identity.link import linked_event
from identity.model import Channel, Gender, IdentityClaim, IdentityConfig, MemberStatus
from identity.records import IdentityRecord, MemberRecord, identity_from_row, member_from_row


@dataclass(frozen=True)
class Newcomer:
    """A person to enrol: what the channel saw of them."""

    claims: tuple[IdentityClaim, ...]
    channel: Channel


@dataclass(frozen=True)
class Enrolled:
    """A newcomer's member, and the identities it holds."""

    member: MemberRecord
    identities: tuple[IdentityRecord, ...]


_NEW_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('members', 'id')) FROM generate_series(1, :count)"
)
_INSERT_MEMBERS = text(
    "INSERT INTO members (id, status, registered_channel, gender, created_at, updated_at)"
    " OVERRIDING SYSTEM VALUE SELECT v.id, :status, v.channel, :gender, :now, :now"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:channels AS text[])) AS v(id, channel)"
    " ORDER BY v.id RETURNING *"
)
_INSERT_IDENTITIES = text(
    "INSERT INTO member_identities"
    " (member_id, type, namespace, value, verified, channel, linked_at, last_seen_at)"
    " SELECT v.member_id, v.type, v.namespace, v.value, v.verified, v.channel, :now, :now"
    " FROM unnest(CAST(:members AS bigint[]), CAST(:types AS text[]),"
    "  CAST(:namespaces AS text[]), CAST(:values AS text[]), CAST(:verified AS boolean[]),"
    "  CAST(:channels AS text[])) WITH ORDINALITY AS v(member_id, type, namespace, value,"
    "  verified, channel, n)"
    " ORDER BY v.n ON CONFLICT ON CONSTRAINT member_identities_key DO NOTHING RETURNING *"
)


async def enrol_newcomers(
    session: AsyncSession, newcomers: Sequence[Newcomer], *, now: datetime, config: IdentityConfig
) -> list[Enrolled]:
    """One ACTIVE member per newcomer, in order, holding the newcomer's identities; publishes
    each member's MemberCreated and IdentityLinked as ``identify`` would when it creates."""
    if not newcomers:
        return []
    ids = list((await session.execute(_NEW_IDS, {"count": len(newcomers)})).scalars())
    ids.sort()
    rows = await session.execute(
        _INSERT_MEMBERS,
        {
            "ids": ids,
            "channels": [n.channel.value for n in newcomers],
            "status": MemberStatus.ACTIVE.value,
            "gender": Gender.UNKNOWN.value,
            "now": now,
        },
    )
    members = {row.id: member_from_row(row) for row in rows}
    owned = [
        (member, n, claim) for member, n in zip(ids, newcomers, strict=True) for claim in n.claims
    ]
    linked = await session.execute(
        _INSERT_IDENTITIES,
        {
            "members": [m for m, _, _ in owned],
            "types": [c.key.type.value for _, _, c in owned],
            "namespaces": [c.key.namespace for _, _, c in owned],
            "values": [c.key.value for _, _, c in owned],
            "verified": [c.verified for _, _, c in owned],
            "channels": [n.channel.value for _, n, _ in owned],
            "now": now,
        },
    )
    records = [identity_from_row(row) for row in linked]
    if len(records) < len(owned):
        raise ConcurrentIdentityChange("an identity was linked concurrently")
    held: dict[int, list[IdentityRecord]] = {}
    for record in sorted(records, key=lambda r: r.id):
        held.setdefault(record.member_id, []).append(record)
    events: list[DomainEvent] = []
    for member_id, newcomer in zip(ids, newcomers, strict=True):
        events.append(MemberCreated(member_id=member_id, channel=newcomer.channel.value))
        events.extend(
            linked_event(r, channel=r.channel, config=config) for r in held.get(member_id, ())
        )
    await publish_many(session, events)
    return [Enrolled(members[m], tuple(held.get(m, ()))) for m in ids]
