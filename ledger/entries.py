"""What the posting path writes, as values: an account's next hash-chained entry, the lot
a credit opens, the event an entry announces. ``post_entries`` and ``post_batch`` compose
with these and differ only in how many statements carry the rows: ``insert_entries`` and
``insert_lots`` write any number of them in one statement each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.chain import canonical_entry, chain_hash
from ledger.checks import Decision, FraudOutcome
from ledger.events import PointsCredited, PointsDebited, PointsExpired
from ledger.lots import lot_amount_of_credit
from ledger.model import (
    Bucket,
    EntryKind,
    EntryRequest,
    LedgerConfig,
    LedgerEntry,
    add_months,
    lifetime_delta,
)
from ledger.multirow import MultiRowInsert
from ledger.queries import entry_from_row


@dataclass
class Account:
    member_id: int
    last_seq: int
    head_hash: bytes
    lifetime_earned: int
    balances: dict[Bucket, int] = field(default_factory=dict)


def compose_entry(
    account: Account,
    request: EntryRequest,
    decision: Decision,
    now: datetime,
    config: LedgerConfig,
    idempotency_key: str | None,
) -> tuple[dict[str, Any], int]:
    """The row of ``account``'s next entry, hash-chained, and its bucket's balance before
    it; advances the account past it."""
    held = decision.outcome is FraudOutcome.HELD and request.amount > 0
    bucket = Bucket.HELD if held else request.bucket
    expires_at = request.expires_at
    if request.bucket is Bucket.AVAILABLE and request.amount > 0 and expires_at is None:
        expires_at = add_months(now, config.expiry_months)
    before = account.balances.get(bucket, 0)
    values: dict[str, Any] = {
        "member_id": account.member_id,
        "seq": account.last_seq + 1,
        "kind": request.kind.value,
        "bucket": bucket.value,
        "amount": request.amount,
        "balance_after": before + request.amount,
        "channel": request.channel.value,
        "store_id": request.store_id,
        "reference": request.reference,
        "reason": request.reason,
        "idempotency_key": idempotency_key,
        "expires_at": expires_at,
        "available_at": request.available_at,
        "reverses_id": request.reverses_id,
        "consumes_lot": request.consumes_lot,
        "held_for": (
            request.bucket.value
            if held
            else request.held_for.value
            if bucket is Bucket.HELD and request.held_for is not None
            else None
        ),
        "hold_reasons": list(decision.reasons) if held else None,
        "created_at": now,
    }
    digest = chain_hash(account.head_hash, canonical_entry(**values))
    values.update(prev_hash=account.head_hash, hash=digest)
    account.balances[bucket] = before + request.amount
    account.last_seq += 1
    account.head_hash = digest
    account.lifetime_earned += lifetime_delta(request.kind, bucket, request.amount)
    return values, before


def credit_lot(entry: LedgerEntry, balance_before: int) -> dict[str, Any] | None:
    """The lot a credit opens: what is left of it once a debt in its bucket is repaid."""
    points = lot_amount_of_credit(balance_before, entry.amount)
    if points <= 0:
        return None
    return {
        "member_id": entry.member_id,
        "entry_id": entry.id,
        "bucket": entry.bucket.value,
        "amount": points,
        "remaining": points,
        "expires_at": entry.expires_at if entry.bucket is Bucket.AVAILABLE else None,
        "available_at": entry.available_at if entry.bucket is Bucket.PENDING else None,
    }


def entry_event(entry: LedgerEntry) -> PointsCredited | PointsDebited | PointsExpired:
    common: dict[str, Any] = {
        "member_id": entry.member_id,
        "entry_id": entry.id,
        "kind": entry.kind.value,
        "bucket": entry.bucket.value,
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "channel": entry.channel.value,
        "store_id": entry.store_id,
        "reference": entry.reference,
        "created_at": entry.created_at,
    }
    if entry.amount > 0:
        return PointsCredited(**common, expires_at=entry.expires_at)
    if entry.kind is EntryKind.EXPIRE:
        return PointsExpired(**common)
    return PointsDebited(**common)


#: Columns of an entry's row, as ``compose_entry`` gives them, with their SQL types.
_ENTRY_COLUMNS = {
    "member_id": "bigint",
    "seq": "int",
    "kind": "text",
    "bucket": "text",
    "amount": "int",
    "balance_after": "int",
    "channel": "text",
    "store_id": "text",
    "reference": "text",
    "reason": "text",
    "idempotency_key": "text",
    "expires_at": "timestamptz",
    "available_at": "timestamptz",
    "reverses_id": "bigint",
    "consumes_lot": "bigint",
    "held_for": "text",
    "hold_reasons": "text[]",
    "created_at": "timestamptz",
    "prev_hash": "bytea",
    "hash": "bytea",
}


_ENTRIES = MultiRowInsert("ledger_entries", _ENTRY_COLUMNS, suffix="RETURNING member_id, seq, id")

_LOT_COLUMNS = {
    "member_id": "bigint",
    "entry_id": "bigint",
    "bucket": "text",
    "amount": "int",
    "remaining": "int",
    "expires_at": "timestamptz",
    "available_at": "timestamptz",
}
_LOTS = MultiRowInsert("points_lots", _LOT_COLUMNS)


async def insert_entries(session: AsyncSession, rows: list[dict[str, Any]]) -> list[LedgerEntry]:
    """Insert ``compose_entry`` rows in one statement; the entries stored, in the rows' order."""
    # Only the ids come back: the rest is what was sent, and decoding it again would cost a
    # purchase batch CPU for nothing.
    ids = {(r.member_id, r.seq): r.id for r in await _ENTRIES.execute(session, rows)}
    return [_stored_entry(row, ids[(row["member_id"], row["seq"])]) for row in rows]


def _stored_entry(values: dict[str, Any], entry_id: int) -> LedgerEntry:
    """The entry as reading its row back answers it: times in UTC, as the database keeps them."""
    row = {
        **values,
        "id": entry_id,
        "expires_at": _utc(values["expires_at"]),
        "available_at": _utc(values["available_at"]),
        "created_at": values["created_at"].astimezone(UTC),
    }
    return entry_from_row(SimpleNamespace(**row))


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


async def insert_lots(session: AsyncSession, lots: list[dict[str, Any]]) -> None:
    """Insert ``credit_lot`` rows in one statement."""
    await _LOTS.execute(session, lots)


#: One statement text for any number of takes, so it is prepared once per connection.
_TAKE_FROM_LOTS = text(
    "UPDATE points_lots l SET remaining = l.remaining - v.take"
    " FROM unnest(CAST(:members AS bigint[]), CAST(:lots AS bigint[]), CAST(:takes AS int[]))"
    " AS v(member_id, entry_id, take)"
    " WHERE l.member_id = v.member_id AND l.entry_id = v.entry_id"
)


async def take_from_lots(
    session: AsyncSession, takes: Sequence[tuple[int, int | None, int]]
) -> None:
    """Take points from named lots, (member, lot's entry, points) each, in one statement."""
    if not takes:
        return
    members, entry_ids, points = zip(*takes, strict=True)
    await session.execute(
        _TAKE_FROM_LOTS,
        {"members": list(members), "lots": list(entry_ids), "takes": list(points)},
    )


#: The accounts' chain heads and lifetime totals, from the ``_account_columns`` arrays.
_UPDATE_ACCOUNTS = (
    "UPDATE points_accounts a SET last_seq = v.seq, head_hash = v.head,"
    " lifetime_earned = v.lifetime FROM unnest(CAST(:accounts AS bigint[]),"
    " CAST(:seqs AS bigint[]), CAST(:heads AS bytea[]), CAST(:lifetimes AS bigint[]))"
    " AS v(member_id, seq, head, lifetime) WHERE a.member_id = v.member_id"
)
_SAVE_ACCOUNTS = text(_UPDATE_ACCOUNTS)
_SAVE_ACCOUNTS_AND_BALANCES = text(
    f"WITH heads AS ({_UPDATE_ACCOUNTS})"
    " UPDATE points_balances b SET balance = v.balance, last_kind = v.kind,"
    " last_amount = v.amount FROM unnest(CAST(:members AS bigint[]),"
    " CAST(:buckets AS text[]), CAST(:balances AS bigint[]), CAST(:kinds AS text[]),"
    " CAST(:amounts AS bigint[])) AS v(member_id, bucket, balance, kind, amount)"
    " WHERE b.member_id = v.member_id AND b.bucket = v.bucket"
)


def _account_columns(accounts: Iterable[Account]) -> dict[str, list[Any]]:
    accounts = list(accounts)
    return {
        "accounts": [a.member_id for a in accounts],
        "seqs": [a.last_seq for a in accounts],
        "heads": [a.head_hash for a in accounts],
        "lifetimes": [a.lifetime_earned for a in accounts],
    }


async def save_accounts(session: AsyncSession, accounts: Iterable[Account]) -> None:
    """Write the accounts' chain heads and lifetime totals, in one statement."""
    await session.execute(_SAVE_ACCOUNTS, _account_columns(accounts))


async def save_accounts_and_balances(
    session: AsyncSession, accounts: Iterable[Account], entries: Sequence[LedgerEntry]
) -> None:
    """``save_accounts``, and give each touched (member, bucket) its last entry's balance,
    kind and amount, in one statement (a batch of postings pays one round trip for both)."""
    last = {(e.member_id, e.bucket.value): e for e in entries}
    await session.execute(
        _SAVE_ACCOUNTS_AND_BALANCES,
        {
            **_account_columns(accounts),
            "members": [m for m, _ in last],
            "buckets": [b for _, b in last],
            "balances": [e.balance_after for e in last.values()],
            "kinds": [e.kind.value for e in last.values()],
            "amounts": [e.amount for e in last.values()],
        },
    )
