"""Fuzzing: operations generated from the served schema, sent as an admin.

Whatever the input, the hub answers without a 5xx and without a masked fault ("Unexpected
error."): bad input is a validation error, a limit error or a user error; and whatever the
generated mutations did, the ledger still verifies.
"""

from __future__ import annotations

import hypothesis_graphql
from graphql import StringValueNode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.schema import schema_sdl
from ledger.verify import verify_ledger

EXAMPLES = 150

SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(
        lambda d: StringValueNode(value=d.isoformat())
    ),
    "Date": st.dates().map(lambda d: StringValueNode(value=d.isoformat())),
    "Decimal": st.decimals(min_value=-1_000_000, max_value=1_000_000, places=2).map(
        lambda d: StringValueNode(value=str(d))
    ),
}


def examples(strategy: st.SearchStrategy[str], count: int) -> list[str]:
    """``count`` operations drawn from ``strategy``, the same ones on every run."""
    drawn: list[str] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(operation: str) -> None:
        drawn.append(operation)

    collect()
    return drawn


def generated_operations() -> list[str]:
    strategy = hypothesis_graphql.from_schema(schema_sdl(), custom_scalars=SCALARS, allow_x00=False)
    return examples(strategy, EXAMPLES)


async def test_generated_operations_never_fault(http, new_key, run_in_transaction):
    key = await new_key("admin")
    faults = []
    executed = 0

    for operation in generated_operations():
        response = await http.post(
            "/graphql", json={"query": operation}, headers={"Authorization": f"Bearer {key}"}
        )
        body = response.json()
        masked = [e for e in body.get("errors", []) if e["message"] == "Unexpected error."]
        if response.status_code >= 500 or masked:
            faults.append((operation, response.status_code, body))
        executed += "data" in body

    assert faults == []
    assert executed > EXAMPLES // 2, "most generated operations should pass validation"
    report = await run_in_transaction(lambda s: verify_ledger(session=s))
    assert report.ok, report.summary()
