"""Check raw tables against the data contract and build a `County`, or report every problem at once.

Checks, in order: cell values (required, type, range, enumeration, date and list forms), then the
cross-row and cross-table rules (unique ids, references, grades allowed by the school type, students
against classes, plausible dates). Problems of every file are collected; nothing is built unless
there are none.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import pandas as pd

from teacheralloc.domain import (
    REQUIRED_TABLES,
    Column,
    County,
    SchoolType,
    Stage,
    columns,
    typed_table,
)
from teacheralloc.errors import InputError, Problem
from teacheralloc.io.read import EXCEL_ERRORS, INVISIBLE, RawTable

MISSING = object()
TRUE_WORDS = {"1", "true", "t", "yes", "y", "是", "真", "对", "√", "✓"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "否", "假", "错", "×", "✗"}
LIST_SEPARATORS = re.compile(r"[;,、；，|/\s]+")
EXCEL_EPOCH = date(1899, 12, 30)
DATE_HINT = "日期，如 2015-09-01、2015/9/1、2015.09 或 2015年9月"
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^((?:19|20)\d{2})(0[1-9]|1[0-2])$"),  # 199412: 出生年月 as rosters write it
)


def default_as_of(today: date | None = None) -> date:
    """The coming 1 September: the start of the school year being planned."""
    today = today or date.today()
    this_year = date(today.year, 9, 1)
    return this_year if today <= this_year else date(today.year + 1, 9, 1)


# --------------------------------------------------------------------------------------------------
# Cell parsers: value -> parsed value, or ValueError(expected)
# --------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).translate(INVISIBLE).strip()


def is_blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and value.strip() == ""


#: Grades as rosters name them: 一年级 … 九年级, 七年级, 初一 … 初三 (= 7–9).
GRADE_WORDS = {**{f"{w}年级": i for i, w in enumerate("一二三四五六七八九", start=1)},
               **{f"初{w}": i for i, w in enumerate("一二三", start=7)}}


def parse_grade(value: Any, decimal_comma: bool = False) -> int:
    """A grade: a whole number, or its Chinese name (一年级, 初一)."""
    if isinstance(value, str):
        word = re.sub(r"\s+", "", _text(value))
        if word in GRADE_WORDS:
            return GRADE_WORDS[word]
        if re.fullmatch(r"[1-9]年级", word):  # 1年级
            return int(word[0])
    return parse_int(value, decimal_comma)


def parse_int(value: Any, decimal_comma: bool = False) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        result = int(value)
    else:
        number = float(_number_text(_text(value), decimal_comma))
        if not number.is_integer():
            raise ValueError
        result = int(number)
    if abs(result) >= 2**63:  # does not fit the int64 tables (and is a typo anyway)
        raise ValueError
    return result


#: A number with thousands separators: 1,234 or 12,345.5 (a comma not in that place is no separator).
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
#: A decimal comma (2,5): what Excel writes where the decimal mark is a comma.
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")


def _number_text(text: str, decimal_comma: bool = False) -> str:
    """Number text as Python reads it. In a file whose decimal mark is a comma (a semicolon CSV) 2,5 is
    2.5 and 1.234,5 is 1234.5; elsewhere a comma only separates thousands, and 2,5 is refused rather
    than read as 25."""
    if decimal_comma and "," in text:  # Excel writes no thousands separator into a CSV: 112,982 is 112.982
        return text.replace(".", "").replace(" ", "").replace(",", ".")
    if _THOUSANDS.match(text):
        return text.replace(",", "")
    if _DECIMAL_COMMA.match(text):
        raise CellError(f"数字（“{text}”中的逗号不是千位分隔：小数点请用“.”，如 {text.replace(',', '.')}）")
    return text


def parse_number(value: Any, decimal_comma: bool = False) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        result = float(value)
    else:
        result = float(_number_text(_text(value), decimal_comma))
    if result != result or result in (float("inf"), float("-inf")):
        raise ValueError
    return result


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = _text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1900 <= value < 2100:  # "1985.04" typed into a General cell: Excel keeps the number 1985.04
            return _year_month(float(value))
        if (19000101 <= value <= 21001231 or 190001 <= value <= 210012) and float(value).is_integer():
            return parse_date(str(int(value)))  # 19881023 or 198810 in a General cell
        if 1000 < value < 80000:  # an Excel serial date in a cell not formatted as a date
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError
    text = _text(value)
    text = re.sub(r"(\s+|T)0{1,2}:0{2}(:0{2}(\.0+)?)?$", "", text)  # "2015-09-01 00:00:00", "…T00:00:00"
    text = re.sub(r"\s*([年月日])\s*", r"\1", text)  # 2015 年 9 月
    if re.fullmatch(r"\d{5}(\.\d+)?", text):  # an Excel serial number saved as text ("31107" = 1985-03-01)
        return parse_date(float(text))
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = [int(p) for p in match.groups()]
            year, month = parts[0], parts[1]
            day = parts[2] if len(parts) > 2 else 1
            return date(year, month, day)  # ValueError for month 13 etc.
    raise ValueError


class CellError(ValueError):
    """A cell that cannot be read, with what to do about it (said instead of the column's usual hint)."""


def _parse_text(value: Any) -> str:
    """A text cell. A workbook number of 16 digits or more (an 18-digit 身份证号-like code typed into a
    General cell) kept only Excel's 15 significant digits: read as text, its last digits are made up."""
    if isinstance(value, float) and abs(value) >= 1e15:
        raise CellError(f"文本；这是存成数字的 {len(str(int(abs(value))))} 位长编号，Excel 只保留 15 位有效数字，"
                        "末几位已丢失：请把该列设为“文本”格式后重新填写")
    return _text(value)


def _year_month(value: float) -> date:
    """A number a year.month was typed as (serial days 1900–2100 would be dates in 1905, never meant).
    Excel keeps what was typed as a number and drops trailing zeros: 1985.04 is April, 1985.4 too (".40"
    is no month), 1985.11 November; but 2016.1 was "2016.1" or "2016.10", January or October, so it is
    refused with what to type instead."""
    year = int(value)
    hundredths = round((value - year) * 100, 6)
    month = hundredths // 10 if hundredths % 10 == 0 and hundredths >= 20 else hundredths
    if hundredths == 10:
        raise CellError(f"{year}年1月还是10月？Excel 把 {year}.10 存成了数字 {year}.1：请把该列设为文本，"
                        f"或填 {year}-10-01 / {year}-01-01")
    if not month.is_integer() or not 1 <= month <= 12:
        raise CellError(f"年.月，如 {year}.09；数字 {value} 读不出月份：请填 {year}-09-01 这样的日期")
    return date(year, int(month), 1)


def parse_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, tuple | list):
        items = [_text(v) for v in value]
    else:
        items = LIST_SEPARATORS.split(_text(value))
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return tuple(seen)


def _parser(col: Column) -> tuple[Callable[[Any], Any], str]:
    """The parser of a column and the Chinese text saying what it expects."""
    bounds = ""
    if col.ge is not None and col.le is not None:
        bounds = f"，范围 {col.ge:g}–{col.le:g}"
    elif col.ge is not None:
        bounds = f"，不小于 {col.ge:g}"
    if col.kind == "text":
        return _parse_text, "文本"
    if col.kind == "int" and col.code == "grade":
        return parse_grade, "整数" + bounds + "（或 一年级 … 九年级、初一 … 初三）"
    if col.kind == "int":
        return parse_int, "整数" + bounds
    if col.kind == "number":
        return parse_number, "数字" + bounds
    if col.kind == "bool":
        return parse_bool, "是 / 否（或 true / false、1 / 0）"
    if col.kind == "date":
        return parse_date, DATE_HINT
    if col.kind == "enum":
        assert col.enum is not None
        enum = col.enum

        def parse_enum(value: Any) -> str:
            member = enum.parse(_text(value))
            if member is None:
                raise ValueError
            return member.value

        return parse_enum, f"以下之一：{enum.choices()}"
    if col.kind == "list_enum":
        assert col.enum is not None
        enum = col.enum

        def parse_enum_list(value: Any) -> tuple[str, ...]:
            members = [enum.parse(item) for item in parse_list(value)]
            if any(m is None for m in members):
                raise ValueError
            return tuple(dict.fromkeys(m.value for m in members if m is not None))

        return parse_enum_list, f"用 ; 、 或 , 分隔的代码或名称，每项为：{enum.choices()}"
    return parse_list, "用 ; 、 或 , 分隔的代码列表"


#: What an office writes in a cell that has nothing to say (服务期截止：无; 核定编制：—): blank, where a
#: column may be left blank.
BLANK_WORDS = frozenset({"无", "没有", "暂无", "—", "——", "-", "--", "/", "n/a", "na", "null", "none", "空",
                         "－", "／", "－－", "ｎ/ａ"})  # full-width forms too: compared as written, not NFKC (speed)
#: A year.month written as text ("1988.1"): January, or October saved by Excel from a General cell.
_YEAR_DOT_MONTH = re.compile(r"^(\d{4})\.(\d{1,2})$")


def _dot_month_ambiguous(raw: list[Any]) -> bool:
    """A date column whose year.month texts include .1 but never .10: Excel saved a General cell's
    number (1988.10 → 1988.1), so .1 may be October. A column that writes .10 is text: .1 is January."""
    months = {m.group(2) for v in raw if isinstance(v, str) and (m := _YEAR_DOT_MONTH.match(v.strip()))}
    return "1" in months and "10" not in months


def _parse_column(table: RawTable, col: Column, problems: list[Problem]) -> list[Any]:
    """Parse one column; bad cells become problems and MISSING."""
    raw = table.cells.get(col.code)
    count = len(table.rows)
    if raw is None:
        return [col.default] * count if not col.required else [MISSING] * count
    parse, expected = _parser(col)
    if col.kind in ("int", "number") and table.decimal_comma:
        parse = partial(parse, decimal_comma=True)
    if col.kind == "date" and not table.sheet and _dot_month_ambiguous(raw):  # a CSV: Excel's saved numbers
        parse = partial(_parse_dot_date, parse)
    if col.kind == "date" and table.serial_offset:
        parse = partial(_parse_shifted_serial, parse, table.serial_offset)
    cache: dict[Any, Any] = {}
    out: list[Any] = []
    for row, value in zip(table.rows, raw, strict=True):
        if isinstance(value, str) and len(value) <= 16:  # the longest placeholder or Excel error (#GETTING_DATA)
            word = value.strip().lower()
            if word.upper() in EXCEL_ERRORS:
                out.append(MISSING)  # reported once, as an Excel error, when read
                continue
            if (word in BLANK_WORDS and not col.required
                    and not (col.enum is not None and col.enum.parse(value) is not None)):  # 无 as a title is 未定级
                value = None
        if is_blank(value) or (
            col.kind in ("list_text", "list_enum") and isinstance(value, tuple | list) and not value
        ):
            if col.required:
                problems.append(table.problem(row, col.code, "", f"必填；{expected}", "required"))
                out.append(MISSING)
            else:
                out.append(col.default)
            continue
        key = (type(value), value) if not isinstance(value, list) else (list, tuple(value))
        if key not in cache:
            hint = expected
            try:
                parsed = parse(value)
                if col.kind in ("int", "number") and (
                    (col.ge is not None and parsed < col.ge) or (col.le is not None and parsed > col.le)
                ):
                    raise ValueError
            except CellError as error:
                parsed, hint = MISSING, str(error)
            except (ValueError, TypeError, OverflowError):
                parsed = MISSING
            cache[key] = parsed, hint
        parsed, hint = cache[key]
        if parsed is MISSING:
            problems.append(table.problem(row, col.code, _show(value), hint, f"type_{col.kind}"))
        elif col.kind == "text" and parsed == "" and col.required:
            problems.append(table.problem(row, col.code, "", "必填；文本", "required"))
            parsed = MISSING
        out.append(parsed)
    return out


def _parse_shifted_serial(parse: Callable[[Any], Any], offset: int, value: Any) -> Any:
    """`parse`, with an Excel serial number counted from the workbook's own epoch (1904: `offset` days on)."""
    parsed = parse(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and 1000 < value < 80000 \
            and not 1900 <= value < 2100:
        return parsed + timedelta(days=offset)
    return parsed


def _parse_dot_date(parse: Callable[[Any], Any], value: Any) -> Any:
    """`parse`, but year.1 as text in a column that never writes .10 is January or October: refused."""
    match = _YEAR_DOT_MONTH.match(value.strip()) if isinstance(value, str) else None
    if match and match.group(2) == "1":
        year = match.group(1)
        raise CellError(f"{year}年1月还是10月？本列的年.月没有写成 .10 的，{year}.1 可能是 Excel 把 {year}.10 "
                        f"存成了 {year}.1：请填 {year}-10-01 或 {year}-01-01")
    return parse(value)


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:  # a workbook's 2015, not 2015.0
        return str(int(value))
    if isinstance(value, tuple | list):
        return ";".join(str(v) for v in value)
    return str(value)


# --------------------------------------------------------------------------------------------------
# Table and cross-table rules
# --------------------------------------------------------------------------------------------------


class _Parsed:
    """The parsed cells of one table: `values[code][i]` for row `rows[i]`."""

    def __init__(self, table: RawTable, problems: list[Problem]) -> None:
        self.table = table
        self.values = {col.code: _parse_column(table, col, problems) for col in columns(table.name)}
        self.rows = table.rows
        self.skipped: set[int] = set()  # rows read and checked but left out of the county (warned about)

    def ok(self, index: int, *codes: str) -> bool:
        return all(self.values[c][index] is not MISSING for c in codes)

    def written(self, index: int, code: str) -> str:
        """The cell as the user wrote it (a problem quotes that, not the value it was read as)."""
        raw = self.table.cells.get(code)
        return _show(raw[index]).strip() if raw is not None else ""

    def __len__(self) -> int:
        return len(self.rows)


def _check_unique(parsed: _Parsed, key: tuple[str, ...], problems: list[Problem], what: str) -> None:
    """Each key once (an error); two keys that differ only in case (JS00005, js00005) are said (a warning):
    most likely one teacher or school typed twice, though they are read as two."""
    first_row: dict[tuple[Any, ...], int] = {}
    folded: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = {}
    for i, row in enumerate(parsed.rows):
        if not parsed.ok(i, *key):
            continue
        value = tuple(parsed.values[c][i] for c in key)
        if value in first_row:
            shown = " / ".join(str(v) for v in value)
            hint = SCIENTIFIC_HINT if _SCIENTIFIC.fullmatch(str(value[-1])) else ""
            problems.append(parsed.table.problem(row, key[-1], shown,
                                                 f"{what}唯一（与第 {first_row[value]} 行重复）{hint}", "unique"))
            continue
        first_row[value] = row
        loose = tuple(str(v).casefold() for v in value)
        if loose in folded:
            other_row, other = folded[loose]
            problems.append(parsed.table.problem(
                row, key[-1], " / ".join(str(v) for v in value),
                f"{what}唯一：与第 {other_row} 行的 {' / '.join(str(v) for v in other)} 只差大小写，"
                "按两个不同的编号读取，若是同一个请统一写法", "unique_case", severity="warning"))
        else:
            folded[loose] = (row, value)


class _SchoolKeys(dict[str, Any]):
    """The schools table's codes (学校代码) and types, for the other tables' references.

    `checkable` is False when the schools table has no readable 学校代码 column: its own problem says
    so, and every reference to it is not also reported as unknown."""

    def __init__(self, types: dict[str, Any], checkable: bool, names: dict[str, str] | None = None) -> None:
        super().__init__(types)
        self.checkable = checkable
        self._names = names or {}  # school name → code
        self._loose = {_loose(code): code for code in types}  # case and punctuation aside
        self._digits: dict[str, list[str]] = {}
        for code in types:
            if code.isdigit():
                self._digits.setdefault(code.lstrip("0"), []).append(code)

    def unknown(self, code: Any) -> bool:
        return self.checkable and code is not MISSING and code not in self

    def expected(self, *codes: str) -> str:
        """“学校表中已有的学校代码”, with a hint where a code lost (or gained) its leading zeros."""
        text = "学校表中已有的学校代码"
        lost = sorted({k for c in codes if c.isdigit() for k in self._digits.get(c.lstrip("0"), []) if k != c})
        if lost:
            text += (f"（学校表中有 {'、'.join(lost[:3])}：开头的 0 似乎丢了，Excel 常把代码当数字；"
                     "请把该列设为“文本”格式后重新填写）")
        floated = sorted({c[:-2] for c in codes if re.fullmatch(r"\d+\.0", c) and c[:-2] in self})
        if floated:  # 1001 written out as a number with a decimal: 1001.0
            text += (f"（学校表中有 {'、'.join(floated[:3])}：末尾的“.0”似乎是把代码当作小数写出时加上的，"
                     "请去掉）")
        named = [(c, self._names[c]) for c in codes if c in self._names]
        if named:  # the school's name where its code belongs
            text += "（" + "、".join(f"“{c}”是学校名称，其代码为 {code}" for c, code in named[:3]) + "：请填代码）"
        near = [(c, self._loose[_loose(c)]) for c in codes
                if not lost and not floated and c not in self._names and _loose(c) in self._loose]
        if near:  # x001, X-001, ="X001": the same code but for case, a dash or an Excel export's quoting
            text += ("（" + "、".join(f"学校表中有 {code}" for _, code in near[:3])
                     + "：大小写、符号或引号与之不同，请照抄）")
        if any(_SCIENTIFIC.fullmatch(c) for c in codes):
            text += SCIENTIFIC_HINT
        return text


#: A long number as Excel shows it when the cell is not text (4.30102E+17): its last digits are gone.
_SCIENTIFIC = re.compile(r"\d(\.\d+)?E\+\d+", flags=re.IGNORECASE)
SCIENTIFIC_HINT = "（这是 Excel 用科学计数法显示的长数字，末几位已丢失：请把该列设为“文本”格式后重新填写）"


def _loose(code: str) -> str:
    """A code without case, spaces, dashes, dots or quotes (="X001" is Excel's way of keeping X001 text)."""
    return re.sub(r"[\s\-_.=\"'·]", "", str(code)).upper()


def _check_schools(schools: _Parsed, problems: list[Problem]) -> None:
    _check_unique(schools, ("school_id",), problems, "学校代码")
    for i, row in enumerate(schools.rows):
        lat, lon = schools.values["lat"][i], schools.values["lon"][i]
        if (lat is None) != (lon is None) and MISSING not in (lat, lon):
            problems.append(schools.table.problem(row, "lon" if lon is None else "lat", "",
                                                  "纬度和经度同时填写或同时留空", "lat_lon_pair"))


def _check_classes(classes: _Parsed, school_types: _SchoolKeys, problems: list[Problem]) -> None:
    table = classes.table
    _check_unique(classes, ("school_id", "grade"), problems, "每所学校每个年级一行，学校代码+年级")
    for i, row in enumerate(classes.rows):
        school_id = classes.values["school_id"][i]
        if classes.ok(i, "school_id") and school_types.unknown(school_id):
            problems.append(table.problem(row, "school_id", school_id, school_types.expected(school_id), "reference"))
        elif classes.ok(i, "school_id", "grade") and school_types.get(school_id) not in (None, MISSING):
            school_type = SchoolType(school_types[school_id])
            grade = classes.values["grade"][i]
            if grade not in school_type.grades:
                allowed = f"{school_type.grades.start}–{school_type.grades.stop - 1}"
                empty = classes.ok(i, "classes", "students") and \
                    classes.values["classes"][i] == 0 and classes.values["students"][i] == 0
                if empty:  # a form listing grades 1–9 for every school, zeros where not taught: left out
                    classes.skipped.add(i)
                problems.append(
                    table.problem(row, "grade", grade, f"{school_type.label}的年级为 {allowed}"
                                  + ("（此行班数、学生数均为 0，已忽略）" if empty else ""), "grade_for_type",
                                  severity="warning" if empty else "error")
                )
        if classes.ok(i, "classes", "students"):
            n_classes, n_students = classes.values["classes"][i], classes.values["students"][i]
            if n_classes > 0 and n_students < n_classes:
                problems.append(
                    table.problem(row, "students", n_students, f"学生数不少于班数（{n_classes} 个班）",
                                  "students_vs_classes")
                )
            if n_classes == 0 and n_students > 0:
                problems.append(
                    table.problem(row, "classes", 0, f"有 {n_students} 名学生时班数至少为 1", "classes_for_students")
                )
            if n_classes > 0 and n_students > MAX_CLASS_SIZE * n_classes:
                problems.append(
                    table.problem(row, "students", n_students, f"平均每班不超过 {MAX_CLASS_SIZE} 人（{n_classes} 个班；"
                                  "超大班额为 66 人以上）：学生数或班数可能填错", "class_size")
                )


#: The largest average class size believed: far above the 超大班额 line (66); more is a typing error, and would
#: make the county's required posts (and the plan's work placing them) absurd.
MAX_CLASS_SIZE = 150


def _check_teachers(
    teachers: _Parsed, school_types: _SchoolKeys, as_of: date, problems: list[Problem]
) -> None:
    table = teachers.table
    _check_unique(teachers, ("teacher_id",), problems, "教师编号")
    oldest = date(as_of.year - 70, as_of.month, 1)
    youngest = date(as_of.year - 18, as_of.month, 1) + timedelta(days=as_of.day - 1)  # as_of may be 29 Feb
    # one year after the as-of date, to the day (366 days let 2027-09-02 through for 2026-09-01)
    latest_start = as_of.replace(year=as_of.year + 1, day=28) if (as_of.month, as_of.day) == (2, 29) \
        else as_of.replace(year=as_of.year + 1)
    for i, row in enumerate(teachers.rows):
        values = {code: teachers.values[code][i] for code in teachers.values}
        school_id = values["school_id"]
        if school_types.unknown(school_id):
            problems.append(table.problem(row, "school_id", school_id, school_types.expected(school_id), "reference"))
        elif values["stage"] is not MISSING and school_types.get(school_id) not in (None, MISSING):
            school_type = SchoolType(school_types[school_id])
            if Stage(values["stage"]) not in school_type.stages:
                taught = "、".join(s.label for s in school_type.stages)
                problems.append(
                    table.problem(row, "stage", teachers.written(i, "stage"),
                                  f"{school_id}（{school_type.label}）开设的学段：{taught}", "stage_for_type")
                )
        birth = values["birth_date"]
        birth_ok = birth is not MISSING and oldest <= birth <= youngest
        if birth is not MISSING and not birth_ok:
            problems.append(
                table.problem(row, "birth_date", teachers.written(i, "birth_date"),
                              f"{oldest.isoformat()} 至 {youngest.isoformat()} 之间"
                              f"（按 {as_of.isoformat()} 计年龄 18–70 岁）", "plausible_birth_date")
            )
        since = values["school_since"]
        if since is not MISSING:
            # judge against the birth date only when it is plausible (a typo there is reported once)
            earliest = date(birth.year + 16, birth.month, 1) if birth_ok else date(1950, 1, 1)
            if not earliest <= since <= latest_start:
                problems.append(
                    table.problem(row, "school_since", teachers.written(i, "school_since"),
                                  f"{earliest.isoformat()}（年满 16 岁）至 "
                                  f"{latest_start.isoformat()} 之间", "plausible_school_since")
                )
        rural = values.get("rural_years")
        if birth_ok and isinstance(rural, int | float) and rural > 0:
            working = (as_of - date(birth.year + 16, birth.month, 1)).days / 365.25  # years since 16
            if rural > max(working, 0.0) + 1e-9:
                problems.append(
                    table.problem(row, "rural_years", teachers.written(i, "rural_years"),
                                  f"不超过年满 16 岁以来的年数（按 {as_of.isoformat()} 计 "
                                  f"{math.floor(max(working, 0.0) * 100) / 100:.2f} 年）："
                                  "此数决定支教资格", "plausible_rural_years"))
        until = values["service_until"]
        if until not in (None, MISSING) and not date(1980, 1, 1) <= until <= date(as_of.year + 20, 12, 31):
            problems.append(
                table.problem(row, "service_until", teachers.written(i, "service_until"),
                              f"1980-01-01 至 {as_of.year + 20}-12-31 之间",
                              "plausible_service")
            )
        wishes = values["wishes"]
        if wishes not in (None, MISSING):
            unknown = [w for w in wishes if school_types.unknown(w)]
            if unknown:
                problems.append(
                    table.problem(row, "wishes", ";".join(wishes),
                                  f"{school_types.expected(*unknown)}（未找到：{'、'.join(unknown)}）", "reference")
                )
            if values["school_id"] in wishes:
                problems.append(
                    table.problem(row, "wishes", ";".join(wishes), "志愿学校不含本校（留在本校不是调动，此项不计；"
                                  "其余志愿的序号按填写顺序）", "wish_own_school", severity="warning")
                )
            stage = values["stage"]
            if stage == Stage.primary.value:  # a primary teacher never moves to a junior school
                closed = [w for w in wishes if not school_types.unknown(w)
                          and school_types.get(w) not in (None, MISSING)
                          and Stage.primary not in SchoolType(school_types[w]).stages]
                if closed:
                    problems.append(table.problem(
                        row, "wishes", ";".join(wishes),
                        f"志愿学校设有本人任教的学段（小学）：{'、'.join(closed)} 不设小学，小学教师不能调往"
                        f"{'，此申请无法满足' if len(closed) == len(wishes) else '（这一志愿不会实现）'}",
                        "wish_other_stage", severity="warning"))
            if wishes and values["volunteer"] is False:
                problems.append(
                    table.problem(row, "wishes", ";".join(wishes), "填写志愿学校的教师应标记“申请交流”为是",
                                  "wishes_without_volunteer", severity="warning")
                )


#: Both directions of a pair given, differing by more than this share of the shorter: said, not guessed.
ASYMMETRY_WARNING = 0.2


def _check_distances(distances: _Parsed, school_types: _SchoolKeys, problems: list[Problem]) -> None:
    """Unique pairs of known schools. Warnings: a school paired with itself (not a move, ignored), and a
    pair given both ways with distances far apart (each direction is used as given)."""
    _check_unique(distances, ("from_id", "to_id"), problems, "每对学校一行，起点+终点")
    seen: dict[tuple[Any, Any], tuple[int, float]] = {}
    for i, row in enumerate(distances.rows):
        for code in ("from_id", "to_id"):
            value = distances.values[code][i]
            if school_types.unknown(value):
                problems.append(distances.table.problem(row, code, value, school_types.expected(value), "reference"))
        a, b, km = distances.values["from_id"][i], distances.values["to_id"][i], distances.values["km"][i]
        if MISSING in (a, b, km):
            continue
        if a == b:
            problems.append(distances.table.problem(row, "to_id", b, "另一所学校（学校到自身不是调动，此行不用）",
                                                    "self_distance", severity="warning"))
            continue
        back = seen.get((b, a))
        if back is not None and abs(back[1] - km) > ASYMMETRY_WARNING * max(min(back[1], km), 1.0):
            problems.append(distances.table.problem(
                row, "km", f"{km:g}", f"与第 {back[0]} 行的反方向 {back[1]:g} 公里相近（两个方向各按所填的用，请核对）",
                "asymmetric_distance", severity="warning"))
        seen[(a, b)] = (row, float(km))


def _check_establishment(schools: _Parsed, teachers: _Parsed, problems: list[Problem]) -> None:
    """A 核定编制 far below the teachers a school holds is likely a typo (3 for 130): warned about, since
    a school at or above its 核定编制 receives no one. (Far above is common: vacant posts, 空编.)"""
    posts: dict[Any, int] = {}
    for school_id in teachers.values["school_id"]:
        if school_id is not MISSING:
            posts[school_id] = posts.get(school_id, 0) + 1
    for i, row in enumerate(schools.rows):
        school_id, establishment = schools.values["school_id"][i], schools.values["establishment"][i]
        if school_id is MISSING or establishment is MISSING or establishment is None:
            continue
        held = posts.get(school_id, 0)
        if held - establishment >= 5 and establishment < held / 2:
            problems.append(schools.table.problem(
                row, "establishment", establishment,
                f"与在编教师 {held} 人相近的核定编制（不到一半：该校不能调入任何人，请核对是否填错）",
                "establishment_far_below", severity="warning"))


def _frame(parsed: _Parsed) -> pd.DataFrame:
    keep = [i for i in range(len(parsed)) if i not in parsed.skipped]
    data: dict[str, Any] = {code: [values[i] for i in keep] for code, values in parsed.values.items()}
    frame = typed_table(parsed.table.name, pd.DataFrame(data))
    for code, values in parsed.table.extra.items():
        if code not in frame.columns:
            frame[code] = [values[i] for i in keep]
    return frame


def validate_tables(
    tables: dict[str, RawTable],
    read_problems: list[Problem] | None = None,
    as_of: date | None = None,
    source: str = "",
) -> County:
    """Check every table and build the County.

    Raises
    ------
    InputError
        With every problem found (reading, cells, cross-table rules), when any is an error.
    """
    as_of = as_of or default_as_of()
    problems: list[Problem] = list(read_problems or [])
    for table in tables.values():
        problems.extend(table.problems)
    parsed = {name: _Parsed(table, problems) for name, table in tables.items() if not _unreadable(table)}
    for name in REQUIRED_TABLES:
        if name in parsed and len(parsed[name]) == 0 and not tables[name].problems:
            problems.append(tables[name].problem(None, "", "", "至少一行数据（示例行不计）", "no_rows"))
    types: dict[str, str] = {}
    names: dict[str, str] = {}
    if "schools" in parsed:
        schools = parsed["schools"]
        _check_schools(schools, problems)
        for i in range(len(schools)):
            if schools.ok(i, "school_id"):
                types.setdefault(schools.values["school_id"][i], schools.values["type"][i])
                if schools.ok(i, "name"):
                    names.setdefault(str(schools.values["name"][i]), schools.values["school_id"][i])
    # no school codes to refer to (no schools table, or no 学校代码 column): that is the problem reported
    school_types = _SchoolKeys(types, "schools" in parsed and "school_id" in tables["schools"].cells, names)
    if "classes" in parsed:
        _check_classes(parsed["classes"], school_types, problems)
    if "teachers" in parsed:
        _check_teachers(parsed["teachers"], school_types, as_of, problems)
    if "distances" in parsed:
        _check_distances(parsed["distances"], school_types, problems)
    if "schools" in parsed and "classes" in parsed:
        kept = parsed["classes"]
        with_classes = {sid for i, sid in enumerate(kept.values["school_id"]) if sid is not MISSING
                        and i not in kept.skipped}
        schools = parsed["schools"]
        for i, row in enumerate(schools.rows):
            sid = schools.values["school_id"][i]
            if sid is not MISSING and sid not in with_classes:
                problems.append(schools.table.problem(row, "school_id", sid, "班级表中有该校的年级行",
                                                      "school_without_classes", severity="warning"))
        if "teachers" in parsed:
            _check_stages_taught(schools, parsed["classes"], parsed["teachers"], with_classes, problems)
        _check_empty_teaching_points(schools, parsed["classes"], types, problems)
    if "schools" in parsed and "teachers" in parsed:
        _check_establishment(parsed["schools"], parsed["teachers"], problems)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    teachers = _frame(parsed["teachers"])
    if teachers is not None and {"wishes", "school_id"} <= set(teachers.columns):
        # The own school on a wish list is no wish (the warning wish_own_school): left out here, the other
        # wishes keep their written order, and a volunteer who named only their own school has no wish
        # list (they read as bound to it and could not move at all).
        teachers["wishes"] = [tuple(w for w in wishes if w != school) if isinstance(wishes, tuple) else wishes
                              for wishes, school in zip(teachers["wishes"], teachers["school_id"], strict=True)]
    county = County(
        schools=_frame(parsed["schools"]),
        classes=_frame(parsed["classes"]),
        teachers=teachers,
        distances=_frame(parsed["distances"]) if "distances" in parsed else None,
        as_of=as_of,
        source=source,
        warnings=tuple(p for p in problems if p.severity == "warning"),
    )
    return county


def _check_stages_taught(schools: _Parsed, classes: _Parsed, teachers: _Parsed, with_classes: set[str],
                         problems: list[Problem]) -> None:
    """A warning for a school with teachers of a stage but no class row of it (a nine-year school whose
    grades 7–9 are missing): its norm for that stage is 0 and all those teachers count as surplus, so the
    plan redeploys them (7 of 16 junior teachers to primary schools, on another generator's county).
    Schools without any class row have their own warning."""
    def code(value: Any) -> str:
        return str(getattr(value, "value", value))

    staged = {(sid, "primary" if grade <= 6 else "junior")
              for i, (sid, grade) in enumerate(zip(classes.values["school_id"], classes.values["grade"], strict=True))
              if sid is not MISSING and isinstance(grade, int | float) and grade == grade and i not in classes.skipped}
    taught: dict[tuple[str, str], int] = {}
    for sid, stage in zip(teachers.values["school_id"], teachers.values["stage"], strict=True):
        if sid is not MISSING and stage is not MISSING and sid in with_classes:
            taught[(sid, code(stage))] = taught.get((sid, code(stage)), 0) + 1
    rows = {sid: row for sid, row in zip(schools.values["school_id"], schools.rows, strict=True)}
    # A stage the school's type does not teach is an error of the teacher's row (stage_for_type), not this.
    offered = {sid: {s.value for s in SchoolType(kind).stages}
               for sid, kind in zip(schools.values["school_id"], schools.values["type"], strict=True)
               if kind is not MISSING}
    for (sid, stage), count in sorted(taught.items()):
        if (sid, stage) not in staged and sid in rows and stage in offered.get(sid, {stage}):
            label = Stage(stage).label if stage in ("primary", "junior") else stage
            problems.append(schools.table.problem(
                rows[sid], "school_id", sid,
                f"班级表中有该校{label}的年级行（教师表中有该校{label}教师 {count} 人，没有{label}班级时按标准需 0 人，"
                "他们都算富余）", "stage_without_classes", severity="warning"))


def _check_empty_teaching_points(schools: _Parsed, classes: _Parsed, types: dict[str, Any],
                                 problems: list[Problem]) -> None:
    """A warning for a teaching point (教学点) whose class rows hold no pupil: its norm is 0, not the
    teaching-point minimum (a school in effect closed), and its teachers count as surplus; said, since
    docs/norms.md reads 教学点不少于 2 人 (another generator's county, without a word)."""
    pupils: dict[str, float] = {}
    for i, (sid, count) in enumerate(zip(classes.values["school_id"], classes.values["students"], strict=True)):
        if sid is not MISSING and i not in classes.skipped and isinstance(count, int | float):
            pupils[sid] = pupils.get(sid, 0) + count
    for sid, row in zip(schools.values["school_id"], schools.rows, strict=True):
        if sid in pupils and pupils[sid] == 0 and str(getattr(types.get(sid), "value", types.get(sid))) == \
                SchoolType.teaching_point.value:
            problems.append(schools.table.problem(
                row, "school_id", sid, "有学生的教学点（班级表中该校学生数为 0：按标准需 0 人，不按教学点最低配备计，"
                "其教师都算富余；已撤并的教学点请从学校表删去）", "empty_teaching_point", severity="warning"))


def _unreadable(table: RawTable) -> bool:
    return any(p.rule in ("empty_file", "encoding", "csv_syntax") for p in table.problems)


def validate_frames(
    frames: dict[str, pd.DataFrame], as_of: date | None = None, source: str = "records"
) -> County:
    """Validate in-memory tables (columns named by code) as if they were files named `<table>`."""
    tables = {}
    missing = [
        Problem(name, None, "", "", f"表 {name}", rule="missing_table")
        for name in REQUIRED_TABLES if name not in frames
    ]
    if missing:
        raise InputError(missing)
    for name, frame in frames.items():
        table = RawTable(name=name, file=name, rows=list(range(2, len(frame) + 2)))
        known = {c.code for c in columns(name)}
        table.cells = {code: frame[code].tolist() for code in frame.columns if code in known}
        table.extra = {code: frame[code].tolist() for code in frame.columns if code not in known}
        tables[name] = table
    return validate_tables(tables, as_of=as_of, source=source)


__all__ = ["default_as_of", "validate_frames", "validate_tables"]
