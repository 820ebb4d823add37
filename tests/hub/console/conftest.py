"""The console in a real browser: Debian's Chromium driven by Playwright, against the hub
served by uvicorn on a free port (the same live server as the trust-boundary tests)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, async_playwright

from tests.graphql_client import GraphQLClient
from tests.security.conftest import live_client, live_http, live_url  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # Root in a container has no user namespaces for Chromium's sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield launched
        await launched.close()


@dataclass
class Console:
    """A browser tab on the live hub's console, with every request it made."""

    page: Page
    base_url: str
    requests: list[str] = field(default_factory=list)

    async def open(self, path: str = "/console") -> None:
        await self.page.goto(self.base_url + path)

    async def sign_in(self, key: str) -> None:
        await self.open()
        await self.page.get_by_test_id("api-key").fill(key)
        await self.page.get_by_test_id("sign-in").click()
        await self.page.get_by_test_id("nav-dashboard").wait_for()

    async def screenshot(self, name: str, part: Locator | None = None) -> None:
        """Save the whole page (or one part of it) as ``name``.png in the folder named by
        MEMBERHUB_CONSOLE_SCREENSHOTS (docs/console/ for the docs); nothing when unset."""
        folder = os.environ.get("MEMBERHUB_CONSOLE_SCREENSHOTS")
        if not folder:
            return
        path = str(Path(folder) / f"{name}.png")
        if part is None:
            await self.page.screenshot(path=path, full_page=True)
        else:
            await part.screenshot(path=path)


@pytest.fixture
async def console(
    browser: Browser,
    live_url: str,  # noqa: F811
) -> AsyncIterator[Callable[..., Awaitable[Console]]]:
    contexts: list[BrowserContext] = []

    # The browser's clock is half a world from the programme's (Asia/Shanghai): on most hours
    # of the day the two calendars name different days, as for an operator abroad.
    async def make(locale: str = "en-GB", timezone_id: str = "Etc/GMT+12") -> Console:
        context = await browser.new_context(
            locale=locale, timezone_id=timezone_id, viewport={"width": 1360, "height": 900}
        )
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(15_000)
        opened = Console(page, live_url)
        page.on("request", lambda request: opened.requests.append(request.url))
        return opened

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture
async def api(live_client) -> GraphQLClient:  # type: ignore[no-untyped-def]  # noqa: F811
    return await live_client("admin", name="console-ops")
