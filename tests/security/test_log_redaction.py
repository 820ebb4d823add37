"""What the hub logs when a request goes wrong carries no secret and no phone number.

A fault is made real, in the database (a trigger that raises), so the hub logs it as it
would any fault: the statement that failed, the GraphQL error and its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text

from tests.hub.api.members_graphql import IDENTIFY, phone
from tests.sync.jobs.webhooks_graphql import REGISTER

PHONE = "13800138000"

IDENTIFY_INLINE = f"""
mutation {{
  identify(input: {{channel: POS,
                    identities: [{{type: PHONE, value: "{PHONE}", verified: true}}]}}) {{
    outcome userErrors {{ code }}
  }}
}}
"""


class _Captured(logging.Handler):
    """Every log record, formatted as the hub's own handler writes it."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def captured_logs() -> Iterator[_Captured]:
    root = logging.getLogger()
    handler = _Captured(root.handlers[0].formatter if root.handlers else None)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture
async def faulting_writes(engine) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """Inserts of webhooks and identities fail in the database, as a full disk would."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'simulated fault'; END $$"
            )
        )
        for table in ("webhooks", "member_identities"):
            await conn.execute(
                text(
                    f"CREATE TRIGGER test_fault BEFORE INSERT ON {table}"
                    " FOR EACH ROW EXECUTE FUNCTION test_fault()"
                )
            )
    yield
    async with engine.begin() as conn:
        for table in ("webhooks", "member_identities"):
            await conn.execute(text(f"DROP TRIGGER test_fault ON {table}"))
        await conn.execute(text("DROP FUNCTION test_fault()"))


async def test_a_faulting_webhook_registration_logs_no_signing_secret(
    live_client, faulting_writes, captured_logs
):
    admin = await live_client("admin")

    body = await admin.execute(
        REGISTER, input={"url": "https://hooks.example.com/in", "events": ["member.created"]}
    )

    assert body["errors"][0]["message"] == "Unexpected error."
    assert "simulated fault" in captured_logs.text  # the fault was logged
    assert "whsec_" not in captured_logs.text


async def test_a_faulting_identify_logs_no_phone_number(
    live_client, faulting_writes, captured_logs
):
    pos = await live_client("pos", store="S1")

    by_variables = await pos.execute(
        IDENTIFY, input={"identities": [phone(PHONE)], "channel": "POS"}
    )
    inline = await pos.execute(IDENTIFY_INLINE)

    assert by_variables["errors"][0]["message"] == "Unexpected error."
    assert inline["errors"][0]["message"] == "Unexpected error."
    assert "simulated fault" in captured_logs.text
    assert PHONE not in captured_logs.text
