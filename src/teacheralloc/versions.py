"""Versions of the package and its solver stack, for summary.json and bug reports (show_versions)."""

from __future__ import annotations

import importlib
import platform
from importlib import metadata


def versions() -> dict[str, str]:
    """teacheralloc, ortools, pandas, pydantic and Python versions. Each library's own `__version__`
    where it has one: asking the installed metadata scans every distribution on the path (0.2–0.4 s,
    a tenth of the sample county's plan)."""
    found = {"python": platform.python_version(), "teacheralloc": _installed("teacheralloc")}
    for package in ("ortools", "pandas", "pydantic", "numpy", "openpyxl"):
        try:
            found[package] = str(importlib.import_module(package).__version__)
        except (ImportError, AttributeError):
            found[package] = _installed(package)
    return found


def _installed(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
