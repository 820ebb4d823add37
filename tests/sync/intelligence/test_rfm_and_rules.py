"""RFM against numbers computed here, the rule language field by field, segment events."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from sync.intelligence.memberships import refresh_segment
from sync.intelligence.rule_sql import TierRanks, compile_rule
from sync.intelligence.rules import RuleError, parse_rule
from sync.intelligence.scores import IntelligenceConfig, refresh_lifecycle, refresh_rfm
from tests.conftest import START
from tests.factories import insert_member, insert_purchase

TIERS = TierRanks(("REGULAR", "SILVER", "GOLD", "DIAMOND"))


async def _buyers(run_in_transaction, count: int, seed: int):  # type: ignore[no-untyped-def]
    """``count`` members with random purchase histories; answers {member: [(at, kept)]}."""
    rng = random.Random(seed)
    history: dict[int, list[tuple]] = {}

    async def build(session):  # type: ignore[no-untyped-def]
        for _ in range(count):
            member = await insert_member(session, created_at=START - timedelta(days=800))
            history[member] = []
            for _ in range(rng.choice((0, 1, 1, 2, 3, 5, 8))):
                at = START - timedelta(days=rng.randint(0, 500), minutes=rng.randint(0, 600))
                amount = Decimal(rng.randint(10, 3000))
                refunded = rng.choice((Decimal(0), Decimal(0), Decimal(0), amount / 2, amount))
                status = (
                    "REFUNDED"
                    if refunded == amount
                    else "PARTIALLY_REFUNDED"
                    if refunded
                    else "COMPLETED"
                )
                await insert_purchase(
                    session, member, str(amount), at, refunded=str(refunded), status=status
                )
                history[member].append((at, amount - refunded, status))

    await run_in_transaction(build)
    return history


def _expected_rfm(history, now, window_days=365):  # type: ignore[no-untyped-def]
    raw = {}
    for member, purchases in history.items():
        kept = [
            (at, spend)
            for at, spend, status in purchases
            if status != "REFUNDED" and now - timedelta(days=window_days) < at <= now
        ]
        if kept:
            last = max(at for at, _ in kept)
            raw[member] = (
                math.floor((now - last).total_seconds() / 86400),
                len(kept),
                sum(spend for _, spend in kept),
            )
    n = len(raw)
    means = [sum(v[i] for v in raw.values()) / n for i in range(3)]
    expected = {}
    for member, (r, f, m) in raw.items():
        scores = (
            math.ceil(5 * sum(1 for v in raw.values() if v[0] >= r) / n),
            math.ceil(5 * sum(1 for v in raw.values() if v[1] <= f) / n),
            math.ceil(5 * sum(1 for v in raw.values() if v[2] <= m) / n),
        )
        recent, frequent, valuable = r < means[0], f > means[1], m > means[2]
        kind = (
            "VALUE"
            if recent and frequent
            else "DEVELOP"
            if recent
            else "KEEP"
            if frequent
            else "RETAIN"
        )
        segment = ("IMPORTANT_" if valuable else "GENERAL_") + kind
        expected[member] = (r, f, m, *scores, segment)
    return expected


async def test_rfm_values_scores_and_classes_match_an_independent_computation(
    run_in_transaction,
):
    history = await _buyers(run_in_transaction, 30, seed=5)

    scored = await run_in_transaction(
        lambda s: refresh_rfm(s, now=START, config=IntelligenceConfig())
    )
    rows = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT member_id, recency_days, frequency, monetary, r_score, f_score,"
                " m_score, segment FROM member_rfm"
            )
        )
    )

    expected = _expected_rfm(history, START)
    assert scored == len(expected) > 10
    assert {r.member_id: tuple(r[1:]) for r in rows} == expected


async def test_lifecycle_stages_follow_first_and_last_purchase(run_in_transaction):
    async def build(session):  # type: ignore[no-untyped-def]
        ids = {}
        for name, first, last in (
            ("prospect", None, None),
            ("new", 10, 10),
            ("active", 200, 60),
            ("dormant", 300, 120),
            ("churned", 400, 200),
        ):
            member = await insert_member(session)
            ids[name] = member
            for days in {first, last} - {None}:
                await insert_purchase(session, member, "50", START - timedelta(days=days))
        return ids

    ids = await run_in_transaction(build)
    await run_in_transaction(lambda s: refresh_lifecycle(s, now=START, config=IntelligenceConfig()))
    stages = dict(
        (
            await run_in_transaction(
                lambda s: s.execute(text("SELECT member_id, stage FROM member_lifecycle"))
            )
        ).all()
    )

    assert {name: stages[m] for name, m in ids.items()} == {
        "prospect": "PROSPECT",
        "new": "NEW",
        "active": "ACTIVE",
        "dormant": "DORMANT",
        "churned": "CHURNED",
    }


async def _matching(run_in_transaction, rule: dict) -> set[int]:  # type: ignore[type-arg]
    compiled = compile_rule(parse_rule(rule), now=START, tiers=TIERS)
    rows = await run_in_transaction(lambda s: s.execute(text(compiled.sql), compiled.params))
    return {row.id for row in rows}


def cond(field: str, op: str, *values: str, within: int | None = None) -> dict:  # type: ignore[type-arg]
    return {"condition": {"field": field, "op": op, "values": list(values), "withinDays": within}}


async def test_every_field_and_operator_selects_the_members_it_says(run_in_transaction):
    async def build(session):  # type: ignore[no-untyped-def]
        a = await insert_member(session, created_at=START - timedelta(days=100))
        b = await insert_member(session, channel="WEB", created_at=START - timedelta(days=10))
        c = await insert_member(session, created_at=START - timedelta(days=400))
        await insert_purchase(session, a, "100", START - timedelta(days=5), category="tea")
        await insert_purchase(session, a, "300", START - timedelta(days=50), category="tea")
        await insert_purchase(
            session, b, "1000", START - timedelta(days=2), channel="WEB", category="beauty"
        )
        await session.execute(
            text(
                "INSERT INTO member_tiers (member_id, tier_code, since, reason)"
                " VALUES (:b, 'SILVER', :at, 'UPGRADE')"
            ),
            {"b": b, "at": START - timedelta(days=2)},
        )
        tag = await session.scalar(
            text(
                "INSERT INTO tags (name, source, created_at) VALUES ('vip', 'MANUAL', :at)"
                " RETURNING id"
            ),
            {"at": START},
        )
        await session.execute(
            text("INSERT INTO member_tags VALUES (:t, :c, 'MANUAL', :at)"),
            {"t": tag, "c": c, "at": START},
        )
        await session.execute(
            text("INSERT INTO member_rfm VALUES (:a, 5, 2, 400, 4, 5, 3, 'IMPORTANT_VALUE', :at)"),
            {"a": a, "at": START},
        )
        await session.execute(
            text("INSERT INTO member_lifecycle VALUES (:b, 'NEW', :at)"), {"b": b, "at": START}
        )
        return a, b, c

    a, b, c = await run_in_transaction(build)
    cases = [
        (cond("PURCHASE_COUNT", "EQ", "2"), {a}),
        (cond("PURCHASE_COUNT", "NE", "2"), {b, c}),
        (cond("PURCHASE_COUNT", "GT", "0"), {a, b}),
        (cond("PURCHASE_COUNT", "GTE", "1", within=30), {a, b}),
        (cond("PURCHASE_COUNT", "LT", "1"), {c}),
        (cond("PURCHASE_COUNT", "LTE", "1", within=30), {a, b, c}),
        (cond("PURCHASE_COUNT", "BETWEEN", "1", "1"), {b}),
        (cond("PURCHASE_COUNT", "IN", "0", "2"), {a, c}),
        (cond("TOTAL_SPEND", "GTE", "400"), {a, b}),
        (cond("TOTAL_SPEND", "LT", "400", within=30), {a, c}),
        (cond("AVERAGE_ORDER_VALUE", "GT", "500"), {b}),
        (cond("AVERAGE_ORDER_VALUE", "BETWEEN", "150", "250"), {a}),
        (cond("AOV_PERCENTILE", "GTE", "100"), {b}),
        (cond("AOV_PERCENTILE", "LT", "50"), {a}),
        (cond("DAYS_SINCE_LAST_PURCHASE", "LTE", "3"), {b}),
        (cond("DAYS_SINCE_LAST_PURCHASE", "GT", "3"), {a}),
        (cond("DAYS_SINCE_REGISTRATION", "GTE", "100"), {a, c}),
        (cond("POINTS_BALANCE", "EQ", "0"), {a, b, c}),
        (cond("TIER_RANK", "GTE", "1"), {b}),
        (cond("TIER_RANK", "EQ", "0"), {a, c}),
        (cond("HAS_TAG", "EQ", "vip"), {c}),
        (cond("HAS_TAG", "NE", "vip"), {a, b}),
        (cond("PURCHASED_CATEGORY", "IN", "tea", "home"), {a}),
        (cond("PURCHASED_CATEGORY", "EQ", "tea", within=30), {a}),
        (cond("PURCHASED_CATEGORY", "NE", "tea"), {b, c}),
        (cond("RFM_SEGMENT", "EQ", "IMPORTANT_VALUE"), {a}),
        (cond("RFM_SEGMENT", "NE", "IMPORTANT_VALUE"), {b, c}),
        (cond("LIFECYCLE", "IN", "NEW"), {b}),
        (cond("LIFECYCLE", "EQ", "PROSPECT"), {a, c}),
        (cond("CHANNEL_USED", "EQ", "WEB"), {b}),
        (cond("CHANNEL_USED", "IN", "POS", within=30), {a}),
        ({"all": [cond("PURCHASE_COUNT", "GT", "0"), cond("TOTAL_SPEND", "LT", "500")]}, {a}),
        ({"any": [cond("HAS_TAG", "EQ", "vip"), cond("TIER_RANK", "GT", "0")]}, {b, c}),
        ({"not": {"any": [cond("HAS_TAG", "EQ", "vip"), cond("TIER_RANK", "GT", "0")]}}, {a}),
        ({"not": cond("DAYS_SINCE_LAST_PURCHASE", "GT", "3")}, {b, c}),
    ]

    found = [await _matching(run_in_transaction, rule) for rule, _ in cases]

    assert found == [want for _, want in cases]


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({}, ["rule"]),
        ({"all": [], "any": []}, ["rule"]),
        ({"all": []}, ["rule", "all"]),
        (
            {"any": [{"condition": {"field": "SHOE_SIZE", "op": "EQ", "values": ["1"]}}]},
            ["rule", "any", "0", "condition", "field"],
        ),
        (cond("PURCHASE_COUNT", "BETWEEN", "1"), ["rule", "condition", "values"]),
        (cond("PURCHASE_COUNT", "EQ", "two"), ["rule", "condition", "values", "0"]),
        (cond("PURCHASE_COUNT", "EQ", "1.5"), ["rule", "condition", "values", "0"]),
        (cond("LIFECYCLE", "GT", "NEW"), ["rule", "condition", "op"]),
        (cond("LIFECYCLE", "EQ", "SLEEPY"), ["rule", "condition", "values", "0"]),
        (cond("TIER_RANK", "EQ", "1", within=30), ["rule", "condition", "withinDays"]),
        (cond("TOTAL_SPEND", "BETWEEN", "9", "1"), ["rule", "condition", "values"]),
        (
            {
                "not": {
                    "not": {
                        "not": {
                            "not": {
                                "not": {
                                    "not": {
                                        "not": {"not": {"not": cond("PURCHASE_COUNT", "EQ", "1")}}
                                    }
                                }
                            }
                        }
                    }
                }
            },
            ["rule", *["not"] * 9],
        ),
    ],
)
def test_invalid_rules_name_their_place(rule, path):  # type: ignore[no-untyped-def]
    with pytest.raises(RuleError) as caught:
        parse_rule(rule)

    assert list(caught.value.field) == path


async def test_an_injection_attempt_in_a_value_stays_a_value(run_in_transaction):
    await run_in_transaction(insert_member)
    attack = "x'); DELETE FROM members; --"

    matched = await _matching(run_in_transaction, cond("HAS_TAG", "EQ", attack))

    assert matched == set()
    assert await run_in_transaction(lambda s: s.scalar(text("SELECT count(*) FROM members"))) == 1


async def test_a_segment_refresh_emits_events_exactly_for_the_members_that_changed(
    run_in_transaction,
):
    async def build(session):  # type: ignore[no-untyped-def]
        members = [await insert_member(session) for _ in range(4)]
        for m in members[:2]:
            await insert_purchase(session, m, "100", START - timedelta(days=1))
        segment = await session.scalar(
            text(
                "INSERT INTO segments (name, kind, rule, created_at)"
                " VALUES ('buyers', 'RULE', '{}', :at) RETURNING id"
            ),
            {"at": START},
        )
        return members, segment

    members, segment = await run_in_transaction(build)
    rule = cond("PURCHASE_COUNT", "GTE", "1")

    async def refresh(session):  # type: ignore[no-untyped-def]
        return await refresh_segment(
            session, segment_id=segment, name="buyers", rule=rule, now=START, tiers=TIERS
        )

    first = await run_in_transaction(refresh)
    await run_in_transaction(
        lambda s: insert_purchase(s, members[2], "100", START - timedelta(hours=1))
    )
    await run_in_transaction(
        lambda s: s.execute(
            text("UPDATE purchases SET status = 'REJECTED' WHERE member_id = :m"), {"m": members[0]}
        )
    )
    second = await run_in_transaction(refresh)
    third = await run_in_transaction(refresh)
    events = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT event_type, member_id FROM outbox_events"
                " WHERE event_type LIKE 'segment.%' ORDER BY id"
            )
        )
    )

    assert (first.entered, first.exited) == (2, 0)
    assert (second.entered, second.exited) == (1, 1)
    assert (third.entered, third.exited) == (0, 0)
    assert sorted(tuple(e) for e in events) == sorted(
        [
            ("segment.entered", members[0]),
            ("segment.entered", members[1]),
            ("segment.entered", members[2]),
            ("segment.exited", members[0]),
        ]
    )
