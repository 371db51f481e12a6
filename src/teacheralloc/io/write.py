"""Write county datasets (and later, plans) to files; never into an input folder, never over one.

A county can be written as a folder of CSVs (UTF-8 or GBK; English codes, or Chinese headers and
labels as Excel users type them) or as one HR workbook (see `template`). What is written loads back
equal (`County.equals`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from teacheralloc.domain import RECORDS, TABLE_LABELS, Column, County, columns


class OutputExistsError(Exception):
    """The output path exists and is not empty; the caller decides whether `--force` applies."""


def ensure_new_dir(path: Path, force: bool = False, protected: tuple[Path, ...] = ()) -> Path:
    """Create an output folder that is new (or empty, or `force`d), and never one of `protected`."""
    path = Path(path)
    for other in protected:
        other = Path(other).resolve()
        target = path.resolve()
        if target == other or other in target.parents or target in other.parents:
            raise OutputExistsError(f"输出目录 {path} 与输入 {other} 重叠；请另选输出目录")
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"输出路径 {path} 是一个文件，不是文件夹；请另给一个输出目录")
    if path.exists() and any(path.iterdir()) and not force:
        raise OutputExistsError(f"输出目录 {path} 已存在且非空；请另选目录，或加 --force 覆盖")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def new_output_dir(path: Path, force: bool = False, protected: tuple[Path, ...] = ()) -> Iterator[Path]:
    """`ensure_new_dir` for a command that may still fail after it (pins no plan can honour, a solve
    cut short): a folder it created is removed again when the command fails before writing into it,
    so "nothing written" leaves nothing behind."""
    created = not Path(path).exists()
    folder = ensure_new_dir(path, force=force, protected=protected)
    try:
        yield folder
    except BaseException:
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        raise


def format_cell(col: Column, value: Any, chinese: bool) -> Any:
    """A parsed value as a user would type it (codes, or Chinese labels when `chinese`)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if col.kind == "enum":
        assert col.enum is not None
        member = col.enum(str(value))
        return member.label if chinese else member.value
    if col.kind in ("list_text", "list_enum"):
        items = list(value)
        if col.kind == "list_enum" and chinese:
            assert col.enum is not None
            items = [col.enum(str(v)).label for v in items]
        return ("、" if chinese else ";").join(str(v) for v in items)
    if col.kind == "bool":
        return ("是" if value else "否") if chinese else ("true" if value else "false")
    if col.kind == "date":
        if isinstance(value, datetime | pd.Timestamp):
            value = value.date()
        return value.isoformat() if isinstance(value, date) else str(value)
    if col.kind == "number":
        number = float(value)
        return int(number) if number.is_integer() else number  # repr round-trips exactly
    if col.kind == "int":
        return int(value)
    return str(value)


def table_rows(county: County, name: str, chinese: bool = False) -> tuple[list[str], list[list[Any]]]:
    """Header and formatted rows of one contract table (contract columns only)."""
    frame = county.contract_table(name)
    specs = columns(name)
    header = [c.label if chinese else c.code for c in specs]
    if frame is None:
        return header, []
    data = [frame[c.code].tolist() for c in specs]
    rows = [
        [format_cell(c, v, chinese) for c, v in zip(specs, values, strict=True)]
        for values in zip(*data, strict=True)
    ]
    return header, rows


def write_county_csv(county: County, folder: Path, encoding: str = "utf-8", chinese: bool = False) -> list[Path]:
    """Write the county as a CSV folder; `encoding` "gbk" writes what Excel on Chinese Windows writes.

    With `chinese`, file names, headers and enumeration values are the Chinese labels.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in RECORDS:
        if county.table(name) is None:
            continue
        header, rows = table_rows(county, name, chinese)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n" if encoding.lower() in ("gbk", "gb18030") else "\n")
        writer.writerow(header)
        writer.writerows(rows)
        path = folder / f"{TABLE_LABELS[name] if chinese else name}.csv"
        path.write_bytes(buffer.getvalue().encode(encoding))
        written.append(path)
    return written


def write_county(
    county: County, path: Path, *, xlsx: bool = False, encoding: str = "utf-8", chinese: bool = False
) -> list[Path]:
    """Write a county as a CSV folder, or as an HR workbook when `xlsx` (always Chinese headers)."""
    if xlsx:
        from teacheralloc.io.template import write_workbook

        path.parent.mkdir(parents=True, exist_ok=True)
        write_workbook(path, county)
        return [path]
    return write_county_csv(county, path, encoding=encoding, chinese=chinese)


def write_plan(
    plan: object, out: Path, policy: object | None = None, county: County | None = None, anonymize: bool = False,
    pins: pd.DataFrame | None = None,
) -> list[Path]:
    """Write a plan folder: plan.csv, schools.csv, causes.csv, summary.json, the policy used, and the
    reports made from them (plan.xlsx, report.html, establishment.md). CSVs are UTF-8 with a BOM so
    that Excel on Chinese Windows opens them correctly.

    With the `county`, plan.csv also names the teachers (`name`, or their ids when `anonymize`),
    schools.csv gains `weak, lat, lon, posts_held` and subjects.csv gives the subject gaps before and
    after, which the reports need. The `pins` the plan honoured are kept as pins_used.csv (the pins.csv
    format), so `check` re-verifies them as it re-reads policy_used.yaml.
    """
    import json

    import yaml

    from teacheralloc.plan import MOVE_COLUMNS, MOVE_EXTRA_COLUMNS, SCHOOL_COLUMNS, Plan
    from teacheralloc.policy import Policy
    from teacheralloc.report.plan_data import read_plan_folder, school_sites, subject_table, with_names
    from teacheralloc.report.plan_reports import write_reports

    assert isinstance(plan, Plan)
    rules = policy if isinstance(policy, Policy) else Policy.default()
    written = []
    moves = with_names(plan.moves[[*MOVE_COLUMNS, *MOVE_EXTRA_COLUMNS]], county, anonymize)
    moves.to_csv(out / "plan.csv", index=False, encoding="utf-8-sig")
    written.append(out / "plan.csv")
    schools = plan.schools[[*SCHOOL_COLUMNS, *[c for c in plan.schools.columns if c not in SCHOOL_COLUMNS]]]
    if county is not None:
        schools = schools.merge(school_sites(county, rules, plan.norms_before), on=["school_id", "stage"], how="left")
    schools.round(4).to_csv(out / "schools.csv", index=False, encoding="utf-8-sig")
    written.append(out / "schools.csv")
    if county is not None:
        subjects = subject_table(county, rules, plan.moves, plan.norms_before, plan.norms_after)
        if "school_id" in subjects.columns:  # a scenario's holding schools for new hires are not schools
            subjects = subjects[subjects["school_id"].isin(plan.schools["school_id"])]
        subjects.to_csv(out / "subjects.csv", index=False, encoding="utf-8-sig")
        written.append(out / "subjects.csv")
    plan.causes.to_csv(out / "causes.csv", index=False, encoding="utf-8-sig")
    written.append(out / "causes.csv")
    if len(plan.applicants):  # a county where no one asked to move has none (an old file must not stay)
        with_names(plan.applicants, county, anonymize).to_csv(out / "applicants.csv", index=False,
                                                              encoding="utf-8-sig")
        written.append(out / "applicants.csv")
    else:
        (out / "applicants.csv").unlink(missing_ok=True)
    summary = plan.summary()
    summary["parameters"] = {**summary["parameters"], "anonymized": anonymize}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str),
                                      encoding="utf-8")
    written.append(out / "summary.json")
    if policy is not None:
        data = policy.model_dump(mode="json")  # type: ignore[attr-defined]
        data.get("plan", {}).pop("prune_destinations", None)  # withdrawn: not a setting to show
        (out / "policy_used.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                              encoding="utf-8")
        written.append(out / "policy_used.yaml")
    from teacheralloc.io.pins import PINS_USED, pins_table

    if pins is not None:  # none is written too: an old pins_used.csv of a folder planned again must not stay
        pins_table(pins).to_csv(out / PINS_USED, index=False, encoding="utf-8-sig")
        written.append(out / PINS_USED)
    else:
        (out / PINS_USED).unlink(missing_ok=True)
    written += write_reports(read_plan_folder(out), out)
    return written
