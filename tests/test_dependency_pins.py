"""The installed strawberry, graphql-core and SQLAlchemy are the ones the executor and the
driver session were tested with: their internals are read, so a release outside the pinned
range must fail here, loudly, rather than misbehave at run time."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
INTERNALS_READ = ("strawberry-graphql", "graphql-core", "sqlalchemy")


def _pins() -> dict[str, Requirement]:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    requirements = (Requirement(line) for line in dependencies)
    return {r.name.lower(): r for r in requirements if r.name.lower() in INTERNALS_READ}


@pytest.mark.parametrize("name", INTERNALS_READ)
def test_package_whose_internals_are_read_has_an_upper_bound(name: str) -> None:
    requirement = _pins()[name]
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier)


@pytest.mark.parametrize("name", INTERNALS_READ)
def test_installed_version_is_in_the_tested_range(name: str) -> None:
    installed = version(name)
    assert _pins()[name].specifier.contains(installed, prereleases=True), (
        f"{name} {installed} is outside the tested range {_pins()[name].specifier}"
    )
