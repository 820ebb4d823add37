"""A test session on the embedded PostgreSQL (no MEMBERHUB_TEST_DATABASE_URL) stops it at the
end: nothing is left running after the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil


def postgres_processes_in(directory: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or ())
        if "postgres" in (process.info["name"] or "") and str(directory) in cmdline:
            found.append(process)
    return found


def test_a_session_on_the_embedded_postgres_stops_it_at_the_end():
    # A short directory: the server's Unix socket path must fit in about 100 characters.
    with tempfile.TemporaryDirectory(prefix="mh-") as short:
        run_a_session_in(Path(short))


def run_a_session_in(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MEMBERHUB_TEST_DATABASE_URL"}
    env["TMPDIR"] = str(tmp_path)  # the session's embedded servers live under it

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "tests/hub/db/test_migrations.py::test_migrations_up_from_empty_and_idempotent",
        ],
        cwd=Path(__file__).parents[3],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    pgdata = tmp_path / "memberhub-test-services" / "postgres"
    assert (pgdata / "PG_VERSION").exists()  # the session did start one
    assert not (pgdata / "postmaster.pid").exists()
    assert postgres_processes_in(tmp_path) == []
