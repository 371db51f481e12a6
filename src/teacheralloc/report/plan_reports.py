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


@contextmanager
def _side_process() -> Iterator[Callable[..., Future[Any]]]:
    """`submit(fn, *args)`: run in a forked worker process when that is safe and useful (Linux, a
    second CPU, no other thread running, not itself a daemon process), else at once in this process."""
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
