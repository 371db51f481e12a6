"""Fixtures shared by the input tests: the valid county of `tests.helpers`, and a fresh CSV copy of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import make_county, write_county_csv


@pytest.fixture(scope="module")
def county():
    """The valid four-school county of `tests.helpers`."""
    return make_county()


@pytest.fixture
def folder(county, tmp_path: Path) -> Path:
    """The county as a UTF-8 CSV folder with English codes."""
    return write_county_csv(county, tmp_path / "county")
