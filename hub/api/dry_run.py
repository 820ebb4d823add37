"""``dryRunRuleChange``: today's rules and a proposed change replayed over the same purchases,
in a READ ONLY transaction (``sync.dry_run``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry
from graphql import GraphQLError
from sqlalchemy import text

from hub.api.dry_run_inputs import RuleChangeInput, check_change, proposed_promotions
from hub.api.intelligence_types import CountByKey
from hub.http.permissions import requires
from hub.http.principal import Scope
from hub.today_rules import today_rules
from ledger.promotion_rules import RuleSet
from sync.dry_run import DryRunResult, Proposal, dry_run
from sync.intelligence.dashboard import InvalidRange, check_period

#: Longest period one dry run replays, in days.
MAX_DAYS = 731


@strawberry.type
class TierMove:
    from_tier: str
    to_tier: str
    members: int


@strawberry.type(
    description="Today's rules and the proposed ones replayed over the same purchases."
)
class DryRunReport:
    from_: date = strawberry.field(name="from")
    to: date
    purchases_replayed: int
    members_with_purchases: int
    points_now: int
    points_proposed: int
    points_delta: int = strawberry.field(description="pointsProposed - pointsNow.")
    liability_delta: Decimal = strawberry.field(
        description=(
            "pointsDelta at the programme's point value (MEMBERHUB_POINT_VALUE_YUAN), in yuan:"
            " the liability the change adds."
        )
    )
    members_affected: int = strawberry.field(description="Members whose points would change.")
    tier_moves: list[TierMove] = strawberry.field(
        description=(
            "Where members' tiers would stand at the end of the window under the proposal,"
            " against today's rules."
        )
    )
    delta_by_tier: list[CountByKey] = strawberry.field(description="pointsDelta by tier code.")
    duration_ms: int


def invalid(message: str, field: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "INVALID_INPUT", "field": [field]})


def report(start: date, end: date, found: DryRunResult, point_value: Decimal) -> DryRunReport:
    return DryRunReport(
        from_=start,
        to=end,
        purchases_replayed=found.purchases,
        members_with_purchases=found.members,
        points_now=found.points_now,
        points_proposed=found.points_proposed,
        points_delta=found.points_delta,
        liability_delta=found.liability(point_value),
        members_affected=found.members_affected,
        tier_moves=[TierMove(from_tier=a, to_tier=b, members=n) for a, b, n in found.tier_moves],
        delta_by_tier=[CountByKey(key=k, count=d) for k, d in found.delta_by_tier],
        duration_ms=found.duration_ms,
    )


@strawberry.type
class DryRunQuery:
    @strawberry.field(
        description="Replay the purchases of [from, to] under today's rules and under the"
        " change; writes nothing."
    )
    @requires(Scope.ADMIN)
    async def dry_run_rule_change(
        self,
        info: strawberry.Info,
        change: RuleChangeInput,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> DryRunReport:
        context = info.context
        settings = context.settings
        try:
            check_period(from_, to)
        except InvalidRange as error:
            raise invalid(str(error), error.field[0]) from None
        if (to - from_).days >= MAX_DAYS:
            raise invalid(f"a dry run replays at most {MAX_DAYS} days", "to")
        check_change(change)
        zone = ZoneInfo(settings.time_zone)
        since = datetime.combine(from_, time.min, tzinfo=zone)
        until = datetime.combine(to + timedelta(days=1), time.min, tzinfo=zone)
        async with context.lock:
            session = context.session
            if session.in_transaction():
                await session.rollback()
            async with session.begin():
                await session.execute(
                    text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                )
                now = await today_rules(session, settings, since=since)
                added = await proposed_promotions(session, change)
                removed = set(change.removed_ids())
                unknown = removed - {p.id for p in now.promotions}
                if unknown:
                    raise invalid("removePromotionIds names no promotion of today's", "change")
                proposed = RuleSet(
                    points_per_100=(
                        now.points_per_100
                        if change.points_per_100_yuan is None
                        else change.points_per_100_yuan
                    ),
                    tiers=(
                        now.tiers
                        if change.tiers is None
                        else tuple(t.to_rule() for t in change.tiers)
                    ),
                    promotions=tuple(p for p in now.promotions if p.id not in removed) + added,
                )
                helpers = [context.open_session() for _ in range(settings.dry_run_parallel - 1)]
                try:
                    found = await dry_run(
                        session,
                        now,
                        Proposal(rules=proposed, new_ladder=change.tiers is not None),
                        since=since,
                        until=until,
                        zone=settings.time_zone,
                        window_months=settings.tier_window_months,
                        helpers=helpers,
                    )
                finally:
                    for helper in helpers:
                        await helper.close()
        return report(from_, to, found, settings.point_value_yuan)
