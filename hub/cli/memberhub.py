"""The ``memberhub`` command: serve, migrate, worker, clients, schema."""

from __future__ import annotations

import json
import signal

import click
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cli.coupons import coupons
from hub.cli.imports import import_group
from hub.cli.jobs import jobs
from hub.cli.progress import StepProgress
from hub.cli.services import cli_settings as _settings
from hub.cli.services import in_transaction as _in_transaction
from hub.cli.services import start_services as _start_services
from hub.cli.services import with_engine as _with_engine
from hub.cli.stores import staff, stores
from hub.http.serving import exit_quietly, listen, run_uvicorn, url_host
from hub.settings import Settings


@click.group()
@click.version_option(package_name="memberhub", prog_name="memberhub")
def main() -> None:
    """Member Hub: one view of each customer across every channel."""


main.add_command(jobs)
main.add_command(import_group)
main.add_command(stores)
main.add_command(staff)
main.add_command(coupons)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Skip migrations (when the app's database role may not run DDL).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="On an empty hub, first write a demo programme of 1,000 members (see `seed`).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="API processes; one per core serves the most (each has its own pools).",
)
def serve(host: str, port: int, no_migrate: bool, demo: bool, workers: int) -> None:
    """Run migrations, then serve the API (and, in the embedded default, the worker)."""
    from hub.background import build_background
    from hub.http.app import create_app

    settings = _settings()
    embedded = settings.embedded
    # Bound first: a port in use fails in one line, before anything starts or is created
    # (the first admin key is shown only once).
    listener = listen(host, port)
    try:
        settings, services = _start_services(settings, redis=True, run_migrations=not no_migrate)
    except BaseException:
        listener.close()
        raise
    try:
        admin_key = _in_transaction(settings, _bootstrap_admin)
        if demo:
            _seed_if_empty(settings)
        # The app wires the domain hooks (and scheduled jobs) the background work runs.
        app = create_app(settings)
        background = None
        if embedded and settings.embedded_worker:
            background = build_background(settings)
            background.start()
        click.echo(f"Member Hub on http://{url_host(host)}:{port}/graphql (GraphiQL in a browser)")
        if admin_key:
            click.echo("First start: an admin client was created. Its key, shown only now:")
            click.echo(f"  {admin_key}")
        # SIGTERM (docker stop, systemd) ends like Ctrl-C: the embedded servers stop too.
        signal.signal(signal.SIGTERM, exit_quietly)
        try:
            run_uvicorn(app, settings, listener, workers)
        except KeyboardInterrupt:
            pass  # uvicorn has shut down; Ctrl-C is how a user stops it
        finally:
            if background is not None:
                background.stop()
    finally:
        listener.close()
        services.stop()


def _seed_if_empty(settings: Settings) -> None:
    from hub.seeding import hub_is_empty, seed_hub

    if not _with_engine(settings, hub_is_empty):
        click.echo("Demo data: the hub already has members; nothing written.")
        return
    click.echo("Writing a demo programme of 1,000 members (a few minutes)...")
    progress = StepProgress()
    try:
        lines = _with_engine(settings, lambda e: seed_hub(e, settings, 1_000, 7, progress))
    finally:
        progress.close()
    for line in lines:
        click.echo(f"  {line}")


async def _bootstrap_admin(session: AsyncSession) -> str | None:
    """On a hub with no clients at all, create one admin so the first user can get in."""
    from sqlalchemy import func, select

    from hub.clients import create_client
    from hub.http.principal import ClientKind
    from hub.tables import api_clients

    if await session.scalar(select(func.count()).select_from(api_clients)):
        return None
    _, key = await create_client(session, name="admin", kind=ClientKind.ADMIN)
    return key


@main.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations (alembic upgrade head)."""
    from hub.db.migrate import current_revision

    settings, services = _start_services(_settings(), redis=False)
    try:
        click.echo(f"database at revision {_with_engine(settings, current_revision)}")
    finally:
        services.stop()


@main.command()
@click.option("--threads", type=int, default=None, help="Worker threads (default: setting).")
def worker(threads: int | None) -> None:
    """Run the dramatiq workers, the scheduler and the outbox dispatcher until SIGINT/SIGTERM."""
    from hub.background import build_background
    from sync.jobs.worker import run_until_signalled

    settings, services = _start_services(_settings(), redis=True, run_migrations=False)
    try:
        run_until_signalled(build_background(settings, threads=threads))
    finally:
        services.stop()


@main.group()
def clients() -> None:
    """API clients: create, list, revoke."""


@clients.command("create")
@click.option("--kind", required=True, type=click.Choice(["admin", "pos", "partner", "frontend"]))
@click.option("--name", required=True)
@click.option("--store", "store_id", default=None, help="Store the client is bound to (POS).")
@click.option("--scope", "scopes", multiple=True, help="Extra scope, e.g. pii:read; repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead.")
def clients_create(
    kind: str, name: str, store_id: str | None, scopes: tuple[str, ...], as_json: bool
) -> None:
    """Create a client; its key is printed alone on the last line, and only now."""
    from hub.clients import ClientError, create_client
    from hub.http.principal import ClientKind

    settings, services = _start_services(_settings(), redis=False)
    try:
        client, key = _in_transaction(
            settings,
            lambda s: create_client(
                s, name=name, kind=ClientKind(kind), store_id=store_id, extra_scopes=scopes
            ),
        )
    except ClientError as error:
        raise click.ClickException(str(error)) from error
    finally:
        services.stop()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "name": client.name,
                    "kind": client.kind.value,
                    "scopes": list(client.scopes),
                    "store": client.store_id,
                    "key": key,
                }
            )
        )
        return
    click.echo(
        f"created {client.kind.value} client {client.name!r}"
        + (f" for store {client.store_id}" if client.store_id else "")
        + f" with scopes {', '.join(client.scopes)}; its key (shown once):"
    )
    click.echo(key)


@clients.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked clients.")
def clients_list(include_revoked: bool) -> None:
    """List clients (never their keys: those are only stored as hashes)."""
    from hub.clients import list_clients

    settings, services = _start_services(_settings(), redis=False)
    try:
        rows = _in_transaction(settings, lambda s: list_clients(s, include_revoked=include_revoked))
    finally:
        services.stop()
    for c in rows:
        state = f"revoked {c.revoked_at:%Y-%m-%d}" if c.revoked_at else "active"
        click.echo(
            f"{c.name}\t{c.kind.value}\t{c.store_id or '-'}\t{','.join(c.scopes)}\t"
            f"{c.key_prefix}…\t{state}"
        )


@clients.command("revoke")
@click.argument("name")
def clients_revoke(name: str) -> None:
    """Revoke a client's key; requests with it get 401 (after the auth cache, seconds)."""
    from hub.clients import ClientError, revoke_client

    settings, services = _start_services(_settings(), redis=False)
    try:
        _in_transaction(settings, lambda s: revoke_client(s, name=name))
    except ClientError as error:
        raise click.ClickException(str(error)) from error
    finally:
        services.stop()
    click.echo(f"revoked {name}")


@main.group()
def ledger() -> None:
    """The points ledger."""


@ledger.command("verify")
def ledger_verify() -> None:
    """Recompute every hash chain, balance and lot from the entries; exit 1 on a break."""
    from hub.cli.services import report_verification
    from ledger.verify import verify_ledger

    report_verification(verify_ledger)


@main.command()
@click.option("--members", default=1_000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--random-seed", default=7, show_default=True, help="The same seed, the same story.")
def seed(members: int, random_seed: int) -> None:
    """Fill the hub with a realistic demo programme (members, purchases, points, merges)."""
    from hub.seeding import seed_hub

    settings, services = _start_services(_settings(), redis=False)
    progress = StepProgress()
    try:
        lines = _with_engine(
            settings, lambda e: seed_hub(e, settings, members, random_seed, progress)
        )
    finally:
        progress.close()
        services.stop()
    for line in lines:
        click.echo(line)


@main.command()
def schema() -> None:
    """Print the SDL of the served schema."""
    from hub.execution.schema import schema_sdl

    click.echo(schema_sdl(), nl=False)
