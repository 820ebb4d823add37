"""The posting path: idempotency, checks and holds, without the API."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select, text

from ledger.batch_posting import BatchOperation, post_batch
from ledger.checks import CheckRegistry, CheckResult, FraudOutcome, Posting
from ledger.errors import IdempotencyConflict
from ledger.model import Bucket, Channel, EntryKind, EntryRequest, IdempotencyKey
from ledger.posting import lock_members, post_entries
from ledger.queries import entries_by_ids
from ledger.redemption import redeem_points
from ledger.tables import ledger_entries, points_idempotency_keys
from tests.conftest import START


class Fault(Exception):
    pass


def bonus(member_id: int, points: int) -> EntryRequest:
    return EntryRequest(
        member_id=member_id,
        kind=EntryKind.BONUS,
        bucket=Bucket.AVAILABLE,
        amount=points,
        channel=Channel.WEB,
    )


async def count(run, table) -> int:  # type: ignore[no-untyped-def]
    return await run(lambda s: s.scalar(select(func.count()).select_from(table)))


async def test_a_fault_after_posting_rolls_back_and_leaves_the_key_unused(
    member, credit, session_factory, run_in_transaction, config
):
    member_id = await member()
    await credit(member_id, 100, at=START)

    def redeem(session):  # type: ignore[no-untyped-def]
        return redeem_points(
            session=session,
            member_id=member_id,
            points=30,
            channel=Channel.POS,
            store_id=None,
            reason="r",
            key_scope="client:1",
            key="k-1",
            now=START,
            config=config,
        )

    with pytest.raises(Fault):
        async with session_factory() as session, session.begin():
            await redeem(session)
            raise Fault("the connection dropped before the answer")
    retried = await run_in_transaction(redeem)

    assert retried.replayed is False and retried.entry.balance_after == 70
    assert await count(run_in_transaction, points_idempotency_keys) == 1


async def test_same_key_replays_and_another_request_conflicts(
    member, credit, run_in_transaction, config
):
    member_id = await member()
    await credit(member_id, 100, at=START)

    def redeem(points: int):  # type: ignore[no-untyped-def]
        return lambda s: redeem_points(
            session=s,
            member_id=member_id,
            points=points,
            channel=Channel.POS,
            store_id=None,
            reason="r",
            key_scope="client:1",
            key="k-2",
            now=START,
            config=config,
        )

    first = await run_in_transaction(redeem(30))
    again = await run_in_transaction(redeem(30))
    with pytest.raises(IdempotencyConflict):
        await run_in_transaction(redeem(31))

    assert again.replayed and again.entries == first.entries
    assert await count(run_in_transaction, ledger_entries) == 2


async def test_strictest_check_wins_and_held_credits_wait_in_the_held_bucket(
    member, balances, run_in_transaction, config
):
    member_id = await member()
    registry = CheckRegistry()

    async def large(session, posting: Posting) -> CheckResult | None:  # type: ignore[no-untyped-def]
        if posting.entries[0].amount > 500:
            return CheckResult(FraudOutcome.HELD, "LARGE_AMOUNT")
        return None

    async def blocked(session, posting: Posting) -> CheckResult | None:  # type: ignore[no-untyped-def]
        if posting.attributes.get("blocked"):
            return CheckResult(FraudOutcome.REJECTED, "BLOCKED", "blocked store")
        return None

    registry.register("LARGE_AMOUNT", large, operations=["earn"])
    registry.register("BLOCKED", blocked)

    def post(points: int, **attributes: object):  # type: ignore[no-untyped-def]
        return lambda s: post_entries(
            session=s,
            requests=[bonus(member_id, points)],
            now=START,
            config=config,
            operation="earn",
            attributes=attributes,
            registry=registry,
            idempotency=IdempotencyKey("client:1", f"k{points}{attributes}", {"p": points}),
        )

    accepted = await run_in_transaction(post(100))
    held = await run_in_transaction(post(900))
    rejected = await run_in_transaction(post(901, blocked=True))
    replayed = await run_in_transaction(post(901, blocked=True))
    after = await balances(member_id)

    assert accepted.decision.outcome is FraudOutcome.ACCEPTED and accepted.decision.reasons == ()
    assert held.decision.outcome is FraudOutcome.HELD
    assert held.entry.bucket is Bucket.HELD and held.entry.held_for is Bucket.AVAILABLE
    assert held.entry.hold_reasons == ("LARGE_AMOUNT",)
    assert rejected.decision.outcome is FraudOutcome.REJECTED
    assert rejected.decision.reasons == ("LARGE_AMOUNT", "BLOCKED")
    assert rejected.refusal.code == "REJECTED_BY_RULE" and rejected.entries == ()
    assert replayed.replayed and replayed.refusal.code == "REJECTED_BY_RULE"
    assert (after.available, after.held, after.lifetime_earned) == (100, 900, 100)


async def test_posted_entries_answer_as_their_rows_read_back(member, run_in_transaction, config):
    buyer, other = await member(), await member()
    registry = CheckRegistry()

    async def large(session, posting: Posting) -> CheckResult | None:  # type: ignore[no-untyped-def]
        if posting.entries[0].amount > 500:
            return CheckResult(FraudOutcome.HELD, "LARGE_AMOUNT")
        return None

    async def large_many(session, postings: list[Posting]) -> list[CheckResult | None]:  # type: ignore[no-untyped-def]
        return [await large(session, p) for p in postings]

    registry.register("LARGE_AMOUNT", large, operations=["earn"], check_many=large_many)
    # Shanghai times in the requests; the database answers UTC.
    settles = START + timedelta(days=1)

    def earn(member_id: int, points: int, reference: str) -> EntryRequest:
        return EntryRequest(
            member_id=member_id,
            kind=EntryKind.EARN,
            bucket=Bucket.PENDING,
            amount=points,
            channel=Channel.POS,
            store_id="S001",
            reference=reference,
            available_at=settles,
        )

    one = await run_in_transaction(
        lambda s: post_entries(
            session=s,
            requests=[earn(buyer, 900, "R-1"), bonus(buyer, 40)],
            now=START,
            config=config,
            operation="earn",
            registry=registry,
        )
    )
    batch = await run_in_transaction(
        lambda s: post_batch(
            session=s,
            operations=[
                BatchOperation(requests=(earn(other, 30, "R-2"),)),
                BatchOperation(requests=(earn(buyer, 700, "R-3"),)),
                BatchOperation(requests=(earn(other, 20, "R-4"), bonus(other, 5))),
            ],
            now=START,
            config=config,
            operation="earn",
            registry=registry,
        )
    )

    posted = [*one.entries, *(e for result in batch for e in result.entries)]
    stored = await run_in_transaction(lambda s: entries_by_ids(s, [e.id for e in posted]))
    assert sorted(posted, key=lambda e: e.id) == list(stored)
    held, pending, available = Bucket.HELD, Bucket.PENDING, Bucket.AVAILABLE
    assert [e.bucket for e in posted] == [held, held, pending, held, pending, available]
    assert posted[1].hold_reasons == ("LARGE_AMOUNT",) and posted[2].hold_reasons is None
    assert posted[1].held_for is available and posted[3].held_for is pending
    assert posted[2].available_at == settles and posted[2].available_at.tzinfo is UTC
    assert posted[5].expires_at is not None and posted[5].created_at.tzinfo is UTC


async def test_locking_with_skip_busy_leaves_out_only_accounts_another_transaction_holds(
    members, credit, session_factory
):
    held, free, new = await members(3)
    for member_id in (held, free):
        await credit(member_id, 10, at=START)

    async with session_factory() as other, other.begin():
        await lock_members(other, [held])
        async with session_factory() as session, session.begin():
            # Waiting for the held account would fail here instead of hanging the suite.
            await session.execute(text("SET LOCAL lock_timeout = '2s'"))
            locked = await lock_members(session, [held, free, new], skip_busy=True)
            assert sorted(locked) == sorted([free, new])
            assert locked[free].balances[Bucket.AVAILABLE] == 10
            assert locked[new].last_seq == 0 and locked[new].balances[Bucket.AVAILABLE] == 0

    async with session_factory() as session, session.begin():
        everyone = await lock_members(session, [held, free, new], skip_busy=True)
    assert sorted(everyone) == sorted([held, free, new])
