"""Engine and session factory. Built by the app factory and the CLI, never at import time."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from bus.hooks import EventHooks, session_info
from hub.db.driver_session import DriverSession
from hub.db.driver_sql import Row


def async_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and answer the asyncpg form."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def create_engine(url: str, *, pool_size: int = 20, max_overflow: int = 10) -> AsyncEngine:
    return _create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        # A failed statement's message would carry its parameters into the logs: webhook
        # signing secrets, phone numbers.
        hide_parameters=True,
        # asyncpg's own statement cache makes repeated statements cheap. Rows read by
        # attribute as SQLAlchemy's do, for statements on the sessions' fast path.
        connect_args={
            "server_settings": {"application_name": "memberhub"},
            "record_class": Row,
        },
    )


def create_session_factory(
    engine: AsyncEngine, bus: EventHooks
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine`` whose events go to ``bus`` (built by ``hub.wiring``)."""
    return async_sessionmaker(
        engine,
        class_=DriverSession,
        expire_on_commit=False,
        autoflush=False,
        info=session_info(bus),
    )
