"""Multi-row INSERTs store what they were given, whatever the value: the rows travel as
JSON, and each type must come back as it went."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.multirow import MultiRowInsert

_TRICKY = MultiRowInsert(
    "tricky",
    {
        "n": "int",
        "big": "bigint",
        "label": "text",
        "amount": "numeric",
        "at": "timestamptz",
        "day": "date",
        "flag": "boolean",
        "hash": "bytea",
        "reasons": "text[]",
    },
    suffix="RETURNING n",
)

ROWS = [
    {
        "n": 1,
        "big": 2**62,
        "label": 'a "quoted", back\\slashed {braced} line\nwith a tab\t, 汉字 and 🎉',
        "amount": Decimal("12345678901.23"),
        "at": datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
        "day": date(2026, 2, 28),
        "flag": True,
        "hash": bytes(range(32)),
        "reasons": ["VELOCITY, twice", 'say "no"', "NULL", ""],
    },
    {
        "n": 2,
        "big": -1,
        "label": "NULL",
        "amount": Decimal("0.10"),
        "at": datetime(2026, 3, 1, 1, 30),  # no zone: UTC, as asyncpg takes it
        "day": date(1, 1, 1),
        "flag": False,
        "hash": b"",
        "reasons": [],
    },
    {"n": 3, "big": None, "label": None, "amount": None, "at": None, "day": None},
]


async def test_every_value_comes_back_as_it_was_sent(run_in_transaction):
    async def work(session: AsyncSession) -> list[dict]:
        await session.execute(
            text(
                "CREATE TEMP TABLE tricky (n int, big bigint, label text, amount numeric,"
                " at timestamptz, day date, flag boolean, hash bytea, reasons text[])"
                " ON COMMIT DROP"
            )
        )
        returned = await _TRICKY.execute(session, ROWS)
        assert [row.n for row in returned] == [1, 2, 3]
        rows = await session.execute(text("SELECT * FROM tricky ORDER BY n"))
        return [dict(row._mapping) for row in rows]

    stored = await run_in_transaction(work)

    first, second, third = stored
    assert {**first, "hash": bytes(first["hash"])} == ROWS[0]
    assert second["at"] == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert {**second, "at": ROWS[1]["at"], "hash": bytes(second["hash"])} == ROWS[1]
    # A key a row leaves out is NULL, as is an explicit None.
    assert third == {
        "n": 3,
        **dict.fromkeys(("big", "label", "amount", "at", "day", "flag", "hash", "reasons")),
    }
