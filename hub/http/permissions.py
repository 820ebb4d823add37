"""Scope checks, declared once per resolver with ``@requires(...)``.

A query field outside the caller's scopes is a top-level FORBIDDEN error; a mutation
answers its payload with a FORBIDDEN user error, as the contract says.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError

from hub.api.input_bounds import input_problems
from hub.errors import ErrorCode, UserError, user_error
from hub.http.principal import Principal, Scope
from hub.ids import InvalidGlobalId, decode_int_id


class ForbiddenError(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "FORBIDDEN"})


def _argument(kwargs: dict[str, Any], path: str) -> Any:
    value: Any = kwargs
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if value is None:
            return None
    return value


def acts_for_self(principal: Principal, member_global_id: Any) -> bool:
    """True when a member token names its own member."""
    if principal.member_id is None or not isinstance(member_global_id, str):
        return False
    try:
        return decode_int_id(member_global_id, "Member") == principal.member_id
    except InvalidGlobalId:
        return False


def allowed(principal: Principal, scopes: tuple[str, ...]) -> bool:
    return any(principal.has(scope) for scope in scopes)


class InvalidInputError(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "INVALID_INPUT"})


def bounds_errors(arguments: dict[str, Any]) -> list[UserError]:
    """INVALID_INPUT user errors for the values of ``arguments`` out of bounds."""
    return [
        user_error(ErrorCode.INVALID_INPUT, problem.message, problem.path)
        for problem in input_problems(arguments)
    ]


def requires(
    *scopes: Scope | str, self_member: str | None = None, itemwise: str | None = None
) -> Callable[[Any], Any]:
    """Allow callers holding any of ``scopes`` (``admin`` holds all), and only arguments
    within their bounds (``hub.api.input_bounds``): a mutation answers the values out of
    bounds as INVALID_INPUT user errors, a query as an INVALID_INPUT error.

    ``self_member`` names the argument (dotted for inputs, e.g. ``"input.member_id"``)
    holding a member ID: a member token whose member it is may call the field too.
    ``itemwise`` names a list argument whose items the resolver answers one by one, bounds
    included (``bounds_errors`` per item).
    """
    needed = tuple(str(s) for s in scopes)

    def decorate(resolver: Any) -> Any:
        signature = inspect.signature(resolver)
        if "info" not in signature.parameters:
            raise TypeError(f"{resolver.__name__} must take `info` to be scope-checked")

        payload_of: list[Any] = []  # the payload type, found on the first call (hints resolve late)

        @functools.wraps(resolver)
        async def checked(*args: Any, **kwargs: Any) -> Any:
            principal: Principal = kwargs["info"].context.principal
            if not payload_of:
                payload_of.append(_payload_type(resolver))
            payload = payload_of[0]
            if not (
                allowed(principal, needed)
                or (
                    self_member is not None
                    and acts_for_self(principal, _argument(kwargs, self_member))
                )
            ):
                message = f"this call needs the scope {' or '.join(needed)}"
                if payload is None:
                    raise ForbiddenError(message)
                return payload(user_errors=[user_error(ErrorCode.FORBIDDEN, message)])
            errors = bounds_errors(
                {k: v for k, v in kwargs.items() if k not in ("info", "self", itemwise)}
            )
            if errors:
                if payload is None:
                    raise InvalidInputError("; ".join(e.message for e in errors))
                return payload(user_errors=errors)
            result = resolver(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return checked

    return decorate


def _payload_type(resolver: Any) -> Any:
    """The mutation payload class a resolver returns, if it has ``user_errors``."""
    hints = typing.get_type_hints(resolver)
    returned = hints.get("return")
    definition = getattr(returned, "__strawberry_definition__", None)
    if definition is None:
        return None
    if any(f.python_name == "user_errors" for f in definition.fields):
        return returned
    return None


def require_scope(info: strawberry.Info, *scopes: Scope | str) -> Principal:
    """For a check that depends on data a resolver loads first (e.g. a POS's own store)."""
    principal: Principal = info.context.principal
    if not allowed(principal, tuple(str(s) for s in scopes)):
        raise ForbiddenError(f"this call needs the scope {' or '.join(map(str, scopes))}")
    return principal
