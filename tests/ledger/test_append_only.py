"""The ledger is append-only in the database, and tampering behind its back is detected."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.verify import verify_ledger
from tests.conftest import START


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount = 1000",
        "DELETE FROM ledger_entries",
        "TRUNCATE ledger_entries",
    ],
)
async def test_raw_sql_cannot_change_or_remove_entries(statement, member, credit, engine):
    member_id = await member()
    await credit(member_id, 100, at=START)

    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))

    async with engine.connect() as conn:
        amounts = (await conn.execute(text("SELECT amount FROM ledger_entries"))).scalars().all()
    assert amounts == [100]


async def tamper(engine, sql: str) -> None:  # type: ignore[no-untyped-def]
    """Change a row with the trigger disabled, as someone owning the table could."""
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER USER"))
        await conn.execute(text(sql))
        await conn.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER USER"))


async def test_verify_passes_then_names_the_altered_entry(
    member, credit, engine, run_in_transaction
):
    first, second = await member(), await member()
    await credit(first, 100, at=START)
    await credit(second, 100, at=START)
    await credit(second, -40, at=START)
    clean = await run_in_transaction(lambda s: verify_ledger(session=s))

    await tamper(
        engine,
        f"UPDATE ledger_entries SET amount = -10, balance_after = 90"
        f" WHERE member_id = {second} AND seq = 2",
    )
    broken = await run_in_transaction(lambda s: verify_ledger(session=s))
    entry_id = await run_in_transaction(
        lambda s: s.scalar(
            text(f"SELECT id FROM ledger_entries WHERE member_id = {second} AND seq = 2")
        )
    )

    assert clean.ok and clean.summary().startswith("ledger verify: OK: 2 members, 3 entries")
    assert not broken.ok and broken.broken_members == 1
    assert broken.first_break.member_id == second
    assert broken.first_break.entry_id == entry_id
    assert "hash does not match" in broken.first_break.what


async def test_verify_catches_a_balance_changed_in_the_projection(
    member, credit, engine, run_in_transaction
):
    member_id = await member()
    await credit(member_id, 100, at=START)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE points_balances SET balance = 500 WHERE bucket = 'AVAILABLE'")
        )

    report = await run_in_transaction(lambda s: verify_ledger(session=s))

    assert report.first_break.member_id == member_id
    assert "AVAILABLE balance is 500, the entries sum to 100" in report.first_break.what


def memberhub(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEMBERHUB_DATABASE_URL": database_url, "MEMBERHUB_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def test_ledger_verify_command_prints_a_summary_and_fails_on_a_break(
    member, credit, engine, database_url
):
    member_id = await member()
    await credit(member_id, 100, at=START)
    clean = memberhub(database_url, "ledger", "verify")
    await tamper(engine, f"UPDATE ledger_entries SET reason = 'x' WHERE member_id = {member_id}")
    broken = memberhub(database_url, "ledger", "verify")

    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip() == "ledger verify: OK: 1 members, 1 entries, 1 lots checked"
    assert broken.returncode == 1
    assert f"BROKEN: 1 member(s); first: member {member_id}, entry" in broken.stdout
