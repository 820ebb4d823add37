"""Stopping a hub's background work lets the embedded Redis it ran on stop with it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psutil
from redis import Redis

from hub.background import build_background
from hub.db.embedded import ensure_services
from hub.settings import Settings


def _serve_and_stop(database_url: str, data_dir: Path) -> int:
    """What ``serve`` does around its requests: answer the embedded Redis server's pid."""
    services = ensure_services(database_url, None, data_dir)
    probe = Redis.from_url(services.redis_url)
    pid = int(probe.info()["process_id"])
    probe.connection_pool.disconnect()
    settings = Settings(
        database_url=database_url,
        redis_url=services.redis_url,
        redis_namespace="shutdown-test:",
        data_dir=data_dir,
    )
    background = build_background(settings, threads=1)
    background.start()
    time.sleep(0.5)  # the scheduler and the dispatcher have connected
    background.stop()
    services.stop()
    return pid


async def test_the_embedded_redis_stops_with_the_hub(database_url, tmp_path):
    pid = await asyncio.to_thread(_serve_and_stop, database_url, tmp_path)

    for _ in range(50):
        if not psutil.pid_exists(pid):
            break
        await asyncio.sleep(0.1)
    left_running = psutil.pid_exists(pid)
    if left_running:
        psutil.Process(pid).kill()  # not to leave it behind the failing test

    assert not left_running
