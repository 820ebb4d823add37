"""POS ingest benchmark: ``recordPurchases`` against plain multi-row INSERTs, by buyer shape.

    python -m bench.ingest [--members 10000] [--history 24] [--batches 20] [--batch-size 100]
                           [--senders 4] [--workers 1] [--shapes id,phone,card,mix,new,coupon]

A batch names its buyers the way a channel does, one shape at a time: by the hub's member
IDs (``id``), by the phone numbers of known members (``phone``), by their member cards
(``card``), 90% known phones and 10% first-time buyers (``mix``), or first-time buyers only
(``new``, each enrolled with its sign-up bonus); ``coupon`` by member ID, each purchase
redeeming one of its buyer's coupons (10 yuan off), so its ratio to ``id`` is what coupons
cost at the till. Each shape's purchases/s is reported beside the others and the floor's.

The hub (``memberhub serve``, a child process) gets batches of purchases from a till, every
anti-fraud rule on, each purchase priced, stored with its items and its points posted
through the ledger. The floor inserts the same purchases, items and one ledger entry per
purchase with multi-row INSERTs, one transaction per batch, over asyncpg (no checks, no
hash chain, no balances). Both run from this process with ``--senders`` batches in flight,
on one database, alternately, three times; the medians are reported. Also times one batch
of 500 on its own (the figure of an offline till catching up).

The database starts as one in service would: every member has ``--history`` purchases
over the past year, tiers reviewed on them, and those tables vacuumed and analysed. (On
empty, never-analysed tables the planner's first plans went stale as the runs filled them,
and the hub slowed down from run to run.)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from random import Random

import asyncpg
import httpx
from sqlalchemy import text

from bench.harness import NO_LIMIT, fresh_database, hub_server, postmaster, tree_cpu_seconds
from hub.clients import create_client
from hub.db.engine import create_engine, create_session_factory
from hub.http.principal import ClientKind
from hub.ids import encode_id
from hub.wiring import build_event_bus
from ledger.benefits.issuing import issue_coupons
from ledger.benefits.model import CouponKind, TemplateSpec
from ledger.benefits.templates import define_template
from ledger.posting import open_accounts
from sync.tiers import TierProgramme, review_tiers

DATABASE = "memberhub_bench_ingest"
STORE = "S001"
RECORD_BATCH = (
    "mutation Batch($inputs: [PurchaseInput!]!) { recordPurchases(inputs: $inputs) {"
    " pointsEarned userErrors { code } } }"
)


async def prepare(url: str, members: int, history: int = 24) -> tuple[str, list[int]]:
    engine = create_engine(url, pool_size=2, max_overflow=0)
    sessions = create_session_factory(engine, build_event_bus())
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            await session.execute(
                text(
                    "INSERT INTO members (registered_channel, created_at, updated_at)"
                    " SELECT 'POS', :at, :at FROM generate_series(1, :n)"
                ),
                {"at": now - timedelta(days=400), "n": members},
            )
            await session.execute(
                text("INSERT INTO stores (id, city, created_at) VALUES (:s, 'Shanghai', :at)"),
                {"s": STORE, "at": now},
            )
            _, key = await create_client(session, name="till", kind=ClientKind.POS, store_id=STORE)
            ids = list((await session.scalars(text("SELECT id FROM members ORDER BY id"))).all())
            # As enrolment does (``ledger.subscriptions``).
            await open_accounts(session, ids)
            # Every member holds a phone and a member card, as a till would know them.
            await session.execute(
                text(
                    "INSERT INTO member_identities (member_id, type, namespace, value, verified,"
                    " channel, linked_at, last_seen_at)"
                    " SELECT m.id, k.type, k.namespace, k.value, k.verified, 'POS', t.at, t.at"
                    " FROM members m, LATERAL (VALUES"
                    "  ('PHONE', NULL, '+86139' || lpad(m.id::text, 8, '0'), true),"
                    "  ('POS_CARD', CAST(:chain AS text), 'C' || m.id, false))"
                    "  AS k(type, namespace, value, verified),"
                    " (SELECT CAST(:at AS timestamptz) AS at) AS t"
                ),
                {"at": now - timedelta(days=400), "chain": CHAIN},
            )
            await session.execute(
                text(
                    "INSERT INTO purchases (member_id, store_id, receipt_no, channel, amount,"
                    " occurred_at, recorded_at, points_earned, status, content_hash,"
                    " rule_version, business_day)"
                    " SELECT id, :s, 'past-' || id || '-' || n, 'POS', a, o, o, (a / 10)::int,"
                    " 'COMPLETED', '\\x00', 'past', o::date FROM (SELECT m.id, n,"
                    "  round((20 + random() * 180)::numeric, 2) AS a, CAST(:at AS timestamptz)"
                    "  - interval '1 day' - random() * interval '364 days' AS o"
                    "  FROM members m, generate_series(1, :history) AS n) AS p"
                ),
                {"s": STORE, "at": now, "history": history},
            )
            await session.execute(
                text(
                    "INSERT INTO purchase_items (purchase_id, line_no, member_id, sku, category,"
                    " quantity, unit_price)"
                    " SELECT id, 1, member_id, 'SKU-1', 'tea', 1, amount FROM purchases"
                )
            )
            await review_tiers(session, now=now, programme=TierProgramme())
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            # Only the tables the history filled: one analysed empty (the fraud reviews, say)
            # keeps plans for an empty table, and its foreign-key checks scan it as it fills.
            await connection.execute(
                text(
                    "VACUUM ANALYZE members, points_accounts, points_balances, purchases,"
                    " purchase_items, member_tiers"
                )
            )
        return key, ids
    finally:
        await engine.dispose()


#: The namespace of the chain's member cards.
CHAIN = "chain"
SHAPES = {
    "id": "member IDs",
    "phone": "phones of known members",
    "card": "member cards",
    "mix": "90% known phones, 10% new",
    "new": "first-time buyers only",
    "coupon": "member IDs, one coupon each",
}
_first_timers = iter(range(10**7))


#: Unused coupons, (member ID, code), for the ``coupon`` shape; each purchase takes one.
_coupons: list[tuple[int, str]] = []


async def issue_coupons_to_all(url: str, now: datetime, *, needed: int) -> None:
    """10-yuan-off coupons to every member, as a win-back campaign would issue them: as
    many campaigns (one coupon a member each) as ``needed`` coupons take."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with create_session_factory(engine, build_event_bus()).begin() as session:
            members = list((await session.scalars(text("SELECT id FROM members"))).all())
            for campaign in range(-(-needed // len(members))):
                template = await define_template(
                    session=session,
                    spec=replace(COUPON, code=f"{COUPON.code}-{campaign}"),
                    actor="bench",
                    now=now,
                )
                await issue_coupons(
                    session=session,
                    template_id=template.id,
                    member_ids=members,
                    segment_id=None,
                    reason="bench",
                    key_scope="client:bench",
                    key=f"bench-{campaign}",
                    actor="bench",
                    now=now - timedelta(days=1),
                )
            rows = await session.execute(text("SELECT member_id, code FROM coupons ORDER BY id"))
            _coupons.extend((row.member_id, row.code) for row in rows)
        Random(5).shuffle(_coupons)
    finally:
        await engine.dispose()


COUPON = TemplateSpec(
    code="BENCH-10",
    name="10 off",
    kind=CouponKind.CASH_OFF,
    value=Decimal("10"),
    min_spend=None,
    categories=(),
    channels=(),
    store_ids=(),
    valid_days=30,
    valid_from=None,
    valid_until=None,
    stock=None,
    per_member_limit=1,
    points_price=None,
)


def _buyer(shape: str, member_id: int, rng: Random) -> dict:
    """How a batch of ``shape`` names the buyer ``member_id`` (or a first-time buyer)."""
    if shape == "new" or (shape == "mix" and rng.random() < 0.1):
        number = f"137{next(_first_timers):08d}"
        return {"identities": [{"type": "PHONE", "value": number, "verified": True}]}
    if shape in ("phone", "mix"):
        number = f"139{member_id:08d}"
        return {"identities": [{"type": "PHONE", "value": number, "verified": True}]}
    if shape == "card":
        return {"identities": [{"type": "POS_CARD", "namespace": CHAIN, "value": f"C{member_id}"}]}
    return {"memberId": encode_id("Member", member_id)}


def purchases(
    tag: str, count: int, member_ids: list[int], rng: Random, shape: str = "id"
) -> list[dict]:
    now = datetime.now(UTC)
    made = []
    for n in range(count):
        amount = Decimal(str(round(rng.lognormvariate(5.0, 0.8), 2)))
        member_id = rng.choice(member_ids)
        coupon: dict = {}
        if shape == "coupon":
            member_id, code = _coupons.pop()
            coupon = {"couponCodes": [code]}
        made.append(
            {
                "storeId": STORE,
                "receiptNo": f"{tag}-{n}",
                "channel": "POS",
                "occurredAt": (now - timedelta(minutes=rng.randint(1, 600))).isoformat(),
                "amount": str(amount),
                **_buyer(shape, member_id, rng),
                **coupon,
                "floorMember": member_id,
                "items": [
                    {
                        "sku": f"SKU-{rng.randint(1, 300)}",
                        "category": "tea",
                        "quantity": 1,
                        "unitPrice": str(amount),
                    }
                ],
            }
        )
    return made


async def send_hub(url: str, key: str, batches: list[list[dict]], senders: int) -> float:
    queue: asyncio.Queue[list[dict]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    errors = 0

    async def send(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            batch = [{k: v for k, v in p.items() if k != "floorMember"} for p in queue.get_nowait()]
            response = await client.post(
                "/graphql", json={"query": RECORD_BATCH, "variables": {"inputs": batch}}
            )
            answers = response.json()["data"]["recordPurchases"]
            errors += sum(1 for a in answers if a["userErrors"])

    async with httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=600,
        # Each batch on a connection of its own, as a till syncing now and then opens one:
        # with --workers the kernel spreads connections, not requests, and four kept alive
        # landed 3:1 or 4:0 on two processes in most runs.
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(send(client) for _ in range(senders)))
        elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{errors} purchases were refused")
    return sum(len(b) for b in batches) / elapsed


async def send_floor(dsn: str, batches: list[list[dict]], senders: int) -> float:
    pool = await asyncpg.create_pool(dsn, min_size=senders, max_size=senders)
    queue: asyncio.Queue[list[dict]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def insert(batch: list[dict]) -> None:
        members = [p["floorMember"] for p in batch]
        amounts = [Decimal(p["amount"]) for p in batch]
        at = [datetime.fromisoformat(p["occurredAt"]) for p in batch]
        async with pool.acquire() as conn, conn.transaction():
            ids = await conn.fetch(
                "INSERT INTO purchases (member_id, store_id, receipt_no, channel, amount,"
                " occurred_at, recorded_at, points_earned, status, content_hash, rule_version,"
                " business_day)"
                " SELECT m, $1, r, 'POS', a, o, now(), (a / 10)::int, 'COMPLETED', $2, 'bench',"
                " o::date FROM unnest($3::bigint[], $4::text[], $5::numeric[],"
                " $6::timestamptz[]) AS t(m, r, a, o) RETURNING id, member_id, points_earned",
                STORE,
                hashlib.sha256(b"x").digest(),
                members,
                [f"F-{p['receiptNo']}" for p in batch],
                amounts,
                at,
            )
            await conn.execute(
                "INSERT INTO purchase_items (purchase_id, line_no, member_id, sku, category,"
                " quantity, unit_price) SELECT i, 1, m, 'SKU', 'tea', 1, a"
                " FROM unnest($1::bigint[], $2::bigint[], $3::numeric[]) AS t(i, m, a)",
                [r["id"] for r in ids],
                [r["member_id"] for r in ids],
                amounts,
            )
            await conn.execute(
                "INSERT INTO ledger_entries (member_id, seq, kind, bucket, amount,"
                " balance_after, channel, store_id, reference, available_at, created_at,"
                " prev_hash, hash) SELECT m, 1000000 + i, 'EARN', 'PENDING', p, p, 'POS', $1,"
                " 'bench', now(), now(), $2, $2"
                " FROM unnest($3::bigint[], $4::bigint[], $5::int[]) AS t(i, m, p) WHERE p > 0",
                STORE,
                hashlib.sha256(b"y").digest(),
                [r["id"] for r in ids],
                [r["member_id"] for r in ids],
                [r["points_earned"] for r in ids],
            )

    async def work() -> None:
        while not queue.empty():
            await insert(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(work() for _ in range(senders)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return sum(len(b) for b in batches) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=24, help="past purchases per member")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="hub processes")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="buyer shapes, in order")
    parser.add_argument("--database", default=DATABASE, help="scratch database (dropped first)")
    args = parser.parse_args()
    shapes = args.shapes.split(",")
    url = asyncio.run(fresh_database(args.database))
    key, member_ids = asyncio.run(prepare(url, args.members, args.history))
    if "coupon" in shapes:
        # The warm-up's batch and every run's.
        needed = args.batch_size * (1 + args.runs * args.batches)
        asyncio.run(issue_coupons_to_all(url, datetime.now(UTC), needed=needed))
    rng = Random(11)
    env = {"MEMBERHUB_RATE_LIMIT_OVERRIDES": json.dumps({"till": NO_LIMIT})}
    postgres = asyncio.run(postmaster(url))
    rates: dict[str, list[float]] = {shape: [] for shape in [*shapes, "floor"]}
    #: CPU ms a purchase of each shape (the hub's, PostgreSQL's) and of the floor, per run.
    hub_cpu: dict[str, dict[str, list[float]]] = {
        shape: {"hub": [], "PostgreSQL": []} for shape in shapes
    }
    floor_cpu: dict[str, list[float]] = {"sender": [], "PostgreSQL": []}
    with hub_server(url, workers=args.workers, env=env) as hub:
        for shape in shapes:
            warm = [purchases(f"warm-{shape}", args.batch_size, member_ids, rng, shape)]
            asyncio.run(send_hub(hub.url, key, warm, 1))
        single = purchases("single", 500, member_ids, rng)
        single_rate = asyncio.run(send_hub(hub.url, key, [single], 1))
        for run in range(args.runs):
            for shape in shapes:
                batches = [
                    purchases(f"{shape}{run}-{b}", args.batch_size, member_ids, rng, shape)
                    for b in range(args.batches)
                ]
                count = sum(len(b) for b in batches)
                before = hub.cpu_tree_seconds(), tree_cpu_seconds(postgres)
                rates[shape].append(asyncio.run(send_hub(hub.url, key, batches, args.senders)))
                hub_cpu[shape]["hub"].append((hub.cpu_tree_seconds() - before[0]) / count * 1e3)
                hub_cpu[shape]["PostgreSQL"].append(
                    (tree_cpu_seconds(postgres) - before[1]) / count * 1e3
                )
            before = time.process_time(), tree_cpu_seconds(postgres)
            rates["floor"].append(asyncio.run(send_floor(url, batches, args.senders)))
            floor_cpu["sender"].append((time.process_time() - before[0]) / count * 1e3)
            floor_cpu["PostgreSQL"].append((tree_cpu_seconds(postgres) - before[1]) / count * 1e3)
    median = {shape: statistics.median(r) for shape, r in rates.items()}
    print(
        f"{args.members} members, {args.batches} batches of {args.batch_size} a shape,"
        f" {args.senders} in flight, {args.workers} hub worker(s), {args.runs} run(s), medians"
    )
    print(f"{'buyers named by':32} {'purchases/s':>12} {'of by-ID':>9} {'of floor':>9}  runs")
    for shape in [*shapes, "floor"]:
        name = SHAPES.get(shape, "plain multi-row INSERTs")
        of_id = f"{median[shape] / median['id']:.0%}" if "id" in median else "-"
        runs = ", ".join(f"{r:.0f}" for r in rates[shape])
        print(
            f"{name:32} {median[shape]:12.0f} {of_id:>9}"
            f" {median[shape] / median['floor']:9.0%}  ({runs})"
        )
    print(
        f"one batch of 500 by ID alone: {single_rate:.0f} purchases/s ({500 / single_rate:.1f} s)"
    )
    for name, cpu in [
        *((f"hub, {shape}", hub_cpu[shape]) for shape in shapes),
        ("floor", floor_cpu),
    ]:
        parts = ", ".join(f"{part} {statistics.median(ms):.3f}" for part, ms in cpu.items() if ms)
        print(f"CPU ms a purchase, {name}: {parts}")
    # What 30% of the floor leaves each purchase, with every core of this machine busy.
    budget = os.cpu_count() * 1e3 / (0.3 * median["floor"])  # type: ignore[operator]
    print(f"30% of the floor on {os.cpu_count()} cores allows {budget:.3f} CPU ms a purchase")


if __name__ == "__main__":
    main()
