"""Earning rules compiled to SQL: the points each purchase earns under two rule sets, side by
side, in one pass over the purchases.

The SQL is ``ledger.promotion_rules.price_purchase`` written set-based, so a replay equals
the till's pricing of the same facts. The promotions of both rule sets are known when the
statement is built, so each becomes a handful of columns of the purchase row instead of a
join: whether it applies (its conditions as predicates), its scope, what it adds alone.
The best non-stackable promotion is a CASE over those columns (ties broken in the order the
rules break them), and the compounding product of the multipliers before a stackable one is
a product of CASEs, exact in ``numeric``. Layers of the computation are derived tables
fenced with ``OFFSET 0``: PostgreSQL would otherwise inline each column into every later
expression that uses it, and evaluate it that many times.

The facts of a purchase come from the tables: the business day and weekday in the
programme's zone, the birthday from ``members``, segments from ``segment_members`` (as they
stand), the purchase number from the member's counted purchases ever, the covered lines
from ``purchase_items``. The tier is a column the caller names (``tier_now`` or
``tier_proposed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.promotion_rules import PromotionKind, PromotionRule, RuleSet, floor


@dataclass
class Binder:
    """Bound parameters with generated names."""

    params: dict[str, Any] = field(default_factory=dict)

    def __call__(self, value: Any, sql_type: str) -> str:
        name = f"b{len(self.params)}"
        self.params[name] = value
        return f"CAST(:{name} AS {sql_type})"


@dataclass(frozen=True)
class PromotionColumns:
    """Where one promotion's facts live in the purchase row."""

    index: int
    rule: PromotionRule

    @property
    def matches(self) -> str:
        """Every condition but the tier holds."""
        return f"pm{self.index}"

    @property
    def covered(self) -> str:
        """Amount of the lines it covers (for one that names lines)."""
        return f"pc{self.index}"


def promotion_columns(rule_sets: Sequence[RuleSet]) -> list[PromotionColumns]:
    """One entry per promotion id across the rule sets (a promotion kept by a proposal is
    the same promotion on both sides)."""
    seen: dict[str, PromotionColumns] = {}
    for rules in rule_sets:
        for rule in rules.promotions:
            if rule.id not in seen:
                seen[rule.id] = PromotionColumns(len(seen), rule)
    return list(seen.values())


def needs_birthday(columns: Sequence[PromotionColumns]) -> bool:
    return any(c.rule.birthday_window_days is not None for c in columns)


def needs_purchase_number(columns: Sequence[PromotionColumns]) -> bool:
    return any(c.rule.nth_purchase is not None for c in columns)


def segment_ids(columns: Sequence[PromotionColumns]) -> list[int]:
    return sorted({int(c.rule.segment_id) for c in columns if c.rule.segment_id is not None})


def line_promotions(columns: Sequence[PromotionColumns]) -> list[PromotionColumns]:
    return [c for c in columns if c.rule.names_lines]


def _covers(rule: PromotionRule, bind: Binder) -> str:
    return (
        f"(i.sku = ANY({bind(list(rule.skus), 'text[]')})"
        f" OR i.category = ANY({bind(list(rule.categories), 'text[]')}))"
    )


def covered_lines_sql(
    columns: Sequence[PromotionColumns], bind: Binder, *, since: str, until: str, members: str = ""
) -> str:
    """Per purchase in [since, until) with a line any promotion covers: the amount of the
    lines each promotion covers, NULL when it covers none (a covered line of amount 0 still
    makes the promotion apply). Purchases without such a line have no row, which the
    caller's LEFT JOIN reads as NULL alike; so only the covered lines are grouped and
    joined, not every line of the period. ``members``: a further condition on the purchase
    ``p`` (its buyer's part of a dry run split by member)."""
    covers = [(c, _covers(c.rule, bind)) for c in line_promotions(columns)]
    sums = ", ".join(
        f"sum(i.quantity * i.unit_price) FILTER (WHERE {test}) AS {c.covered}" for c, test in covers
    )
    return (
        f"SELECT i.purchase_id, {sums} FROM purchase_items i"
        " JOIN purchases p ON p.id = i.purchase_id"
        f" WHERE p.occurred_at >= {since} AND p.occurred_at < {until}{members}"
        f" AND ({' OR '.join(test for _, test in covers)}) GROUP BY i.purchase_id"
    )


def birthday_distance_sql(day: str, year: str, month: str, day_of_month: str) -> str:
    """``promotion_rules.days_from_birthday`` in SQL: days from ``day`` (of ``year``) to the
    nearest birthday (last, this or next year's) of a birthday given as ``month`` and
    ``day_of_month``; 29 February falls on 28 February in other years."""

    def on(shift: int) -> str:
        y = f"({year} + {shift})"
        leap = f"({y} % 4 = 0 AND ({y} % 100 <> 0 OR {y} % 400 = 0))"
        return (
            f"make_date({y}, {month}, CASE WHEN {month} = 2 AND {day_of_month} = 29"
            f" AND NOT {leap} THEN 28 ELSE {day_of_month} END)"
        )

    return "LEAST(" + ", ".join(f"abs({day} - {on(d)})" for d in (-1, 0, 1)) + ")"


def matches_sql(column: PromotionColumns, bind: Binder) -> str:
    """Every condition of the promotion but its tier, over a row of ``bought``."""
    rule = column.rule
    terms = [f"b.occurred_at >= {bind(rule.starts_at, 'timestamptz')}"]
    if rule.ends_at is not None:
        terms.append(f"b.occurred_at < {bind(rule.ends_at, 'timestamptz')}")
    if rule.days_of_month:
        terms.append(f"b.day_of_month = ANY({bind(list(rule.days_of_month), 'int[]')})")
    if rule.days_of_week:
        terms.append(f"b.day_of_week = ANY({bind(list(rule.days_of_week), 'int[]')})")
    if rule.birthday_window_days is not None:
        terms.append(
            f"coalesce(b.birthday_distance <= {bind(rule.birthday_window_days, 'int')}, false)"
        )
    if rule.segment_id is not None:
        terms.append(f"coalesce({bind(int(rule.segment_id), 'bigint')} = ANY(b.segments), false)")
    if rule.channels:
        terms.append(f"b.channel = ANY({bind(list(rule.channels), 'text[]')})")
    if rule.store_ids:
        terms.append(f"b.store_id = ANY({bind(list(rule.store_ids), 'text[]')})")
    if rule.nth_purchase is not None:
        terms.append(f"b.purchase_number = {bind(rule.nth_purchase, 'bigint')}")
    if rule.names_lines:
        terms.append(f"c.{column.covered} IS NOT NULL")
    return " AND ".join(terms)


@dataclass(frozen=True)
class Side:
    """One rule set's columns: ``<prefix>points`` is what it gives each purchase."""

    prefix: str
    rules: RuleSet
    tier_column: str

    def col(self, name: str, index: int | None = None) -> str:
        return f"{self.prefix}{name}" if index is None else f"{self.prefix}{name}{index}"


def _promotions(side: Side, columns: Sequence[PromotionColumns]) -> list[PromotionColumns]:
    ids = {rule.id for rule in side.rules.promotions}
    return [c for c in columns if c.rule.id in ids]


def side_layers(side: Side, columns: Sequence[PromotionColumns], bind: Binder) -> list[list[str]]:
    """The side's column definitions, layer by layer (each layer reads the ones before)."""
    rules = side.rules
    rate = bind(Decimal(rules.points_per_100) / 100, "numeric")
    mine = _promotions(side, columns)
    base = side.col("base")
    applies = {c.index: side.col("a", c.index) for c in mine}
    scope = {c.index: side.col("s", c.index) for c in mine}
    alone = {c.index: side.col("alone", c.index) for c in mine}

    first = [f"GREATEST(floor(r.amount * {rate}), 0) AS {base}"]
    for c in mine:
        tier = (
            f" AND {side.tier_column} = ANY({bind(list(c.rule.tier_codes), 'text[]')})"
            if c.rule.tier_codes
            else ""
        )
        first.append(f"(r.{c.matches}{tier}) AS {applies[c.index]}")

    second: list[str] = []
    for c in mine:
        if c.rule.kind is PromotionKind.MULTIPLIER:
            amount = (
                f"LEAST(coalesce(r.{c.covered}, 0) * {rate}, r.{base})"
                if c.rule.names_lines
                else f"r.{base}"
            )
            second.append(f"{amount} AS {scope[c.index]}")

    def adds_alone(c: PromotionColumns) -> str:
        if c.rule.kind is PromotionKind.BONUS_POINTS:
            return bind(Decimal(floor(c.rule.value)), "numeric")
        return f"floor(r.{scope[c.index]} * {bind(c.rule.value - 1, 'numeric')})"

    singles = sorted(
        (c for c in mine if not c.rule.stackable), key=lambda c: (c.rule.starts_at, c.rule.id)
    )
    stackables = sorted(
        (c for c in mine if c.rule.stackable), key=lambda c: (c.rule.starts_at, c.rule.id)
    )
    best = side.col("best")
    most = side.col("most")
    third = [f"{adds_alone(c)} AS {alone[c.index]}" for c in singles]
    fourth: list[str] = []
    fifth: list[str] = []
    if singles:
        candidates = ", ".join(
            f"CASE WHEN r.{applies[c.index]} THEN r.{alone[c.index]} END" for c in singles
        )
        fourth.append(f"GREATEST({candidates}) AS {most}")
        whens = " ".join(
            f"WHEN r.{applies[c.index]} AND r.{alone[c.index]} = r.{most} THEN {c.index}"
            for c in singles
        )
        fifth.append(f"CASE {whens} ELSE -1 END AS {best}")
    else:
        fifth.append(f"-1 AS {best}")

    # The multiplier the best single promotion puts before every stackable one.
    single_multipliers = [c for c in singles if c.rule.kind is PromotionKind.MULTIPLIER]
    best_factor = (
        "CASE r."
        + best
        + " "
        + " ".join(
            f"WHEN {c.index} THEN {bind(c.rule.value, 'numeric')}" for c in single_multipliers
        )
        + " ELSE 1 END"
        if single_multipliers
        else "1"
    )
    multiplied = [
        f"CASE r.{best} "
        + " ".join(f"WHEN {c.index} THEN r.{alone[c.index]}" for c in single_multipliers)
        + " ELSE 0 END"
        if single_multipliers
        else "0"
    ]
    bonus = [
        f"CASE r.{best} "
        + " ".join(
            f"WHEN {c.index} THEN r.{alone[c.index]}"
            for c in singles
            if c.rule.kind is PromotionKind.BONUS_POINTS
        )
        + " ELSE 0 END"
        if any(c.rule.kind is PromotionKind.BONUS_POINTS for c in singles)
        else "0"
    ]
    factors: list[str] = [f"({best_factor})"]
    for c in stackables:
        if c.rule.kind is PromotionKind.BONUS_POINTS:
            bonus.append(
                f"CASE WHEN r.{applies[c.index]} THEN "
                f"{bind(Decimal(floor(c.rule.value)), 'numeric')} ELSE 0 END"
            )
            continue
        value = bind(c.rule.value, "numeric")
        product = " * ".join(factors)
        multiplied.append(
            f"CASE WHEN r.{applies[c.index]} THEN"
            f" floor(r.{scope[c.index]} * ({value} - 1) * {product}) ELSE 0 END"
        )
        factors.append(f"(CASE WHEN r.{applies[c.index]} THEN {value} ELSE 1 END)")
    sixth = [
        f"({' + '.join(multiplied)}) AS {side.col('multiplied')}",
        f"({' + '.join(bonus)}) AS {side.col('bonus')}",
    ]

    tiers = rules.tiers
    tier_multiplier = (
        f"CASE r.{side.tier_column} "
        + " ".join(
            f"WHEN {bind(t.code, 'text')} THEN {bind(t.multiplier, 'numeric')}" for t in tiers
        )
        + f" ELSE {bind(tiers[0].multiplier, 'numeric')} END"
    )
    earned = f"r.{base} + r.{side.col('multiplied')}"
    seventh = [
        f"CASE WHEN r.{base} = 0 THEN 0 ELSE {earned}"
        f" + floor(({earned}) * ({tier_multiplier} - 1)) + r.{side.col('bonus')} END"
        f" AS {side.col('points')}"
    ]
    return [first, second, third, fourth, fifth, sixth, seventh]


def tier_by_spend_sql(tiers: Sequence[Any], spend: str, bind: Binder) -> str:
    """The ladder's tier for ``spend``: the last tier (lowest first) whose threshold it
    reaches, the first when it reaches none."""
    whens = " ".join(
        f"WHEN {spend} >= {bind(t.threshold, 'numeric')} THEN {bind(t.code, 'text')}"
        for t in reversed(tiers)
    )
    return f"CASE {whens} ELSE {bind(tiers[0].code, 'text')} END"


def layered_select(source: str, layers: Sequence[Sequence[str]]) -> str:
    """``source`` (a derived table's SQL) with each layer's columns added over the ones
    before, every layer fenced so that its columns are computed once per row."""
    sql = source
    for layer in layers:
        if not layer:
            continue
        sql = f"SELECT r.*, {', '.join(layer)} FROM ({sql} OFFSET 0) r"
    return sql


def merge_layers(*sides: Sequence[Sequence[str]]) -> list[list[str]]:
    """The layers of several sides computed side by side."""
    depth = max(len(s) for s in sides)
    return [[col for s in sides if i < len(s) for col in s[i]] for i in range(depth)]
