"""Importing historical purchases: members found by identity, receipts once, points once."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from hub.api.member_inputs import identity_config
from hub.wiring import build_event_bus, ingest_config, ledger_config
from ledger.verify import verify_ledger
from sync.importer.purchases import COLUMNS, import_purchases
from tests.conftest import START
from tests.hub.api.members_graphql import card, created_member, phone
from tests.ledger.benefits.promotions_graphql import breakdown, define_promotion

AT = (START - timedelta(days=40)).isoformat()
ROWS = [
    {
        "store_id": "S1",
        "receipt_no": "H-1",
        "occurred_at": AT,
        "amount": "388.00",
        "phone": "138 0013 8000",
        "sku": "TEA-1",
        "category": "tea",
        "quantity": "2",
        "unit_price": "194.00",
    },
    {
        "store_id": "S1",
        "receipt_no": "H-2",
        "occurred_at": AT,
        "amount": "59.90",
        "pos_system": "pos-chain",
        "pos_card": "C-1",
    },
    {
        "store_id": "S1",
        "receipt_no": "H-2",
        "occurred_at": AT,
        "amount": "59.90",
        "pos_system": "pos-chain",
        "pos_card": "C-1",
    },
    {
        "store_id": "S2",
        "receipt_no": "H-3",
        "occurred_at": AT,
        "amount": "20.00",
        "phone": "13900000001",
    },
    {"store_id": "S2", "receipt_no": "H-4", "occurred_at": "yesterday", "amount": "1"},
    {"store_id": "", "receipt_no": "H-5", "occurred_at": AT, "amount": "1"},
    {"store_id": "S2", "receipt_no": "H-6", "occurred_at": AT, "amount": "-3"},
]


async def test_historical_purchases_import_once_with_their_points(
    admin, engine, settings, clock, tmp_path, run_in_transaction
):
    by_phone = await created_member(admin, "POS", phone("13800138000", verified=False))
    by_card = await created_member(admin, "POS", card("C-1"))
    file = tmp_path / "purchases.csv"
    with file.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(ROWS)
    bus = build_event_bus(settings, clock)

    async def run(rejects: Path):  # type: ignore[no-untyped-def]
        return await import_purchases(
            engine,
            file,
            rejects=rejects,
            identity_config=identity_config(settings),
            ledger_config=ledger_config(settings),
            earning=ingest_config(settings).earning,
            award_points=True,
            bus=bus,
            now=START,
            chunk_size=2,
        )

    first = await run(tmp_path / "r1.csv")
    second = await run(tmp_path / "r2.csv")

    assert (first.rows_read, first.inserted, first.already_there, first.rejected) == (7, 3, 1, 3)
    assert first.without_member == 1 and first.points_awarded == 38 + 5
    with (tmp_path / "r1.csv").open() as handle:
        reasons = [r["reason"] for r in csv.DictReader(handle)]
    assert [r.split(":")[0] for r in reasons] == ["occurred_at", "store_id", "amount"]
    assert (second.inserted, second.points_awarded, second.already_there) == (0, 0, 4)
    stored = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT p.receipt_no, p.member_id IS NOT NULL AS known, p.points_earned,"
                " (SELECT count(*) FROM purchase_items i WHERE i.purchase_id = p.id) AS items"
                " FROM purchases p ORDER BY receipt_no"
            )
        )
    )
    assert [tuple(r) for r in stored] == [
        ("H-1", True, 38, 1),
        ("H-2", True, 5, 0),
        ("H-3", False, 0, 0),
    ]
    with (tmp_path / "r1.csv").open() as handle:
        assert [r["line"] for r in csv.DictReader(handle)] == ["6", "7", "8"]
    report = await run_in_transaction(lambda s: verify_ledger(session=s))
    assert report.ok
    assert by_phone["id"] != by_card["id"]


async def test_imported_points_keep_their_causes_as_a_tills_purchase_does(
    admin, engine, settings, clock, tmp_path
):
    await created_member(admin, "POS", phone("13800138000", verified=False))
    await created_member(admin, "POS", card("C-1"))
    starts = (START - timedelta(days=60)).isoformat()
    tea = await define_promotion(admin, "tea x2", categories=["tea"], startsAt=starts)
    assert tea["userErrors"] == []
    file = tmp_path / "purchases.csv"
    with file.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(ROWS[:2])
    bus = build_event_bus(settings, clock)

    summary = await import_purchases(
        engine,
        file,
        rejects=tmp_path / "rejects.csv",
        identity_config=identity_config(settings),
        ledger_config=ledger_config(settings),
        earning=ingest_config(settings).earning,
        award_points=True,
        bus=bus,
        now=START,
    )

    assert summary.points_awarded == 76 + 5
    assert await breakdown(admin, "H-1", store="S1") == {
        "BASE": 38,
        "TIER": 0,
        "PROMOTION:tea x2": 38,
    }
    assert await breakdown(admin, "H-2", store="S1") == {"BASE": 5, "TIER": 0}
