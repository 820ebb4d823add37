"""GraphiQL in a browser works offline: the page and everything it loads come from the hub."""

from __future__ import annotations

import re

import httpx

from hub.http.app import create_app
from tests.live_server import serve_in_thread

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def test_graphiql_page_loads_only_the_hubs_own_assets_and_each_answers_200(settings):
    with (
        serve_in_thread(lambda: create_app(settings)) as live_url,
        httpx.Client(base_url=live_url, timeout=30) as browser,
    ):
        page = browser.get("/graphql", headers={"Accept": "text/html"})
        urls = ASSET.findall(page.text)
        assets = [browser.get(url) for url in urls]

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert len(urls) == 4, urls
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "://" not in "".join(urls)
    assert [a.status_code for a in assets] == [200] * 4
    assert all(len(a.content) > 1000 for a in assets)
    assert {a.headers["content-type"].split(";")[0] for a in assets} == {
        "text/javascript",
        "text/css",
    }


async def test_graphiql_first_screen_says_where_the_key_goes_and_has_a_default_query(http):
    page = await http.get("/graphql", headers={"Accept": "text/html"})

    assert "Headers" in page.text and "Authorization" in page.text
    assert "Bearer YOUR_KEY" in page.text
    assert "query Tiers" in page.text


async def test_the_graphiql_default_query_answers_for_every_kind_of_key(http, new_key):
    from hub.http.graphiql import DEFAULT_QUERY

    for kind, options in [("admin", {}), ("pos", {"store": "S001"}), ("partner", {})]:
        key = await new_key(kind, **options)
        response = await http.post(
            "/graphql",
            json={"query": DEFAULT_QUERY},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert "errors" not in response.json(), (kind, response.json())
        assert response.json()["data"]["tiers"][0]["code"] == "REGULAR"


async def test_only_the_vendored_assets_are_served(http):
    assert (await http.get("/graphiql/../settings.py")).status_code == 404
    assert (await http.get("/graphiql/LICENSES.txt")).status_code == 404
