"""The reports of a plan folder: plan.xlsx, report.html and establishment.md, all made from the
folder's tables (`PlanData`), so that `plan` and `teacheralloc report PLANDIR` write the same."""

from __future__ import annotations

from pathlib import Path

from teacheralloc.report.establishment import establishment_markdown, establishment_request
from teacheralloc.report.html import write_html
from teacheralloc.report.plan_data import PlanData
from teacheralloc.report.plan_workbook import write_plan_workbook

#: The files `write_reports` writes into a plan folder.
REPORT_FILES = ("plan.xlsx", "report.html", "establishment.md")


def write_reports(data: PlanData, folder: Path) -> list[Path]:
    """Write plan.xlsx, report.html and establishment.md into `folder`; return their paths."""
    request = establishment_request(data)
    workbook = write_plan_workbook(data, folder / "plan.xlsx", request)
    page = write_html(data, folder / "report.html", request)
    markdown = folder / "establishment.md"
    markdown.write_text(establishment_markdown(request), encoding="utf-8")
    return [workbook, page, markdown]
