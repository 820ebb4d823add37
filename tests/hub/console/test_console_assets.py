"""The console's files as the hub serves them and as the package ships them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hub.console import STATIC

ROOT = Path(__file__).resolve().parents[3]


async def test_the_console_is_served_with_a_policy_that_allows_only_the_hub(live_http):
    bare = await live_http.get("/console")
    index = await live_http.get("/console/")
    script = await live_http.get("/console/js/main.js")
    missing = await live_http.get("/console/js/nothing.js")

    assert bare.status_code == 308 and bare.headers["location"].endswith("/console/")
    assert index.status_code == 200 and 'src="js/main.js"' in index.text
    policy = index.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert missing.status_code == 404


def test_every_console_file_is_package_data():
    """A wheel carries only what package-data names: an unlisted file would 404 when
    installed from PyPI though it works from a checkout."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["hub"]
    shipped = {path for pattern in patterns for path in (ROOT / "hub").glob(pattern)}
    files = [path for path in STATIC.rglob("*") if path.is_file()]
    assert files
    assert [path for path in files if path not in shipped] == []


def test_no_console_file_loads_anything_from_another_host():
    for path in STATIC.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), path
            assert "https://" not in text, path
