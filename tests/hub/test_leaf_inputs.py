"""Inputs built directly answer as strawberry's own conversion would."""

from __future__ import annotations

import pytest
import strawberry
from strawberry.types.arguments import convert_argument

from hub.api.leaf_inputs import leaf_input
from hub.api.member_inputs import IdentityInput
from hub.api.member_types import IdentityType
from hub.schema import build_schema


@pytest.mark.parametrize(
    "value",
    [
        {"type": IdentityType.PHONE, "value": "+8613800000001"},
        {"type": IdentityType.POS_CARD, "value": "C-1", "namespace": "pos", "verified": None},
        {"type": IdentityType.WECHAT_OPENID, "value": "o", "namespace": None, "verified": True},
    ],
)
def test_an_identity_input_is_built_as_strawberry_builds_it(value):
    schema = build_schema()
    definition = IdentityInput.__strawberry_definition__
    direct = definition.from_input(IdentityInput, value, None)
    definition.from_input = None
    try:
        converted = convert_argument(
            value, IdentityInput, schema.schema_converter.scalar_registry, schema.config
        )
    finally:
        leaf_input(IdentityInput)

    assert direct == converted


@strawberry.input
class Inner:
    value: str


@strawberry.input
class Outer:
    inner: Inner


def test_an_input_with_a_nested_input_is_refused():
    with pytest.raises(TypeError, match=r"Outer\.inner"):
        leaf_input(Outer)
