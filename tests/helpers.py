"""Builders for small test counties, and helpers that edit a county's CSV files as a user would.

`make_county()` is a four-school county that passes every validation rule:

| school | type | area | grades |
|---|---|---|---|
| S1 城关第一小学 | primary 小学 | urban 城区 | 1–6, two classes each |
| J1 河口镇中学 | junior 初中 | town 镇区 | 7–9, four classes each |
| N1 山岭九年一贯制学校 | nine_year 九年一贯制 | rural 乡村 | 1–9, one class each; weak 薄弱 |
| P1 石桥村教学点 | teaching_point 教学点 | rural 乡村 | 1–3 one class each, 4 with none |

and eight teachers across both stages and several subjects (backbone, other_subjects, a volunteer with
wishes, service obligations, a teacher on maternity leave). Vary it with keyword overrides:
`make_county(teachers=[*default_teachers(), teacher("T09", school_id="J1", stage="junior")])`.

The CSV helpers address cells the way a user reads a spreadsheet: by row number (the header is row 1)
and by the column's English code.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from teacheralloc.domain import ClassGroup, County, Distance, School, Teacher
from teacheralloc.io import write as county_write

#: Reference date of every test county (the school year 2026/27 being planned).
AS_OF = date(2026, 9, 1)
TABLES = ("schools", "classes", "teachers", "distances")

# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


def school(school_id: str, **overrides: Any) -> School:
    """A school record: a rural primary school unless overridden."""
    fields: dict[str, Any] = {
        "school_id": school_id,
        "name": f"{school_id} 学校",
        "township": "城关镇",
        "type": "primary",
        "area": "rural",
    }
    fields.update(overrides)
    return School.model_validate(fields)


def class_group(school_id: str, grade: int, classes: int = 1, students: int = 30) -> ClassGroup:
    """One classes row: `classes` classes of `grade` at `school_id`."""
    return ClassGroup(school_id=school_id, grade=grade, classes=classes, students=students)


def teacher(teacher_id: str, **overrides: Any) -> Teacher:
    """A teacher record: a primary Chinese teacher at S1, born 1985, there since 2015, unless overridden."""
    fields: dict[str, Any] = {
        "teacher_id": teacher_id,
        "name": f"教师{teacher_id}",
        "gender": "F",
        "birth_date": date(1985, 3, 1),
        "school_id": "S1",
        "school_since": date(2015, 9, 1),
        "stage": "primary",
        "subject": "chinese",
    }
    fields.update(overrides)
    return Teacher.model_validate(fields)


def default_schools() -> list[School]:
    return [
        school("S1", name="城关第一小学", township="城关镇", type="primary", area="urban",
               lat=28.201, lon=112.982, establishment=40, group="城关教育集团"),
        school("J1", name="河口镇中学", township="河口镇", type="junior", area="town",
               lat=28.153, lon=113.051, boarding_students=200, establishment=38, group="城关教育集团"),
        school("N1", name="山岭九年一贯制学校", township="山岭乡", type="nine_year", area="rural",
               lat=28.05, lon=113.12, boarding_students=120, weak=True),
        school("P1", name="石桥村教学点", township="山岭乡", type="teaching_point", area="rural",
               lat=28.011, lon=113.2),
    ]


def default_classes() -> list[ClassGroup]:
    rows = [class_group("S1", grade, 2, 90 + grade) for grade in range(1, 7)]
    rows += [class_group("J1", grade, 4, 180 + grade) for grade in range(7, 10)]
    rows += [class_group("N1", grade, 1, 25 + grade) for grade in range(1, 10)]
    rows += [class_group("P1", grade, 1, 6 + grade) for grade in range(1, 4)]
    rows.append(class_group("P1", 4, 0, 0))
    return rows


def default_teachers() -> list[Teacher]:
    return [
        teacher("T01", school_id="S1", stage="primary", subject="chinese",
                title="first", backbone="county", education="bachelor", rural_years=3),
        teacher("T02", gender="M", birth_date=date(1996, 7, 15), school_since=date(2019, 9, 1),
                school_id="S1", stage="primary", subject="math", other_subjects=("science", "it"),
                title="second", education="bachelor", service_until=date(2027, 8, 31)),
        teacher("T03", birth_date=date(1978, 11, 2), school_since=date(2008, 2, 1),
                school_id="J1", stage="junior", subject="english",
                title="senior", backbone="city", education="master"),
        teacher("T04", gender="M", birth_date=date(1990, 1, 20), school_since=date(2014, 9, 1),
                school_id="J1", stage="junior", subject="physics", other_subjects=("chemistry",),
                title="first", volunteer=True, wishes=("N1",)),
        teacher("T05", birth_date=date(1992, 5, 5), school_since=date(2016, 9, 1),
                school_id="N1", stage="primary", subject="chinese",
                status="maternity", rural_years=6.5, education="associate"),
        teacher("T06", gender="M", birth_date=date(1970, 4, 30), school_since=date(1995, 9, 1),
                school_id="N1", stage="junior", subject="math",
                title="senior", backbone="province", rural_years=31),
        teacher("T07", birth_date=date(2001, 10, 1), school_since=date(2024, 9, 1),
                school_id="P1", stage="primary", subject="math", other_subjects=("chinese", "music", "art"),
                title="none", education="bachelor", rural_years=2, service_until=date(2027, 8, 31)),
        teacher("T08", gender="M", birth_date=date(1988, 8, 8), school_since=date(2012, 9, 1),
                school_id="S1", stage="primary", subject="pe",
                volunteer=True, wishes=("P1", "N1"), education="associate"),
    ]


def default_distances() -> list[Distance]:
    pairs = [("S1", "J1", 12.5), ("S1", "N1", 31), ("S1", "P1", 42.3), ("J1", "N1", 18.2), ("N1", "P1", 9.6)]
    return [Distance(from_id=a, to_id=b, km=km) for a, b, km in pairs]


def make_county(
    *,
    schools: list[School] | None = None,
    classes: list[ClassGroup] | None = None,
    teachers: list[Teacher] | None = None,
    distances: list[Distance] | None = None,
    with_distances: bool = True,
    as_of: date = AS_OF,
) -> County:
    """The valid four-school county, with any table replaced by the given records."""
    return County.from_records(
        schools=default_schools() if schools is None else schools,
        classes=default_classes() if classes is None else classes,
        teachers=default_teachers() if teachers is None else teachers,
        distances=(default_distances() if distances is None else distances) if with_distances else None,
        as_of=as_of,
    )


def write_county_csv(
    county: County | None, folder: Path, *, encoding: str = "utf-8", chinese: bool = False
) -> Path:
    """Write `county` (default: `make_county()`) as a CSV folder, as the product writes it; return the folder.

    `encoding="utf-8-sig"` writes a BOM, `"gbk"` what Excel on Chinese Windows writes; `chinese` uses the
    Chinese file names, headers and enumeration labels.
    """
    county_write.write_county_csv(county or make_county(), folder, encoding=encoding, chinese=chinese)
    return folder


# --------------------------------------------------------------------------------------------------
# Editing CSV files (UTF-8, headers by code: what `write_county_csv` writes by default)
# --------------------------------------------------------------------------------------------------


def csv_path(folder: Path, table: str) -> Path:
    return folder / f"{table}.csv"


def read_rows(folder: Path, table: str) -> list[list[str]]:
    """All rows of a table's CSV, header first (row 1 is `rows[0]`)."""
    text = csv_path(folder, table).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def write_rows(folder: Path, table: str, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    csv_path(folder, table).write_text(buffer.getvalue(), encoding="utf-8")


def edit_rows(folder: Path, table: str, change: Callable[[list[list[str]]], None]) -> None:
    rows = read_rows(folder, table)
    change(rows)
    write_rows(folder, table, rows)


def row_of(folder: Path, table: str, column: str, value: str) -> int:
    """The spreadsheet row number (header = 1) of the first row whose `column` is `value`."""
    rows = read_rows(folder, table)
    index = rows[0].index(column)
    return next(number for number, row in enumerate(rows[1:], start=2) if row[index:index + 1] == [value])


def set_cell(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Overwrite one cell: spreadsheet row `row` (header = 1), column headed `column`."""

    def change(rows: list[list[str]]) -> None:
        rows[row - 1][rows[0].index(column)] = value

    edit_rows(folder, table, change)


def set_header(folder: Path, table: str, column: str, header: str) -> None:
    """Rename one column's header."""

    def change(rows: list[list[str]]) -> None:
        rows[0][rows[0].index(column)] = header

    edit_rows(folder, table, change)


def drop_column(folder: Path, table: str, column: str) -> None:
    def change(rows: list[list[str]]) -> None:
        index = rows[0].index(column)
        for row in rows:
            del row[index]

    edit_rows(folder, table, change)


def add_column(folder: Path, table: str, header: str, values: list[str] | str = "") -> None:
    """Append a column; `values` is one value per data row, or one value for all rows."""

    def change(rows: list[list[str]]) -> None:
        rows[0].append(header)
        for i, row in enumerate(rows[1:]):
            row.append(values if isinstance(values, str) else values[i])

    edit_rows(folder, table, change)


def append_row(folder: Path, table: str, **cells: str) -> int:
    """Append a data row (cells by column code, others empty); return its spreadsheet row number."""
    rows = read_rows(folder, table)
    unknown = set(cells) - set(rows[0])
    assert not unknown, f"no such column in {table}: {unknown}"
    rows.append([cells.get(column, "") for column in rows[0]])
    write_rows(folder, table, rows)
    return len(rows)


def copy_row(folder: Path, table: str, row: int, **changes: str) -> int:
    """Append a copy of spreadsheet row `row`, with some cells changed; return the new row number."""
    rows = read_rows(folder, table)
    new = list(rows[row - 1])
    for column, value in changes.items():
        new[rows[0].index(column)] = value
    rows.append(new)
    write_rows(folder, table, rows)
    return len(rows)


def county_workbook(county: County) -> Any:
    """The county's three tables as sheets of an openpyxl workbook, headers in row 1 (English codes)."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name in ("schools", "classes", "teachers"):
        sheet = workbook.create_sheet(name)
        header, rows = county_write.table_rows(county, name)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    return workbook
