"""Events identity publishes on the event bus (``bus.hooks``), inside the changing transaction.

Subscribers (the ledger, purchases, tags, the outbox) react in the same transaction, so a
merge moves points and purchases atomically with the identities.
"""

from __future__ import annotations

from dataclasses import dataclass

from bus.hooks import DomainEvent


@dataclass(frozen=True, kw_only=True)
class MemberCreated(DomainEvent):
    event_type = "member.created"
    channel: str
    #: The member who referred this one (``identify(referrerId)``), if any.
    referrer_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class IdentityLinked(DomainEvent):
    """An identity was attached to ``member_id`` (on creation, by link, or a new sighting)."""

    event_type = "identity.linked"
    identity_type: str
    namespace: str | None
    #: Masked value (138****8000): events never carry personal data in clear.
    masked_value: str
    verified: bool
    channel: str
    #: Salted hash of the E.164 number, for PHONE identities: the key of "once per phone".
    phone_hash: str | None = None
    identity_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class IdentityUnlinked(DomainEvent):
    """An identity was taken off ``member_id``; it may be linked to anyone afterwards."""

    event_type = "identity.unlinked"
    identity_type: str
    namespace: str | None
    masked_value: str
    identity_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class MembersMerged(DomainEvent):
    """``merged_id`` was folded into ``member_id`` (the survivor) by merge ``merge_id``."""

    event_type = "member.merged"
    merged_id: int
    merge_id: int
    reason: str
    actor: str


@dataclass(frozen=True, kw_only=True)
class MembersUnmerged(DomainEvent):
    """Merge ``merge_id`` was undone: ``restored_id`` is ACTIVE again beside ``member_id``."""

    event_type = "member.unmerged"
    restored_id: int
    merge_id: int
    reason: str
    actor: str
    #: The survivor the merge named; ``member_id`` is the member that held the merged
    #: member's things until now (that survivor, or whom it was merged into later).
    survivor_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class MemberErased(DomainEvent):
    event_type = "member.erased"
    reason: str
    actor: str
