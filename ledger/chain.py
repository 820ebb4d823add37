"""The hash chain: each entry's hash covers the member's previous hash and the entry itself.

``hash = sha256(prev_hash || canonical(entry))``; a member's first entry has an empty
``prev_hash``. ``canonical(entry)`` is UTF-8 JSON of exactly these keys, sorted, with no
whitespace (``separators=(",", ":")``), non-ASCII kept as is:

    amount, available_at, balance_after, bucket, channel, consumes_lot, created_at,
    expires_at, held_for, hold_reasons, idempotency_key, kind, member_id, reason,
    reference, reverses_id, seq, store_id

Timestamps are UTC with microseconds (``2026-11-21T02:00:00.000000Z``), absent values are
``null``, ``hold_reasons`` a list of strings. The database ID is not covered (it is assigned
on insert); ``(member_id, seq)`` places the entry in its chain instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson


# The entries of a batch share their instants (the posting's now, the settlement and
# expiry times it gives), so each is written out once.
@lru_cache(maxsize=1024)
def canonical_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    # The same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), which stored hashes were made of;
    # isoformat because every entry hashes two or three of these and strftime is the slower.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical_entry(
    *,
    member_id: int,
    seq: int,
    kind: str,
    bucket: str,
    amount: int,
    balance_after: int,
    channel: str,
    store_id: str | None,
    reference: str | None,
    reason: str | None,
    idempotency_key: str | None,
    expires_at: datetime | None,
    available_at: datetime | None,
    reverses_id: int | None,
    consumes_lot: int | None,
    held_for: str | None,
    hold_reasons: Sequence[str] | None,
    created_at: datetime,
) -> bytes:
    document: dict[str, Any] = {
        "amount": amount,
        "available_at": canonical_time(available_at),
        "balance_after": balance_after,
        "bucket": bucket,
        "channel": channel,
        "consumes_lot": consumes_lot,
        "created_at": canonical_time(created_at),
        "expires_at": canonical_time(expires_at),
        "held_for": held_for,
        "hold_reasons": list(hold_reasons) if hold_reasons is not None else None,
        "idempotency_key": idempotency_key,
        "kind": kind,
        "member_id": member_id,
        "reason": reason,
        "reference": reference,
        "reverses_id": reverses_id,
        "seq": seq,
        "store_id": store_id,
    }
    # Byte for byte what json.dumps(sort_keys=True, separators=(",", ":"),
    # ensure_ascii=False) writes (a test checks every code point), so old hashes still
    # verify; orjson because this runs for every entry written.
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def chain_hash(prev_hash: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(prev_hash + canonical).digest()


def entry_hash(prev_hash: bytes, row: Any) -> bytes:
    """The hash a stored entry row (anything with the entry's columns) should carry."""
    return chain_hash(
        prev_hash,
        canonical_entry(
            member_id=row.member_id,
            seq=row.seq,
            kind=row.kind,
            bucket=row.bucket,
            amount=row.amount,
            balance_after=row.balance_after,
            channel=row.channel,
            store_id=row.store_id,
            reference=row.reference,
            reason=row.reason,
            idempotency_key=row.idempotency_key,
            expires_at=row.expires_at,
            available_at=row.available_at,
            reverses_id=row.reverses_id,
            consumes_lot=row.consumes_lot,
            held_for=row.held_for,
            hold_reasons=row.hold_reasons,
            created_at=row.created_at,
        ),
    )
