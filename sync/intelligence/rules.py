"""The segment rule language: validated trees of all / any / not / condition, read from
their JSON form and written back to it (``rule_sql`` compiles them to SQL).

Field names and operators come from fixed tables here, never from input; values are read
by patterns and bounded before any conversion.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

MAX_DEPTH = 8
#: Values of one IN condition.
MAX_VALUES = 100
#: Conditions of one rule, and values across them: a rule compiles to one statement, and
#: thousands of conditions took one database backend to gigabytes of memory.
MAX_CONDITIONS = 50
MAX_RULE_VALUES = 500
#: Numbers are plain decimals, read by these patterns before any conversion: an exponent
#: like ``1e300000`` costs seconds of CPU to expand, and no column holds it anyway.
DECIMAL_PATTERN = re.compile(r"[+-]?\d{1,15}(\.\d{1,6})?")
WHOLE_PATTERN = re.compile(r"[+-]?\d{1,10}")
#: Whole numbers are compared with 4-byte integer columns (points, ranks).
MAX_WHOLE = 1_000_000_000


class RuleError(ValueError):
    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: Sequence[str]) -> None:
        super().__init__(message)
        self.field = tuple(field)


class Field(enum.StrEnum):
    PURCHASE_COUNT = "PURCHASE_COUNT"
    TOTAL_SPEND = "TOTAL_SPEND"
    AVERAGE_ORDER_VALUE = "AVERAGE_ORDER_VALUE"
    AOV_PERCENTILE = "AOV_PERCENTILE"
    DAYS_SINCE_LAST_PURCHASE = "DAYS_SINCE_LAST_PURCHASE"
    DAYS_SINCE_REGISTRATION = "DAYS_SINCE_REGISTRATION"
    POINTS_BALANCE = "POINTS_BALANCE"
    TIER_RANK = "TIER_RANK"
    HAS_TAG = "HAS_TAG"
    PURCHASED_CATEGORY = "PURCHASED_CATEGORY"
    RFM_SEGMENT = "RFM_SEGMENT"
    LIFECYCLE = "LIFECYCLE"
    CHANNEL_USED = "CHANNEL_USED"
    BIRTHDAY_MONTH = "BIRTHDAY_MONTH"
    AGE = "AGE"
    GENDER = "GENDER"
    REGION = "REGION"
    VIEWED_CATEGORY = "VIEWED_CATEGORY"
    CART_ABANDONED = "CART_ABANDONED"
    EVENT_COUNT = "EVENT_COUNT"


class Operator(enum.StrEnum):
    EQ = "EQ"
    NE = "NE"
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"
    BETWEEN = "BETWEEN"
    IN = "IN"


NUMERIC = frozenset(
    {
        Field.PURCHASE_COUNT,
        Field.TOTAL_SPEND,
        Field.AVERAGE_ORDER_VALUE,
        Field.AOV_PERCENTILE,
        Field.DAYS_SINCE_LAST_PURCHASE,
        Field.DAYS_SINCE_REGISTRATION,
        Field.POINTS_BALANCE,
        Field.TIER_RANK,
        Field.BIRTHDAY_MONTH,
        Field.AGE,
        Field.EVENT_COUNT,
    }
)
WHOLE = frozenset(
    {
        Field.PURCHASE_COUNT,
        Field.DAYS_SINCE_LAST_PURCHASE,
        Field.DAYS_SINCE_REGISTRATION,
        Field.POINTS_BALANCE,
        Field.TIER_RANK,
        Field.BIRTHDAY_MONTH,
        Field.AGE,
        Field.EVENT_COUNT,
    }
)
#: Fields that take ``withinDays``.
WINDOWED = frozenset(
    {
        Field.PURCHASE_COUNT,
        Field.TOTAL_SPEND,
        Field.AVERAGE_ORDER_VALUE,
        Field.AOV_PERCENTILE,
        Field.PURCHASED_CATEGORY,
        Field.CHANNEL_USED,
        Field.VIEWED_CATEGORY,
        Field.CART_ABANDONED,
        Field.EVENT_COUNT,
    }
)
SET_OPERATORS = frozenset({Operator.EQ, Operator.NE, Operator.IN})
CHOICES: dict[Field, frozenset[str]] = {
    Field.RFM_SEGMENT: frozenset(
        f"{a}_{b}" for a in ("IMPORTANT", "GENERAL") for b in ("VALUE", "DEVELOP", "KEEP", "RETAIN")
    ),
    Field.LIFECYCLE: frozenset({"PROSPECT", "NEW", "ACTIVE", "DORMANT", "CHURNED"}),
    Field.CHANNEL_USED: frozenset({"MINI_PROGRAM", "WEB", "POS", "PARTNER", "ADMIN"}),
    Field.GENDER: frozenset({"FEMALE", "MALE", "UNKNOWN"}),
    Field.CART_ABANDONED: frozenset({"true", "false"}),
}


@dataclass(frozen=True)
class Condition:
    field: Field
    op: Operator
    values: tuple[Any, ...]
    within_days: int | None = None


@dataclass(frozen=True)
class Rule:
    """Exactly one of the four is set."""

    all: tuple[Rule, ...] | None = None
    any: tuple[Rule, ...] | None = None
    not_: Rule | None = None
    condition: Condition | None = None


def parse_rule(raw: Mapping[str, Any], path: tuple[str, ...] = ("rule",)) -> Rule:
    """A rule from its JSON form (the API's input, the stored rule), checked throughout:
    its size first, so an oversized rule costs no more than counting it."""
    conditions, values = _size(raw, 0)
    if conditions > MAX_CONDITIONS:
        raise RuleError(f"a rule has at most {MAX_CONDITIONS} conditions", field=path)
    if values > MAX_RULE_VALUES:
        raise RuleError(f"a rule has at most {MAX_RULE_VALUES} values in all", field=path)
    return _parse_rule(raw, path, 0)


def _size(raw: Any, depth: int) -> tuple[int, int]:
    """(conditions, values) of a raw rule, counted no deeper than a valid rule nests."""
    if not isinstance(raw, Mapping) or depth > MAX_DEPTH + 1:
        return 0, 0
    conditions, values = 0, 0
    for key in ("all", "any"):
        parts = raw.get(key)
        if isinstance(parts, list):
            for part in parts:
                more = _size(part, depth + 1)
                conditions, values = conditions + more[0], values + more[1]
                if conditions > MAX_CONDITIONS or values > MAX_RULE_VALUES:
                    return conditions, values
    more = _size(raw.get("not"), depth + 1)
    conditions, values = conditions + more[0], values + more[1]
    condition = raw.get("condition")
    if isinstance(condition, Mapping):
        given = condition.get("values")
        conditions += 1
        values += len(given) if isinstance(given, list) else 0
    return conditions, values


def _parse_rule(raw: Mapping[str, Any], path: tuple[str, ...], depth: int) -> Rule:
    if depth > MAX_DEPTH:
        raise RuleError(f"rules nest at most {MAX_DEPTH} deep", field=path)
    given = [k for k in ("all", "any", "not", "condition") if raw.get(k) is not None]
    if len(given) != 1:
        raise RuleError("give exactly one of all, any, not, condition", field=path)
    key = given[0]
    value = raw[key]
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise RuleError(f"`{key}` needs at least one rule", field=(*path, key))
        parts = tuple(
            _parse_rule(part, (*path, key, str(n)), depth + 1) for n, part in enumerate(value)
        )
        return Rule(all=parts) if key == "all" else Rule(any=parts)
    if key == "not":
        return Rule(not_=_parse_rule(value, (*path, "not"), depth + 1))
    return Rule(condition=parse_condition(value, (*path, "condition")))


def parse_condition(raw: Mapping[str, Any], path: tuple[str, ...]) -> Condition:
    try:
        field_ = Field(raw.get("field"))
    except ValueError:
        raise RuleError(f"unknown field {raw.get('field')!r}", field=(*path, "field")) from None
    try:
        op = Operator(raw.get("op"))
    except ValueError:
        raise RuleError(f"unknown operator {raw.get('op')!r}", field=(*path, "op")) from None
    values = raw.get("values")
    within = raw.get("withinDays")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RuleError("values are a list of strings", field=(*path, "values"))
    if field_ not in NUMERIC and op not in SET_OPERATORS:
        raise RuleError(f"{field_} takes EQ, NE or IN", field=(*path, "op"))
    wanted = {Operator.BETWEEN: 2}.get(op, 1)
    if op is Operator.IN:
        if not 1 <= len(values) <= MAX_VALUES:
            raise RuleError(f"IN takes 1 to {MAX_VALUES} values", field=(*path, "values"))
    elif len(values) != wanted:
        raise RuleError(f"{op} takes {wanted} value(s)", field=(*path, "values"))
    if within is not None:
        if field_ not in WINDOWED:
            raise RuleError(f"{field_} takes no withinDays", field=(*path, "withinDays"))
        if not isinstance(within, int) or not 1 <= within <= 3650:
            raise RuleError("withinDays is 1 to 3650", field=(*path, "withinDays"))
    parsed = tuple(_value(field_, v, (*path, "values", str(n))) for n, v in enumerate(values))
    if op is Operator.BETWEEN and parsed[0] > parsed[1]:
        raise RuleError("BETWEEN needs the lower bound first", field=(*path, "values"))
    return Condition(field_, op, parsed, within)


def _value(field_: Field, value: str, path: tuple[str, ...]) -> Any:
    if field_ in WHOLE:
        if not WHOLE_PATTERN.fullmatch(value.strip()) or abs(int(value)) > MAX_WHOLE:
            raise RuleError(
                f"{value[:20]!r} is not a whole number from -{MAX_WHOLE} to {MAX_WHOLE}",
                field=path,
            )
        return int(value)
    if field_ in NUMERIC:
        if not DECIMAL_PATTERN.fullmatch(value.strip()):
            raise RuleError(
                f"{value[:20]!r} is not a number (up to 15 digits, 6 decimal places)", field=path
            )
        return Decimal(value.strip())
    if field_ in CHOICES:
        if value not in CHOICES[field_]:
            raise RuleError(f"{value!r} is not one of {sorted(CHOICES[field_])}", field=path)
        return value
    if not value.strip() or len(value) > 200:
        raise RuleError("a value needs 1 to 200 characters", field=path)
    return value


def rule_to_json(rule: Rule) -> dict[str, Any]:
    if rule.all is not None:
        return {"all": [rule_to_json(r) for r in rule.all]}
    if rule.any is not None:
        return {"any": [rule_to_json(r) for r in rule.any]}
    if rule.not_ is not None:
        return {"not": rule_to_json(rule.not_)}
    assert rule.condition is not None
    c = rule.condition
    return {
        "condition": {
            "field": c.field.value,
            "op": c.op.value,
            "values": [str(v) for v in c.values],
            "withinDays": c.within_days,
        }
    }
