"""200 concurrent identify calls for 20 people end with exactly 20 members."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.db.engine import create_engine
from hub.http.app import create_app
from tests.graphql_client import GraphQLClient
from tests.hub.api.members_graphql import IDENTIFY, card, openid, phone, unionid

PEOPLE = 20
BURST_CONNECTIONS = 20
CALLS_PER_PERSON = 10


def person_identities(n: int) -> list[dict[str, Any]]:
    """3 or 4 identities; all but the card are verified, so every meeting of two members
    carries a verified, known identity and may merge."""
    identities = [
        phone(f"1380013{n:04d}"),
        unionid(f"u-person-{n}"),
        openid(f"o-person-{n}", verified=True),
    ]
    if n % 2 == 0:
        identities.append(card(f"C-{n:04d}"))
    return identities


def connected(subsets: list[list[int]], size: int) -> bool:
    """True when the calls together tie every identity of the person to every other."""
    reached = {0}
    changed = True
    while changed:
        changed = False
        for subset in subsets:
            if reached & set(subset) and not set(subset) <= reached:
                reached |= set(subset)
                changed = True
    return reached == set(range(size))


def calls_for(n: int, rng: random.Random) -> list[list[dict[str, Any]]]:
    """Shuffled overlapping subsets; the first two are disjoint, so that two members are
    likely created for one person before a later call proves them one."""
    identities = person_identities(n)
    order = list(range(len(identities)))
    while True:
        rng.shuffle(order)
        subsets = [order[:2], order[2:]] + [
            rng.sample(range(len(identities)), rng.choice((2, 2, 3)))
            for _ in range(CALLS_PER_PERSON - 2)
        ]
        if connected(subsets, len(identities)):
            return [[identities[i] for i in subset] for subset in subsets]


@pytest.fixture
async def burst_admin(
    settings, database_url, redis, clock, new_key
) -> AsyncIterator[GraphQLClient]:
    """An admin client on an app with its own pool of 20 connections: calls run on separate
    connections, without crowding out other users of the shared server."""
    burst_engine = create_engine(database_url, pool_size=BURST_CONNECTIONS, max_overflow=0)
    app = create_app(settings, engine=burst_engine, redis=redis, clock=clock)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as http:
            yield GraphQLClient(http, await new_key("admin", name="ops"))
    finally:
        await app.state.hub.reads.close()
        await burst_engine.dispose()


async def test_concurrent_identify_calls_end_with_one_member_per_person(burst_admin, engine):
    admin = burst_admin
    rng = random.Random(20261122)
    per_person = [calls_for(n, rng) for n in range(PEOPLE)]
    # The disjoint first sightings of everyone race first, the rest overlap them.
    first_wave = [call for calls in per_person for call in calls[:2]]
    second_wave = [call for calls in per_person for call in calls[2:]]
    rng.shuffle(first_wave)
    rng.shuffle(second_wave)
    calls = first_wave + second_wave

    half_of_first_wave_done = asyncio.Event()
    first_done = 0

    async def one(identities: list[dict[str, Any]], *, first: bool) -> dict[str, Any]:
        nonlocal first_done
        if not first:
            # Overlap the first wave's tail: enough members exist by now that calls merge.
            await half_of_first_wave_done.wait()
        channel = rng.choice(("POS", "WEB", "MINI_PROGRAM"))
        body = await admin.execute(IDENTIFY, input={"identities": identities, "channel": channel})
        if first:
            first_done += 1
            if first_done * 2 >= len(first_wave):
                half_of_first_wave_done.set()
        return body

    started = time.perf_counter()
    answers = await asyncio.gather(
        *(one(identities, first=True) for identities in first_wave),
        *(one(identities, first=False) for identities in second_wave),
    )
    elapsed = time.perf_counter() - started

    assert all("errors" not in a for a in answers), [a["errors"] for a in answers if "errors" in a]
    payloads = [a["data"]["identify"] for a in answers]
    assert all(p["userErrors"] == [] for p in payloads)
    outcomes = Counter(p["outcome"] for p in payloads)
    assert "CONFLICT" not in outcomes
    assert outcomes["MERGED"] > 0
    async with engine.connect() as conn:
        active = (
            await conn.execute(text("SELECT count(*) FROM members WHERE status = 'ACTIVE'"))
        ).scalar_one()
        on_merged = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM member_identities i JOIN members m ON m.id = i.member_id"
                    " WHERE m.status <> 'ACTIVE'"
                )
            )
        ).scalar_one()
        owners = (
            await conn.execute(
                text(
                    "SELECT member_id, array_agg(value ORDER BY value)"
                    " FROM member_identities GROUP BY member_id"
                )
            )
        ).all()
    assert active == PEOPLE
    assert on_merged == 0
    expected = sorted(
        sorted(
            i["value"] if i["type"] != "PHONE" else f"+86{i['value']}" for i in person_identities(n)
        )
        for n in range(PEOPLE)
    )
    assert sorted(list(values) for _, values in owners) == expected
    print(
        f"\nconcurrent identify: {len(calls)} calls, {active} ACTIVE members,"
        f" outcomes {dict(outcomes)}, {elapsed:.2f}s"
    )


async def test_one_identity_seen_by_many_calls_at_once_creates_one_member(burst_admin, engine):
    client: GraphQLClient = burst_admin
    calls = [
        client.execute(IDENTIFY, input={"identities": [phone("13800138000")], "channel": "POS"})
        for _ in range(30)
    ]

    answers = await asyncio.gather(*calls)

    outcomes = Counter(a["data"]["identify"]["outcome"] for a in answers)
    assert outcomes == {"CREATED": 1, "MATCHED": 29}
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM members"))).scalar_one() == 1
