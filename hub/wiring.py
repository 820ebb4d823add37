"""How the domain packages are joined at start: event subscriptions and cross-package hooks.

Called by the app factory, the worker and the CLI; safe to call more than once.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from identity.hooks import hooks
from sync.outbox import subscribe_outbox


def install_domain_hooks() -> None:
    subscribe_outbox(hooks)


async def member_resolver(session: AsyncSession, member_id: int) -> int | None:
    """The member a member token acts for now. Without identity resolution wired in,
    no token can act: member tokens need the member table."""
    return None
