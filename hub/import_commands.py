"""``memberhub import``: bulk loads from another system."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click


@click.group("import")
def import_group() -> None:
    """Bulk import for a retailer moving from another system."""


@import_group.command("members")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV of the rows not imported, with the reason (default FILE.rejects.csv).",
)
def import_members_command(file: Path, rejects: Path | None) -> None:
    """Members with their identities, profile and points balance (columns: README)."""
    from hub.api.member_inputs import identity_config
    from hub.cli import _settings, _start_services, _with_engine
    from hub.wiring import install_domain_hooks, ledger_config
    from sync.importer.members import import_members

    settings, services = _start_services(_settings(), redis=False)
    rejects = rejects or file.with_suffix(".rejects.csv")
    on_terminal = sys.stderr.isatty()

    def progress(rows: int) -> None:
        if on_terminal:
            click.echo(f"\r{rows:,} rows", nl=False, err=True)

    try:
        install_domain_hooks(settings)
        summary = _with_engine(
            settings,
            lambda engine: import_members(
                engine,
                file,
                rejects=rejects,
                identity_config=identity_config(settings),
                ledger_config=ledger_config(settings),
                now=datetime.now(UTC),
                progress=progress,
            ),
        )
    finally:
        services.stop()
    if on_terminal:
        click.echo("", err=True)
    for line in summary.lines():
        click.echo(line)
    click.echo(f"rejected rows: {rejects}")


@import_group.command("purchases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--award-points/--no-award-points",
    default=False,
    show_default=True,
    help="Credit each imported purchase's points (AVAILABLE, expiring 12 months after it).",
)
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path))
def import_purchases_command(file: Path, award_points: bool, rejects: Path | None) -> None:
    """Historical purchases (columns: README); receipts already in the hub are skipped."""
    from hub.api.member_inputs import identity_config
    from hub.cli import _settings, _start_services, _with_engine
    from hub.wiring import ingest_config, install_domain_hooks, ledger_config
    from sync.importer.purchases import import_purchases

    settings, services = _start_services(_settings(), redis=False)
    rejects = rejects or file.with_suffix(".rejects.csv")
    on_terminal = sys.stderr.isatty()

    def progress(rows: int) -> None:
        if on_terminal:
            click.echo(f"\r{rows:,} rows", nl=False, err=True)

    try:
        install_domain_hooks(settings)
        summary = _with_engine(
            settings,
            lambda engine: import_purchases(
                engine,
                file,
                rejects=rejects,
                identity_config=identity_config(settings),
                ledger_config=ledger_config(settings),
                earning=ingest_config(settings).earning,
                award_points=award_points,
                now=datetime.now(UTC),
                progress=progress,
            ),
        )
    finally:
        services.stop()
    if on_terminal:
        click.echo("", err=True)
    for line in summary.lines():
        click.echo(line)
    click.echo(f"rejected rows: {rejects}")
