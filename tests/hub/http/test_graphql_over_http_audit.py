"""The GraphQL-over-HTTP audit suite (npm graphql-http) against a live hub: all MUST and
SHOULD audits pass."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.http.app import create_app
from tests.live_server import serve_in_thread

AUDIT = Path(__file__).resolve().parents[2] / "compliance"


@pytest.fixture(scope="module")
def audit_tool() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the GraphQL-over-HTTP audit")
    if not (AUDIT / "node_modules" / "graphql-http").exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent"],
            cwd=AUDIT,
            check=True,
            timeout=300,
        )
    return AUDIT / "audit.mjs"


async def test_all_must_and_should_audits_pass(audit_tool, settings, new_key):
    key = await new_key("admin")

    with serve_in_thread(lambda: create_app(settings)) as base_url:
        process = await asyncio.create_subprocess_exec(
            "node",
            str(audit_tool),
            f"{base_url}/graphql",
            key,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)

    assert process.returncode == 0, stderr.decode()
    summary = json.loads(stdout.decode().strip().splitlines()[-1])
    assert summary["failures"] == []
    assert summary["MUST"] == {"ok": 13, "total": 13}
    assert summary["SHOULD"]["ok"] == summary["SHOULD"]["total"] > 0
