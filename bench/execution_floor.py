"""What GraphQL execution alone costs a lookup: the lookup's shape with resolvers that do
no work, run by the hub's query plan and by graphql-core's executor under strawberry.

    python -m bench.execution_floor [--executions 50000] [--runs 5]

The stand-in schema has the lookup's shape (``member(identity: {type, value})`` with
``id``, ``tier { code }`` and ``points { available pending }``), an input built as the
hub builds ``IdentityInput``, and resolvers answering constants: no database, no HTTP,
no authentication. The document is parsed and validated once, as the hub's caches do, so
each figure is the CPU of coercing the variables and executing the operation and nothing
else. It is a floor under what the hub adds to the bare endpoint
(``bench.lookup_cpu``): a hub whose every other part cost nothing would still spend this.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import ExecutionResult, execute, parse, validate
from strawberry.execution.is_awaitable import optimized_is_awaitable

from bench.lookup import QUERY
from hub.api.direct_inputs import direct_input
from hub.execution.query_plans import compile_query


@strawberry.enum
class IdentityType(Enum):
    PHONE = "PHONE"
    POS_CARD = "POS_CARD"


@direct_input
@strawberry.input
class IdentityInput:
    type: IdentityType
    value: str
    namespace: str | None = None


@strawberry.type
class Tier:
    code: str


@strawberry.type
class Points:
    available: int
    pending: int


TIER = Tier(code="SILVER")
POINTS = Points(available=100, pending=20)


@strawberry.type
class Member:
    id: strawberry.ID

    @strawberry.field
    def tier(self) -> Tier:
        return TIER

    @strawberry.field
    def points(self) -> Points:
        return POINTS


MEMBER = Member(id=strawberry.ID("TWVtYmVyOjE="))


@strawberry.type
class Query:
    @strawberry.field
    async def member(self, identity: IdentityInput) -> Member | None:
        return MEMBER


Run = Callable[[dict[str, Any]], Awaitable[ExecutionResult]]


def runners() -> dict[str, Run]:
    schema = strawberry.Schema(query=Query)
    document = parse(QUERY)
    assert not validate(schema._schema, document)
    operation = document.definitions[0]
    plan = compile_query(schema._schema, document, operation)  # type: ignore[arg-type]
    assert plan is not None

    async def by_plan(variables: dict[str, Any]) -> ExecutionResult:
        return await plan.execute(variables, None)

    async def by_graphql_core(variables: dict[str, Any]) -> ExecutionResult:
        result = execute(
            schema._schema,
            document,
            variable_values=variables,
            executor_class=schema.execution_context_class,
            is_awaitable=optimized_is_awaitable,
        )
        return await result if isawaitable(result) else result

    return {"query plan": by_plan, "graphql-core": by_graphql_core}


async def cpu_per_execution(run: Run, executions: int) -> float:
    variables = [{"phone": f"+86{13_800_000_000 + n % 10_000}"} for n in range(executions)]
    started = time.process_time()
    for each in variables:
        result = await run(each)
        if result.errors:
            raise RuntimeError(result.errors)
    return (time.process_time() - started) / executions * 1e6


async def measure(args: argparse.Namespace) -> None:
    runs_of = runners()  # one schema and plan for the warm-up and every run
    figures: dict[str, list[float]] = {name: [] for name in runs_of}
    for run in runs_of.values():
        await cpu_per_execution(run, 2_000)  # warm-up
    for _ in range(args.runs):
        for name, run in runs_of.items():
            figures[name].append(await cpu_per_execution(run, args.executions))
    print(f"{args.runs} runs of {args.executions} executions each, medians")
    for name, runs in figures.items():
        listed = ", ".join(f"{r:.1f}" for r in runs)
        print(f"{name:12s} {statistics.median(runs):6.1f} µs an execution (runs: {listed})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
