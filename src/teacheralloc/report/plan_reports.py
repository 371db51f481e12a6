"""The reports of a plan folder: plan.xlsx, report.html and establishment.md, all made from the
folder's tables (`PlanData`), so that `plan` and `teacheralloc report PLANDIR` write the same."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from teacheralloc.report.establishment import EstablishmentRequest, establishment_markdown, establishment_request
from teacheralloc.report.plan_data import PlanData

#: The files `write_reports` writes into a plan folder.
REPORT_FILES = ("plan.xlsx", "report.html", "establishment.md")


def write_reports(data: PlanData, folder: Path) -> list[Path]:
    """Write plan.xlsx, report.html and establishment.md into `folder`; return their paths.

    plan.xlsx (openpyxl) and report.html (plotly) are both pure Python, about 0.3 s each with their
    library's import, so a forked copy of this process imports openpyxl and writes the workbook
    while this one imports plotly and writes the page; an error in either is raised here.
    """
    request = establishment_request(data)
    with _side_process() as submit:
        workbook = submit(_write_workbook, data, folder / "plan.xlsx", request)
        from teacheralloc.report.html import write_html  # plotly: imported here, after the fork

        page = write_html(data, folder / "report.html", request)
        markdown = folder / "establishment.md"
        markdown.write_text(establishment_markdown(request), encoding="utf-8")
        return [workbook.result(), page, markdown]


def _write_workbook(data: PlanData, path: Path, request: EstablishmentRequest) -> Path:
    """plan.xlsx; openpyxl is imported by the process that writes it."""
    from teacheralloc.report.plan_workbook import write_plan_workbook

    return write_plan_workbook(data, path, request)


#: A worker forked before the solve (`report_worker`), with openpyxl imported while the solve runs.
_prepared: ProcessPoolExecutor | None = None


@contextmanager
def report_worker() -> Iterator[None]:
    """Fork the workbook's worker now, while the process is small and has no thread, and let it import
    openpyxl on the second CPU while this one solves: `write_reports` inside the block then finds it
    ready (sample county: the 0.3–0.4 s import no longer follows the solve). Nothing when forking is
    not safe or useful (`_can_fork`)."""
    global _prepared
    if _prepared is not None or not _can_fork():
        yield
        return
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    pool.submit(_import_workbook_writer)
    _prepared = pool
    try:
        yield
    finally:
        _prepared = None
        pool.shutdown(wait=True, cancel_futures=True)


def _import_workbook_writer() -> None:
    import teacheralloc.report.plan_workbook  # noqa: F401  (openpyxl with it)


@contextmanager
def _side_process() -> Iterator[Callable[..., Future[Any]]]:
    """`submit(fn, *args)`: run in a forked worker process when that is safe and useful (Linux, a
    second CPU, no other thread running, not itself a daemon process), else at once in this process.
    The worker `report_worker` forked before the solve is used when there is one."""
    if _prepared is not None:
        yield _prepared.submit
        return
    if _can_fork():
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
            yield pool.submit
        return
    yield _run_now


def _can_fork() -> bool:
    return (sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1
            and threading.active_count() == 1 and not multiprocessing.current_process().daemon)


def _run_now(fn: Callable[..., Any], *args: Any) -> Future[Any]:
    """The sequential fallback: the call's exception is raised at once, as without a worker."""
    done: Future[Any] = Future()
    done.set_result(fn(*args))
    return done
