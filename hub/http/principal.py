"""Who is calling: the resolved API client or member token, and the scopes it holds."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ClientKind(enum.StrEnum):
    ADMIN = "admin"
    POS = "pos"
    PARTNER = "partner"
    FRONTEND = "frontend"
    #: A member token: acts for one member only.
    MEMBER = "member"


class Scope(enum.StrEnum):
    """Scopes an API client may hold. ``admin`` implies every other scope."""

    ADMIN = "admin"
    PII_READ = "pii:read"
    MEMBERS_READ = "members:read"
    #: Find a member by a raw identity (a phone, a card): an oracle that tells whether a
    #: number belongs to a member, so only tills and operators hold it by default.
    MEMBERS_LOOKUP = "members:lookup"
    MEMBERS_WRITE = "members:write"
    #: Log members in through evidence the hub checks itself (WeChat's code exchange).
    MEMBER_TOKENS = "members:token"
    #: Mint a token for any member ID: for a retailer's own server, never a shipped app.
    MEMBERS_IMPERSONATE = "members:impersonate"
    PURCHASES_WRITE = "purchases:write"
    POINTS_WRITE = "points:write"
    SEGMENTS_WRITE = "segments:write"
    WEBHOOKS = "webhooks"
    #: Define coupon templates, issue and void coupons.
    COUPONS_WRITE = "coupons:write"
    #: Send behaviour events for any member (a retailer's server relaying its web shop).
    EVENTS_WRITE = "events:write"
    #: What a member token holds: act for its own member.
    SELF = "self"


DEFAULT_SCOPES: dict[ClientKind, frozenset[Scope]] = {
    ClientKind.ADMIN: frozenset({Scope.ADMIN}),
    ClientKind.POS: frozenset(
        {
            Scope.MEMBERS_READ,
            Scope.MEMBERS_LOOKUP,
            Scope.MEMBERS_WRITE,
            Scope.PURCHASES_WRITE,
            Scope.POINTS_WRITE,
        }
    ),
    ClientKind.PARTNER: frozenset({Scope.MEMBERS_READ, Scope.WEBHOOKS}),
    # A frontend key ships in a mini-program or a web page, so anyone holds it: it may only
    # log members in through evidence the hub checks itself.
    ClientKind.FRONTEND: frozenset({Scope.MEMBER_TOKENS}),
    ClientKind.MEMBER: frozenset({Scope.SELF}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, in the context of every resolver."""

    kind: ClientKind
    name: str
    scopes: frozenset[str]
    client_id: int | None = None
    store_id: str | None = None
    #: Set for member tokens: the member the token acts for.
    member_id: int | None = None

    def has(self, scope: str) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes

    @property
    def is_admin(self) -> bool:
        return Scope.ADMIN in self.scopes

    @property
    def vouches_for_claims(self) -> bool:
        """Whether what this caller says about identities is evidence: a till or a server
        key can vouch for it; a member token or a key shipped in an app (public) cannot."""
        return self.kind not in (ClientKind.MEMBER, ClientKind.FRONTEND)

    @property
    def sees_pii(self) -> bool:
        return self.has(Scope.PII_READ)
