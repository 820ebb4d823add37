"""schema.graphql is what the code serves."""

from __future__ import annotations

from pathlib import Path

from hub.execution.schema import schema_sdl

ROOT = Path(__file__).resolve().parent.parent


def test_exported_schema_matches_the_served_one():
    committed = (ROOT / "schema.graphql").read_text()

    assert committed == schema_sdl(), "run `memberhub schema > schema.graphql`"
