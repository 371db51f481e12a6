"""User pins (指定): `pins.csv` in the dataset folder, or `--pins FILE`.

Each row names a teacher and one of: 必须留任 must_stay, 必须调出 must_move, 调往学校 to_school,
不得调往 not_to_school. A teacher may have several not_to_school rows. Problems are reported like
every other input problem: file, row, column, value, expected.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from teacheralloc.domain import County
from teacheralloc.errors import InputError, Problem
from teacheralloc.io.read import decode, normalize_header, sniff_delimiter, summary_row
from teacheralloc.io.validate import is_blank, parse_bool

PIN_FILE = "pins.csv"
PIN_COLUMNS = {
    "teacher_id": "教师编号",
    "must_stay": "必须留任",
    "must_move": "必须调出",
    "to_school": "调往学校",
    "not_to_school": "不得调往",
}
PIN_KINDS = ("must_stay", "must_move", "to_school", "not_to_school")


#: The pins a plan honoured, in its folder (read back by `check` when no --pins is given).
PINS_USED = "pins_used.csv"
#: The placeholder ids of a scenario's new hires (NEW-0001, …; made by `scenario.add_hires`).
HIRE_PREFIX = "NEW-"


def pins_table(pins: pd.DataFrame) -> pd.DataFrame:
    """Pins (teacher_id, kind, school_id) as a pins.csv: one row each, Chinese headers, 是 for a flag."""
    rows = []
    for pin in pins.itertuples(index=False):
        row = dict.fromkeys(PIN_COLUMNS.values(), "")
        row[PIN_COLUMNS["teacher_id"]] = pin.teacher_id
        row[PIN_COLUMNS[pin.kind]] = "是" if pin.kind in ("must_stay", "must_move") else pin.school_id
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PIN_COLUMNS.values()))


def empty_pins() -> pd.DataFrame:
    return pd.DataFrame({"teacher_id": pd.Series(dtype=object), "kind": pd.Series(dtype=object),
                         "school_id": pd.Series(dtype=object), "row": pd.Series(dtype="int64")})


def find_pins(dataset: Path, explicit: Path | None = None) -> Path | None:
    """The pins file to use: `explicit`, else `pins.csv` (or 指定.csv) in the dataset folder."""
    if explicit is not None:
        return explicit
    folder = Path(dataset)
    if folder.is_dir():
        for name in (PIN_FILE, "指定.csv"):
            if (folder / name).exists():
                return folder / name
    elif folder.suffix.lower() in (".xlsx", ".xlsm") and folder.is_file() and pins_sheet(folder) is not None:
        return folder  # the data workbook's own 指定 sheet
    return None


#: Sheet names under which a workbook holds pins.
PIN_SHEETS = ("pins", "指定")


def pins_sheet(path: Path) -> str | None:
    """The sheet named 指定 (or pins) of a workbook, if it has one: where a data workbook keeps its pins."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True)
    except Exception:  # not a workbook: its reader says so
        return None
    try:
        return next((title for title in book.sheetnames if normalize_header(title) in PIN_SHEETS), None)
    finally:
        book.close()


def _raw_rows(path: Path, sheet_name: str | None = None) -> list[list[str]]:
    """The file's rows as text: a CSV in any of the dataset's encodings, or a sheet of an .xlsx workbook
    (`sheet_name`, else the first; numbers written as whole numbers where they are whole: 教师编号 1203,
    not 1203.0)."""
    import csv
    import io

    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        from teacheralloc.io.read import _not_a_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged or non-xlsx file
            found, expected = _not_a_workbook(path, exc)
            raise InputError([Problem(path.name, None, "", found, expected, rule="xlsx_open")]) from None

        def text(value: object) -> str:
            if value is None:
                return ""
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            return str(value)

        sheet = book[sheet_name] if sheet_name is not None else book.worksheets[0]
        rows = [[text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    try:
        decoded, _ = decode(path.read_bytes())
    except UnicodeDecodeError:
        raise InputError([Problem(path.name, None, "", "", "UTF-8、UTF-16 或 GBK 编码的 CSV，或 .xlsx 工作簿",
                                  rule="encoding")]) from None
    return list(csv.reader(io.StringIO(decoded, newline=""), delimiter=sniff_delimiter(decoded)))


def read_pins(path: Path | None, county: County, without_hires: bool = False, scenario: bool = False,
              honourable: Callable[[pd.DataFrame], list[Problem]] | None = None) -> pd.DataFrame:
    """Pins as a table (teacher_id, kind, school_id, row), checked against the county. `without_hires`:
    a scenario plan's pins_used.csv read against the county's own data leaves out its new hires'
    placements (NEW-0001 …, not in the teachers table; `check` says it cannot verify them). `scenario`:
    the county is a scenario's, after its changes (a school it closed is named as such). `honourable`:
    the pins no plan can honour among the readable rows (`plan` passes `conflicts.check_pins`'s), so
    that a file with an unknown id and a pin to a full school says both at once (a tester needed three
    runs for one such file).

    Raises
    ------
    InputError
        Every problem: unknown teacher or school, no or several kinds on a row, a bad yes/no.
    """
    if path is None:
        return empty_pins()
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(str(path), None, "", "", "存在的 pins.csv 文件", rule="not_found")])
    if path.is_dir():
        raise InputError([Problem(str(path), None, "", "（文件夹）", "pins.csv 文件（CSV 或 .xlsx），不是文件夹",
                                  rule="not_a_file")])
    sheet = pins_sheet(path) if path.suffix.lower() in (".xlsx", ".xlsm") else None
    name = f"{path.name} / {sheet}" if sheet else path.name
    # NFKC: a full-width Ｕ０３ is U03, as in the tables
    rows = [[unicodedata.normalize("NFKC", cell) for cell in row] for row in _raw_rows(path, sheet)]
    if not rows:
        return empty_pins()
    aliases = {normalize_header(code): code for code in PIN_COLUMNS}
    aliases.update({normalize_header(label): code for code, label in PIN_COLUMNS.items()})
    header = [aliases.get(normalize_header(h)) for h in rows[0]]
    problems: list[Problem] = []
    if "teacher_id" not in header:
        problems.append(Problem(name, 1, "teacher_id", "", "必需列“教师编号”（teacher_id）", label="教师编号",
                                rule="missing_column"))
        raise InputError(problems)
    teachers = set(county.teachers["teacher_id"])
    schools = set(county.schools["school_id"])
    records = []
    for number, values in enumerate(rows[1:], start=2):
        if all(not v.strip() for v in values) or summary_row(values):  # 合计, 填表人：… are no pins
            continue
        cells = {code: values[i] if i < len(values) else "" for i, code in enumerate(header) if code}
        teacher = cells.get("teacher_id", "").strip()
        if without_hires and teacher.startswith(HIRE_PREFIX) and teacher not in teachers:
            continue
        if teacher not in teachers:
            problems.append(Problem(name, number, "teacher_id", teacher, "教师表中已有的教师编号",
                                    label="教师编号", rule="reference"))
        kinds = []
        declined = unreadable = False  # a 否 written out is no pin; a bad yes/no is reported once
        for kind in PIN_KINDS:
            value = cells.get(kind, "")
            if is_blank(value):
                continue
            if kind in ("must_stay", "must_move"):
                try:
                    if parse_bool(value):
                        kinds.append((kind, None))
                    else:
                        declined = True
                except ValueError:
                    problems.append(Problem(name, number, kind, value, "是 / 否", label=PIN_COLUMNS[kind],
                                            rule="type_bool"))
                    unreadable = True
            else:
                school = value.strip()
                if school not in schools:
                    known = ("情景变化后仍在的学校代码（情景关闭或并入别校的学校不能再指定）" if scenario
                             else "学校表中已有的学校代码")
                    problems.append(Problem(name, number, kind, school, known, label=PIN_COLUMNS[kind],
                                            rule="reference"))
                kinds.append((kind, school))
        if not kinds and (declined or unreadable):
            continue
        if len(kinds) != 1:
            problems.append(Problem(name, number, "", "、".join(PIN_COLUMNS[k] for k, _ in kinds) or "（空）",
                                    "每行恰好一项：必须留任、必须调出、调往学校或不得调往", rule="one_pin_per_row"))
            continue
        records.append({"teacher_id": teacher, "kind": kinds[0][0], "school_id": kinds[0][1], "row": number})
    pins = pd.DataFrame(records) if records else empty_pins()
    if problems:  # with the pins that contradict each other: every problem of the file in one round
        readable = pins[pins["teacher_id"].isin(teachers)
                        & (pins["school_id"].isna() | pins["school_id"].isin(schools))]
        readable.attrs["file"] = name
        later = honourable(readable) if honourable is not None and not readable.empty else \
            pin_contradictions(pins, name)
        raise InputError(problems + later)
    pins.attrs["file"] = name  # named in the problems of pins no plan can honour
    return pins


def pin_contradictions(pins: pd.DataFrame, file: str) -> list[Problem]:
    """Pins that contradict each other whatever the data: one teacher pinned to stay and to move, to two
    schools, or to a school they are also barred from; each at the row of the move. Found by `read_pins`
    with the file's other problems (they came a round later) and by `model.conflicts.check_pins`."""
    if pins.empty:
        return []
    moving = pins[pins["kind"].isin(["must_move", "to_school"])]
    stay_pins = pins[pins["kind"] == "must_stay"].drop_duplicates("teacher_id")
    staying = dict(zip(stay_pins["teacher_id"], stay_pins["row"], strict=True))
    barred = set(zip(pins.loc[pins["kind"] == "not_to_school", "teacher_id"],
                     pins.loc[pins["kind"] == "not_to_school", "school_id"], strict=True))
    first_to: dict[str, tuple[str, int]] = {}
    problems = []
    for pin in moving.itertuples(index=False):
        expected = ""
        if pin.teacher_id in staying:
            expected = f"与同一教师第 {staying[pin.teacher_id]} 行的“必须留任”冲突：删去其中一项"
        elif pin.kind == "to_school" and pin.teacher_id in first_to and first_to[pin.teacher_id][0] != pin.school_id:
            school, row = first_to[pin.teacher_id]
            expected = f"同一教师已在第 {row} 行指定调往 {school}：每人只能指定一所调往学校，删去其中一行"
        elif pin.kind == "to_school" and (pin.teacher_id, pin.school_id) in barred:
            expected = f"同一教师又被指定“不得调往”{pin.school_id}：删去其中一项"
        if pin.kind == "to_school":
            first_to.setdefault(pin.teacher_id, (pin.school_id, pin.row))
        if expected:
            school = pin.school_id if isinstance(pin.school_id, str) and pin.school_id else "是"
            problems.append(Problem(file, int(pin.row), pin.kind, school, expected,
                                    label=PIN_COLUMNS.get(pin.kind, ""), rule="pin_conflict"))
    return problems
