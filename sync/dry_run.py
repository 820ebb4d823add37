"""The dry run of a rule change: the purchases of a period replayed under today's rules and
under the proposed ones, in one read-only statement.

What is replayed: every counted purchase of a member (completed, partly or wholly refunded)
whose instant falls in the period's business days, at its amount as bought (what the rules
priced at the till; refunds take back in proportion on both sides alike). Today's tier at
each purchase is the member's tier then (``member_tiers``); under a proposed ladder it is
the ladder's tier for the member's spend over the qualifying window before the purchase
(an upgrade counts at once, as at the till; a downgrade is taken at once too). Tier moves
compare where each member who bought in the period stands at its end: today's tier then,
against the proposed ladder's tier for the window's spend up to that moment. The delta by
tier groups each purchase's delta by today's tier at the purchase.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.model import add_months
from ledger.promotion_rules import RuleSet
from sync.rule_replay import (
    Binder,
    Side,
    birthday_distance_sql,
    covered_lines_sql,
    layered_select,
    line_promotions,
    matches_sql,
    merge_layers,
    needs_birthday,
    needs_purchase_number,
    promotion_columns,
    segment_ids,
    side_layers,
    tier_by_spend_sql,
)
from sync.tiers import COUNTED

#: Memory a sort or hash of the replay may take before it spills to disk: a year of a
#: large programme's purchases is sorted by member once and grouped by member once.
WORK_MEM = "128MB"

SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")

#: Most promotions one replay prices (today's and the proposal's together).
MAX_PROMOTIONS = 100


@dataclass(frozen=True)
class Proposal:
    rules: RuleSet
    #: Whether the proposal replaces the tier ladder (tiers then follow spend).
    new_ladder: bool


@dataclass(frozen=True)
class DryRunResult:
    purchases: int
    members: int
    points_now: int
    points_proposed: int
    members_affected: int
    #: (today's tier, proposed tier, members), moves only.
    tier_moves: list[tuple[str, str, int]]
    #: (today's tier at the purchase, delta).
    delta_by_tier: list[tuple[str, int]]
    duration_ms: int

    @property
    def points_delta(self) -> int:
        return self.points_proposed - self.points_now

    def liability(self, point_value: Decimal) -> Decimal:
        return (Decimal(self.points_delta) * point_value).quantize(Decimal("0.01"))


def replay_sql(
    now: RuleSet,
    proposal: Proposal,
    *,
    since: datetime,
    until: datetime,
    zone: str,
    window_months: int,
    part: tuple[int, int] = (0, 1),
) -> tuple[str, dict[str, Any]]:
    """The one statement of a dry run over the purchases of [since, until); of the members
    whose ID is ``part[0]`` modulo ``part[1]`` (the whole of them by default)."""
    index, count = part
    if not 0 <= index < count:
        raise ValueError(f"no part {index} of {count}")

    def of_part(alias: str) -> str:
        return f" AND {alias}.member_id % {count:d} = {index:d}" if count > 1 else ""

    bind = Binder()
    proposed = proposal.rules
    columns = promotion_columns([now, proposed])
    if len(columns) > MAX_PROMOTIONS:
        raise ValueError(f"a dry run prices at most {MAX_PROMOTIONS} promotions")
    ladder = proposal.new_ladder
    scan_from = add_months(since, -window_months) if ladder else since
    lowest = bind(now.tiers[0].code, "text")
    p_since, p_until = bind(since, "timestamptz"), bind(until, "timestamptz")
    p_scan = bind(scan_from, "timestamptz")
    window = f"make_interval(months => {bind(window_months, 'int')})"
    counted = (
        f"p.member_id IS NOT NULL AND p.status IN {COUNTED}"
        f" AND p.occurred_at >= {p_scan} AND p.occurred_at < {p_until}{of_part('p')}"
    )
    extra: list[str] = []
    if needs_purchase_number(columns):
        extra.append(
            "row_number() OVER (PARTITION BY p.member_id ORDER BY p.occurred_at, p.id)"
            " AS number_in_scan"
        )
    if ladder:
        extra.append(
            # The frame's sum less the purchase's own spend, rather than EXCLUDE CURRENT ROW,
            # which makes PostgreSQL sum every frame afresh (quadratic for a heavy buyer).
            "sum(p.amount - p.refunded_amount) OVER (PARTITION BY p.member_id"
            f" ORDER BY p.occurred_at RANGE BETWEEN {window} PRECEDING AND CURRENT ROW)"
            " - (p.amount - p.refunded_amount) AS spend_before"
        )
    z = bind(zone, "text")
    scanned = (
        "SELECT p.id, p.member_id, p.amount, p.refunded_amount, p.occurred_at, p.channel,"
        f" p.store_id, (p.occurred_at AT TIME ZONE {z})::date AS local_day,"
        # date_part is a double; extract a numeric, several times slower over a year of rows.
        f" date_part('year', p.occurred_at AT TIME ZONE {z})::int AS local_year"
        f"{''.join(', ' + e for e in extra)} FROM purchases p WHERE {counted}"
    )
    facts = [
        "date_part('day', s.local_day)::int AS day_of_month",
        "date_part('isodow', s.local_day)::int AS day_of_week",
        f"coalesce(t.tier_code, {lowest}) AS tier_now",
    ]
    joins = [
        "LEFT JOIN member_tiers t ON t.member_id = s.member_id AND t.since <= s.occurred_at"
        " AND (t.until IS NULL OR t.until > s.occurred_at)"
    ]
    if needs_birthday(columns):
        distance = birthday_distance_sql("s.local_day", "s.local_year", "m.month", "m.day")
        facts.append(f"{distance} AS birthday_distance")
        joins.append(
            "LEFT JOIN (SELECT id, extract(month FROM birthday)::int AS month,"
            " extract(day FROM birthday)::int AS day FROM members WHERE birthday IS NOT NULL) m"
            " ON m.id = s.member_id"
        )
    segments = segment_ids(columns)
    if segments:
        facts.append("g.segments")
        joins.append(
            "LEFT JOIN (SELECT member_id, array_agg(segment_id) AS segments FROM segment_members"
            f" WHERE segment_id = ANY({bind(segments, 'bigint[]')}) GROUP BY member_id) g"
            " ON g.member_id = s.member_id"
        )
    if needs_purchase_number(columns):
        facts.append("s.number_in_scan + coalesce(e.earlier, 0) AS purchase_number")
        joins.append(
            "LEFT JOIN (SELECT p.member_id, count(*) AS earlier FROM purchases p"
            f" WHERE p.member_id IS NOT NULL AND p.status IN {COUNTED}"
            f" AND p.occurred_at < {p_scan}{of_part('p')} GROUP BY p.member_id) e"
            " ON e.member_id = s.member_id"
        )
    if ladder:
        facts.append(
            f"{tier_by_spend_sql(proposed.tiers, 's.spend_before', bind)} AS tier_proposed"
        )
    else:
        facts.append(f"coalesce(t.tier_code, {lowest}) AS tier_proposed")
    bought = (
        f"SELECT s.id, s.member_id, s.amount, s.occurred_at, s.channel, s.store_id,"
        f" {', '.join(facts)} FROM ({scanned} OFFSET 0) s {' '.join(joins)}"
        f" WHERE s.occurred_at >= {p_since}"
    )
    lined = line_promotions(columns)
    matches = "".join(f", ({matches_sql(c, bind)}) AS {c.matches}" for c in columns)
    covered = "".join(f", c.{c.covered}" for c in lined)
    source = f"SELECT b.*{covered}{matches} FROM bought b"
    if lined:
        covering = covered_lines_sql(
            columns, bind, since=p_since, until=p_until, members=of_part("p")
        )
        source += f" LEFT JOIN ({covering}) c ON c.purchase_id = b.id"
    now_side = Side("n_", now, "tier_now")
    proposed_side = Side("q_", proposed, "tier_proposed")
    priced = layered_select(
        source,
        merge_layers(
            side_layers(now_side, columns, bind), side_layers(proposed_side, columns, bind)
        ),
    )
    if ladder:
        window_spend = (
            "SELECT p.member_id, sum(p.amount - p.refunded_amount) AS spend FROM purchases p"
            f" WHERE p.member_id IS NOT NULL AND p.status IN {COUNTED}"
            f" AND p.occurred_at >= {bind(add_months(until, -window_months), 'timestamptz')}"
            f" AND p.occurred_at < {p_until}{of_part('p')} GROUP BY p.member_id"
        )
        ladder_tier = tier_by_spend_sql(proposed.tiers, "coalesce(x.spend, 0)", bind)
        standing = (
            f"SELECT pm.member_id, {ladder_tier} AS tier_proposed FROM per_member pm"
            f" LEFT JOIN ({window_spend}) x ON x.member_id = pm.member_id"
        )
    else:
        standing = "SELECT member_id, CAST(NULL AS text) AS tier_proposed FROM per_member"
    sql = (
        f"WITH bought AS ({bought}),"
        f" per_tier AS (SELECT r.member_id, r.tier_now, count(*) AS purchases,"
        "  sum(r.n_points) AS now_points, sum(r.q_points) AS proposed_points"
        f"  FROM ({priced}) r GROUP BY r.member_id, r.tier_now),"
        " per_member AS MATERIALIZED (SELECT member_id, sum(now_points) AS now_points,"
        "  sum(proposed_points) AS proposed_points FROM per_tier GROUP BY member_id),"
        f" standing AS ({standing}),"
        " ends AS (SELECT s.member_id, coalesce(t.tier_code, "
        f"{lowest}) AS tier_now, coalesce(s.tier_proposed, t.tier_code, {lowest}) AS tier_proposed"
        " FROM standing s LEFT JOIN member_tiers t ON t.member_id = s.member_id"
        f"  AND t.since <= {p_until} AND (t.until IS NULL OR t.until > {p_until}))"
        " SELECT (SELECT coalesce(sum(purchases), 0) FROM per_tier) AS purchases,"
        " (SELECT count(*) FROM per_member) AS members,"
        " (SELECT coalesce(sum(now_points), 0) FROM per_member) AS points_now,"
        " (SELECT coalesce(sum(proposed_points), 0) FROM per_member) AS points_proposed,"
        " (SELECT count(*) FROM per_member WHERE now_points <> proposed_points) AS affected,"
        " (SELECT coalesce(json_agg(json_build_array(tier_now, tier_proposed, n)"
        "   ORDER BY tier_now, tier_proposed), '[]') FROM (SELECT tier_now, tier_proposed,"
        "   count(*) AS n FROM ends WHERE tier_now <> tier_proposed GROUP BY 1, 2) m) AS moves,"
        " (SELECT coalesce(json_agg(json_build_array(tier_now, delta) ORDER BY tier_now), '[]')"
        "   FROM (SELECT tier_now, sum(proposed_points - now_points) AS delta FROM per_tier"
        "   GROUP BY 1) d) AS by_tier"
    )
    return sql, bind.params


def _pairs(raw: Any) -> list[Any]:
    return json.loads(raw) if isinstance(raw, str) else list(raw)


async def dry_run(
    session: AsyncSession,
    now: RuleSet,
    proposal: Proposal,
    *,
    since: datetime,
    until: datetime,
    zone: str,
    window_months: int,
    helpers: Sequence[AsyncSession] = (),
    clock: Callable[[], float] = time.perf_counter,
) -> DryRunResult:
    """Replay [since, until) under both rule sets. The caller runs it in a REPEATABLE READ
    READ ONLY transaction: it writes nothing.

    With ``helpers`` (sessions outside any transaction) the members are split into as many
    parts more, each replayed at once on its own connection, so the server's cores share
    the work; every part reads the caller's snapshot (exported by the caller's transaction,
    adopted by the helpers' before they read anything), so together they answer what one
    statement would."""
    started = clock()
    count = 1 + len(helpers)

    def statement(index: int) -> tuple[str, dict[str, Any]]:
        return replay_sql(
            now,
            proposal,
            since=since,
            until=until,
            zone=zone,
            window_months=window_months,
            part=(index, count),
        )

    async def replay(on: AsyncSession, index: int) -> Any:
        await on.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        # The replay reads a whole period: sorting a sequential scan by member is several
        # times faster than walking an index by member, whose heap reads land all over the
        # table, which the planner's estimates prefer.
        await on.execute(text("SET LOCAL enable_indexscan = off"))
        sql, params = statement(index)
        return (await on.execute(text(sql), params)).one()

    async def helped(on: AsyncSession, index: int, snapshot: str) -> Any:
        async with on.begin():
            await on.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            await on.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            return await replay(on, index)

    if helpers:
        snapshot = str(await session.scalar(text("SELECT pg_export_snapshot()")))
        # An identifier PostgreSQL made (hex and dashes); SET takes no bound parameter.
        if not SNAPSHOT_ID.fullmatch(snapshot):
            raise ValueError(f"unexpected snapshot identifier {snapshot!r}")
        rows = await asyncio.gather(
            replay(session, 0),
            *(helped(h, n, snapshot) for n, h in enumerate(helpers, start=1)),
        )
    else:
        rows = [await replay(session, 0)]
    moves: Counter[tuple[str, str]] = Counter()
    by_tier: Counter[str] = Counter()
    for row in rows:
        for a, b, n in _pairs(row.moves):
            moves[(str(a), str(b))] += int(n)
        for k, d in _pairs(row.by_tier):
            by_tier[str(k)] += int(d)
    return DryRunResult(
        purchases=sum(int(row.purchases) for row in rows),
        members=sum(int(row.members) for row in rows),
        points_now=sum(int(row.points_now) for row in rows),
        points_proposed=sum(int(row.points_proposed) for row in rows),
        members_affected=sum(int(row.affected) for row in rows),
        tier_moves=[(a, b, n) for (a, b), n in sorted(moves.items())],
        delta_by_tier=sorted(by_tier.items()),
        duration_ms=round((clock() - started) * 1000),
    )
