"""Ledger fixtures: the programme, the hooks installed, members and a posting shortcut."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.settings import Settings
from hub.wiring import ledger_config
from ledger.model import Balances, Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import PostingResult, post_entries
from ledger.queries import balances_of
from tests.factories import insert_member, insert_members

Run = Callable[[Callable[[AsyncSession], Awaitable[object]]], Awaitable[object]]


@pytest.fixture
def config(settings: Settings) -> LedgerConfig:
    return ledger_config(settings)


@pytest.fixture
def member(run_in_transaction):  # type: ignore[no-untyped-def]
    """Create a member and answer its ID."""

    async def make() -> int:
        return await run_in_transaction(insert_member)

    return make


@pytest.fixture
def members(run_in_transaction):  # type: ignore[no-untyped-def]
    async def make(count: int) -> list[int]:
        return await run_in_transaction(lambda s: insert_members(s, count))

    return make


@pytest.fixture
def credit(run_in_transaction, config: LedgerConfig):  # type: ignore[no-untyped-def]
    """Post an ADJUST credit (or debit) of AVAILABLE points at ``at``."""

    async def post(
        member_id: int, points: int, *, at: datetime, expires_at: datetime | None = None
    ) -> PostingResult:
        request = EntryRequest(
            member_id=member_id,
            kind=EntryKind.ADJUST,
            bucket=Bucket.AVAILABLE,
            amount=points,
            channel=Channel.ADMIN,
            reason="test",
            expires_at=expires_at,
        )
        return await run_in_transaction(
            lambda s: post_entries(
                session=s, requests=[request], now=at, config=config, operation="adjust"
            )
        )

    return post


@pytest.fixture
def balances(run_in_transaction):  # type: ignore[no-untyped-def]
    async def read(member_id: int) -> Balances:
        return await run_in_transaction(lambda s: balances_of(s, member_id))

    return read
