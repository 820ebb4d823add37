"""``memberhub jobs``: the messages that failed for good, and resending them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

T = TypeVar("T")


def _with_store(work: Callable[..., T]) -> T:
    """Run ``work(broker, store)`` against the configured (or embedded) Redis."""
    from hub.embedded import ensure_services
    from hub.log import configure_logging
    from hub.settings import Settings
    from sync.broker import create_broker, dead_letter_store

    settings = Settings()
    configure_logging(settings)
    # Only Redis is needed: a placeholder database URL keeps the embedded PostgreSQL off.
    services = ensure_services("postgresql://unused", settings.redis_url, settings.data_dir)
    try:
        broker = create_broker(services.redis_url, namespace=settings.redis_namespace)
        try:
            return work(broker, dead_letter_store(broker, namespace=settings.redis_namespace))
        finally:
            broker.close()
    finally:
        services.stop()


@click.group()
def jobs() -> None:
    """Background jobs: failed messages."""


@jobs.command("failed")
def jobs_failed() -> None:
    """List messages that failed after their retries, oldest first (tab-separated)."""
    letters = _with_store(lambda broker, store: store.list())
    if not letters:
        click.echo("no failed messages")
        return
    click.echo("id\tactor\targs\terror\tfailed_at")
    for letter in letters:
        error = letter.error.splitlines()[0] if letter.error else ""
        click.echo(
            f"{letter.message_id}\t{letter.actor_name}\t{letter.args_summary()}\t"
            f"{error}\t{letter.failed_at.isoformat()}"
        )


@jobs.command("retry")
@click.argument("message_id")
def jobs_retry(message_id: str) -> None:
    """Enqueue a failed message again, with its retries unused."""
    letter = _with_store(lambda broker, store: store.retry(broker, message_id))
    if letter is None:
        raise click.ClickException(f"no failed message {message_id}")
    click.echo(f"resent {letter.message_id} ({letter.actor_name})")


@jobs.command("run")
@click.argument("name")
def jobs_run(name: str) -> None:
    """Run one scheduled job now, in one transaction, as the scheduler would."""
    from datetime import UTC, datetime

    from hub.cli import _in_transaction, _settings, _start_services
    from hub.wiring import install_domain_hooks
    from sync.schedule import UnknownJob
    from sync.schedule import jobs as registry

    settings = _settings()
    install_domain_hooks(settings)
    try:
        job = registry.get(name)
    except UnknownJob as error:
        known = ", ".join(sorted(j.name for j in registry))
        raise click.ClickException(f"{error}; known jobs: {known}") from None
    settings, services = _start_services(settings, redis=False)
    try:
        result = _in_transaction(
            settings, lambda session: job.run(session=session, now=datetime.now(UTC))
        )
    finally:
        services.stop()
    click.echo(f"{name}: done" + (f" ({result})" if isinstance(result, int) else ""))
