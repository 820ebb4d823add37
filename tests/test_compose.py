"""The compose stack: its settings file, one image for every service, a small build context."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"


def env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_compose_config_passes_with_env_example(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEMBERHUB_", "POSTGRES_"))}

    result = subprocess.run(
        ["docker-compose", "--env-file", ".env.example", "config", "-q"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    missing = subprocess.run(
        ["docker-compose", "--env-file", str(empty), "config", "-q"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert missing.returncode != 0
    assert "set MEMBERHUB_" in missing.stderr


def test_env_example_names_every_variable_the_compose_file_reads():
    read = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))

    assert read - set(env_example()) == set()
    assert {"MEMBERHUB_TOKEN_SECRET", "MEMBERHUB_PHONE_HASH_SALT"} <= read


def test_env_example_leaves_the_secrets_to_fill_in():
    values = env_example()

    assert values["MEMBERHUB_TOKEN_SECRET"] == ""
    assert values["MEMBERHUB_PHONE_HASH_SALT"] == ""


def test_one_image_is_built_and_run_as_migrate_hub_and_worker():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    hub_services = ("migrate", "hub", "worker")

    assert [name for name, service in services.items() if "build" in service] == ["migrate"]
    assert len({services[name]["image"] for name in hub_services}) == 1
    assert all(services[name].get("pull_policy") == "never" for name in ("hub", "worker"))


def test_dockerignore_sends_only_the_package_to_the_builder():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line for line in lines if line and not line.startswith("#")]

    assert patterns[0] == "*"
    allowed = {p[1:] for p in patterns if p.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "hub/", "identity/", "ledger/", "sync/"}
