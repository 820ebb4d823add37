"""``memberhub import``: bulk loads from another system.

Exit codes: 0 every row imported; 1 the import failed (chunks committed before the failure
stay); 2 a usage error (a missing file, a bad option); 3 the import finished but some rows
were rejected: they are in the rejects CSV, each with the column at fault and why.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from bus.hooks import EventHooks
from hub.cli.services import cli_settings, start_services, with_engine
from hub.settings import Settings

#: ``start(engine, settings, bus, progress, now)``: the import to run, once services are up.
Importer = Callable[
    [AsyncEngine, Settings, EventHooks, Callable[[int], None], datetime], Awaitable[Any]
]

FILE = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
REJECTS = click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV of the rows not imported, with the reason (default FILE.rejects.csv).",
)
#: ``memberhub import`` finished, but rejected rows (see the module's docstring).
EXIT_REJECTED = 3


def default_rejects(file: Path) -> Path:
    """``members.csv`` -> ``members.csv.rejects.csv``, beside it."""
    return file.with_name(file.name + ".rejects.csv")


def _run_import(start: Importer, rejects: Path) -> None:
    """Start the services, run ``start`` with a row counter on a terminal, print the summary."""
    from hub.wiring import build_event_bus

    settings, services = start_services(cli_settings(), redis=False)
    on_terminal = sys.stderr.isatty()

    def progress(rows: int) -> None:
        if on_terminal:
            click.echo(f"\r{rows:,} rows", nl=False, err=True)

    try:
        bus = build_event_bus(settings)
        summary = with_engine(
            settings, lambda engine: start(engine, settings, bus, progress, datetime.now(UTC))
        )
    finally:
        services.stop()
    if on_terminal:
        click.echo("", err=True)
    for line in summary.lines():
        click.echo(line)
    click.echo(f"rejected rows: {rejects}")
    if summary.rejected:
        raise SystemExit(EXIT_REJECTED)


@click.group("import")
def import_group() -> None:
    """Bulk import for a retailer moving from another system."""


@import_group.command("members")
@FILE
@REJECTS
def import_members_command(file: Path, rejects: Path | None) -> None:
    """Members with their identities, profile and points balance (columns: README)."""
    from hub.api.member_inputs import identity_config
    from hub.wiring import ledger_config
    from sync.importer.members import import_members

    rejects = rejects or default_rejects(file)
    _run_import(
        lambda engine, settings, bus, progress, now: import_members(
            engine,
            file,
            rejects=rejects,
            identity_config=identity_config(settings),
            ledger_config=ledger_config(settings),
            bus=bus,
            now=now,
            progress=progress,
        ),
        rejects,
    )


@import_group.command("purchases")
@FILE
@click.option(
    "--award-points/--no-award-points",
    default=False,
    show_default=True,
    help="Credit each imported purchase's points (AVAILABLE, expiring 12 months after it).",
)
@REJECTS
def import_purchases_command(file: Path, award_points: bool, rejects: Path | None) -> None:
    """Historical purchases (columns: README); receipts already in the hub are skipped."""
    from hub.api.member_inputs import identity_config
    from hub.wiring import ingest_config, ledger_config
    from sync.importer.purchases import import_purchases

    rejects = rejects or default_rejects(file)
    _run_import(
        lambda engine, settings, bus, progress, now: import_purchases(
            engine,
            file,
            rejects=rejects,
            identity_config=identity_config(settings),
            ledger_config=ledger_config(settings),
            earning=ingest_config(settings).earning,
            award_points=award_points,
            bus=bus,
            now=now,
            progress=progress,
        ),
        rejects,
    )
