"""A seeded random walk of 1,000 mixed operations: the ledger stays verifiable throughout."""

from __future__ import annotations

import random
import time
from datetime import timedelta

from sqlalchemy import text

from ledger.adjustment import adjust_points
from ledger.checkin import check_in
from ledger.expiry import expire_lots, settle_pending
from ledger.merges import move_points_on_merge, return_points_on_unmerge
from ledger.model import Bucket, Channel, EntryKind, EntryRequest
from ledger.posting import post_entries
from ledger.redemption import redeem_points
from ledger.verify import verify_ledger

OPERATIONS = 1_000

SUMS_DIFFER = """
SELECT b.member_id, b.bucket, b.balance, coalesce(e.total, 0) AS total
FROM points_balances b
LEFT JOIN (SELECT member_id, bucket, sum(amount) AS total FROM ledger_entries
           GROUP BY member_id, bucket) e USING (member_id, bucket)
WHERE b.balance <> coalesce(e.total, 0)
"""

LOTS_DIFFER = """
SELECT b.member_id, b.bucket FROM points_balances b
LEFT JOIN (SELECT member_id, bucket, sum(remaining) AS open FROM points_lots
           GROUP BY member_id, bucket) l USING (member_id, bucket)
WHERE b.bucket <> 'HELD' AND greatest(b.balance, 0) <> coalesce(l.open, 0)
"""


async def test_a_thousand_random_operations_keep_the_ledger_verifiable(
    members, run_in_transaction, clock, config
):
    rng = random.Random(20261121)
    ids = await members(6)
    merges: dict[int, tuple[int, int]] = {}
    next_merge = 1
    sent_keys: list[tuple[str, int, int]] = []
    outcomes: dict[str, int] = {}

    async def run(operation: str) -> None:
        nonlocal next_merge
        member_id = rng.choice(ids)
        now = clock.now()
        if operation == "earn":
            amount = rng.randint(1, 300)
            await run_in_transaction(
                lambda s: adjust_points(
                    session=s,
                    member_id=member_id,
                    points=amount,
                    reason="walk",
                    actor="walk",
                    key_scope="walk",
                    key=f"adjust-{rng.random()}",
                    now=now,
                    config=config,
                )
            )
        elif operation == "redeem":
            if sent_keys and rng.random() < 0.2:
                key, member_id, amount = rng.choice(sent_keys)  # a retry
            else:
                key, amount = f"redeem-{len(sent_keys)}", rng.randint(1, 250)
                sent_keys.append((key, member_id, amount))
            result = await run_in_transaction(
                lambda s: redeem_points(
                    session=s,
                    member_id=member_id,
                    points=amount,
                    channel=Channel.POS,
                    store_id="S001",
                    reason="walk",
                    key_scope="walk",
                    key=key,
                    now=now,
                    config=config,
                )
            )
            outcome = (
                "replayed"
                if result.replayed
                else result.refusal.code
                if result.refusal
                else "spent"
            )
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        elif operation == "check_in":
            await run_in_transaction(
                lambda s: check_in(
                    session=s,
                    member_id=member_id,
                    channel=Channel.WEB,
                    key_scope="walk",
                    key=f"checkin-{rng.random()}",
                    now=now,
                    config=config,
                )
            )
        elif operation == "purchase":
            request = EntryRequest(
                member_id=member_id,
                kind=EntryKind.EARN,
                bucket=Bucket.PENDING,
                amount=rng.randint(1, 100),
                channel=Channel.POS,
                available_at=now + timedelta(days=1),
            )
            await run_in_transaction(
                lambda s: post_entries(
                    session=s, requests=[request], now=now, config=config, operation="purchase"
                )
            )
        elif operation == "time":
            clock.advance(timedelta(hours=rng.choice([3, 20, 24 * 30, 24 * 120])))
            later = clock.now()
            await run_in_transaction(lambda s: settle_pending(session=s, now=later, config=config))
            await run_in_transaction(lambda s: expire_lots(session=s, now=later, config=config))
        elif operation == "merge":
            survivor, merged = rng.sample(ids, 2)
            merge_id, next_merge = next_merge, next_merge + 1
            merges[merge_id] = (survivor, merged)
            await run_in_transaction(
                lambda s: move_points_on_merge(
                    session=s,
                    survivor_id=survivor,
                    merged_id=merged,
                    merge_id=merge_id,
                    now=now,
                    config=config,
                )
            )
        elif operation == "unmerge" and merges:
            merge_id = rng.choice(list(merges))
            survivor, merged = merges.pop(merge_id)
            await run_in_transaction(
                lambda s: return_points_on_unmerge(
                    session=s,
                    survivor_id=survivor,
                    restored_id=merged,
                    merge_id=merge_id,
                    now=now,
                    config=config,
                )
            )

    weights = {
        "earn": 30,
        "redeem": 35,
        "check_in": 10,
        "purchase": 10,
        "time": 8,
        "merge": 4,
        "unmerge": 3,
    }
    started = time.perf_counter()
    for operation in rng.choices(list(weights), weights=list(weights.values()), k=OPERATIONS):
        await run(operation)
    elapsed = time.perf_counter() - started

    report = await run_in_transaction(lambda s: verify_ledger(session=s))
    sums_differ = await run_in_transaction(lambda s: s.execute(text(SUMS_DIFFER)))
    lots_differ = await run_in_transaction(lambda s: s.execute(text(LOTS_DIFFER)))
    print(
        f"\n{OPERATIONS} operations in {elapsed:.1f} s; redemptions: {outcomes}; {report.summary()}"
    )
    assert report.ok, report.summary()
    assert report.entries > OPERATIONS / 2
    assert sums_differ.all() == []
    assert lots_differ.all() == []
    # The walk exercised each outcome of a redemption.
    assert {"spent", "replayed", "INSUFFICIENT_POINTS"} <= set(outcomes)
