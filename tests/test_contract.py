"""The served schema keeps the contract clients rely on, and tests exercise all of it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    find_breaking_changes,
    parse,
    validate,
    visit,
)

from hub.execution.schema import build_schema as build_served_schema

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT.parent / "shared" / "contract" / "schema.graphql"
TESTS = Path(__file__).resolve().parent


def contract_schema() -> GraphQLSchema:
    # The contract beside the project; CI checkouts without it fall back to the copy kept
    # in the tests.
    source = CONTRACT if CONTRACT.exists() else TESTS / "contract.graphql"
    return build_schema(source.read_text())


def test_the_served_schema_has_no_breaking_change_against_the_contract():
    changes = find_breaking_changes(contract_schema(), build_served_schema()._schema)

    assert [f"{c.type.name}: {c.description}" for c in changes] == []


def _strings_in_tests() -> set[str]:
    """Module-level strings of every test module (documents are built with f-strings from
    shared pieces, so their values are read after import) and every literal in the tests."""
    found: set[str] = set()
    for path in TESTS.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        values = vars(importlib.import_module(module)).values()
        found.update(v for v in values if isinstance(v, str))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def operations_in_tests() -> list[DocumentNode]:
    """Every string in the tests that is a valid operation on the served schema."""
    schema = build_served_schema()._schema
    documents = []
    for value in _strings_in_tests():
        if "{" not in value:
            continue
        try:
            document = parse(value)
        except GraphQLError:
            continue
        if not validate(schema, document):
            documents.append(document)
    return documents


class _Used(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.fields: set[str] = set()
        self.arguments: set[str] = set()

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        if parent is None:
            return
        name = f"{parent.name}.{node.name.value}"
        self.fields.add(name)
        for argument in node.arguments or ():
            self.arguments.add(f"{name}({argument.name.value})")


def contract_fields(schema: GraphQLSchema) -> tuple[set[str], set[str]]:
    fields: set[str] = set()
    arguments: set[str] = set()
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(
            type_, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        for field_name, field in type_.fields.items():
            fields.add(f"{type_.name}.{field_name}")
            arguments.update(f"{type_.name}.{field_name}({a})" for a in field.args)
    return fields, arguments


def test_every_contract_field_and_argument_is_used_by_a_test_operation():
    """Each field of the contract is read or written through the API by some test.

    Interface fields count when asked on the interface or on any type implementing it."""
    schema = build_served_schema()._schema
    used_fields: set[str] = set()
    used_arguments: set[str] = set()
    for document in operations_in_tests():
        type_info = TypeInfo(schema)
        used = _Used(type_info)
        visit(document, TypeInfoVisitor(type_info, used))
        used_fields |= used.fields
        used_arguments |= used.arguments
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType):
            for interface in type_.interfaces:
                for field_name in interface.fields:
                    if f"{interface.name}.{field_name}" in used_fields:
                        used_fields.add(f"{type_.name}.{field_name}")
                    if f"{type_.name}.{field_name}" in used_fields:
                        used_fields.add(f"{interface.name}.{field_name}")
    wanted_fields, wanted_arguments = contract_fields(contract_schema())

    assert sorted(wanted_fields - used_fields) == []
    assert sorted(wanted_arguments - used_arguments) == []
