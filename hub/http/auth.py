"""Authentication: a bearer credential in, a Principal (or nothing) out.

Two kinds of credential share the ``Authorization: Bearer`` header: API client keys
(``mh_…``, looked up by hash) and member tokens (``mt.…``, verified by signature, then
checked against the member's current state so that a merged member's token acts for the
survivor and an erased member's token stops working, and against its issuing client, so
that revoking a client revokes every token it issued, within ``cache_seconds``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clients import client_is_active, find_client_by_key, hash_key
from hub.http.member_tokens import TOKEN_PREFIX, verify_member_token
from hub.http.principal import DEFAULT_SCOPES, ClientKind, Principal
from identity.lookup import Execute

#: Answers the member a token's member now is (the survivor after merges), or None when the
#: member can no longer act (erased, unknown); it reads with the given ``execute``.
MemberResolver = Callable[[Execute, int], Awaitable[int | None]]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not token.isascii():
        # Every credential the hub issues is ASCII; anything else is no credential (and
        # would fault the constant-time comparison).
        return None
    return token.strip()


class Authenticator:
    """Resolves credentials, caching API keys briefly so most requests skip the lookup."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        read: Execute,
        token_secret: bytes,
        resolve_member: MemberResolver,
        cache_seconds: float,
    ) -> None:
        self._session_factory = session_factory
        # Member tokens are checked on every request of theirs: on the read pool, without a
        # session and its transaction.
        self._read = read
        self._secret = token_secret
        self._resolve_member = resolve_member
        self._cache_seconds = cache_seconds
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}
        #: Issuing client id -> (valid until, active): a busy frontend's tokens share it.
        self._issuers: dict[int, tuple[float, bool]] = {}
        self._lookups: dict[bytes, asyncio.Future[Principal | None]] = {}

    async def authenticate(self, token: str | None, *, now: datetime) -> Principal | None:
        if token is None:
            return None
        if token.startswith(TOKEN_PREFIX):
            return await self._member_principal(token, now)
        return await self._client_principal(token)

    async def _client_principal(self, key: str) -> Principal | None:
        digest = hash_key(key)
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        # One lookup per key at a time: when a busy client's entry lapses, its concurrent
        # requests share the lookup instead of each taking a database connection for it.
        pending = self._lookups.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(self._look_up_client(key, digest))
            self._lookups[digest] = pending
            pending.add_done_callback(lambda _: self._lookups.pop(digest, None))
        return await asyncio.shield(pending)

    async def _look_up_client(self, key: str, digest: bytes) -> Principal | None:
        async with self._session_factory() as session:
            client = await find_client_by_key(session, key)
        principal = (
            None
            if client is None
            else Principal(
                kind=client.kind,
                name=client.name,
                scopes=frozenset(client.scopes),
                client_id=client.id,
                store_id=client.store_id,
            )
        )
        if self._cache_seconds > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (time.monotonic() + self._cache_seconds, principal)
        return principal

    async def _member_principal(self, token: str, now: datetime) -> Principal | None:
        claims = verify_member_token(self._secret, token, now=now)
        if claims is None:
            return None
        if claims.client_id is not None and not await self._issuer_active(claims.client_id):
            return None
        member_id = await self._resolve_member(self._read, claims.member_id)
        if member_id is None:
            return None
        return Principal(
            kind=ClientKind.MEMBER,
            name=f"member:{member_id}",
            scopes=DEFAULT_SCOPES[ClientKind.MEMBER],
            client_id=claims.client_id,
            member_id=member_id,
        )

    async def _issuer_active(self, client_id: int) -> bool:
        cached = self._issuers.get(client_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        active = await client_is_active(self._read, client_id)
        if self._cache_seconds > 0:
            if len(self._issuers) > 10_000:
                self._issuers.clear()
            self._issuers[client_id] = (time.monotonic() + self._cache_seconds, active)
        return active
