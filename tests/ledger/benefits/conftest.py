"""Benefits fixtures: members written in bulk, points credited, segments filled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from hub.wiring import ledger_config
from ledger.model import Bucket, Channel, EntryKind, EntryRequest
from ledger.posting import post_entries
from tests.conftest import START


@pytest.fixture
def members(run_in_transaction):  # type: ignore[no-untyped-def]
    """Create ``count`` ACTIVE members in one statement; answer their IDs."""

    async def make(count: int) -> list[int]:
        result = await run_in_transaction(
            lambda s: s.execute(
                text(
                    "INSERT INTO members (registered_channel, created_at, updated_at)"
                    " SELECT 'MINI_PROGRAM', :at, :at FROM generate_series(1, :n)"
                    " RETURNING id"
                ),
                {"at": START - timedelta(days=90), "n": count},
            )
        )
        return sorted(result.scalars().all())

    return make


@pytest.fixture
def credit(run_in_transaction, settings):  # type: ignore[no-untyped-def]
    """Credit AVAILABLE points, earned long enough ago that no redemption rule holds them."""

    async def post(member_id: int, points: int) -> None:
        request = EntryRequest(
            member_id=member_id,
            kind=EntryKind.ADJUST,
            bucket=Bucket.AVAILABLE,
            amount=points,
            channel=Channel.ADMIN,
            reason="test credit",
        )
        await run_in_transaction(
            lambda s: post_entries(
                session=s,
                requests=[request],
                now=START - timedelta(days=30),
                config=ledger_config(settings),
                operation="adjust",
            )
        )

    return post


@pytest.fixture
def segment(run_in_transaction):  # type: ignore[no-untyped-def]
    """A MANUAL segment holding the members given; answer its ID."""

    async def make(name: str, member_ids: list[int]) -> int:
        async def write(session) -> int:  # type: ignore[no-untyped-def]
            segment_id = await session.scalar(
                text(
                    "INSERT INTO segments (name, kind, rule, created_at)"
                    " VALUES (:name, 'MANUAL', '{}'::jsonb, :at) RETURNING id"
                ),
                {"name": name, "at": START},
            )
            await session.execute(
                text(
                    "INSERT INTO segment_members (segment_id, member_id, since)"
                    " SELECT :s, unnest(CAST(:ids AS bigint[])), :at"
                ),
                {"s": segment_id, "ids": member_ids, "at": START},
            )
            return int(segment_id)

        return await run_in_transaction(write)

    return make


@pytest.fixture
def count_rows(run_in_transaction):  # type: ignore[no-untyped-def]
    async def count(sql: str, **params: object) -> int:
        return int(await run_in_transaction(lambda s: s.scalar(text(sql), params)))

    return count


# The live hub over real HTTP (uvicorn on a free port), shared with the security tests.
from tests.security.conftest import live_client, live_http, live_url  # noqa: E402, F401
