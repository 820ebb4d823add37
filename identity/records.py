"""Members, identities and merges as read from the database: plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from identity.model import Channel, Gender, IdentityKey, IdentityType, MemberStatus, Profile


@dataclass(frozen=True, slots=True)
class MemberRecord:
    id: int
    status: MemberStatus
    merged_into: int | None
    registered_channel: Channel
    name: str | None
    gender: Gender
    birthday: date | None
    region: str | None
    created_at: datetime

    @property
    def profile(self) -> Profile:
        return Profile(
            name=self.name, gender=self.gender, birthday=self.birthday, region=self.region
        )


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    id: int
    member_id: int
    type: IdentityType
    namespace: str | None
    value: str
    verified: bool
    channel: Channel
    linked_at: datetime
    last_seen_at: datetime

    @property
    def key(self) -> IdentityKey:
        return IdentityKey(type=self.type, namespace=self.namespace, value=self.value)


@dataclass(frozen=True, slots=True)
class MergeRecord:
    id: int
    survivor_id: int
    merged_id: int
    reason: str
    evidence_identity_id: int | None
    actor: str
    moved_identity_ids: tuple[int, ...]
    filled_fields: tuple[str, ...]
    created_at: datetime
    undone_at: datetime | None


def member_from_row(row: Any) -> MemberRecord:
    return MemberRecord(
        id=row.id,
        status=MemberStatus(row.status),
        merged_into=row.merged_into,
        registered_channel=Channel(row.registered_channel),
        name=row.name,
        gender=Gender(row.gender),
        birthday=row.birthday,
        region=row.region,
        created_at=row.created_at,
    )


def identity_from_row(row: Any) -> IdentityRecord:
    return IdentityRecord(
        id=row.id,
        member_id=row.member_id,
        type=IdentityType(row.type),
        namespace=row.namespace,
        value=row.value,
        verified=row.verified,
        channel=Channel(row.channel),
        linked_at=row.linked_at,
        last_seen_at=row.last_seen_at,
    )


def merge_from_row(row: Any) -> MergeRecord:
    return MergeRecord(
        id=row.id,
        survivor_id=row.survivor_id,
        merged_id=row.merged_id,
        reason=row.reason,
        evidence_identity_id=row.evidence_identity_id,
        actor=row.actor,
        moved_identity_ids=tuple(row.moved_identity_ids),
        filled_fields=tuple(row.filled_fields),
        created_at=row.created_at,
        undone_at=row.undone_at,
    )
