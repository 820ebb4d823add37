"""``memberhub coupons``: check the coupon ledger."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession


@click.group()
def coupons() -> None:
    """Coupons: the coupon ledger."""


@coupons.command("verify")
def coupons_verify() -> None:
    """Recompute every coupon's status from its events; exit 1 on a break."""
    from sqlalchemy import text

    from hub.cli_services import cli_settings as _settings
    from hub.cli_services import in_transaction as _in_transaction
    from hub.cli_services import start_services as _start_services
    from ledger.benefits.verify import verify_coupons

    async def verify(session: AsyncSession) -> Any:
        # One consistent snapshot of a ledger that may be written meanwhile.
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        return await verify_coupons(session=session)

    settings, services = _start_services(_settings(), redis=False)
    try:
        report = _in_transaction(settings, verify)
    finally:
        services.stop()
    click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)
