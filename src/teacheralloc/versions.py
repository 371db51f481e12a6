"""Versions of the package and its solver stack, for summary.json and bug reports (show_versions)."""

from __future__ import annotations

import platform
from importlib import metadata


def versions() -> dict[str, str]:
    """teacheralloc, ortools, pandas, pydantic and Python versions."""
    found = {"python": platform.python_version()}
    for package in ("teacheralloc", "ortools", "pandas", "pydantic", "numpy", "openpyxl"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found
