"""Executing a parsed, validated document against the schema, with faults masked.

The HTTP layer parses and validates once per query text (``DocumentCache``), so execution
goes straight to the operation's compiled plan (``hub.execution.query_plans``) or to graphql-core
with
strawberry's execution context: the per-request extension machinery of
``strawberry.Schema.execute`` (its own parse, validate and mask hooks) would only repeat
that work.
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

import strawberry
import structlog
from graphql import DocumentNode, ExecutionResult, GraphQLError, execute
from strawberry.execution.is_awaitable import optimized_is_awaitable

from hub.execution.query_plans import QueryPlan

log = structlog.get_logger("memberhub.graphql")

#: What a client sees instead of a fault's message.
MASKED_MESSAGE = "Unexpected error."


def is_fault(error: GraphQLError) -> bool:
    """Errors raised for clients are GraphQLErrors; anything else is a fault to hide."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def log_error(error: GraphQLError) -> None:
    """Log an error of an operation by its path, never by the operation's text or
    variables (``str(error)`` quotes the query around it): both carry what callers send,
    phone numbers among it. A fault is logged with its traceback; an error the client was
    answered with is logged without its message, which may echo an input value."""
    path = ".".join(str(part) for part in error.path) if error.path else None
    if is_fault(error):
        original = error.original_error
        assert original is not None
        log.error(
            "graphql fault",
            path=path,
            error=type(original).__name__,
            exc_info=(type(original), original, original.__traceback__),
        )
    else:
        code = (error.extensions or {}).get("code")
        log.info("graphql error", path=path, code=code)


def _masked(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
    )


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """``error`` with ``extensions.code`` set to ``code`` unless it names one already."""
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _is_variable_error(error: GraphQLError) -> bool:
    # graphql-core reports values that do not fit the variables' types before executing;
    # both execution paths (plans and graphql-core) answer them this way.
    return error.path is None and error.message.startswith("Variable '$")


async def execute_document(
    schema: strawberry.Schema,
    document: DocumentNode,
    *,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: Any,
    plan: QueryPlan | None = None,
) -> ExecutionResult:
    """Run ``document`` (by its ``plan`` when it has one); faults are logged with their
    traceback and answered masked."""
    if plan is not None:
        result = await plan.execute(variables, context)
    else:
        executed = execute(
            schema._schema,
            document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            is_awaitable=optimized_is_awaitable,
            executor_class=schema.execution_context_class,
            operation_extensions=None,
        )
        result = await executed if isawaitable(executed) else executed
    assert isinstance(result, ExecutionResult)
    if result.errors:
        for error in result.errors:
            log_error(error)
        result.errors = [
            _masked(e)
            if is_fault(e)
            else with_code(e, "BAD_USER_INPUT")
            if _is_variable_error(e)
            else e
            for e in result.errors
        ]
    return result
