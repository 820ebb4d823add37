"""Every GraphQL example in the README is valid against the served schema, so the first
requests a new user copies work as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_has_graphql_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES)
def test_readme_example_is_valid(example: str) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    documents = re.split(r"\n(?=mutation|query)", example.strip())
    for document in (d for d in documents if re.search(r"^(mutation|query)", d, re.M)):
        errors = validate(schema, parse(document))
        assert errors == [], (document, errors)
