"""The memberhub command against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
