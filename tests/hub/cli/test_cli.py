"""The memberhub command against the test database."""

from __future__ import annotations

import csv
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
        "MEMBERHUB_PHONE_HASH_SALT": "test-phone-hash-salt",
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
        # Whichever worker answers the scrape, it counts the requests of both.
        scrapes = [httpx.get(f"{url}/metrics", timeout=10).text for _ in range(6)]
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert len(workers) == 2
    assert answers == [{"data": {"member": None}}] * 20
    ok = 'memberhub_graphql_requests_total{operation="anonymous",outcome="ok"} 20.0'
    assert all(ok in scrape for scrape in scrapes)


def test_version_names_the_package_version():
    from importlib.metadata import version

    result = subprocess.run(
        [sys.executable, "-m", "hub", "--version"], capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0
    assert result.stdout.strip() == f"memberhub, version {version('memberhub')}"


MEMBERS_HEADER = "phone,phone_verified,pos_system,pos_card,name,points_balance"


def test_import_exits_3_with_rejected_rows_in_file_rejects_csv_naming_their_columns(db, tmp_path):
    file = tmp_path / "members.csv"
    file.write_text(
        f"{MEMBERS_HEADER}\n"
        "13800138001,true,legacy,C-1,Li Wei,100\n"
        "12,true,legacy,C-2,Bad Phone,0\n"
        "13800138003,true,legacy,C-3,Wang, Fang,10\n"
        "13800138004,true,legacy,C-4,Zhao,lots\n"
    )

    result = memberhub(db, "import", "members", str(file))

    assert result.returncode == 3, result.stderr
    rejects = tmp_path / "members.csv.rejects.csv"
    assert rejects.exists() and not (tmp_path / "members.rejects.csv").exists()
    assert str(rejects) in result.stdout
    with rejects.open() as handle:
        reasons = {r["line"]: r["reason"] for r in csv.DictReader(handle)}
    assert set(reasons) == {"3", "4", "5"}
    assert reasons["3"].startswith("phone: ")
    assert reasons["4"].startswith("(extra column): 1 value(s) beyond")
    assert reasons["5"].startswith("points_balance: ")


def test_import_without_rejected_rows_exits_0(db, tmp_path):
    file = tmp_path / "members.csv"
    file.write_text(f"{MEMBERS_HEADER}\n13800138011,true,legacy,C-11,Li,5\n")

    result = memberhub(db, "import", "members", str(file))

    assert result.returncode == 0, result.stderr
    assert "rejected: 0" in result.stdout


def test_seed_shows_a_line_per_step_when_not_on_a_terminal(db):
    result = memberhub(db, "seed", "--members", "3")

    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stderr.splitlines() if line.endswith("...")]
    assert steps == [
        "stores...",
        "members (3)...",
        "settlement and expiry...",
        "RFM, lifecycle and tags...",
        "ledger verification...",
    ]


def test_outside_the_embedded_default_serve_refuses_to_start_without_salt_and_secret(db, redis_url):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MEMBERHUB_PHONE_HASH_SALT", "MEMBERHUB_TOKEN_SECRET")
    }
    env.update({"MEMBERHUB_DATABASE_URL": db, "MEMBERHUB_REDIS_URL": redis_url})
    worker = subprocess.run(
        [sys.executable, "-m", "hub", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    with_secret = subprocess.run(
        [sys.executable, "-m", "hub", "migrate"],
        env={**env, "MEMBERHUB_TOKEN_SECRET": "s", "MEMBERHUB_PHONE_HASH_SALT": " "},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert worker.returncode == 1
    assert worker.stderr.strip().splitlines() == [
        "Error: set MEMBERHUB_PHONE_HASH_SALT and MEMBERHUB_TOKEN_SECRET: outside the embedded "
        "default every process of a deployment must share them (see .env.example)"
    ]
    assert with_secret.returncode == 1
    assert "set MEMBERHUB_PHONE_HASH_SALT:" in with_secret.stderr


def test_serve_on_a_busy_port_says_so_in_one_line(db):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = memberhub(db, "serve", "--port", str(port))

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: the port is in use"
    ]


def test_serve_prints_its_url_once_listening_and_stops_quietly(db, tmp_path):
    import signal

    import httpx

    from tests.live_server import free_port

    port = free_port()
    env = {
        **os.environ,
        "MEMBERHUB_DATABASE_URL": db,
        "MEMBERHUB_DATA_DIR": str(tmp_path / "data"),
        "MEMBERHUB_LOG_LEVEL": "INFO",
        "MEMBERHUB_LOG_FORMAT": "json",
    }
    env.pop("MEMBERHUB_REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        # The URL is printed once the port is bound: it answers from then on.
        healthz = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)

    assert first.strip() == f"Member Hub on http://127.0.0.1:{port}/graphql (GraphiQL in a browser)"
    assert healthz.status_code == 200
    assert server.returncode == 0, err
    assert "shutdown failed" not in err.lower()
