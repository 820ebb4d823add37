"""Writing an import chunk's new members set-based, and carried-over balances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ledger.model import Bucket, EntryKind, EntryRequest, LedgerConfig
from ledger.model import Channel as LedgerChannel
from ledger.posting import open_accounts, post_entries
from sync.importer.member_rows import MemberRow
from sync.importer.staging import copy_records

OPENING = "opening balance"


async def create_new_members(conn: AsyncConnection, by_no: dict[int, MemberRow]) -> int:
    new = (
        (
            await conn.execute(
                text("SELECT row_no FROM import_rows WHERE status = 'NEW' ORDER BY row_no")
            )
        )
        .scalars()
        .all()
    )
    if not new:
        return 0
    records = [
        (
            n,
            by_no[n].channel.value,
            by_no[n].profile["name"],
            by_no[n].profile["gender"],
            by_no[n].profile["birthday"],
            by_no[n].profile["region"],
            by_no[n].registered_at,
        )
        for n in new
    ]
    await conn.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS import_new (row_no int, channel text, name text,"
            " gender text, birthday date, region text, registered_at timestamptz)"
            " ON COMMIT DELETE ROWS"
        )
    )
    await copy_records(
        conn,
        "import_new",
        records,
        ["row_no", "channel", "name", "gender", "birthday", "region", "registered_at"],
    )
    await conn.execute(
        text(
            "WITH ids AS (SELECT row_no, nextval(pg_get_serial_sequence('members', 'id')) AS id"
            "  FROM import_new),"
            " made AS (INSERT INTO members (id, registered_channel, name, gender, birthday,"
            "  region, created_at, updated_at) OVERRIDING SYSTEM VALUE"
            "  SELECT ids.id, n.channel, n.name, n.gender, n.birthday, n.region,"
            "  n.registered_at, n.registered_at FROM ids JOIN import_new n USING (row_no)"
            "  RETURNING id)"
            " UPDATE import_rows r SET member_id = ids.id FROM ids WHERE r.row_no = ids.row_no"
        )
    )
    await conn.execute(
        text(
            "WITH linked AS (INSERT INTO member_identities (member_id, type, namespace, value,"
            "  verified, channel, linked_at, last_seen_at)"
            "  SELECT r.member_id, i.type, i.namespace, i.value, i.verified, n.channel,"
            "  n.registered_at, n.registered_at FROM import_identities i"
            "  JOIN import_rows r USING (row_no) JOIN import_new n USING (row_no)"
            "  RETURNING id, member_id, type, namespace, value, verified, channel)"
            " INSERT INTO outbox_events (event_id, event_type, version, member_id, payload,"
            "  occurred_at)"
            " SELECT gen_random_uuid(), 'identity.linked', 1, l.member_id, jsonb_build_object("
            "  'member_id', l.member_id, 'identity_type', l.type, 'namespace', l.namespace,"
            "  'masked_value', i.masked, 'verified', l.verified, 'channel', l.channel,"
            "  'phone_hash', i.phone_hash, 'identity_id', l.id), now()"
            " FROM linked l JOIN import_rows r ON r.member_id = l.member_id"
            " JOIN import_identities i ON i.row_no = r.row_no AND i.type = l.type"
            "  AND i.namespace IS NOT DISTINCT FROM l.namespace AND i.value = l.value"
        )
    )
    await conn.execute(
        text(
            "INSERT INTO outbox_events (event_id, event_type, version, member_id, payload,"
            " occurred_at) SELECT gen_random_uuid(), 'member.created', 1, r.member_id,"
            " jsonb_build_object('member_id', r.member_id, 'channel', n.channel,"
            "  'referrer_id', NULL), now()"
            " FROM import_rows r JOIN import_new n USING (row_no)"
        )
    )
    made = await conn.execute(
        text("SELECT r.member_id FROM import_rows r JOIN import_new n USING (row_no)")
    )
    await open_accounts(conn, made.scalars().all())
    return len(new)


async def post_opening_balances(
    session: AsyncSession, by_no: dict[int, MemberRow], config: LedgerConfig, now: datetime
) -> int:
    """One ADJUST per member with a balance to carry that has no opening balance yet."""
    rows = (
        await session.execute(
            text(
                "SELECT DISTINCT ON (r.member_id) r.member_id, r.row_no FROM import_rows r"
                " WHERE r.member_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ledger_entries e"
                "  WHERE e.member_id = r.member_id AND e.kind = 'ADJUST'"
                "  AND e.reference = :opening)"
                " ORDER BY r.member_id, r.row_no"
            ),
            {"opening": OPENING},
        )
    ).all()
    requests = [
        EntryRequest(
            member_id=row.member_id,
            kind=EntryKind.ADJUST,
            bucket=Bucket.AVAILABLE,
            amount=by_no[row.row_no].points,
            channel=LedgerChannel.ADMIN,
            reference=OPENING,
            reason="balance carried over from the previous system",
        )
        for row in rows
        if by_no[row.row_no].points > 0
    ]
    if requests:
        await post_entries(
            session=session,
            requests=requests,
            now=now,
            config=config,
            operation="import",
            require_active=False,
        )
    return len(requests)
