"""The app as an import string, for uvicorn's worker processes (``serve --workers N``).

Each worker builds its own app from the environment; ``serve`` puts the URLs it resolved
(embedded servers included) there before the workers start.
"""

from __future__ import annotations

from starlette.applications import Starlette

from hub.http.app import create_app
from hub.log import configure_logging
from hub.settings import Settings


def app_from_environment() -> Starlette:
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)
