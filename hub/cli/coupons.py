"""``memberhub coupons``: check the coupon ledger."""

from __future__ import annotations

import click

from hub.cli.services import report_verification


@click.group()
def coupons() -> None:
    """Coupons: the coupon ledger."""


@coupons.command("verify")
def coupons_verify() -> None:
    """Recompute every coupon's status from its events; exit 1 on a break."""
    from ledger.benefits.verify import verify_coupons

    report_verification(verify_coupons)
