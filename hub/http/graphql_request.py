"""Reading a GraphQL-over-HTTP request: media type negotiation and the request parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

#: Longest ``operationName``: it reaches log lines and metric labels.
MAX_OPERATION_NAME = 100
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class RequestError(Exception):
    """A request that cannot be executed; answered with ``status`` and no ``data``."""

    def __init__(self, message: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@dataclass(frozen=True)
class GraphQLParams:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when none can be served.

    Higher quality wins; on a tie the spec's preferred graphql-response+json wins.
    """
    if not accept:
        return JSON
    best: tuple[float, int] | None = None
    chosen: str | None = None
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if media in (GRAPHQL_RESPONSE, JSON):
            candidate = media
        elif media in ("*/*", "application/*"):
            candidate = JSON
        else:
            continue
        key = (quality, 1 if candidate == GRAPHQL_RESPONSE else 0)
        if quality > 0 and (best is None or key > best):
            best, chosen = key, candidate
    return chosen


def _json_param(raw: Any, name: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise RequestError(f"`{name}` is not valid JSON") from exc
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RequestError(f"`{name}` must be an object")
    return raw


def params_from(data: Any) -> GraphQLParams:
    if isinstance(data, list):
        raise RequestError("batched requests are not supported: send one operation per request")
    if not isinstance(data, dict):
        raise RequestError("the request body must be a JSON object")
    extensions = _json_param(data.get("extensions"), "extensions")
    query = data.get("query")
    # With a persisted query the text may be left out: the hash names it.
    if query is None and extensions and "persistedQuery" in extensions:
        query = ""
    if not isinstance(query, str) or (not query.strip() and not extensions):
        raise RequestError("`query` must be a non-empty string")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError("`operationName` must be a string")
    if operation_name is not None and len(operation_name) > MAX_OPERATION_NAME:
        raise RequestError(f"`operationName` takes at most {MAX_OPERATION_NAME} characters")
    return GraphQLParams(
        query=query,
        variables=_json_param(data.get("variables"), "variables"),
        operation_name=operation_name or None,
        extensions=extensions,
    )


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refused with 413 once it is over ``max_bytes``: by its declared length
    before reading anything, and counted while it streams (a chunked body declares none)."""
    too_large = RequestError(f"the request body is over {max_bytes} bytes", status=413)
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_params(request: Request, max_bytes: int = 1_048_576) -> GraphQLParams:
    if request.method == "GET":
        return params_from(dict(request.query_params))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestError("send the request as application/json", status=415)
    body = await read_body(request, max_bytes)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError("the request body is not valid JSON") from exc
    return params_from(data)
