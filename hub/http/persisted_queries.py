"""Automatic persisted queries (Apollo's protocol), stored in Redis.

A client first sends only ``extensions.persistedQuery.sha256Hash``; an unknown hash answers
``PersistedQueryNotFound`` and the client retries with the query text and the hash, which
registers it. Mini-programs then send a 64-character hash instead of the query.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from redis.asyncio import Redis

#: Registered queries live this long in Redis after their last registration.
TTL_SECONDS = 30 * 86_400


class PersistedQueryError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class PersistedQueries:
    def __init__(self, redis: Redis, *, namespace: str, local_size: int = 1024) -> None:
        self._redis = redis
        self._namespace = namespace
        # A small in-process cache in front of Redis: hot queries skip the round trip.
        self._local: OrderedDict[str, str] = OrderedDict()
        self._local_size = local_size

    def _key(self, digest: str) -> str:
        return f"{self._namespace}:apq:{digest}"

    def _remember(self, digest: str, query: str) -> None:
        self._local[digest] = query
        self._local.move_to_end(digest)
        if len(self._local) > self._local_size:
            self._local.popitem(last=False)

    async def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The query text to run: as sent, or looked up by hash; registers hash + text.

        Raises PersistedQueryError for an unknown hash, a hash that does not match the text,
        or an unsupported protocol version.
        """
        persisted = (extensions or {}).get("persistedQuery")
        if not isinstance(persisted, dict):
            return query
        if persisted.get("version") != 1:
            raise PersistedQueryError(
                "unsupported persistedQuery version", "PERSISTED_QUERY_NOT_SUPPORTED"
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str):
            raise PersistedQueryError("persistedQuery needs a sha256Hash", "BAD_REQUEST")
        digest = digest.lower()
        if query is not None:
            if hashlib.sha256(query.encode()).hexdigest() != digest:
                raise PersistedQueryError("provided sha does not match query", "BAD_REQUEST")
            self._remember(digest, query)
            await self._redis.set(self._key(digest), query, ex=TTL_SECONDS)
            return query
        cached = self._local.get(digest)
        if cached is not None:
            self._local.move_to_end(digest)
            return cached
        stored = await self._redis.get(self._key(digest))
        if stored is None:
            raise PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        text = stored.decode() if isinstance(stored, bytes) else str(stored)
        self._remember(digest, text)
        return text
