"""Variables coerced by a plan's compiled coercion answer what graphql-core answers, and
anything graphql-core must word or decide is left to it."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse
from graphql.execution.values import get_variable_values

from hub.execution.schema import build_schema
from hub.execution.variables import VariableCoercion

SCHEMA = build_schema()._schema

BATCH = (
    "mutation Batch($inputs: [PurchaseInput!]!, $note: String) {"
    " recordPurchases(inputs: $inputs) { pointsEarned } }"
)
IDENTIFY = "mutation Identify($input: IdentifyInput!) { identify(input: $input) { outcome } }"
EVENTS = (
    "mutation Track($events: [BehaviourEventInput!]!) { trackEvents(events: $events) { accepted } }"
)

PURCHASE = {
    "storeId": "S001",
    "receiptNo": "R-1",
    "channel": "POS",
    "occurredAt": "2026-11-30T09:15:00+08:00",
    "amount": "88.50",
    "identities": [{"type": "PHONE", "value": "13900000001", "verified": True}],
    "items": [{"sku": "TEA-1", "category": None, "quantity": 2, "unitPrice": "44.25"}],
}


def _definitions(query: str) -> Any:
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.variable_definitions


def _both(query: str, inputs: dict[str, Any]) -> tuple[Any, Any]:
    definitions = _definitions(query)
    return (
        VariableCoercion(SCHEMA, definitions).coerce(inputs),
        get_variable_values(SCHEMA, definitions, inputs, 50),
    )


def _sources(values: Any) -> dict[str, Any]:
    return {
        name: (s.signature.name, str(s.signature.type), s.value)
        for name, s in values.sources.items()
    }


@pytest.mark.parametrize(
    ("query", "inputs"),
    [
        (
            BATCH,
            {
                "inputs": [PURCHASE, {**PURCHASE, "memberId": "TWVtYmVyOjE=", "identities": None}],
                "note": None,
            },
        ),
        (
            BATCH,
            {
                "inputs": [{**PURCHASE, "couponCodes": ["C-1", "C-2"], "operatorId": "OP-1"}],
                "note": "x",
            },
        ),
        # A list given a single value is a list of one.
        (BATCH, {"inputs": {**PURCHASE, "items": PURCHASE["items"][0]}, "note": None}),
        (BATCH, {"inputs": [], "note": None}),
        (
            IDENTIFY,
            {
                "input": {
                    "identities": [{"type": "WECHAT_OPENID", "namespace": "wx", "value": "o-1"}],
                    "channel": "MINI_PROGRAM",
                }
            },
        ),
        (
            EVENTS,
            {
                "events": [
                    {
                        "eventId": "E-1",
                        "kind": "VIEW_PRODUCT",
                        "channel": "MINI_PROGRAM",
                        "occurredAt": "2026-11-30T09:15:00Z",
                        "memberId": "TWVtYmVyOjE=",
                        "sku": "TEA-1",
                    }
                ]
            },
        ),
    ],
)
def test_valid_variables_coerce_as_graphql_core_coerces_them(query, inputs):
    compiled, reference = _both(query, inputs)

    assert not isinstance(reference, list), reference
    assert compiled is not None
    assert compiled.coerced == reference.coerced
    assert _sources(compiled) == _sources(reference)


@pytest.mark.parametrize(
    ("query", "inputs"),
    [
        (BATCH, {"inputs": [{**PURCHASE, "amount": "NaN-ish"}], "note": None}),
        (BATCH, {"inputs": [{**PURCHASE, "unknownField": 1}], "note": None}),
        (BATCH, {"inputs": [{**PURCHASE, "storeId": None}], "note": None}),
        (
            BATCH,
            {"inputs": [{k: v for k, v in PURCHASE.items() if k != "receiptNo"}], "note": None},
        ),
        (BATCH, {"inputs": [{**PURCHASE, "channel": "TELEPATHY"}], "note": None}),
        (BATCH, {"inputs": [None], "note": None}),
        (BATCH, {"inputs": "not a purchase", "note": None}),
        (IDENTIFY, {"input": {"identities": [{"type": "PHONE", "value": 5}], "channel": "WEB"}}),
    ],
)
def test_bad_variables_are_left_to_graphql_core_to_word(query, inputs):
    compiled, reference = _both(query, inputs)

    assert compiled is None
    assert isinstance(reference, list) and reference


def test_a_variable_left_out_is_left_to_graphql_core():
    compiled, reference = _both(BATCH, {"inputs": [PURCHASE]})

    assert compiled is None
    assert not isinstance(reference, list) and "note" not in reference.coerced
