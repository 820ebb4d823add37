"""``memberhub import members FILE.csv``: members from another system, with their balances.

The file is read as a stream, a chunk of rows at a time (bounded memory whatever its size).
Each chunk is normalised in Python (phones to E.164, namespaces required: the identity
rules), COPYed into temporary staging tables and applied in one transaction, set-based:

- rows none of whose identities the hub knows, and that share none with an earlier row of
  the file, become members with one INSERT for the members and one for their identities
  (their ``member.created`` and ``identity.linked`` events are written to the outbox the
  same way); they get no sign-up bonus: their balance comes with them;
- rows whose identities all belong to one member already are MATCHED and write nothing;
- the rest (new identities for a known member, identities tying two members, a repeat of
  an earlier row) go through ``identify`` one by one: linking, merging under the merge
  rules, or a rejection (IDENTITY_CONFLICT) when the rules forbid;
- a carried-over balance is an ADJUST entry "opening balance" through the posting path,
  once per member: a member that has one already is skipped, so a re-run posts nothing.

Bad rows are written to the rejects CSV with the reason; the summary counts everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bus.hooks import EventHooks, session_info
from identity.errors import IdentityError
from identity.model import (
    IdentityConfig,
    IdentityType,
    mask_value,
    phone_hash,
)
from identity.resolve import Outcome, identify
from ledger.model import LedgerConfig
from sync.importer.member_rows import COLUMNS, MemberRow, identity_columns, parse_row
from sync.importer.member_writes import create_new_members, post_opening_balances
from sync.importer.staging import (
    CHUNK,
    Reject,
    Summary,
    copy_records,
    counted,
    parse_chunk,
    read_chunks,
    rejects_file,
)


@dataclass
class ImportSummary(Summary):
    rows_read: int = counted("rows read")
    created: int = counted("members created")
    matched: int = counted("members matched")
    linked: int = counted("identities linked to known members")
    merged: int = counted("members merged")
    rejected: int = counted("rejected")
    balances_posted: int = counted("opening balances posted")


async def import_members(
    engine: AsyncEngine,
    path: Path,
    *,
    rejects: Path,
    identity_config: IdentityConfig,
    ledger_config: LedgerConfig,
    bus: EventHooks,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK,
) -> ImportSummary:
    summary = ImportSummary()
    with rejects_file(rejects, COLUMNS, summary) as reject:
        async with engine.connect() as conn:
            await _staging(conn)
            for chunk in read_chunks(path, chunk_size):
                summary.rows_read += len(chunk)
                rows = parse_chunk(
                    chunk,
                    lambda row_no, raw: parse_row(row_no, raw, config=identity_config, now=now),
                    reject,
                )
                async with conn.begin():
                    await _apply(
                        conn, rows, summary, reject, identity_config, ledger_config, bus, now
                    )
                if progress is not None:
                    progress(summary.rows_read)
            # The connection goes back to the pool: leave no staging tables behind.
            async with conn.begin():
                await conn.execute(
                    text("DROP TABLE IF EXISTS import_rows, import_identities, import_new")
                )
    return summary


async def _staging(conn: AsyncConnection) -> None:
    async with conn.begin():
        await conn.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS import_rows"
                " (row_no int PRIMARY KEY, member_id bigint,"
                " status text NOT NULL DEFAULT 'NEW') ON COMMIT DELETE ROWS"
            )
        )
        await conn.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS import_identities"
                " (row_no int, type text, namespace text,"
                " value text, verified bool, masked text, phone_hash text, lock_key bigint)"
                " ON COMMIT DELETE ROWS"
            )
        )


async def _apply(
    conn: AsyncConnection,
    rows: list[MemberRow],
    summary: ImportSummary,
    reject: Reject,
    identity_config: IdentityConfig,
    ledger_config: LedgerConfig,
    bus: EventHooks,
    now: datetime,
) -> None:
    if not rows:
        return
    by_no = {r.row_no: r for r in rows}
    # SQLAlchemy begins lazily; COPY goes straight to the driver, so open the transaction
    # first (the staging tables empty themselves at each commit).
    await conn.execute(text("SELECT 1"))
    await copy_records(conn, "import_rows", [(r.row_no,) for r in rows], ["row_no"])
    await copy_records(
        conn,
        "import_identities",
        [
            (
                r.row_no,
                c.key.type.value,
                c.key.namespace,
                c.key.value,
                c.verified,
                mask_value(c.key.type, c.key.value),
                phone_hash(c.key.value, identity_config.phone_hash_salt)
                if c.key.type is IdentityType.PHONE
                else None,
                c.key.lock_key,
            )
            for r in rows
            for c in r.claims
        ],
        ["row_no", "type", "namespace", "value", "verified", "masked", "phone_hash", "lock_key"],
    )
    # The same locks identify takes, in the same order: live traffic and the import queue.
    await conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(k) FROM"
            " (SELECT DISTINCT lock_key AS k FROM import_identities ORDER BY 1) keys"
        )
    )
    await conn.execute(
        text(
            # Known on exactly one member, every identity of the row: nothing to do.
            # Two index-friendly lookups (IS NOT DISTINCT FROM cannot use the unique index).
            "WITH found AS (SELECT i.row_no, i.type, i.namespace, i.value, m.member_id"
            "  FROM import_identities i JOIN member_identities m ON m.type = i.type"
            "  AND m.namespace = i.namespace AND m.value = i.value"
            "  UNION ALL SELECT i.row_no, i.type, i.namespace, i.value, m.member_id"
            "  FROM import_identities i JOIN member_identities m ON m.type = i.type"
            "  AND m.namespace IS NULL AND m.value = i.value WHERE i.namespace IS NULL),"
            " owners AS (SELECT i.row_no, count(*) AS identities,"
            "  count(f.member_id) AS known, min(f.member_id) AS first, max(f.member_id) AS last"
            "  FROM import_identities i LEFT JOIN found f ON f.row_no = i.row_no"
            "  AND f.type = i.type AND f.namespace IS NOT DISTINCT FROM i.namespace"
            "  AND f.value = i.value GROUP BY i.row_no)"
            " UPDATE import_rows r SET status = CASE"
            "  WHEN o.known = 0 THEN 'NEW'"
            "  WHEN o.known = o.identities AND o.first = o.last THEN 'MATCHED'"
            "  ELSE 'ONE_BY_ONE' END, member_id = CASE WHEN o.known = o.identities"
            "  AND o.first = o.last THEN o.first END"
            " FROM owners o WHERE o.row_no = r.row_no"
        )
    )
    # A new row sharing an identity with an earlier row of the chunk waits its turn.
    await conn.execute(
        text(
            "UPDATE import_rows r SET status = 'ONE_BY_ONE' WHERE r.status = 'NEW' AND EXISTS ("
            " SELECT 1 FROM import_identities a JOIN import_identities b ON a.type = b.type"
            "  AND coalesce(a.namespace, '') = coalesce(b.namespace, '') AND a.value = b.value"
            "  AND b.row_no < a.row_no WHERE a.row_no = r.row_no)"
        )
    )
    created = await create_new_members(conn, by_no)
    summary.created += created
    summary.matched += int(
        await conn.scalar(text("SELECT count(*) FROM import_rows WHERE status = 'MATCHED'"))
    )
    session = AsyncSession(
        bind=conn, join_transaction_mode="create_savepoint", info=session_info(bus)
    )
    one_by_one = (
        (
            await conn.execute(
                text("SELECT row_no FROM import_rows WHERE status = 'ONE_BY_ONE' ORDER BY row_no")
            )
        )
        .scalars()
        .all()
    )
    for row_no in one_by_one:
        row = by_no[row_no]
        try:
            async with session.begin_nested():
                result = await identify(
                    session,
                    identities=row.identities,
                    channel=row.channel,
                    profile={
                        k: v for k, v in row.profile.items() if k != "gender" and v is not None
                    },
                    actor="import",
                    now=now,
                    config=identity_config,
                )
        except IdentityError as error:
            reject(row_no, row.raw, f"{identity_columns(row.raw)}: {error.code}: {error}")
            continue
        if result.outcome is Outcome.CONFLICT or result.member is None:
            reject(
                row_no,
                row.raw,
                f"{identity_columns(row.raw)}: IDENTITY_CONFLICT: the identities belong to "
                "different members",
            )
            continue
        summary.created += result.outcome is Outcome.CREATED
        summary.matched += result.outcome is Outcome.MATCHED
        summary.linked += result.outcome is Outcome.LINKED
        summary.merged += result.outcome is Outcome.MERGED
        await conn.execute(
            text("UPDATE import_rows SET member_id = :m, status = 'DONE' WHERE row_no = :r"),
            {"m": result.member.id, "r": row_no},
        )
    summary.balances_posted += await post_opening_balances(session, by_no, ledger_config, now)
    # Releases the session's savepoint into the chunk's transaction, which the caller commits.
    await session.commit()
    await session.close()
