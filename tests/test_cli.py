"""The memberhub command against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


def memberhub(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEMBERHUB_DATABASE_URL": database_url, "MEMBERHUB_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def db(database_url: str) -> str:
    return database_url


def test_clients_create_prints_key_alone_on_last_line_then_list_and_revoke(db):
    created = memberhub(
        db, "clients", "create", "--kind", "pos", "--name", "till-1", "--store", "S001"
    )
    as_json = memberhub(
        db,
        "clients",
        "create",
        "--kind",
        "partner",
        "--name",
        "acme",
        "--scope",
        "pii:read",
        "--json",
    )
    listed = memberhub(db, "clients", "list")
    revoked = memberhub(db, "clients", "revoke", "till-1")
    listed_after = memberhub(db, "clients", "list")

    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("mh_") and " " not in key
    partner = json.loads(as_json.stdout)
    assert partner["kind"] == "partner" and "pii:read" in partner["scopes"]
    assert partner["key"].startswith("mh_")
    assert "till-1" in listed.stdout and "acme" in listed.stdout
    assert key not in listed.stdout
    assert revoked.returncode == 0
    assert "till-1" not in listed_after.stdout


def test_clients_create_refuses_pos_without_store(db):
    result = memberhub(db, "clients", "create", "--kind", "pos", "--name", "till-2")

    assert result.returncode != 0
    assert "--store" in result.stderr


def test_schema_command_prints_sdl(db):
    result = memberhub(db, "schema")

    assert result.returncode == 0
    assert "type Query" in result.stdout


def test_serve_with_two_workers_answers_from_both_processes(db, redis_url, redis_namespace):
    import httpx

    from tests.live_server import free_port

    admin = memberhub(db, "clients", "create", "--kind", "admin", "--name", "ops-workers")
    key = admin.stdout.strip().splitlines()[-1]
    port = free_port()
    env = {
        **os.environ,
        "MEMBERHUB_DATABASE_URL": db,
        "MEMBERHUB_REDIS_URL": redis_url,
        "MEMBERHUB_REDIS_NAMESPACE": redis_namespace,
        "MEMBERHUB_TOKEN_SECRET": "test-token-secret",
        "MEMBERHUB_LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "hub", "serve", "--no-migrate", "--workers", "2"]
    server = subprocess.Popen([*argv, "--port", str(port)], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the hub did not start"
            time.sleep(0.2)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        workers = [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        query = '{ member(identity: {type: PHONE, value: "13800000000"}) { id } }'
        answers = [
            httpx.post(
                f"{url}/graphql",
                json={"query": query},
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            ).json()
            for _ in range(20)
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert len(workers) == 2
    assert answers == [{"data": {"member": None}}] * 20
