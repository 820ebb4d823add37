"""The retired ``MEMBERHUB_EARN_PROMOTIONS``: imported once as stored promotions.

Promotions are defined at run time now (``definePromotion``). A deployment that still sets
the variable has its promotions imported when the schema is brought up to date (``memberhub
migrate``, or ``serve`` without ``--no-migrate``), once: an import is remembered by its
promotions' ``created_by``, so later starts import nothing again, and an operator's
``endPromotion`` is never undone. Each becomes a stackable multiplier on its category's or
SKU's lines from the start of ``starts_on`` to the end of ``ends_on`` (programme's zone), as
it priced before.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.settings import PromotionSetting, Settings
from ledger.promotion_rules import PromotionKind, PromotionRule
from ledger.rule_store import define_promotion

IMPORTED_BY = "setting MEMBERHUB_EARN_PROMOTIONS"


def rule_of(setting: PromotionSetting, zone: ZoneInfo) -> PromotionRule:
    target = setting.category or setting.sku or "-"
    return PromotionRule(
        id="0",
        name=f"{target} x{setting.multiplier} {setting.starts_on}..{setting.ends_on}"[:100],
        kind=PromotionKind.MULTIPLIER,
        value=setting.multiplier,
        starts_at=datetime.combine(setting.starts_on, time.min, tzinfo=zone),
        ends_at=datetime.combine(setting.ends_on + timedelta(days=1), time.min, tzinfo=zone),
        categories=(setting.category,) if setting.category else (),
        skus=(setting.sku,) if setting.sku else (),
        stackable=True,
    )


async def import_setting_promotions(
    session: AsyncSession, settings: Settings, *, now: datetime
) -> int:
    """Import the setting's promotions unless an import already happened; answers how many."""
    if not settings.earn_promotions:
        return 0
    # Two hubs starting at once take turns here; the second finds the first's import.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:by))"), {"by": IMPORTED_BY})
    done = await session.scalar(
        text("SELECT EXISTS (SELECT 1 FROM promotions WHERE created_by = :by)"),
        {"by": IMPORTED_BY},
    )
    if done:
        return 0
    zone = ZoneInfo(settings.time_zone)
    for setting in settings.earn_promotions:
        await define_promotion(session, rule_of(setting, zone), now=now, by=IMPORTED_BY)
    return len(settings.earn_promotions)
