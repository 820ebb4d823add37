"""Segment rules compiled to one SQL statement over the members table.

Every value a rule carries is a bound parameter; field names and operators come from fixed
tables in ``rules``, never from input. Purchase-based fields aggregate once per distinct
``withinDays`` window (a CTE each), so a rule costs a few scans of purchases, whatever the
number of members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sync.intelligence.rules import (
    NUMERIC,
    Condition,
    Field,
    Operator,
    Rule,
)

NOW = "CAST(:now AS timestamptz)"


@dataclass
class CompiledRule:
    """``SELECT m.id FROM members m … WHERE …``: the ACTIVE members matching the rule."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TierRanks:
    """Tier codes in rank order (the lowest first), for TIER_RANK."""

    codes: tuple[str, ...]


class _Compiler:
    def __init__(self, now: datetime, tiers: TierRanks) -> None:
        self.now = now
        self.tiers = tiers
        self.params: dict[str, Any] = {"now": now}
        self.windows: dict[int | None, str] = {}
        self.joins: dict[str, str] = {}
        #: Set when the rule is evaluated for some members only: aggregates read their rows.
        self.only: str | None = None

    def scoped(self, column: str) -> str:
        return "" if self.only is None else f" AND {column} = ANY({self.only})"

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def window(self, days: int | None) -> str:
        """The alias of the purchase aggregate over ``days`` (all time when None)."""
        if days not in self.windows:
            alias = f"w{len(self.windows)}"
            since = ""
            if days is not None:
                since = f" AND p.occurred_at > {self.bind(self.now - timedelta(days=days))}"
            self.windows[days] = alias
            self.joins[alias] = (
                f"LEFT JOIN (SELECT p.member_id, count(*) FILTER (WHERE p.status <> 'REFUNDED')"
                f" AS orders, sum(p.amount - p.refunded_amount) AS spend,"
                f" max(p.occurred_at) AS last_at FROM purchases p"
                f" WHERE p.status <> 'REJECTED' AND p.occurred_at <= {NOW}{since}"
                f"{self.scoped('p.member_id')}"
                f" GROUP BY p.member_id) {alias} ON {alias}.member_id = m.id"
            )
        return self.windows[days]

    def rule(self, rule: Rule) -> str:
        if rule.all is not None:
            return "(" + " AND ".join(self.rule(r) for r in rule.all) + ")"
        if rule.any is not None:
            return "(" + " OR ".join(self.rule(r) for r in rule.any) + ")"
        if rule.not_ is not None:
            # A condition on a missing value is unknown; NOT of it must still be a yes/no.
            return f"(NOT coalesce({self.rule(rule.not_)}, false))"
        assert rule.condition is not None
        return self.condition(rule.condition)

    def condition(self, c: Condition) -> str:
        if c.field in NUMERIC:
            return self.compare(self.numeric(c), c)
        values = self.bind(list(c.values))
        negate = c.op is Operator.NE
        match c.field:
            case Field.RFM_SEGMENT:
                self.joins["rfm"] = "LEFT JOIN member_rfm rfm ON rfm.member_id = m.id"
                test = f"coalesce(rfm.segment = ANY({values}), false)"
            case Field.LIFECYCLE:
                self.joins["lc"] = "LEFT JOIN member_lifecycle lc ON lc.member_id = m.id"
                test = f"coalesce(lc.stage, 'PROSPECT') = ANY({values})"
            case Field.HAS_TAG:
                test = (
                    "EXISTS (SELECT 1 FROM member_tags mt JOIN tags t ON t.id = mt.tag_id"
                    f" WHERE mt.member_id = m.id AND t.name = ANY({values}))"
                )
            case Field.PURCHASED_CATEGORY:
                test = (
                    "EXISTS (SELECT 1 FROM purchase_items i JOIN purchases p"
                    " ON p.id = i.purchase_id WHERE i.member_id = m.id"
                    f" AND i.category = ANY({values}) AND p.status <> 'REJECTED'"
                    f"{self.since(c.within_days)})"
                )
            case Field.CHANNEL_USED:
                registered = (
                    f"m.registered_channel = ANY({values}) OR " if c.within_days is None else ""
                )
                test = (
                    f"({registered}EXISTS (SELECT 1 FROM purchases p WHERE p.member_id = m.id"
                    f" AND p.channel = ANY({values}) AND p.status <> 'REJECTED'"
                    f"{self.since(c.within_days)}))"
                )
            case Field.GENDER:
                test = f"m.gender = ANY({values})"
            case Field.REGION:
                test = f"coalesce(m.region = ANY({values}), false)"
            case Field.VIEWED_CATEGORY:
                test = (
                    "EXISTS (SELECT 1 FROM behaviour_events e WHERE e.member_id = m.id"
                    f" AND e.kind = 'VIEW_PRODUCT' AND e.category = ANY({values})"
                    f"{self.event_since(c.within_days)})"
                )
            case Field.CART_ABANDONED:
                # Any cart add in the window with no purchase at or after it: the same as
                # "the latest cart add was not followed by a purchase".
                test = (
                    "EXISTS (SELECT 1 FROM behaviour_events e WHERE e.member_id = m.id"
                    f" AND e.kind = 'ADD_TO_CART'{self.event_since(c.within_days)}"
                    " AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.member_id = m.id"
                    f" AND p.status <> 'REJECTED' AND p.occurred_at >= e.occurred_at"
                    f" AND p.occurred_at <= {NOW}))"
                )
                wanted = {str(v) for v in c.values}
                if wanted == {"false"}:
                    negate = not negate
                elif wanted != {"true"}:
                    # IN (true, false) holds for everyone.
                    test = "true"
            case _:
                raise AssertionError(c.field)
        return f"(NOT {test})" if negate else test

    def event_since(self, days: int | None) -> str:
        if days is None:
            return f" AND e.occurred_at <= {NOW}"
        return (
            f" AND e.occurred_at <= {NOW}"
            f" AND e.occurred_at > {self.bind(self.now - timedelta(days=days))}"
        )

    def since(self, days: int | None) -> str:
        if days is None:
            return f" AND p.occurred_at <= {NOW}"
        return (
            f" AND p.occurred_at <= {NOW}"
            f" AND p.occurred_at > {self.bind(self.now - timedelta(days=days))}"
        )

    def numeric(self, c: Condition) -> str:
        match c.field:
            case Field.PURCHASE_COUNT:
                return f"coalesce({self.window(c.within_days)}.orders, 0)"
            case Field.TOTAL_SPEND:
                return f"coalesce({self.window(c.within_days)}.spend, 0)"
            case Field.AVERAGE_ORDER_VALUE:
                w = self.window(c.within_days)
                return f"({w}.spend / nullif({w}.orders, 0))"
            case Field.AOV_PERCENTILE:
                w = self.window(c.within_days)
                alias = f"pct_{w}"
                self.joins[alias] = (
                    f"LEFT JOIN (SELECT member_id, 100 * percent_rank() OVER"
                    f" (ORDER BY spend / orders) AS pct FROM (SELECT p.member_id,"
                    f" count(*) FILTER (WHERE p.status <> 'REFUNDED') AS orders,"
                    f" sum(p.amount - p.refunded_amount) AS spend FROM purchases p"
                    f" WHERE p.status <> 'REJECTED'{self.since(c.within_days)}"
                    f" GROUP BY p.member_id) a WHERE orders > 0) {alias}"
                    f" ON {alias}.member_id = m.id"
                )
                return f"{alias}.pct"
            case Field.DAYS_SINCE_LAST_PURCHASE:
                w = self.window(None)
                return f"floor(extract(epoch FROM ({NOW} - {w}.last_at)) / 86400)"
            case Field.DAYS_SINCE_REGISTRATION:
                return f"floor(extract(epoch FROM ({NOW} - m.created_at)) / 86400)"
            case Field.POINTS_BALANCE:
                self.joins["pb"] = (
                    "LEFT JOIN points_balances pb ON pb.member_id = m.id"
                    " AND pb.bucket = 'AVAILABLE'"
                )
                return "coalesce(pb.balance, 0)"
            case Field.BIRTHDAY_MONTH:
                return "extract(month FROM m.birthday)"
            case Field.AGE:
                return f"extract(year FROM age({self.bind(self.now.date())}, m.birthday))"
            case Field.EVENT_COUNT:
                alias = f"ev{len(self.joins)}"
                self.joins[alias] = (
                    f"LEFT JOIN (SELECT e.member_id, count(*) AS events FROM behaviour_events e"
                    f" WHERE true{self.event_since(c.within_days)}{self.scoped('e.member_id')}"
                    f" GROUP BY e.member_id) {alias} ON {alias}.member_id = m.id"
                )
                return f"coalesce({alias}.events, 0)"
            case Field.TIER_RANK:
                self.joins["tier"] = (
                    "LEFT JOIN member_tiers tier ON tier.member_id = m.id AND tier.until IS NULL"
                )
                codes = self.bind(list(self.tiers.codes))
                return f"coalesce(array_position({codes}, tier.tier_code) - 1, 0)"
        raise AssertionError(c.field)

    def compare(self, expression: str, c: Condition) -> str:
        symbols = {
            Operator.EQ: "=",
            Operator.NE: "<>",
            Operator.GT: ">",
            Operator.GTE: ">=",
            Operator.LT: "<",
            Operator.LTE: "<=",
        }
        if c.op is Operator.BETWEEN:
            low, high = (self.bind(v) for v in c.values)
            test = f"{expression} BETWEEN {low} AND {high}"
        elif c.op is Operator.IN:
            test = f"{expression} = ANY({self.bind(list(c.values))})"
        else:
            test = f"{expression} {symbols[c.op]} {self.bind(c.values[0])}"
        # A member without the value (no purchase yet) does not match a comparison.
        return f"coalesce({test}, false)"


def compile_rule(
    rule: Rule, *, now: datetime, tiers: TierRanks, only: Sequence[int] | None = None
) -> CompiledRule:
    """The statement selecting the ids of ACTIVE members (of ``only``, when given) matching."""
    compiler = _Compiler(now, tiers)
    scope = ""
    if only is not None:
        compiler.only = compiler.bind(list(only))
        scope = f" AND m.id = ANY({compiler.only})"
    where = compiler.rule(rule)
    joins = " ".join(compiler.joins.values())
    sql = f"SELECT m.id FROM members m {joins} WHERE m.status = 'ACTIVE'{scope} AND {where}"
    return CompiledRule(sql, compiler.params)
