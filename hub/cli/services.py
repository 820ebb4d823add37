"""What every ``memberhub`` command that touches the database starts from: the settings,
the configured or embedded servers, and an up-to-date schema."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.db.embedded import EmbeddedServices, ensure_services
from hub.db.engine import create_engine, create_session_factory
from hub.log import configure_logging
from hub.settings import Settings

T = TypeVar("T")


def cli_settings() -> Settings:
    settings = Settings()
    configure_logging(settings)
    return settings


def start_services(
    settings: Settings, *, redis: bool, run_migrations: bool = True
) -> tuple[Settings, EmbeddedServices]:
    """Use the configured URLs; start embedded servers for the ones not set; bring the
    database schema up to date (idempotent, serialised by an advisory lock)."""
    from hub.db.migrate import migrate
    from hub.setting_promotions import import_setting_promotions

    missing = settings.missing_deployment_secrets()
    if missing:
        raise click.ClickException(
            f"set {' and '.join(missing)}: outside the embedded default every process of a "
            "deployment must share them (see .env.example)"
        )
    services = ensure_services(
        settings.database_url,
        settings.redis_url if redis else (settings.redis_url or "redis://unused"),
        settings.data_dir,
    )
    update: dict[str, Any] = {"database_url": services.database_url}
    if redis:
        update["redis_url"] = services.redis_url
    settings = settings.model_copy(update=update)
    if not run_migrations:
        return settings, services
    try:
        with_engine(settings, migrate)
        in_transaction(
            settings,
            lambda s: import_setting_promotions(s, settings, now=datetime.now(UTC)),
        )
    except BaseException:
        services.stop()
        raise
    return settings, services


def with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        assert settings.database_url is not None
        engine = create_engine(settings.database_url, pool_size=2, max_overflow=2)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run(engine: AsyncEngine) -> T:
        from hub.wiring import build_event_bus

        sessions = create_session_factory(engine, build_event_bus(settings))
        async with sessions() as session, session.begin():
            return await work(session)

    return with_engine(settings, run)


@contextmanager
def services_for(*, redis: bool) -> Iterator[Settings]:
    """The settings with the URLs of the servers in use (embedded ones started for the URLs
    not set, and stopped at the end), the schema migrated."""
    settings, services = start_services(cli_settings(), redis=redis)
    try:
        yield settings
    finally:
        services.stop()


def report_verification(check: Callable[..., Awaitable[Any]]) -> None:
    """Run ``check(session=…)`` in one read-only snapshot of a ledger that may be written
    meanwhile, print its summary, and exit 1 when it found a break."""
    from sqlalchemy import text

    async def verify(session: AsyncSession) -> Any:
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        return await check(session=session)

    with services_for(redis=False) as settings:
        report = in_transaction(settings, verify)
    click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)
