"""``memberhub jobs``: running scheduled jobs now, the messages that failed for good, and
resending them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import click
from redis import Redis

from hub.cli.services import services_for

T = TypeVar("T")


def _with_store(work: Callable[..., T]) -> T:
    """Run ``work(broker, store)`` against the configured (or embedded) Redis."""
    from hub.db.embedded import ensure_services
    from hub.log import configure_logging
    from hub.settings import Settings
    from sync.jobs.broker import create_broker, dead_letter_store

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
    """Background jobs: run scheduled ones now; failed messages."""


@jobs.command("run")
@click.argument("name", required=False)
@click.option(
    "--all", "run_all", is_flag=True, help="Run every job that is due, as the scheduler would."
)
def jobs_run(name: str | None, run_all: bool) -> None:
    """Run the scheduled job NAME now, or with --all every job whose current period no
    scheduler has run yet (the scheduler then skips those periods)."""
    from hub.clock import SystemClock
    from hub.db.engine import create_engine, create_session_factory
    from hub.wiring import build_event_bus
    from sync.jobs.schedule import UnknownJob, run_due_jobs, run_job
    from sync.jobs.schedule import jobs as registry

    if run_all == (name is not None):
        raise click.UsageError("name one job, or give --all")
    with services_for(redis=run_all) as settings:
        bus = build_event_bus(settings)
        if name is not None:
            try:
                job = registry.get(name)
            except UnknownJob as error:
                known = ", ".join(sorted(j.name for j in registry))
                raise click.ClickException(f"{error} (jobs: {known})") from None

        async def run() -> list[str]:
            assert settings.database_url is not None
            engine = create_engine(settings.database_url, pool_size=2, max_overflow=2)
            sessions = create_session_factory(engine, bus)
            now = SystemClock().now()
            try:
                if name is not None:
                    await run_job(job, session_factory=sessions, now=now)
                    return [name]
                assert settings.redis_url is not None
                redis = Redis.from_url(settings.redis_url)
                try:
                    return await run_due_jobs(
                        registry,
                        redis=redis,
                        key_prefix=settings.redis_namespace,
                        session_factory=sessions,
                        now=now,
                    )
                finally:
                    redis.close()
            finally:
                await engine.dispose()

        ran = asyncio.run(run())
    click.echo(f"ran {len(ran)} job(s): {', '.join(ran) if ran else 'none was due'}")


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
