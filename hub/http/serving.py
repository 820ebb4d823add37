"""Serving the API: the listening socket, and uvicorn with one process or several."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
from typing import Any

import click

from hub.settings import Settings


def exit_quietly(signum: int, frame: Any) -> None:
    """A SIGTERM handler: leave like Ctrl-C does, through every ``finally`` on the way."""
    raise SystemExit(0)


def listen(host: str, port: int) -> socket.socket:
    """The bound, listening socket of ``serve``; a port in use is one clear line."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        listener = socket.socket(family, kind, proto)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(2048)
    except OSError as error:
        listener.close()
        reason = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None
    return listener


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def run_uvicorn(app: Any, settings: Settings, listener: socket.socket, workers: int) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if workers == 1:
        # The hub logs each request itself (``memberhub.request``).
        config = uvicorn.Config(app, log_config=None, access_log=False)
        uvicorn.Server(config).run(sockets=[listener])
        return
    # Worker processes read their settings from the environment, and share their metrics
    # through files in a directory of this process's own (prometheus-client's multiprocess
    # mode), removed when they stop.
    assert settings.database_url is not None and settings.redis_url is not None
    os.environ["MEMBERHUB_DATABASE_URL"] = settings.database_url
    os.environ["MEMBERHUB_REDIS_URL"] = settings.redis_url
    metrics_dir = tempfile.mkdtemp(prefix="memberhub-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        config = uvicorn.Config(
            "hub.http.asgi:app_from_environment",
            factory=True,
            workers=workers,
            log_config=None,
            access_log=False,
        )
        Multiprocess(config, sockets=[listener]).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
