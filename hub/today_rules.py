"""Today's earning rules as one ``RuleSet``: what a dry run replays a proposal against.

Everything that compares a change with today's programme takes the rules through
``today_rules``, so where they are read from is decided here only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.settings import Settings
from ledger.promotion_rules import RuleSet, TierRule
from ledger.rule_store import current_rules


async def today_rules(session: AsyncSession, settings: Settings, *, since: datetime) -> RuleSet:
    """The rules as committed now (what the till prices with): the stored base rate, ladder
    and promotions still running at ``since``, the settings' rate and ladder where none were
    defined."""
    stored = await current_rules(session.execute, defaults=settings_rules(settings), since=since)
    return stored.rules


def settings_rules(settings: Settings) -> RuleSet:
    return RuleSet(
        points_per_100=settings.earn_points_per_100,
        tiers=tuple(
            TierRule(
                code=tier.code,
                name=tier.name,
                threshold=tier.qualifying_spend,
                multiplier=tier.multiplier,
            )
            for tier in settings.tiers
        ),
        promotions=(),
    )
