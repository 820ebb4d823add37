"""How the domain packages are joined at start: event subscriptions and cross-package hooks.

Called by the app factory, the worker and the CLI; safe to call more than once.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.clock import Clock
from hub.settings import Settings
from identity.hooks import hooks
from identity.lookup import active_member_id
from ledger.model import LedgerConfig
from ledger.subscriptions import subscribe_ledger
from sync.outbox import subscribe_outbox


def ledger_config(settings: Settings) -> LedgerConfig:
    """The points programme, from the settings (the ledger reads no environment itself)."""
    return LedgerConfig(
        time_zone=settings.time_zone,
        signup_bonus=settings.points_signup_bonus,
        referral_bonus=settings.points_referral_bonus,
        checkin_points=settings.points_checkin,
        expiry_months=settings.points_expiry_months,
        idempotency_days=settings.idempotency_key_days,
    )


def install_domain_hooks(settings: Settings | None = None, clock: Clock | None = None) -> None:
    """``clock`` dates what the ledger posts from identity's events (the database's
    transaction time when None)."""
    subscribe_ledger(
        hooks, ledger_config(settings or Settings()), clock=clock.now if clock else None
    )
    subscribe_outbox(hooks)


async def member_resolver(session: AsyncSession, member_id: int) -> int | None:
    """The member a member token acts for now: the ACTIVE survivor at the end of its merge
    chain; None for an erased or unknown member, whose tokens stop working."""
    return await active_member_id(session, member_id)
