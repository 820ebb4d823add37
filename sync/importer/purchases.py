"""``memberhub import purchases FILE.csv``: historical purchases from another system.

Streamed a chunk at a time like the member import. Each chunk: the buyers are found by
their identity (or not: the purchase is kept for analytics without a member), the rows are
COPYed into a staging table and inserted with one statement that skips receipts the hub
already has ((store, receipt) is unique, so a re-run inserts nothing), one more inserts
their item lines and one writes their ``purchase.recorded`` events. With
``--award-points`` each newly inserted purchase earns by the current earning rules (at the
base multiplier: the history predates the hub's tiers) as AVAILABLE points that expire
12 months after the purchase (a lapsed lot expires with the next expiry run), posted
through the posting path, all of a chunk in one call. Historical points are not judged by
the anti-fraud rules, which are for live earning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bus.hooks import EventHooks, session_info
from identity.errors import IdentityError
from identity.model import Channel, IdentityConfig, IdentityType, RawIdentity, normalise
from ledger.earning import EarningRules
from ledger.model import Bucket, EntryKind, EntryRequest, LedgerConfig, add_months, business_day
from ledger.model import Channel as LedgerChannel
from ledger.posting import post_entries
from ledger.promotion_rules import PricedLine, PurchaseFacts, RuleSet, TierRule
from ledger.rule_store import current_rules
from sync.importer.staging import (
    CHUNK,
    RowError,
    Summary,
    check_row_shape,
    column,
    copy_records,
    counted,
    parse_chunk,
    read_chunks,
    rejects_file,
)
from sync.purchases.pricing import (
    PricedPurchase,
    kept_on_row,
    priced_purchase,
    store_breakdowns,
)
from sync.purchases.requests import Item, PurchaseRequest, content_hash

COLUMNS = (
    "store_id",
    "receipt_no",
    "channel",
    "occurred_at",
    "amount",
    "phone",
    "pos_system",
    "pos_card",
    "sku",
    "category",
    "quantity",
    "unit_price",
)


@dataclass
class PurchaseImportSummary(Summary):
    rows_read: int = counted("rows read")
    inserted: int = counted("purchases inserted")
    already_there: int = counted("already imported (skipped)")
    without_member: int = counted("without a known member")
    rejected: int = counted("rejected")
    points_awarded: int = counted("points awarded")


@dataclass
class _Purchase:
    row_no: int
    request: PurchaseRequest
    identity: Any | None


def parse_purchase(row_no: int, raw: dict[str, str], *, config: IdentityConfig) -> _Purchase:
    """One CSV row, checked; RowError names the column at fault and what is wrong."""
    check_row_shape(raw)  # type: ignore[arg-type]
    get = lambda name: (raw.get(name) or "").strip()  # noqa: E731
    for required in ("store_id", "receipt_no"):
        if not get(required):
            raise RowError(required, "is required")
    occurred_at = column(raw, "occurred_at", datetime.fromisoformat)
    if occurred_at.tzinfo is None:
        raise RowError("occurred_at", "needs a time zone offset")
    amount = column(raw, "amount", Decimal)
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise RowError("amount", "must be >= 0 with at most 2 decimals")
    items: tuple[Item, ...] = ()
    if get("sku"):
        items = (
            Item(
                sku=get("sku"),
                quantity=column(raw, "quantity", lambda v: int(v or "1")),
                unit_price=column(raw, "unit_price", lambda v: Decimal(v or get("amount"))),
                category=get("category") or None,
            ),
        )
    channel = column(raw, "channel", lambda v: Channel(v or "POS"))
    identity = None
    try:
        if get("phone"):
            identity = normalise(
                RawIdentity(IdentityType.PHONE, get("phone")), region=config.phone_region
            )
        elif get("pos_card"):
            identity = normalise(
                RawIdentity(IdentityType.POS_CARD, get("pos_card"), get("pos_system") or None),
                region=config.phone_region,
            )
    except IdentityError as error:
        at = "phone" if get("phone") else "pos_card"
        if error.field == ("namespace",):
            at = "pos_system"
        raise RowError(at, str(error)) from None
    request = PurchaseRequest(
        store_id=get("store_id"),
        receipt_no=get("receipt_no"),
        channel=channel,
        occurred_at=occurred_at,
        amount=amount,
        items=items,
    )
    return _Purchase(row_no, request, identity)


async def import_purchases(
    engine: AsyncEngine,
    path: Path,
    *,
    rejects: Path,
    identity_config: IdentityConfig,
    ledger_config: LedgerConfig,
    earning: EarningRules,
    award_points: bool,
    bus: EventHooks,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK,
) -> PurchaseImportSummary:
    summary = PurchaseImportSummary()
    with rejects_file(rejects, COLUMNS, summary) as reject:
        async with engine.connect() as conn:
            for chunk in read_chunks(path, chunk_size):
                summary.rows_read += len(chunk)
                parsed = parse_chunk(
                    chunk,
                    lambda row_no, raw: parse_purchase(row_no, raw, config=identity_config),
                    reject,
                )
                async with conn.begin():
                    await _apply(
                        conn, parsed, summary, ledger_config, earning, award_points, bus, now
                    )
                if progress is not None:
                    progress(summary.rows_read)
            async with conn.begin():
                await conn.execute(text("DROP TABLE IF EXISTS import_purchases"))
    return summary


async def _buyers(conn: AsyncConnection, rows: list[_Purchase]) -> dict[int, int]:
    keyed = [(r.row_no, r.identity) for r in rows if r.identity is not None]
    if not keyed:
        return {}
    # Two index-friendly joins: equality never matches a NULL namespace, and
    # IS NOT DISTINCT FROM cannot use the unique index on (type, namespace, value).
    found = await conn.execute(
        text(
            "WITH k AS (SELECT * FROM unnest(CAST(:rows AS int[]), CAST(:types AS text[]),"
            "  CAST(:namespaces AS text[]), CAST(:values AS text[]))"
            "  AS k(row_no, type, namespace, value))"
            " SELECT k.row_no, m.member_id FROM k JOIN member_identities m"
            "  ON m.type = k.type AND m.namespace = k.namespace AND m.value = k.value"
            " UNION ALL"
            " SELECT k.row_no, m.member_id FROM k JOIN member_identities m"
            "  ON m.type = k.type AND m.namespace IS NULL AND m.value = k.value"
            " WHERE k.namespace IS NULL"
        ),
        {
            "rows": [n for n, _ in keyed],
            "types": [k.type.value for _, k in keyed],
            "namespaces": [k.namespace for _, k in keyed],
            "values": [k.value for _, k in keyed],
        },
    )
    return {row.row_no: row.member_id for row in found}


async def _import_rules(
    conn: AsyncConnection, earning: EarningRules, *, since: datetime
) -> tuple[RuleSet, str]:
    """The stored rules an import prices by, at the lowest tier without its multiplier
    (history has no tier to price by)."""
    stored = await current_rules(
        conn.execute,
        defaults=RuleSet(earning.points_per_100, (TierRule("-", "-", Decimal(0), Decimal(1)),)),
        since=since,
    )
    lowest = stored.rules.tiers[0]
    flat = TierRule(lowest.code, lowest.name, Decimal(0), Decimal(1))
    return replace(stored.rules, tiers=(flat,)), f"{earning.version}.{stored.version}"


def _imported_points(
    rules: RuleSet, version: str, req: PurchaseRequest, config: LedgerConfig
) -> PricedPurchase:
    """A history row priced as the till prices: conditions on the buyer (birthday,
    segment, tier, purchase number) do not hold for an imported row."""
    return priced_purchase(
        rules,
        PurchaseFacts(
            amount=req.amount,
            occurred_at=req.occurred_at.astimezone(config.zone),
            channel=req.channel.value,
            store_id=req.store_id,
            lines=[PricedLine(i.sku, i.category, i.unit_price * i.quantity) for i in req.items],
            purchase_number=0,
        ),
        version,
    )


async def _apply(
    conn: AsyncConnection,
    rows: list[_Purchase],
    summary: PurchaseImportSummary,
    ledger_config: LedgerConfig,
    earning: EarningRules,
    award_points: bool,
    bus: EventHooks,
    now: datetime,
) -> None:
    if not rows:
        return
    await conn.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS import_purchases (row_no int, member_id bigint,"
            " store_id text, receipt_no text, channel text, occurred_at timestamptz,"
            " amount numeric(14, 2), content_hash bytea, business_day date, points int,"
            " promoted bool, base_points int, tier_points int, sku text, category text,"
            " quantity int, unit_price numeric(14, 2))"
            " ON COMMIT DELETE ROWS"
        )
    )
    buyers = await _buyers(conn, rows)
    rules, version = await _import_rules(
        conn, earning, since=min(r.request.occurred_at for r in rows)
    )
    records = []
    breakdowns: dict[tuple[str, str], PricedPurchase] = {}
    for r in rows:
        req, member_id = r.request, buyers.get(r.row_no)
        summary.without_member += member_id is None
        priced = _imported_points(rules, version, req, ledger_config)
        breakdowns.setdefault((req.store_id, req.receipt_no), priced)
        item = req.items[0] if req.items else None
        points = priced.points if member_id is not None and award_points else 0
        # Only a purchase that earns keeps its breakdown, as ``store_breakdowns`` below.
        base_points, tier_points = kept_on_row(priced) if points > 0 else (None, None)
        records.append(
            (
                r.row_no,
                member_id,
                req.store_id,
                req.receipt_no,
                req.channel.value,
                req.occurred_at,
                req.amount,
                content_hash(req, member_id),
                business_day(req.occurred_at, ledger_config.zone),
                points,
                priced.has_promotion,
                base_points,
                tier_points,
                item.sku if item else None,
                item.category if item else None,
                item.quantity if item else None,
                item.unit_price if item else None,
            )
        )
    await copy_records(
        conn,
        "import_purchases",
        records,
        [
            "row_no",
            "member_id",
            "store_id",
            "receipt_no",
            "channel",
            "occurred_at",
            "amount",
            "content_hash",
            "business_day",
            "points",
            "promoted",
            "base_points",
            "tier_points",
            "sku",
            "category",
            "quantity",
            "unit_price",
        ],
    )
    await conn.execute(
        text(
            "INSERT INTO stores (id, created_at)"
            " SELECT DISTINCT store_id, CAST(:now AS timestamptz)"
            " FROM import_purchases ON CONFLICT (id) DO NOTHING"
        ),
        {"now": now},
    )
    inserted = (
        await conn.execute(
            text(
                "WITH made AS (INSERT INTO purchases (member_id, store_id, receipt_no, channel,"
                "  amount, occurred_at, recorded_at, points_earned, status, has_promotion,"
                "  content_hash, rule_version, business_day, base_points, tier_points)"
                "  SELECT member_id, store_id, receipt_no, channel, amount, occurred_at,"
                "  CAST(:now AS timestamptz), points, 'COMPLETED', promoted, content_hash,"
                "  :rule, business_day, base_points, tier_points"
                "  FROM import_purchases ORDER BY row_no"
                "  ON CONFLICT (store_id, receipt_no) DO NOTHING"
                "  RETURNING id, member_id, store_id, receipt_no, channel, amount, occurred_at,"
                "  points_earned),"
                " items AS (INSERT INTO purchase_items (purchase_id, line_no, member_id, sku,"
                "  category, quantity, unit_price)"
                "  SELECT m.id, 1, m.member_id, s.sku, s.category, s.quantity, s.unit_price"
                "  FROM made m JOIN (SELECT DISTINCT ON (store_id, receipt_no) * FROM"
                "   import_purchases ORDER BY store_id, receipt_no, row_no) s"
                "  USING (store_id, receipt_no)"
                "  WHERE s.sku IS NOT NULL),"
                " events AS (INSERT INTO outbox_events (event_id, event_type, version,"
                "  member_id, payload, occurred_at)"
                "  SELECT gen_random_uuid(), 'purchase.recorded', 1, member_id,"
                "  jsonb_build_object('member_id', member_id, 'purchase_id', id, 'store_id',"
                "  store_id, 'receipt_no', receipt_no, 'channel', channel, 'amount',"
                "  amount::text, 'occurred_at', occurred_at, 'points_earned', points_earned,"
                "  'status', 'COMPLETED'), now() FROM made)"
                " SELECT id, member_id, store_id, receipt_no, occurred_at, points_earned"
                " FROM made"
            ),
            {"now": now, "rule": version},
        )
    ).all()
    summary.inserted += len(inserted)
    summary.already_there += len(rows) - len(inserted)
    awards = [
        EntryRequest(
            member_id=p.member_id,
            kind=EntryKind.EARN,
            bucket=Bucket.AVAILABLE,
            amount=p.points_earned,
            channel=LedgerChannel.ADMIN,
            store_id=p.store_id,
            reference=f"purchase {p.store_id}/{p.receipt_no}",
            reason="imported purchase",
            expires_at=add_months(p.occurred_at, ledger_config.expiry_months),
        )
        for p in inserted
        if p.member_id is not None and p.points_earned > 0
    ]
    if awards:
        session = AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", info=session_info(bus)
        )
        # The points' causes, as a purchase at the till keeps them (``pointsBreakdown``).
        await store_breakdowns(
            session,
            [
                (p.id, breakdowns[(p.store_id, p.receipt_no)])
                for p in inserted
                if p.member_id is not None and p.points_earned > 0
            ],
        )
        await post_entries(
            session=session,
            requests=awards,
            now=now,
            config=ledger_config,
            operation="import",
            require_active=False,
        )
        await session.commit()
        await session.close()
        summary.points_awarded += sum(a.amount for a in awards)
