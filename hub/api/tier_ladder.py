"""The tier ladder a request answers with: the stored one, or the settings' until defined.

Read once per request through the ``tier_ladder`` loader (the till's lookup primes it in its
own statement), so ``Member.tier`` on a list of members costs no statement per member.
"""

from __future__ import annotations

import strawberry

from hub.wiring import tier_programme
from sync.tiers import TierProgramme, programme_of


async def current_programme(info: strawberry.Info) -> TierProgramme:
    settings = info.context.settings
    ladder = await info.context.loaders.tier_ladder.load(0)
    if not ladder:
        return tier_programme(settings)
    return programme_of(ladder, settings.tier_window_months)
