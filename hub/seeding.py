"""Demo data for a fresh hub (``memberhub seed``, ``memberhub serve --demo``)."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db.engine import create_session_factory
from hub.settings import Settings
from hub.wiring import build_event_bus, ingest_config, intelligence_programme
from identity.tables import members
from ledger.verify import verify_ledger
from sync.demo import DemoClock, Progress, no_progress, seed_demo


async def seed_hub(
    engine: AsyncEngine,
    settings: Settings,
    count: int,
    random_seed: int,
    progress: Progress = no_progress,
) -> list[str]:
    """Seed, then verify the ledger; answers the summary lines to print."""
    # The ledger dates what it posts for identity events by the step being written.
    sessions = create_session_factory(engine, build_event_bus(settings, DemoClock()))
    summary = await seed_demo(
        sessions,
        members=count,
        ingest_config=ingest_config(settings),
        intelligence=intelligence_programme(settings),
        random_seed=random_seed,
        progress=progress,
    )
    progress("ledger verification", 0, 1)
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        report = await verify_ledger(session=session)
    return [*summary.lines(), report.summary()]


async def hub_is_empty(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return not await connection.scalar(select(func.count()).select_from(members))
