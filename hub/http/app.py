"""The ASGI app factory: ``create_app(settings)`` wires engine, Redis, auth and schema."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from prometheus_client.multiprocess import mark_process_dead
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.clock import Clock, SystemClock
from hub.console import console_routes
from hub.db.engine import create_engine, create_session_factory
from hub.db.read_pool import ReadPool
from hub.execution.schema import build_schema
from hub.http.auth import Authenticator, bearer_token
from hub.http.endpoint import GraphQLEndpoint
from hub.http.graphiql import ASSETS_PATH, graphiql_asset
from hub.http.metrics import Metrics, multiprocess
from hub.http.metrics_sources import refresh_metrics
from hub.http.receipts import ReceiptEndpoints
from hub.settings import Settings
from hub.wiring import build_event_bus, campaign_config
from identity.lookup import active_member_id

#: Allocations between two collections of the youngest generation (Python's default: 700).
GC_YOUNG_THRESHOLD = 20_000


@dataclass
class HubState:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    reads: ReadPool
    redis: Redis
    authenticator: Authenticator
    metrics: Metrics
    clock: Clock
    schema: strawberry.Schema


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _check(name: str, probe: Any) -> tuple[str, str]:
    try:
        async with asyncio.timeout(2):
            await probe()
    except Exception as error:  # any failure means "not ready"; the type says which
        return name, f"unavailable: {type(error).__name__}"
    return name, "ok"


def _cors(settings: Settings) -> list[Middleware]:
    """Browsers on the listed origins may call the API; none when the list is empty."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    ]


def create_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    redis: Redis | None = None,
    clock: Clock | None = None,
) -> Starlette:
    """Build the app. Given ``engine``/``redis`` are borrowed (tests); otherwise the app
    creates them from the settings' URLs and disposes of them at shutdown."""
    owns_engine = engine is None
    owns_redis = redis is None
    if engine is None:
        if settings.database_url is None:
            raise ValueError("create_app needs a database URL (the CLI starts an embedded one)")
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
    if redis is None:
        if settings.redis_url is None:
            raise ValueError("create_app needs a Redis URL (the CLI starts an embedded one)")
        redis = Redis.from_url(settings.redis_url)
    session_factory = create_session_factory(engine, build_event_bus(settings, clock))
    reads = ReadPool(engine.url.render_as_string(hide_password=False), size=settings.db_pool_size)
    state = HubState(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        reads=reads,
        redis=redis,
        authenticator=Authenticator(
            session_factory,
            read=reads.execute,
            token_secret=settings.resolved_token_secret(),
            resolve_member=active_member_id,
            cache_seconds=settings.auth_cache_seconds,
        ),
        metrics=Metrics(known_operations=frozenset(settings.metrics_operations)),
        clock=clock or SystemClock(),
        schema=build_schema(),
    )
    graphql = GraphQLEndpoint(state)
    wechat_sender = campaign_config(settings).wechat
    receipts = ReceiptEndpoints(
        session_factory=session_factory,
        now=state.clock.now,
        sms_secret=(
            settings.sms_receipt_secret.get_secret_value().encode()
            if settings.sms_receipt_secret
            else None
        ),
        wechat_token=(
            settings.wechat_push_token.get_secret_value() if settings.wechat_push_token else None
        ),
        wechat_app_id=wechat_sender.app_id if wechat_sender else None,
    )

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(request: Request) -> Response:
        async def postgres() -> None:
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        checks = dict(
            await asyncio.gather(_check("postgres", postgres), _check("redis", state.redis.ping))
        )
        ready = all(v == "ok" for v in checks.values())
        return _json(
            {"status": "ready" if ready else "unavailable", **checks}, 200 if ready else 503
        )

    async def metrics(request: Request) -> Response:
        await refresh_metrics(
            state.metrics,
            engine=state.engine,
            redis=state.redis,
            namespace=settings.redis_namespace,
        )
        return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")

    async def schema_file(request: Request) -> Response:
        """The SDL for any authenticated client: introspection stays an admin's, but a
        client developer's tools (codegen, gql, Relay) read the schema from here."""
        principal = await state.authenticator.authenticate(
            bearer_token(request.headers.get("authorization")), now=state.clock.now()
        )
        if principal is None:
            return Response(
                "missing, unknown or revoked credentials\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="memberhub"'},
            )
        return Response(state.schema.as_str() + "\n", media_type="text/plain; charset=utf-8")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Everything built so far lives as long as the process: out of the collector's
        # sight, full collections stop walking it (they were the p99's long pauses under load).
        gc.collect()
        gc.freeze()
        # A batch of purchases allocates some hundred thousand objects, nearly all freed by
        # reference counting when it is answered: collecting every 700 allocations walked
        # them again and again (a fifteenth of the hub's CPU under a till's load).
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        yield
        if multiprocess():
            # This worker's live gauges leave the shared figures with it.
            mark_process_dead(os.getpid())
        await state.reads.close()
        if owns_redis:
            await state.redis.aclose()
        if owns_engine:
            await state.engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql.handle, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/schema.graphql", schema_file),
            Route(ASSETS_PATH + "/{name}", graphiql_asset),
            *receipts.routes(),
            *console_routes(settings.time_zone),
        ],
        middleware=_cors(settings),
        lifespan=lifespan,
    )
    app.state.hub = state
    return app
