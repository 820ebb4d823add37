"""Every connection meets what Relay's ``@connection`` directive requires of the schema, so
relay-compiler accepts it on any of them; and PageInfo answers both ends of a page."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    get_named_type,
)

from hub.execution.schema import build_schema, schema_sdl
from tests.hub.api.members_graphql import card, created_member


def _unwrapped(type_):  # type: ignore[no-untyped-def]
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def connection_fields() -> list[tuple[str, str, object]]:
    schema = build_schema()._schema
    found = []
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            returned = get_named_type(field.type)
            if isinstance(returned, GraphQLObjectType) and returned.name.endswith("Connection"):
                found.append((type_.name, name, field))
    return found


def relay_problems(owner: str, name: str, field) -> list[str]:  # type: ignore[no-untyped-def]
    """What relay-compiler's connection validation would reject about ``owner.name``."""
    where = f"{owner}.{name}"
    problems = []
    args = field.args
    forward = "first" in args and "after" in args
    backward = "last" in args and "before" in args
    if not (forward or backward):
        problems.append(f"{where}: needs first/after or last/before arguments")
    connection = get_named_type(field.type)
    edges = connection.fields.get("edges")
    page_info = connection.fields.get("pageInfo")
    if edges is None or not isinstance(_unwrapped(edges.type), GraphQLList):
        problems.append(f"{where}: {connection.name}.edges must be a list")
    else:
        edge = get_named_type(edges.type)
        if not isinstance(edge, GraphQLObjectType):
            problems.append(f"{where}: {edge.name} must be an object")
        else:
            if "node" not in edge.fields:
                problems.append(f"{where}: {edge.name} needs node")
            cursor = edge.fields.get("cursor")
            if cursor is None or not isinstance(get_named_type(cursor.type), GraphQLScalarType):
                problems.append(f"{where}: {edge.name} needs a scalar cursor")
    if page_info is None:
        problems.append(f"{where}: {connection.name} needs pageInfo")
    else:
        info = get_named_type(page_info.type)
        expected = {
            "hasNextPage": "Boolean",
            "hasPreviousPage": "Boolean",
            "startCursor": "String",
            "endCursor": "String",
        }
        for field_name, scalar in expected.items():
            found = info.fields.get(field_name)
            if found is None or get_named_type(found.type).name != scalar:
                problems.append(f"{where}: PageInfo.{field_name} must be a {scalar}")
    return problems


def test_every_connection_meets_relays_connection_requirements():
    fields = connection_fields()

    assert len(fields) >= 4, fields
    problems = [p for owner, name, field in fields for p in relay_problems(owner, name, field)]
    assert problems == []


PAGES = """
query Page($after: String) {
  members(first: 2, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_page_info_names_both_ends_of_each_page(admin):
    for n in range(3):
        await created_member(admin, "POS", card(f"C-{n}"))

    first = (await admin.data(PAGES))["members"]
    second = (await admin.data(PAGES, after=first["pageInfo"]["endCursor"]))["members"]

    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": first["edges"][0]["cursor"],
        "endCursor": first["edges"][1]["cursor"],
    }
    assert second["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": second["edges"][0]["cursor"],
        "endCursor": second["edges"][0]["cursor"],
    }


TOOLS = Path(__file__).resolve().parents[2] / "compliance"


@pytest.fixture(scope="module")
def relay_compiler() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed to run relay-compiler")
    binary = TOOLS / "node_modules" / ".bin" / "relay-compiler"
    if not binary.exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent"],
            cwd=TOOLS,
            check=True,
            timeout=300,
        )
    return binary


def connection_fragments() -> str:
    """One fragment per connection field, paginated the way Relay's ``@connection`` asks;
    a field's required arguments (e.g. previewSegment's rule) are the fragment's too."""
    fragments = []
    for owner, name, field in connection_fields():
        required = [
            (arg_name, str(arg.type))
            for arg_name, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
        ]
        definitions = "".join(f', {arg}: {{type: "{type_}"}}' for arg, type_ in required)
        passed = "".join(f", {arg}: ${arg}" for arg, _ in required)
        fragments.append(
            "graphql`\n"
            f"  fragment Connections_{owner[0].lower()}{owner[1:]}{name[0].upper()}{name[1:]} on"
            f' {owner} @argumentDefinitions(count: {{type: "Int", defaultValue: 10}},'
            f' cursor: {{type: "String"}}{definitions}) {{\n'
            f"    {name}(first: $count, after: $cursor{passed})"
            f' @connection(key: "Connections_{name}") {{\n'
            "      edges { node { __typename } }\n"
            "    }\n"
            "  }\n"
            "`;\n"
        )
    return "\n".join(fragments)


def test_relay_compiler_accepts_connection_on_every_connection_field(relay_compiler, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "generated").mkdir()
    (tmp_path / "schema.graphql").write_text(schema_sdl())
    (tmp_path / "src" / "Connections.js").write_text(connection_fragments())
    config = {
        "src": "./src",
        "schema": "./schema.graphql",
        "language": "javascript",
        "artifactDirectory": "./generated",
    }
    (tmp_path / "relay.config.json").write_text(json.dumps(config))

    result = subprocess.run(
        [str(relay_compiler)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list((tmp_path / "generated").glob("Connections_*.graphql.js"))) == len(
        connection_fields()
    )
