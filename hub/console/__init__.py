"""The operator console: static pages served at ``/console`` that call ``/graphql``.

Every asset ships in this package (no CDN, no build step). The pages hold no privilege of
their own: they sign in with an API key typed by the operator and send it to the public
API, so scopes and masking apply as for any client.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"

#: The pages may load and call nothing but the hub itself, and may not be framed.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate on each load, so that an upgraded hub serves its own pages at once.
    "Cache-Control": "no-cache",
}


class _WithHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _to_index(request: Request) -> Response:
    return RedirectResponse("/console/", status_code=308)


def _index_page(time_zone: str) -> bytes:
    # The programme's calendar, not the browser's, says which day "today" is: a period
    # the console proposes must end on the day the hub books purchases to.
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    zone = f'<meta name="memberhub-time-zone" content="{escape(time_zone)}">'
    return page.replace("<title>", zone + "\n  <title>", 1).encode()


def console_routes(time_zone: str) -> list[BaseRoute]:
    index = _index_page(time_zone)

    async def index_page(request: Request) -> Response:
        return HTMLResponse(index)

    return [
        Route("/console", _to_index, methods=["GET", "HEAD"]),
        Mount(
            "/console",
            app=_WithHeaders(
                Router(
                    [
                        Route("/", index_page, methods=["GET", "HEAD"]),
                        Route("/index.html", index_page, methods=["GET", "HEAD"]),
                        Mount("/", app=StaticFiles(directory=STATIC)),
                    ]
                )
            ),
        ),
    ]
