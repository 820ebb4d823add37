"""Running dramatiq workers: in their own process (`memberhub worker`) or inside `serve`."""

from __future__ import annotations

import logging
import signal
import threading

from dramatiq import Broker, Worker

log = logging.getLogger(__name__)


def start_worker(broker: Broker, *, threads: int) -> Worker:
    """Start consuming every declared queue in background threads; stop with ``worker.stop()``."""
    broker.emit_after("process_boot")
    worker = Worker(broker, worker_threads=threads)
    worker.start()
    log.info("worker started: %d threads, queues %s", threads, sorted(broker.get_declared_queues()))
    return worker


def stop_worker(worker: Worker, broker: Broker) -> None:
    """Finish in-flight messages (unacknowledged ones return to their queue), then stop."""
    worker.stop(timeout=30_000)
    broker.emit_before("process_stop")
    broker.close()


def run_worker_forever(broker: Broker, *, threads: int) -> None:
    """Block until SIGINT/SIGTERM, then shut down gracefully."""
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    worker = start_worker(broker, threads=threads)
    try:
        stopping.wait()
    finally:
        log.info("worker stopping")
        stop_worker(worker, broker)
