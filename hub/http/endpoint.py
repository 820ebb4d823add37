"""GraphQL over HTTP: authentication, media types and status codes around schema execution.

Follows the GraphQL-over-HTTP specification: ``application/graphql-response+json`` when the
client accepts it (request errors then answer 400), ``application/json`` otherwise (200 for
every well-formed request); GET runs queries only; a request without valid credentials is
refused with 401 before anything is parsed.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any

import orjson
import structlog
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)
from starlette.requests import Request
from starlette.responses import Response

from hub.execution.context import Context
from hub.execution.execute import execute_document, with_code
from hub.execution.query_plans import QueryPlan, compile_query
from hub.http.auth import bearer_token
from hub.http.graphiql import graphiql_page
from hub.http.graphql_request import (
    GRAPHQL_RESPONSE,
    JSON,
    MAX_OPERATION_NAME,
    GraphQLParams,
    RequestError,
    negotiate,
    read_params,
)
from hub.http.limits import (
    CostExceeded,
    QueryLimits,
    limit_rules,
    query_cost,
    uses_introspection,
)
from hub.http.persisted_queries import PersistedQueries, PersistedQueryError
from hub.http.principal import Principal
from hub.http.rate_limit import Allowance, RateLimiter

log = structlog.get_logger("memberhub.request")
#: The stdlib logger behind ``log`` (``hub.log`` routes structlog through logging), asked
#: for its level directly: structlog's own loggers answer that differently per config.
_request_logger = logging.getLogger("memberhub.request")


class DocumentCache:
    """Parsed and validated documents by query text, and their compiled query plans, so a
    repeated query costs execution only.

    Validation includes the depth and alias limits; the token limit bounds the parser.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: QueryLimits,
        maxsize: int = 1024,
        *,
        plans: bool = True,
    ) -> None:
        self._schema = schema
        self._limits = limits
        self._rules = (*specified_rules, *limit_rules(limits))
        self.parse = lru_cache(maxsize=maxsize)(self._parse)
        self.validate = lru_cache(maxsize=maxsize)(self._validate)
        self.introspects = lru_cache(maxsize=maxsize)(self._introspects)
        self._plans = plans
        self.plan = lru_cache(maxsize=maxsize)(self._plan)

    def _parse(self, query: str) -> DocumentNode | GraphQLError:
        try:
            return parse(query, max_tokens=self._limits.max_tokens)
        except GraphQLError as error:
            return with_code(error, "GRAPHQL_PARSE_FAILED")

    def _validate(self, query: str) -> tuple[GraphQLError, ...]:
        document = self.parse(query)
        if isinstance(document, GraphQLError):
            return (document,)
        errors = validate(self._schema, document, self._rules)
        # The limit rules name their own codes; the specification's rules get Apollo's.
        return tuple(with_code(error, "GRAPHQL_VALIDATION_FAILED") for error in errors)

    def _introspects(self, query: str) -> bool:
        document = self.parse(query)
        return not isinstance(document, GraphQLError) and uses_introspection(document)

    def _plan(self, query: str, operation_name: str | None) -> QueryPlan | None:
        """The plan of a valid document's operation, or None to run it on graphql-core."""
        if not self._plans:
            return None
        document = self.parse(query)
        assert not isinstance(document, GraphQLError)
        operation = find_operation(document, operation_name)
        return None if operation is None else compile_query(self._schema, document, operation)


def find_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def _refusal(
    message: str,
    extensions: dict[str, Any],
    status: int,
    headers: dict[str, str],
) -> Response:
    """A request refused before GraphQL sees it (401, 429)."""
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


class GraphQLEndpoint:
    """The ``/graphql`` route of one app."""

    def __init__(self, hub: Any) -> None:
        # ``hub`` is the app's HubState; typed loosely to keep this module free of app wiring.
        self.hub = hub
        settings = hub.settings
        self.limits = QueryLimits(
            max_depth=settings.query_max_depth,
            max_aliases=settings.query_max_aliases,
            max_tokens=settings.query_max_tokens,
            max_cost=settings.query_max_cost,
            max_page_size=settings.query_max_page_size,
        )
        self.documents = DocumentCache(hub.schema._schema, self.limits, plans=settings.query_plans)
        self.rate_limiter = RateLimiter(hub.redis, namespace=settings.redis_namespace)
        self.persisted = PersistedQueries(hub.redis, namespace=settings.redis_namespace)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        if (
            request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            return graphiql_page(request.url.path)
        principal = await self.hub.authenticator.authenticate(
            bearer_token(request.headers.get("authorization")), now=self.hub.clock.now()
        )
        if principal is None:
            self.hub.metrics.unauthenticated.inc()
            return _refusal(
                "missing, unknown or revoked credentials",
                {"code": "UNAUTHENTICATED"},
                401,
                {"WWW-Authenticate": 'Bearer realm="memberhub"'},
            )
        allowance = await self._take_token(principal)
        if not allowance.allowed:
            self.hub.metrics.rate_limited.labels(principal.kind.value).inc()
            return _refusal(
                "rate limit exceeded",
                {
                    "code": "RATE_LIMITED",
                    "retryable": True,
                    "retryAfterSeconds": allowance.retry_after_seconds,
                },
                429,
                {"Retry-After": str(allowance.retry_after_seconds)},
            )
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            return self._request_error(
                RequestError(
                    "this endpoint answers application/graphql-response+json or application/json",
                    406,
                ),
                JSON,
            )
        operation_name = "unknown"
        # A registered document's operation name may become a metrics label (when valid).
        persisted = False
        try:
            params = await read_params(request, self.hub.settings.max_body_bytes)
            operation_name = params.operation_name or "anonymous"
            try:
                query = await self.persisted.resolve(params.query or None, params.extensions)
            except PersistedQueryError as error:
                return self._graphql_errors(
                    [_error(str(error), error.code)], media_type, operation_name, started, principal
                )
            persisted = bool(params.extensions and "persistedQuery" in params.extensions)
            if not query:
                raise RequestError("`query` must be a non-empty string")
            document = self.documents.parse(query)
            if isinstance(document, GraphQLError):
                return self._graphql_errors(
                    [document], media_type, operation_name, started, principal
                )
            operation = find_operation(document, params.operation_name)
            if operation is not None and operation.name:
                operation_name = operation.name.value[:MAX_OPERATION_NAME]
            if (
                request.method == "GET"
                and operation is not None
                and operation.operation is not OperationType.QUERY
            ):
                raise RequestError(
                    "only queries run over GET; send mutations with POST", 405, {"Allow": "POST"}
                )
            errors = list(self.documents.validate(query))
            if not errors:
                errors = self._limit_errors(query, document, operation, params, principal)
            if errors:
                return self._graphql_errors(errors, media_type, operation_name, started, principal)
        except RequestError as error:
            self._observe(operation_name, "request_error", started, principal)
            return self._request_error(error, media_type)

        context = Context(
            principal=principal,
            clock=self.hub.clock,
            settings=self.hub.settings,
            redis=self.hub.redis,
            open_session=self.hub.session_factory,
            reads=self.hub.reads,
        )
        try:
            result = await execute_document(
                self.hub.schema,
                document,
                variables=params.variables,
                operation_name=params.operation_name,
                context=context,
                plan=self.documents.plan(query, params.operation_name),
            )
        finally:
            await context.close()
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        body["data"] = result.data
        outcome = "error" if result.errors else "ok"
        self._observe(operation_name, outcome, started, principal, persisted)
        return Response(orjson.dumps(body), media_type=media_type)

    async def _take_token(self, principal: Principal) -> Allowance:
        settings = self.hub.settings
        limit = settings.rate_limit_overrides.get(principal.name) or settings.rate_limits.get(
            principal.kind.value
        )
        if limit is None:
            return Allowance(True)
        subject = (
            f"member:{principal.member_id}"
            if principal.member_id is not None
            else f"client:{principal.client_id}"
        )
        return await self.rate_limiter.take(subject, rate=limit.rate, burst=limit.burst)

    def _limit_errors(
        self,
        query: str,
        document: DocumentNode,
        operation: OperationDefinitionNode | None,
        params: GraphQLParams,
        principal: Principal,
    ) -> list[GraphQLError]:
        if (
            self.documents.introspects(query)
            and not principal.is_admin
            and not self.hub.settings.introspection_for_all
        ):
            return [_error("introspection is for admin clients", "INTROSPECTION_DISABLED")]
        if operation is None:
            return []  # execution reports the missing or ambiguous operation
        try:
            cost = query_cost(
                document,
                operation,
                params.variables or {},
                self.limits,
                schema=self.hub.schema._schema,
            )
        except CostExceeded as error:
            return [_error(str(error), "QUERY_TOO_COMPLEX")]
        if cost > self.limits.max_cost:
            return [
                _error(
                    f"query cost {cost} is over the limit of {self.limits.max_cost}",
                    "QUERY_TOO_COMPLEX",
                )
            ]
        return []

    def _graphql_errors(
        self,
        errors: list[GraphQLError],
        media_type: str,
        operation: str,
        started: float,
        principal: Principal,
    ) -> Response:
        """Failures before execution: no ``data``; 400 for graphql-response+json."""
        self._observe(operation, "invalid", started, principal)
        status = 400 if media_type == GRAPHQL_RESPONSE else 200
        return Response(
            orjson.dumps({"errors": [e.formatted for e in errors]}),
            status_code=status,
            media_type=media_type,
        )

    @staticmethod
    def _request_error(error: RequestError, media_type: str) -> Response:
        return Response(
            orjson.dumps({"errors": [{"message": str(error)}]}),
            status_code=error.status,
            media_type=media_type,
            headers=error.headers,
        )

    def _observe(
        self,
        operation: str,
        outcome: str,
        started: float,
        principal: Principal,
        persisted: bool = False,
    ) -> None:
        elapsed = time.perf_counter() - started
        metrics = self.hub.metrics
        metrics.observe(metrics.operations.label(operation, persisted=persisted), outcome, elapsed)
        if not _request_logger.isEnabledFor(logging.INFO):
            return  # below the level, skip building the line
        log.info(
            "graphql",
            operation=operation,
            client=principal.name,
            kind=principal.kind.value,
            outcome=outcome,
            duration_ms=round(elapsed * 1000, 2),
        )
