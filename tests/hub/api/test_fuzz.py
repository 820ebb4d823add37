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

from hub.execution.schema import schema_sdl
from ledger.verify import verify_ledger

EXAMPLES = 150
#: Numbers that once turned into faults: non-finite, huge exponents, points over int4.
EDGE_NUMBERS = [
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "1e309",
    "1e300000",
    "1" * 30,
    "21474836470",
    "99999999999.99",
]

SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(
        lambda d: StringValueNode(value=d.isoformat())
    ),
    "Date": st.dates().map(lambda d: StringValueNode(value=d.isoformat())),
    "Decimal": st.one_of(
        st.decimals(min_value=-1_000_000, max_value=1_000_000, places=2).map(str),
        st.sampled_from(EDGE_NUMBERS),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
    ).map(lambda d: StringValueNode(value=d)),
    "String": st.one_of(
        st.text(max_size=20),
        st.sampled_from(["\x00", "a\x00b", "NaN", "1e300000", "x" * 5_000]),
    ).map(lambda s: StringValueNode(value=s)),
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
    strategy = hypothesis_graphql.from_schema(schema_sdl(), custom_scalars=SCALARS, allow_x00=True)
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
