"""Importing members from another system: good, repeated, merging and malformed rows."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import text

from hub.api.member_inputs import identity_config
from hub.ids import decode_int_id
from hub.wiring import build_event_bus, ledger_config
from ledger.verify import verify_ledger
from sync.importer.members import COLUMNS, import_members
from tests.conftest import START
from tests.hub.api.members_graphql import created_member, openid, phone

ROWS = [
    # good: a till member with a card and a verified phone, and a balance
    {
        "phone": "138 0013 8000",
        "phone_verified": "true",
        "pos_system": "legacy",
        "pos_card": "C-1",
        "name": "Li Wei",
        "gender": "female",
        "birthday": "1990-04-01",
        "registered_at": "2024-03-01T10:00:00+08:00",
        "points_balance": "1200",
    },
    # good: a mini-program member
    {
        "wechat_app_id": "wx-old",
        "wechat_openid": "o-1",
        "registered_channel": "MINI_PROGRAM",
        "points_balance": "300",
    },
    # the first row again, its phone spelled another way: the same member, no second balance
    {
        "phone": "+86 138-0013-8000",
        "phone_verified": "true",
        "pos_system": "legacy",
        "pos_card": "C-1",
        "points_balance": "1200",
    },
    # ties two members the hub already has (a verified phone, an OpenID): they merge
    {
        "phone": "13900139000",
        "phone_verified": "true",
        "wechat_app_id": "wx-app-1",
        "wechat_openid": "o-existing",
        "points_balance": "50",
    },
    # malformed
    {"phone": "12", "points_balance": "10"},
    {"name": "nobody at all"},
    {"email": "x@example.com", "registered_at": "last tuesday"},
    {"pos_card": "C-9"},
    # good: nothing to carry over, yet an account like any enrolled member
    {"wechat_app_id": "wx-old", "wechat_openid": "o-2", "registered_channel": "MINI_PROGRAM"},
]


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


async def counts(run_in_transaction) -> dict[str, int]:  # type: ignore[no-untyped-def]
    row = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT (SELECT count(*) FROM members) AS members,"
                " (SELECT count(*) FROM members WHERE status = 'MERGED') AS merged,"
                " (SELECT count(*) FROM member_identities) AS identities,"
                " (SELECT count(*) FROM ledger_entries) AS entries,"
                " (SELECT count(*) FROM outbox_events) AS events"
            )
        )
    )
    return dict(row.one()._mapping)


async def test_an_import_applies_good_rows_merges_ties_rejects_the_rest_and_reruns_as_a_no_op(
    admin, engine, settings, clock, tmp_path, run_in_transaction
):
    older = await created_member(admin, "POS", phone("13900139000"))
    newer = await created_member(admin, "MINI_PROGRAM", openid("o-existing"))
    file = write(tmp_path / "members.csv", ROWS)
    bus = build_event_bus(settings, clock)

    async def run(rejects: Path):  # type: ignore[no-untyped-def]
        return await import_members(
            engine,
            file,
            rejects=rejects,
            identity_config=identity_config(settings),
            ledger_config=ledger_config(settings),
            bus=bus,
            now=START,
            chunk_size=3,
        )

    first = await run(tmp_path / "rejects-1.csv")
    after_first = await counts(run_in_transaction)
    second = await run(tmp_path / "rejects-2.csv")

    assert (first.rows_read, first.created, first.merged, first.rejected) == (9, 3, 1, 4)
    assert first.matched == 1 and first.balances_posted == 3
    with (tmp_path / "rejects-1.csv").open() as handle:
        rejected = list(csv.DictReader(handle))
    assert [r["line"] for r in rejected] == ["6", "7", "8", "9"]
    assert "not a phone number" in rejected[0]["reason"] or "valid" in rejected[0]["reason"]
    assert "no identity" in rejected[1]["reason"]
    assert "namespace" in rejected[3]["reason"]
    # Each reason starts with the column at fault.
    assert [r["reason"].split(":")[0] for r in rejected] == [
        "phone",
        "phone, wechat_openid, wechat_unionid, pos_card, email",
        "registered_at",
        "pos_system",
    ]
    status = await run_in_transaction(
        lambda s: s.execute(
            text("SELECT id, status FROM members WHERE id IN (:a, :b) ORDER BY id"),
            {"a": decode_int_id(older["id"], "Member"), "b": decode_int_id(newer["id"], "Member")},
        )
    )
    assert [r.status for r in status] == ["ACTIVE", "MERGED"]
    assert (second.created, second.merged, second.balances_posted) == (0, 0, 0)
    assert second.matched == 5 and second.rejected == 4
    assert await counts(run_in_transaction) == after_first
    report = await run_in_transaction(lambda s: verify_ledger(session=s))
    assert report.ok, report.summary()
    balances = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT i.value, b.balance FROM member_identities i JOIN points_balances b"
                " ON b.member_id = i.member_id AND b.bucket = 'AVAILABLE'"
                " WHERE i.type IN ('POS_CARD', 'WECHAT_OPENID') ORDER BY i.value"
            )
        )
    )
    assert dict(balances.all()) == {"C-1": 1200, "o-1": 300, "o-2": 0, "o-existing": 150}
