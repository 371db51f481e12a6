"""Import the report libraries (openpyxl, plotly and plotly's validator table, ~0.3 s) in a background
thread while the solver runs: the solver releases the GIL, so the imports cost no wall time there
instead of delaying plan.xlsx and report.html at the end of `teacheralloc plan`.

Light on purpose: this module imports nothing heavy itself.
"""

from __future__ import annotations

import contextlib
import threading

_thread: threading.Thread | None = None


def _load() -> None:
    import teacheralloc.report.plan_reports  # noqa: F401  (openpyxl, plotly.graph_objects, the report modules)


def _read_validators() -> None:
    """plotly ≥ 6 reads its 3 MB validator table when the first figure is made; read it now."""
    from plotly.validator_cache import ValidatorCache

    ValidatorCache.get_validator("scatter", "x")


def start() -> None:
    """Start the imports in a daemon thread (once); errors are left for the real import to raise."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_quietly, name="teacheralloc-preload", daemon=True)
        _thread.start()


def _quietly() -> None:
    for step in (_load, _read_validators):
        with contextlib.suppress(Exception):  # the reports import these again and raise the error there
            step()


def wait() -> None:
    """Wait for the imports started by `start` (before forking: no thread may be mid-import then)."""
    if _thread is not None:
        _thread.join()
