"""API clients: create, list, revoke. Keys are random, shown once and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.http.principal import DEFAULT_SCOPES, ClientKind, Scope
from hub.tables import api_clients
from identity.lookup import Execute

KEY_PREFIX = "mh_"


class ClientError(Exception):
    """A client cannot be created or changed as asked."""


@dataclass(frozen=True)
class ApiClient:
    id: int
    name: str
    kind: ClientKind
    scopes: tuple[str, ...]
    store_id: str | None
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> bytes:
    # Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).digest()


def _row_to_client(row) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(
        id=row.id,
        name=row.name,
        kind=ClientKind(row.kind),
        scopes=tuple(row.scopes),
        store_id=row.store_id,
        key_prefix=row.key_prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


async def create_client(
    session: AsyncSession,
    *,
    name: str,
    kind: ClientKind,
    store_id: str | None = None,
    extra_scopes: tuple[str, ...] = (),
) -> tuple[ApiClient, str]:
    """Create a client and answer it with its key (the only time the key exists in clear).

    Raises ClientError for an empty or taken name, a POS client without a store or a
    store on another kind, or an unknown scope.
    """
    if kind is ClientKind.MEMBER:
        raise ClientError("member tokens are issued, not created as clients")
    name = name.strip()
    if not name:
        raise ClientError("a client needs a name")
    if kind is ClientKind.POS and not store_id:
        raise ClientError("a POS client is bound to one store: pass --store")
    known = {s.value for s in Scope} - {Scope.SELF.value}
    unknown = sorted(set(extra_scopes) - known)
    if unknown:
        raise ClientError(
            f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    taken = await session.scalar(
        select(func.count())
        .select_from(api_clients)
        .where(api_clients.c.name == name, api_clients.c.revoked_at.is_(None))
    )
    if taken:
        raise ClientError(f"a client named {name!r} exists")
    key = generate_key()
    scopes = sorted({*DEFAULT_SCOPES[kind], *extra_scopes})
    row = (
        await session.execute(
            insert(api_clients)
            .values(
                name=name,
                kind=kind.value,
                scopes=scopes,
                store_id=store_id,
                key_hash=hash_key(key),
                key_prefix=key[: len(KEY_PREFIX) + 6],
                created_at=func.now(),
            )
            .returning(*api_clients.c)
        )
    ).one()
    return _row_to_client(row), key


async def list_clients(session: AsyncSession, *, include_revoked: bool = False) -> list[ApiClient]:
    query = select(api_clients).order_by(api_clients.c.id)
    if not include_revoked:
        query = query.where(api_clients.c.revoked_at.is_(None))
    return [_row_to_client(row) for row in await session.execute(query)]


async def revoke_client(session: AsyncSession, *, name: str) -> ApiClient:
    """Revoke the active client of that name. Raises ClientError when there is none."""
    row = (
        await session.execute(
            update(api_clients)
            .where(api_clients.c.name == name, api_clients.c.revoked_at.is_(None))
            .values(revoked_at=func.now())
            .returning(*api_clients.c)
        )
    ).one_or_none()
    if row is None:
        raise ClientError(f"no active client named {name!r}")
    return _row_to_client(row)


async def find_client_by_key(session: AsyncSession, key: str) -> ApiClient | None:
    row = (
        await session.execute(
            select(api_clients).where(
                api_clients.c.key_hash == hash_key(key), api_clients.c.revoked_at.is_(None)
            )
        )
    ).one_or_none()
    return None if row is None else _row_to_client(row)


_ACTIVE_CLIENT = text("SELECT 1 FROM api_clients WHERE id = :id AND revoked_at IS NULL")


async def client_is_active(execute: Execute, client_id: int) -> bool:
    """Whether the client ``client_id`` exists and is not revoked; ``execute`` is a
    session's ``execute`` or the request's read path."""
    return (await execute(_ACTIVE_CLIENT, {"id": client_id})).first() is not None
