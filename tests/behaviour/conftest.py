"""Behaviour-event fixtures: members written directly, the live hub over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.conftest import START
from tests.ledger.benefits.conftest import segment  # noqa: F401
from tests.security.conftest import live_client, live_http, live_url  # noqa: F401


@pytest.fixture
def members(run_in_transaction):  # type: ignore[no-untyped-def]
    """ACTIVE members with the profiles given (gender, birthday, region); answer their IDs."""

    async def make(*profiles: dict[str, object]) -> list[int]:
        async def write(session) -> list[int]:  # type: ignore[no-untyped-def]
            ids = []
            for profile in profiles:
                ids.append(
                    await session.scalar(
                        text(
                            "INSERT INTO members (status, registered_channel, gender, birthday,"
                            " region, created_at, updated_at) VALUES ('ACTIVE', 'MINI_PROGRAM',"
                            " :gender, :birthday, :region, :at, :at) RETURNING id"
                        ),
                        {
                            "gender": profile.get("gender", "UNKNOWN"),
                            "birthday": profile.get("birthday"),
                            "region": profile.get("region"),
                            "at": START - timedelta(days=90),
                        },
                    )
                )
            return ids

        return await run_in_transaction(write)

    return make
