"""The servers a test session runs on are versions the hub supports (docs/operations.md):
CI runs the suite on the oldest supported PostgreSQL and a subset on the newest."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy import text

#: Keep in step with docs/operations.md, "Supported server versions".
POSTGRES_MAJORS = range(15, 19)
REDIS_VERSIONS = ((6, 2), (7, 99))


async def test_the_postgresql_server_is_a_supported_version(engine):
    async with engine.connect() as connection:
        number = int(await connection.scalar(text("SHOW server_version_num")))

    assert number // 10_000 in POSTGRES_MAJORS, number


async def test_the_redis_server_is_a_supported_version(redis: Redis):
    version = (await redis.info("server"))["redis_version"]
    major_minor = tuple(int(part) for part in str(version).split(".")[:2])

    assert REDIS_VERSIONS[0] <= major_minor <= REDIS_VERSIONS[1], version
