"""The HR workbook (人事股填报模板): a blank or filled `.xlsx` that county HR staff fill in by hand.

Sheets, in order: 填写说明 (what goes in every column), 学校, 班级, 教师, 距离 (only when the county
has a distances table) and the hidden 选项 (the dropdown lists). Each data sheet has the Chinese
headers in row 1 (bold, required columns in red, a comment saying what goes there), dropdowns for
enumerations and 是/否 columns, `yyyy-mm-dd` on date columns, a frozen header row and an autofilter.

A blank workbook carries one example row per sheet (first cell 示例…, skipped by the loader); a
filled one carries the county's rows as users type them (Chinese labels, real date cells) and loads
back equal (`load_county(path)` then `County.equals`). Written in openpyxl's write-only mode, so a
county of 20,000 teachers takes a few seconds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from teacheralloc.domain import (
    TABLE_LABELS,
    Area,
    Backbone,
    CodedEnum,
    Column,
    County,
    Education,
    Gender,
    SchoolType,
    Stage,
    Status,
    Subject,
    Title,
    columns,
)
from teacheralloc.io.read import EXAMPLE_MARK
from teacheralloc.io.write import format_cell

GUIDE_SHEET = "填写说明"
OPTIONS_SHEET = "选项"
DATA_TABLES = ("schools", "classes", "teachers")
#: Dropdowns and number checks cover rows 2..max(data rows + 1, MIN_VALIDATED_ROWS).
MIN_VALIDATED_ROWS = 2000
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
BOOL_LABELS = ("是", "否")
BOOL_LIST = "是否"
LIST_SEPARATOR_HINT = "多个值用“、”或“;”分隔"

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_GUIDE_FILL = PatternFill("solid", fgColor="E2EFDA")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FONT = Font(bold=True, color="000000")
_REQUIRED_FONT = Font(bold=True, color="C00000")
_EXAMPLE_FONT = Font(italic=True, color="808080")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP = Alignment(vertical="top", wrap_text=True)
_SAMPLE_ROWS = 300  # rows looked at to size the columns
_MAX_WIDTH = 45

#: One example row per data sheet of a blank workbook, referentially consistent across sheets.
EXAMPLES: dict[str, dict[str, Any]] = {
    "schools": {
        "school_id": f"{EXAMPLE_MARK}X001",
        "name": "城关镇第一小学",
        "township": "城关镇",
        "type": SchoolType.primary,
        "area": Area.urban,
        "lat": 27.7321,
        "lon": 112.5418,
        "boarding_students": 0,
        "establishment": 52,
        "group": "城关教育集团",
        "weak": False,
    },
    "classes": {"school_id": f"{EXAMPLE_MARK}X001", "grade": 1, "classes": 4, "students": 176},
    "teachers": {
        "teacher_id": f"{EXAMPLE_MARK}T0001",
        "name": "张老师",
        "gender": Gender.F,
        "birth_date": date(1985, 3, 1),
        "school_id": f"{EXAMPLE_MARK}X001",
        "school_since": date(2015, 9, 1),
        "stage": Stage.primary,
        "subject": Subject.chinese,
        "other_subjects": (Subject.morality, Subject.labor),
        "title": Title.first,
        "backbone": Backbone.county,
        "education": Education.bachelor,
        "status": Status.active,
        "rural_years": 6,
        "service_until": None,
        "volunteer": False,
        "wishes": (),
    },
}

NOTES = (
    "1. 本工作簿含“学校”“班级”“教师”三张数据表，每张表第 1 行是表头：请勿修改表头文字和工作表名称；"
    "从第 2 行起每行填写一条记录。",
    "2. 红色表头为必填列；其他列可以留空，留空时按下表“留空时”一栏处理。鼠标停在表头上可看到该列的填写说明。",
    f"3. 第一格以“{EXAMPLE_MARK}”开头的行是示例行，导入时自动忽略，可保留也可删除。",
    "4. 日期填写为 YYYY-MM-DD（如 2015-09-01），也可直接输入 Excel 日期。",
    f"5. 兼教学科、志愿学校可填多个，{LIST_SEPARATOR_HINT}，如“科学、劳动”“X002、X005”。",
    "6. 带下拉箭头的列请从下拉列表中选择；也可填写英文代码（如 primary）。",
    "7. 班级表、教师表中的学校代码和志愿学校，须是学校表中已有的学校代码。班级表每所学校每个年级一行。",
    "8. 可以在表的右侧增加自己的列，导入时保留但不参与计算。",
)
NOTE_DISTANCES = (
    "9. 如有学校之间的道路距离，可增加名为“距离”的工作表（列：起点学校、终点学校、公里）；"
    "不填时按学校经纬度估算。"
)
GUIDE_HEADER = ("工作表", "表头（列名）", "英文代码", "是否必填", "类型", "填写内容", "可填的值", "留空时")
GUIDE_WIDTHS = (8, 14, 18, 9, 18, 42, 48, 12)


# --------------------------------------------------------------------------------------------------
# Cell values: parsed value -> what the user would type (labels, real dates, numbers)
# --------------------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def _converter(col: Column) -> Callable[[Any], Any]:
    """A function turning one parsed value of `col` into the cell value to write (None = empty)."""
    if col.kind == "date":

        def to_date(value: Any) -> Any:
            if _missing(value):
                return None
            if isinstance(value, datetime):  # pd.Timestamp too
                return value.date()
            return value

        return to_date
    if col.kind == "number":

        def to_number(value: Any) -> Any:
            if _missing(value):
                return None
            number = float(value)
            return int(number) if number.is_integer() else number

        return to_number
    if col.kind == "int":
        return lambda value: None if _missing(value) else int(value)
    if col.kind == "text":
        return lambda value: None if _missing(value) else str(value)
    cache: dict[Any, Any] = {}  # enums, lists and bools: few distinct values, so memoize

    def to_text(value: Any) -> Any:
        if _missing(value):
            return None
        key = tuple(value) if isinstance(value, list) else value
        if key not in cache:
            text = format_cell(col, value, chinese=True)
            cache[key] = text if text != "" else None
        return cache[key]

    return to_text


def _county_rows(county: County, name: str) -> list[list[Any]]:
    frame = county.contract_table(name)
    if frame is None or frame.empty:
        return []
    specs = columns(name)
    data = [list(map(_converter(col), frame[col.code].tolist())) for col in specs]
    return [list(row) for row in zip(*data, strict=True)]


def _example_row(name: str) -> list[Any]:
    example = EXAMPLES[name]
    return [_converter(col)(example.get(col.code)) for col in columns(name)]


# --------------------------------------------------------------------------------------------------
# Texts: header comments and the instructions
# --------------------------------------------------------------------------------------------------


def _choices(col: Column) -> list[str]:
    if col.kind == "bool":
        return list(BOOL_LABELS)
    if col.kind in ("enum", "list_enum"):
        assert col.enum is not None
        return [m.label for m in col.enum]
    return []


def _bounds(col: Column) -> str:
    if col.ge is not None and col.le is not None:
        return f"，范围 {col.ge:g} 至 {col.le:g}"
    if col.ge is not None:
        return f"，不小于 {col.ge:g}"
    return ""


def _kind_text(col: Column) -> str:
    return {
        "text": "文本",
        "int": "整数" + _bounds(col),
        "number": "数字" + _bounds(col),
        "bool": "是 / 否（下拉选择）",
        "date": "日期 YYYY-MM-DD",
        "enum": "下拉选择",
        "list_enum": f"可填多个，{LIST_SEPARATOR_HINT}",
        "list_text": f"可填多个，{LIST_SEPARATOR_HINT}",
    }[col.kind]


def _default_text(col: Column) -> str:
    if col.required:
        return "不可留空"
    default = col.default
    if default is None or default == ():
        return "空"
    if isinstance(default, bool):
        return BOOL_LABELS[0] if default else BOOL_LABELS[1]
    if isinstance(default, CodedEnum):
        return default.label
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def _comment_text(col: Column) -> str:
    lines = [f"{col.label}（{col.code}）", "必填" if col.required else f"选填，留空时：{_default_text(col)}"]
    if col.description:
        lines.append(col.description)
    lines.append(f"类型：{_kind_text(col)}")
    choices = _choices(col)
    if choices:
        lines.append("可填：" + "、".join(choices))
    return "\n".join(lines)


def _comment(col: Column) -> Comment:
    """The header comment of `col`, sized so its text shows without scrolling."""
    text = _comment_text(col)
    width = 260  # px; about 20 CJK characters a line at the default comment font
    lines = sum(max(1, -(-_display_width(line) * 7 // (width - 16))) for line in text.split("\n"))
    return Comment(text, "teacheralloc", height=18 * lines + 24, width=width)


def _display_width(value: Any) -> int:
    if isinstance(value, date):
        return 10
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# --------------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------------


class _Options:
    """The hidden 选项 sheet: one column per dropdown list; hands out the range of each list."""

    def __init__(self) -> None:
        self.lists: list[tuple[str, list[str]]] = []
        self._index: dict[Any, int] = {}

    def source(self, col: Column) -> str:
        """The `选项!$X$2:$X$n` range holding the dropdown of `col`."""
        key: Any = BOOL_LIST if col.kind == "bool" else col.enum
        if key not in self._index:
            title = BOOL_LIST if col.kind == "bool" else col.label
            self._index[key] = len(self.lists)
            self.lists.append((title, _choices(col)))
        index = self._index[key]
        letter = get_column_letter(index + 1)
        return f"{quote_sheetname(OPTIONS_SHEET)}!${letter}$2:${letter}${len(self.lists[index][1]) + 1}"

    def write(self, workbook: Workbook) -> None:
        sheet = workbook.create_sheet(OPTIONS_SHEET)
        sheet.sheet_state = "hidden"
        for index, (title, _values) in enumerate(self.lists, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, _display_width(title) + 2)
        sheet.append([title for title, _values in self.lists])
        depth = max((len(values) for _title, values in self.lists), default=0)
        for row in range(depth):
            sheet.append([values[row] if row < len(values) else None for _title, values in self.lists])


def _validations(name: str, last_row: int, options: _Options) -> list[DataValidation]:
    found = []
    for index, col in enumerate(columns(name), start=1):
        letter = get_column_letter(index)
        choices = "、".join(_choices(col))
        if col.kind in ("enum", "bool"):
            dv = DataValidation(
                type="list",
                formula1=options.source(col),
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=col.label[:32],
                error=f"请从下拉列表中选择：{choices}（也可填写英文代码）"[:255],
            )
        elif col.kind in ("int", "number") and col.ge is not None:
            bounds = {"formula1": f"{col.ge:g}"}
            if col.le is not None:
                bounds["formula2"] = f"{col.le:g}"
            dv = DataValidation(
                type="whole" if col.kind == "int" else "decimal",
                operator="between" if col.le is not None else "greaterThanOrEqual",
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="warning",
                errorTitle=col.label[:32],
                error=f"应为{_kind_text(col)}"[:255],
                **bounds,
            )
        else:
            continue
        dv.add(f"{letter}2:{letter}{last_row}")
        found.append(dv)
    return found


def _write_data_sheet(
    workbook: Workbook, name: str, rows: list[list[Any]], example: bool, options: _Options
) -> None:
    specs = columns(name)
    sheet = workbook.create_sheet(TABLE_LABELS[name])
    last_row = max(len(rows) + 1, MIN_VALIDATED_ROWS)
    # Column widths and formats must be set before the first row is streamed out.
    for index, col in enumerate(specs, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        widths = [_display_width(col.label) + 4]  # room for the filter arrow
        widths += [
            _display_width(row[index - 1]) for row in rows[:_SAMPLE_ROWS] if row[index - 1] is not None
        ]
        dimension.width = min(max(widths) + 2, _MAX_WIDTH)
        if col.kind == "date":
            dimension.number_format = DATE_FORMAT
        elif col.kind in ("text", "list_text"):
            dimension.number_format = TEXT_FORMAT  # keeps codes like 00123 as typed
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(specs))}{max(len(rows) + 1, 2)}"
    for dv in _validations(name, last_row, options):
        sheet.data_validations.append(dv)

    header = []
    for col in specs:
        cell = WriteOnlyCell(sheet, value=col.label)
        cell.font = _REQUIRED_FONT if col.required else _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _CENTER
        cell.border = _BORDER
        cell.comment = _comment(col)
        header.append(cell)
    sheet.append(header)
    if example:
        cells = []
        for col, value in zip(specs, _example_row(name), strict=True):
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = _EXAMPLE_FONT
            if col.kind == "date":
                cell.number_format = DATE_FORMAT
            cells.append(cell)
        sheet.append(cells)
    for row in rows:
        sheet.append(row)


def _write_guide(workbook: Workbook, tables: Sequence[str]) -> None:
    sheet = workbook.create_sheet(GUIDE_SHEET)
    for index, width in enumerate(GUIDE_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    notes = [*NOTES, *(() if "distances" in tables else (NOTE_DISTANCES,))]
    header_row = len(notes) + 3
    sheet.freeze_panes = f"A{header_row + 1}"

    title = WriteOnlyCell(sheet, value="县域教师配置数据填报说明")
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    sheet.append([])
    for note in notes:
        sheet.append([note])
    sheet.append([])
    head = []
    for text in GUIDE_HEADER:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = _HEADER_FONT
        cell.fill = _GUIDE_FILL
        cell.alignment = _CENTER
        cell.border = _BORDER
        head.append(cell)
    sheet.append(head)
    for name in tables:
        for col in columns(name):
            values = [
                TABLE_LABELS[name],
                col.label,
                col.code,
                "必填" if col.required else "选填",
                _kind_text(col),
                col.description,
                "、".join(_choices(col)),
                _default_text(col),
            ]
            cells = []
            for position, value in enumerate(values):
                cell = WriteOnlyCell(sheet, value=value or None)
                cell.alignment = _WRAP
                cell.border = _BORDER
                if position in (1, 3) and col.required:
                    cell.font = _REQUIRED_FONT
                cells.append(cell)
            sheet.append(cells)


def write_workbook(path: Path, county: County | None = None) -> Path:
    """Write the HR workbook to `path` (an `.xlsx` file) and return the path.

    Without `county`: a blank template with one example row per sheet (first cell 示例…, ignored
    by the loader). With `county`: its rows, enumerations as Chinese labels and dates as date cells,
    so that `load_county(path)` gives an equal county; a 距离 sheet only if it has distances.
    """
    path = Path(path)
    tables = [*DATA_TABLES, *(("distances",) if county is not None and county.distances is not None else ())]
    workbook = Workbook(write_only=True)
    options = _Options()
    _write_guide(workbook, tables)
    for name in tables:
        rows = _county_rows(county, name) if county is not None else []
        _write_data_sheet(workbook, name, rows, example=county is None, options=options)
    options.write(workbook)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


__all__ = ["EXAMPLES", "GUIDE_SHEET", "MIN_VALIDATED_ROWS", "OPTIONS_SHEET", "write_workbook"]
