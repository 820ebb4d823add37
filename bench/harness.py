"""What every HTTP benchmark needs: a scratch database, servers in child processes, wrk.

Servers and the load generator run as separate processes on this machine, side by side on
the same database, so that a ratio between two of them holds on a noisy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hub.db.engine import create_engine
from hub.db.migrate import migrate

SERVER_URL = os.environ.get(
    "MEMBERHUB_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("MEMBERHUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")


def database_url(name: str) -> str:
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


async def fresh_database(name: str) -> str:
    """Drop and create ``name`` on the benchmark server, migrated to head."""
    admin = create_engine(SERVER_URL, pool_size=1, max_overflow=0)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    url = database_url(name)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def cpu_tree_seconds(self) -> float:
        """CPU the server's processes have used so far, workers that exited included."""
        return tree_cpu_seconds(psutil.Process(self.process.pid))

    def rss_tree_mb(self) -> float:
        try:
            root = psutil.Process(self.process.pid)
            procs = [root, *root.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs) / 2**20
        except psutil.NoSuchProcess:
            return 0.0


def tree_cpu_seconds(root: psutil.Process) -> float:
    """CPU of ``root`` and its live descendants, plus what its reaped children used."""
    total = 0.0
    for process in (root, *root.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
            if process is root:
                total += times.children_user + times.children_system
    return total


async def postmaster(dsn: str) -> psutil.Process:
    """The PostgreSQL server process behind ``dsn`` (it runs on this machine): the parent
    of a backend; its tree's CPU (``tree_cpu_seconds``) is what the server has used."""
    connection = await asyncpg.connect(dsn)
    try:
        backend = psutil.Process(await connection.fetchval("SELECT pg_backend_pid()"))
        return psutil.Process(backend.ppid())
    finally:
        await connection.close()


@contextmanager
def server(name: str, argv: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (the child writes it until stopped)
        prefix=f"bench-{name}-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: see {log.name}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: see {log.name}")
            time.sleep(0.2)
        yield Server(name, url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def load_arguments(description: str) -> argparse.ArgumentParser:
    """The options every wrk benchmark takes; each adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    return parser


#: A rate limit that never refuses: the limiter still runs (leases from Redis).
NO_LIMIT = {"rate": 1e9, "burst": 10**9}


def hub_server(
    database_url: str,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    tree: Path | None = None,
) -> AbstractContextManager[Server]:
    """``memberhub serve`` on a free port, on ``database_url`` and the benchmark Redis,
    logging warnings only; ``env`` adds settings. ``tree`` serves the code of another
    checkout (``bench.versions``) instead of the installed one."""
    port = free_port()
    options = ["serve", "--no-migrate", "--port", str(port), "--workers", str(workers)]
    settings = {
        "MEMBERHUB_DATABASE_URL": database_url,
        "MEMBERHUB_REDIS_URL": REDIS_URL,
        "MEMBERHUB_LOG_LEVEL": "WARNING",
        # A served hub needs its deployment's secrets; a benchmark's are its own.
        "MEMBERHUB_PHONE_HASH_SALT": "bench-phone-hash-salt",
        "MEMBERHUB_TOKEN_SECRET": "bench-token-secret-of-at-least-32-chars",
        **(env or {}),
    }
    if tree is None:
        return server("hub", [str(Path(PYTHON).with_name("memberhub")), *options], settings, port)
    # -P: the working directory must not come before the tree's code on the path.
    command = f"from {_cli_module(tree)} import main; main()"
    settings["PYTHONPATH"] = str(tree)
    return server(f"hub-{tree.name}", [PYTHON, "-P", "-c", command, *options], settings, port)


def _cli_module(tree: Path) -> str:
    """The module of that checkout's ``memberhub`` command (it moved between versions)."""
    found = re.search(r'^memberhub = "([\w.]+):main"', (tree / "pyproject.toml").read_text(), re.M)
    assert found, f"no memberhub script in {tree}/pyproject.toml"
    return found.group(1)


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int = 0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(
    url: str,
    script: Path,
    *,
    connections: int,
    seconds: int,
    threads: int = 2,
    env: dict[str, str] | None = None,
) -> LoadResult:
    """One wrk run; wrk (C, event loop) keeps the load generator off the servers' code path."""
    completed = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    out = completed.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return LoadResult(rps, p50, p99, int(bad.group(1)) if bad else 0, total)


def median_result(results: list[LoadResult]) -> LoadResult:
    return LoadResult(
        statistics.median(r.requests_per_second for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.non_2xx for r in results),
        sum(r.requests for r in results),
    )


class PeakRss:
    """Samples a server's resident memory (its process tree) while load runs."""

    def __init__(self, target: Server, interval: float = 0.1) -> None:
        self._target = target
        self._interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._target.rss_tree_mb())
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


PYTHON = sys.executable


async def timed(sessions, label: str, work, width: int = 44) -> float:  # type: ignore[no-untyped-def]
    """Run ``work(session)`` in one transaction; print and answer its seconds."""
    started = time.perf_counter()
    async with sessions.begin() as session:
        outcome = await work(session)
    elapsed = time.perf_counter() - started
    print(f"{label:{width}} {elapsed:8.1f} s   {outcome}")
    return elapsed
