"""Idempotency keys: a retried request answers its first result and writes nothing.

A key is claimed with ``INSERT … ON CONFLICT DO NOTHING`` on (scope, key): the first
request inserts the row and holds it until its transaction ends; concurrent retries wait on
that row and then read the committed outcome. A transaction that fails on a fault rolls the
row back with everything else, so the key stays unused. Business refusals commit their
outcome and replay as such. Rows are kept ``idempotency_days`` (30 by default), then
``purge_idempotency_keys`` may remove them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.checks import Decision, FraudOutcome
from ledger.errors import IdempotencyConflict, Refusal, refusal_from
from ledger.model import IdempotencyKey, LedgerConfig, idempotency_expiry
from ledger.tables import points_idempotency_keys as keys

#: How often a claim is tried when the row it waited on vanished (its holder rolled back).
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class StoredOutcome:
    entry_ids: tuple[int, ...]
    decision: Decision
    refusal: Refusal | None


def fingerprint(request: Mapping[str, Any]) -> bytes:
    """SHA-256 of the request's canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).digest()


async def claim_key(
    session: AsyncSession,
    key: IdempotencyKey,
    *,
    member_id: int | None,
    now: datetime,
    config: LedgerConfig,
) -> StoredOutcome | None:
    """Claim ``key`` for this transaction: None when it is ours, else the first outcome.

    Raises IdempotencyConflict when the key was used for another request.
    """
    digest = fingerprint(key.request)
    for _ in range(_CLAIM_ATTEMPTS):
        claimed = await session.execute(
            insert(keys)
            .values(
                scope=key.scope,
                key=key.key,
                fingerprint=digest,
                member_id=member_id,
                created_at=now,
                expires_at=idempotency_expiry(now, config),
            )
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(keys.c.key)
        )
        if claimed.first() is not None:
            return None
        row = (
            await session.execute(
                select(keys.c.fingerprint, keys.c.outcome).where(
                    keys.c.scope == key.scope, keys.c.key == key.key
                )
            )
        ).first()
        if row is None:
            continue
        if bytes(row.fingerprint) != digest:
            raise IdempotencyConflict(
                f"the idempotency key {key.key!r} was used for a different request",
                field=("idempotencyKey",),
            )
        return _decode(row.outcome)
    raise IdempotencyConflict(f"the idempotency key {key.key!r} is in use; retry")


async def record_outcome(
    session: AsyncSession,
    key: IdempotencyKey,
    *,
    entry_ids: tuple[int, ...],
    decision: Decision,
    refusal: Refusal | None,
) -> None:
    outcome: dict[str, Any] = {
        "entry_ids": list(entry_ids),
        "decision": {"outcome": decision.outcome.value, "reasons": list(decision.reasons)},
    }
    if refusal is not None:
        outcome["refusal"] = {
            "code": refusal.code,
            "message": str(refusal),
            "field": list(refusal.field) if refusal.field is not None else None,
        }
    await session.execute(
        update(keys).where(keys.c.scope == key.scope, keys.c.key == key.key).values(outcome=outcome)
    )


def _decode(outcome: Mapping[str, Any] | None) -> StoredOutcome:
    if outcome is None:
        # Only a claim of this very transaction lacks an outcome: a key reused within it.
        raise IdempotencyConflict("the idempotency key was already used in this request")
    decision = outcome["decision"]
    refusal = outcome.get("refusal")
    return StoredOutcome(
        entry_ids=tuple(outcome["entry_ids"]),
        decision=Decision(
            outcome=FraudOutcome(decision["outcome"]), reasons=tuple(decision["reasons"])
        ),
        refusal=(
            refusal_from(refusal["code"], refusal["message"], refusal.get("field"))
            if refusal is not None
            else None
        ),
    )


async def purge_idempotency_keys(session: AsyncSession, *, now: datetime) -> int:
    """Remove keys past their retention; answer how many."""
    result = await session.execute(delete(keys).where(keys.c.expires_at < now))
    return result.rowcount or 0
