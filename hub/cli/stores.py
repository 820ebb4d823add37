"""``memberhub stores`` and ``memberhub staff``: the stores purchases name, and cashiers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cli.services import in_transaction, services_for

T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    with services_for(redis=False) as settings:
        return in_transaction(settings, work)


@click.group()
def stores() -> None:
    """Stores and online shops (IMPOSSIBLE_TRAVEL needs their city)."""


@stores.command("add")
@click.argument("store_id")
@click.option("--name")
@click.option("--city", help="Purchases in two cities too close in time are held.")
@click.option("--time-zone", help="Default Asia/Shanghai.")
def stores_add(store_id: str, name: str | None, city: str | None, time_zone: str | None) -> None:
    """Register a store, or update the details given of a known one."""
    from sync.stores import StoreError, save_store

    try:
        store = _run(
            lambda s: save_store(
                s,
                store_id=store_id,
                name=name,
                city=city,
                time_zone=time_zone,
                now=datetime.now(UTC),
            )
        )
    except StoreError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"{store.id}\t{store.name or ''}\t{store.city or ''}\t{store.time_zone}")


@stores.command("list")
def stores_list() -> None:
    """Every store, tab-separated: id, name, city, time zone."""
    from sync.stores import list_stores

    for store in _run(list_stores):
        click.echo(f"{store.id}\t{store.name or ''}\t{store.city or ''}\t{store.time_zone}")


@click.group()
def staff() -> None:
    """Cashiers' own member accounts (STAFF_SELF_DEALING)."""


@staff.command("add")
@click.argument("operator_id")
@click.option("--member", "member_id", required=True, type=int, help="The cashier's member ID.")
@click.option("--store", "store_id")
def staff_add(operator_id: str, member_id: int, store_id: str | None) -> None:
    """Register the member account of the cashier who rings up sales as OPERATOR_ID."""
    from sync.stores import save_staff

    _run(
        lambda s: save_staff(
            s,
            operator_id=operator_id,
            member_id=member_id,
            store_id=store_id,
            now=datetime.now(UTC),
        )
    )
    click.echo(f"{operator_id}\t{member_id}\t{store_id or ''}")
