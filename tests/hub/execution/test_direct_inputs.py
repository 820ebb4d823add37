"""Inputs built directly answer as strawberry's own conversion would."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from strawberry.types.arguments import convert_argument

from hub.api.direct_inputs import direct_input
from hub.api.member_inputs import IdentityInput
from hub.api.member_types import Channel, IdentityType
from hub.api.purchases import PurchaseInput, PurchaseItemInput
from hub.execution.schema import build_schema

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
PURCHASE = {
    "storeId": "S001",
    "receiptNo": "R-1",
    "channel": Channel.POS,
    "occurredAt": AT,
    "amount": Decimal("120.50"),
}


def _by_strawberry(value: Any, type_: type) -> Any:
    """Strawberry's conversion, with every directly built input switched back to it."""
    schema = build_schema()
    hooks = {
        t: t.__strawberry_definition__.from_input
        for t in (IdentityInput, PurchaseItemInput, PurchaseInput)
    }
    for t in hooks:
        t.__strawberry_definition__.from_input = None
    try:
        return convert_argument(
            value, type_, schema.schema_converter.scalar_registry, schema.config
        )
    finally:
        for t, hook in hooks.items():
            t.__strawberry_definition__.from_input = hook


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        (IdentityInput, {"type": IdentityType.PHONE, "value": "+8613800000001"}),
        (
            IdentityInput,
            {"type": IdentityType.POS_CARD, "value": "C-1", "namespace": "pos", "verified": None},
        ),
        (PurchaseInput, PURCHASE),
        (
            PurchaseInput,
            {
                **PURCHASE,
                "memberId": None,
                "identities": [
                    {"type": IdentityType.PHONE, "value": "138", "verified": True},
                    {"type": IdentityType.WECHAT_OPENID, "value": "o", "namespace": "wx"},
                ],
                "items": [
                    {"sku": "A", "quantity": 2, "unitPrice": Decimal("10.25")},
                    {"sku": "B", "category": "tea", "quantity": 1, "unitPrice": Decimal("100")},
                ],
            },
        ),
        (PurchaseInput, {**PURCHASE, "identities": None, "items": []}),
    ],
)
def test_an_input_is_built_as_strawberry_builds_it(type_, value):
    definition = type_.__strawberry_definition__
    direct = definition.from_input(type_, value, None)

    assert direct == _by_strawberry(value, type_)


@strawberry.input
class Inner:
    value: str


@strawberry.input
class Outer:
    inner: Inner


def test_an_input_nesting_one_not_built_directly_is_refused():
    with pytest.raises(TypeError, match=r"Outer\.inner"):
        direct_input(Outer)
