"""A real HTTP server on 127.0.0.1 in a background thread, for tests that need one
(external audit tools, fake third-party APIs, webhook receivers)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_in_thread(make_app: Callable[[], Any]) -> Iterator[str]:
    """Serve the ASGI app built by ``make_app`` (built inside the server's own event loop
    thread, so its connections belong to that loop); yield its base URL."""
    port = free_port()
    config = uvicorn.Config(make_app(), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
