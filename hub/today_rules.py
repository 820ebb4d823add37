"""Today's earning rules as one ``RuleSet``: what a dry run replays a proposal against.

Everything that compares a change with today's programme takes the rules through
``today_rules``, so where they are read from is decided here only.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.settings import Settings
from ledger.promotion_rules import RuleSet, TierRule


async def today_rules(session: AsyncSession, settings: Settings) -> RuleSet:
    """The base rate and the tier ladder of the settings (the settings' promotions are not
    the programme's promotions)."""
    del session
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
