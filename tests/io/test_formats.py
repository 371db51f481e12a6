"""Format equivalence: every encoding, header, enumeration, date and list form the data contract allows
reads to the same county. (The .xlsx round trip is tested with the workbook writer.)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from tests.helpers import (
    AS_OF,
    add_column,
    county_workbook,
    csv_path,
    read_rows,
    row_of,
    set_cell,
    set_header,
    write_county_csv,
    write_rows,
)

from teacheralloc.domain import TABLE_LABELS, columns
from teacheralloc.errors import InputError
from teacheralloc.io.read import load_county
from teacheralloc.io.write import table_rows


def load(folder: Path):
    return load_county(folder, as_of=AS_OF)


# --------------------------------------------------------------------------------------------------
# Encodings, file names, headers, enumeration labels
# --------------------------------------------------------------------------------------------------


def test_utf8_codes(county, folder: Path) -> None:
    assert csv_path(folder, "teachers").read_bytes().startswith(b"teacher_id,")
    assert load(folder).equals(county)


def test_utf8_with_bom(county, tmp_path: Path) -> None:
    folder = write_county_csv(county, tmp_path / "bom", encoding="utf-8-sig")
    assert csv_path(folder, "schools").read_bytes().startswith(b"\xef\xbb\xbfschool_id,")
    loaded = load(folder)
    assert loaded.equals(county)
    assert "school_id" in loaded.schools.columns  # the BOM is not part of the first header


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_gbk_chinese_names_headers_and_labels(county, tmp_path: Path, encoding: str) -> None:
    folder = write_county_csv(county, tmp_path / "gbk", encoding=encoding, chinese=True)
    expected_names = sorted(f"{label}.csv" for label in TABLE_LABELS.values())
    assert sorted(p.name for p in folder.iterdir()) == expected_names
    data = (folder / "教师.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode(encoding)
    assert text.startswith("教师编号,姓名,性别,出生日期")
    assert ",女," in text and ",小学," in text and "科学、信息科技" in text and ",是," in text
    assert load(folder).equals(county)


def test_utf8_chinese(county, tmp_path: Path) -> None:
    assert load(write_county_csv(county, tmp_path / "zh", chinese=True)).equals(county)


def test_mixed_headers(county, folder: Path) -> None:
    set_header(folder, "teachers", "teacher_id", "教师编号")
    set_header(folder, "teachers", "birth_date", "出生日期(birth_date)")
    set_header(folder, "teachers", "school_id", " 任教 学校 ")  # stray spaces
    set_header(folder, "teachers", "stage", "*任教学段")  # a template's required mark
    set_header(folder, "teachers", "subject", "主教学科（subject）")  # full-width brackets
    set_header(folder, "teachers", "volunteer", "Volunteer")
    set_header(folder, "schools", "type", "学校类型")
    set_header(folder, "classes", "students", "ｓｔｕｄｅｎｔｓ")  # full-width letters
    rows = read_rows(folder, "teachers")
    rows[0] = list(reversed(rows[0]))  # column order does not matter
    rows[1:] = [list(reversed(row)) for row in rows[1:]]
    write_rows(folder, "teachers", rows)
    assert load(folder).equals(county)


def test_mixed_enum_codes_and_labels(county, folder: Path) -> None:
    set_cell(folder, "schools", 2, "type", "小学")
    set_cell(folder, "schools", 3, "area", "镇区")
    set_cell(folder, "schools", 4, "type", "NINE_YEAR")  # codes are case-insensitive
    set_cell(folder, "teachers", 2, "gender", "女")
    set_cell(folder, "teachers", 3, "subject", "数学")
    set_cell(folder, "teachers", 3, "other_subjects", "科学;it")
    set_cell(folder, "teachers", 4, "backbone", "市级")
    set_cell(folder, "teachers", 6, "status", "产假")
    set_cell(folder, "teachers", 5, "volunteer", "是")
    set_cell(folder, "schools", 4, "weak", "是")
    set_cell(folder, "schools", 2, "weak", "0")
    assert load(folder).equals(county)


def test_mixed_file_names(county, tmp_path: Path) -> None:
    folder = write_county_csv(county, tmp_path / "county")
    csv_path(folder, "teachers").rename(folder / "教师.csv")
    csv_path(folder, "classes").rename(folder / "Classes.CSV")
    assert load(folder).equals(county)


def test_extra_unknown_column_is_kept_and_ignored(county, folder: Path) -> None:
    notes = [f"备注{i}" for i in range(county.num_teachers)]
    add_column(folder, "teachers", "备注", notes)
    add_column(folder, "schools", "校长", "张三")
    loaded = load(folder)
    assert loaded.equals(county)
    assert loaded.teachers["备注"].tolist() == notes
    assert loaded.schools["校长"].tolist() == ["张三"] * 4
    assert list(loaded.contract_table("teachers").columns) == [c.code for c in columns("teachers")]


def test_tab_separated(county, folder: Path) -> None:
    for table in ("schools", "classes", "teachers", "distances"):
        rows = read_rows(folder, table)
        csv_path(folder, table).write_text("\n".join("\t".join(row) for row in rows) + "\n", encoding="utf-8")
    assert load(folder).equals(county)


@pytest.mark.parametrize(("column", "text", "code"), [
    ("subject", "信息技术", "it"), ("subject", "体育", "pe"), ("subject", "思想品德", "morality"),
    ("title", "小学高级教师", "first"), ("title", "中学高级教师", "senior"), ("title", "小学一级教师", "second"),
    ("title", "一级教师", "first"), ("education", "大学本科", "bachelor"), ("education", "大学专科", "associate"),
    ("backbone", "县级骨干", "county"), ("status", "在职", "active"), ("status", "在编在岗", "active"),
    ("education", "全日制本科", "bachelor"), ("stage", "小学部", "primary"),
])
def test_roster_spellings_of_enumeration_values(folder: Path, column: str, text: str, code: str) -> None:
    """The names county rosters use (the old titles as the 2015 reform maps them) read as the codes."""
    row = 2  # T01, a primary teacher of 城关第一小学
    set_cell(folder, "teachers", row, column, text)
    teachers = load(folder).teachers
    assert str(teachers.iloc[row - 2][column]) == code


@pytest.mark.parametrize(("column", "text", "code"), [
    ("type", "九年一贯制学校", "nine_year"), ("area", "农村", "rural"),
])
def test_roster_spellings_of_school_values(folder: Path, column: str, text: str, code: str) -> None:
    """九年一贯制学校 and 农村 (an HR tester's roster) were errors."""
    row = row_of(folder, "schools", "school_id", "N1")  # 山岭九年一贯制学校, rural
    set_cell(folder, "schools", row, column, text)
    schools = load(folder).schools.set_index("school_id")
    assert str(schools.at["N1", column]) == code


def test_utf16_tab_separated_as_excel_saves_unicode_text(county, folder: Path) -> None:
    """Excel's “Unicode 文本 (*.txt)”: UTF-16 with its byte-order mark, tab-separated."""
    for table in ("schools", "classes", "teachers", "distances"):
        rows = read_rows(folder, table)
        csv_path(folder, table).write_bytes("\n".join("\t".join(row) for row in rows).encode("utf-16"))
    assert load(folder).equals(county)


def test_semicolon_separated(county, folder: Path) -> None:
    """Excel where the decimal mark is a comma saves “CSV” with semicolons; lists stay in their cells."""
    for table in ("schools", "classes", "teachers", "distances"):
        rows = read_rows(folder, table)
        quoted = [";".join(f'"{cell}"' if ";" in cell else cell for cell in row) for row in rows]
        csv_path(folder, table).write_text("\n".join(quoted) + "\n", encoding="utf-8")
    assert load(folder).equals(county)


def test_a_comma_csv_whose_first_rows_list_subjects_with_semicolons(county, folder: Path) -> None:
    """Counting separators on the first lines took a comma CSV for a semicolon one when its first teachers
    list many subjects (or wishes) as a;b;c (the header became one unknown column): the separator that
    splits the header into known column names wins."""
    from teacheralloc.io.read import HEADER_SEARCH_ROWS, sniff_delimiter

    rows = read_rows(folder, "teachers")
    others = rows[0].index("other_subjects")
    for row in rows[1:HEADER_SEARCH_ROWS]:
        row[others] = ";".join(["music", "art", "pe", "english", "science"] * 4)
    text = "\n".join(",".join(row) for row in rows) + "\n"
    head = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    assert head.count(";") > head.count(",") and sniff_delimiter(head) == ";"  # by counting alone
    csv_path(folder, "teachers").write_text(text, encoding="utf-8")
    teachers = load(folder).teachers
    assert len(teachers) == len(county.teachers)
    assert set(teachers["other_subjects"].iloc[0]) == {"music", "art", "pe", "english", "science"}


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------

EXCEL_EPOCH = date(1899, 12, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1985-03-01", date(1985, 3, 1)),
        ("1985-3-1", date(1985, 3, 1)),
        ("1985/03/01", date(1985, 3, 1)),
        ("1985/3/1", date(1985, 3, 1)),
        ("198503", date(1985, 3, 1)),  # 出生年月 as rosters write it
        ("1985 年 3 月", date(1985, 3, 1)),
        ("1985.03.01", date(1985, 3, 1)),
        ("1985.03", date(1985, 3, 1)),
        ("1985.3", date(1985, 3, 1)),
        ("1985/03", date(1985, 3, 1)),
        ("1985年03月", date(1985, 3, 1)),
        ("1985年3月", date(1985, 3, 1)),
        ("1985年3", date(1985, 3, 1)),
        ("1985年3月15日", date(1985, 3, 15)),
        ("19850315", date(1985, 3, 15)),
        ("1985-03-15 00:00:00", date(1985, 3, 15)),  # what some exports write for a date cell
        (" 1985-03-15 ", date(1985, 3, 15)),
        ("１９８５－０３－１５", date(1985, 3, 15)),  # full-width digits from a Chinese input method
        (str((date(1985, 3, 15) - EXCEL_EPOCH).days), date(1985, 3, 15)),  # Excel serial number: 31121
        ("31107", date(1985, 3, 1)),
    ],
)
def test_date_forms(folder: Path, text: str, expected: date) -> None:
    set_cell(folder, "teachers", 2, "birth_date", text)
    set_cell(folder, "teachers", 2, "service_until", text.replace("1985", "2027") if "1985" in text else "")
    teachers = load(folder).teachers.set_index("teacher_id")
    assert teachers.loc["T01", "birth_date"].date() == expected
    if "1985" in text:
        assert teachers.loc["T01", "service_until"].date() == expected.replace(year=2027)


def test_excel_serial_number_cell_in_workbook(county, tmp_path: Path) -> None:
    """A date typed into a cell formatted as a number reaches the loader as the serial number."""
    workbook = county_workbook(county)
    teachers = workbook["teachers"]
    teachers.cell(row=2, column=4).value = (date(1985, 3, 1) - EXCEL_EPOCH).days  # birth_date of T01
    teachers.cell(row=2, column=6).value = date(2015, 9, 1)  # school_since as a real date cell
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    loaded = load_county(path, as_of=AS_OF)
    assert loaded.equals(county.replace(distances=None))
    assert loaded.teachers.loc[0, "birth_date"].date() == date(1985, 3, 1)


def test_title_rows_above_the_header_and_total_rows_are_skipped(county, folder: Path) -> None:
    """An office's roster starts with a title and a unit line, and ends with a total and the sign-off:
    the header is found below them, those rows are skipped with a warning each, and a problem in a record
    keeps the row number the user sees."""
    rows = read_rows(folder, "teachers")
    width = len(rows[0])
    pad = [""] * (width - 1)
    edited = [["××县2026年教师花名册", *pad], ["填报单位：××县教育局人事股", *pad], [""] * width, *rows,
              ["合计", str(len(rows) - 1), *pad[1:]], ["填表人：张三", "审核人：李四", *pad[1:]]]
    write_rows(folder, "teachers", edited)
    loaded = load(folder)
    assert loaded.equals(county)
    warnings = {(p.rule, p.row, p.value) for p in loaded.warnings}
    assert warnings == {("title_rows", 1, "××县2026年教师花名册"), ("summary_row", len(rows) + 4, "合计"),
                        ("summary_row", len(rows) + 5, "填表人：张三")}
    column = rows[0].index("birth_date")
    edited[4][column] = "1990-13-01"  # the first record, on row 5 of the file
    write_rows(folder, "teachers", edited)
    with pytest.raises(InputError) as caught:
        load(folder)
    assert [(p.row, p.column) for p in caught.value.errors] == [(5, "birth_date")]


def test_excel_error_values_are_errors_not_text(folder: Path) -> None:
    """A failed VLOOKUP leaves #N/A in a text column (教育集团, 乡镇): read as text it would put unrelated
    schools into one group, so it is an error naming the cell."""
    rows = read_rows(folder, "schools")
    column = rows[0].index("township")
    rows[2][column] = "#N/A"
    write_rows(folder, "schools", rows)
    with pytest.raises(InputError) as caught:
        load(folder)
    assert [(p.row, p.column, p.value, p.rule) for p in caught.value.errors] == [(3, "township", "#N/A", "excel_error")]


def test_merged_cells_hold_for_every_row_they_cover(county, tmp_path: Path) -> None:
    """An office merges a column's cells over rows that share a value (教育集团, 任教学校): only the first
    row keeps it, so the others read blank, and an optional column silently took its default. Each row
    now gets the merged value, with a warning."""
    workbook = county_workbook(county)
    sheet = workbook["classes"]
    header = [cell.value for cell in sheet[1]]
    column = header.index("school_id") + 1
    values = [sheet.cell(row=r, column=column).value for r in range(2, sheet.max_row + 1)]
    last = 2 + next(i for i, v in enumerate(values) if v != values[0])  # the first school's rows: 2..last-1
    sheet.merge_cells(start_row=2, start_column=column, end_row=last - 1, end_column=column)
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    loaded = load_county(path, as_of=AS_OF)
    assert loaded.equals(county.replace(distances=None))
    assert [p.rule for p in loaded.warnings] == ["merged_cells"]


def test_title_row_in_a_workbook(county, tmp_path: Path) -> None:
    """The same in an .xlsx sheet, the title in a merged cell over the header."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name in ("schools", "classes", "teachers"):
        sheet = workbook.create_sheet(TABLE_LABELS[name])
        header, rows = table_rows(county, name)
        sheet.append([f"{TABLE_LABELS[name]}信息表"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        sheet.append(["合 计"])
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    loaded = load_county(path, as_of=AS_OF)
    assert loaded.equals(county.replace(distances=None))
    assert {p.rule for p in loaded.warnings} == {"title_rows", "summary_row"}


def _workbook_with_number_dates(county, tmp_path: Path, birth: float, since: float) -> Path:
    workbook = county_workbook(county)
    teachers = workbook["teachers"]
    teachers.cell(row=2, column=4).value = birth  # birth_date of T01, typed as 1985.04 into a General cell
    teachers.cell(row=2, column=6).value = since  # school_since
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    return path


def _column(workbook, sheet: str, code: str) -> int:
    """The 1-based column of `code` in a sheet of `county_workbook` (English or Chinese header)."""
    from teacheralloc.domain import columns

    label = next(c.label for c in columns(sheet) if c.code == code)
    return next(i for i, h in enumerate((c.value for c in workbook[sheet][1]), start=1) if h in (code, label))


def _saved_with(workbook, tmp_path: Path, old: bytes, new: bytes) -> Path:
    """`workbook` saved, then its sheets' XML edited (`old` → `new`): what another writer would store."""
    import zipfile

    written = tmp_path / "openpyxl.xlsx"
    workbook.save(written)
    path = tmp_path / "county.xlsx"
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data.replace(old, new) if item.filename.startswith("xl/worksheets/") else data)
    return path


def test_a_whole_number_in_a_workbook_is_quoted_as_typed(county, tmp_path: Path) -> None:
    """A year in a date column, saved as 2030.0 by another generator, was quoted back as “2030.0”."""
    workbook = county_workbook(county)
    workbook["teachers"].cell(row=2, column=_column(workbook, "teachers", "school_since")).value = 2030
    path = _saved_with(workbook, tmp_path, b"<v>2030</v>", b"<v>2030.0</v>")
    with pytest.raises(InputError) as caught:
        load_county(path, as_of=AS_OF)
    [problem] = caught.value.errors
    assert (problem.row, problem.column, problem.value) == (2, "school_since", "2030")


def test_formula_without_a_computed_value_is_named(county, tmp_path: Path) -> None:
    """A program that writes formulas without their results (openpyxl does) leaves those cells empty to
    a reader of values: the problem says so and quotes the formula, instead of "required"."""
    workbook = county_workbook(county)
    header = [cell.value for cell in workbook["classes"][1]]
    column = next(i for i, h in enumerate(header, start=1) if h in ("students", "学生数"))
    workbook["classes"].cell(row=2, column=column).value = "=40+5"
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    with pytest.raises(InputError) as caught:
        load_county(path, as_of=AS_OF)
    rules = {p.rule for p in caught.value.errors}
    assert "formula_without_value" in rules
    [cell] = [p for p in caught.value.errors if p.rule != "formula_without_value"]
    assert (cell.row, cell.column, cell.value) == (2, "students", "=40+5")
    [summary] = [p for p in caught.value.errors if p.rule == "formula_without_value"]
    assert summary.row == 2 and "=40+5" in summary.value  # the cell and its formula, not only a count


def test_a_formula_saved_with_a_zero_result_by_a_writer_that_leaves_computing_to_excel(county, tmp_path: Path
                                                                                       ) -> None:
    """xlsxwriter (pandas' writer when installed) saves 0 as every formula's result and marks the workbook to
    be recalculated when opened (fullCalcOnLoad): the zeros were read as data, silently (351 teachers with
    0 rural years). Such results are treated as none: the formula is named, as for openpyxl's."""
    import zipfile

    workbook = county_workbook(county)
    workbook["classes"].cell(row=2, column=_column(workbook, "classes", "students")).value = "=40+5"
    path = _saved_with(workbook, tmp_path, b"<f>40+5</f><v></v>", b"<f>40+5</f><v>0</v>")
    assert b'fullCalcOnLoad="1"' in zipfile.ZipFile(path).read("xl/workbook.xml")
    with pytest.raises(InputError) as caught:
        load_county(path, as_of=AS_OF)
    [summary] = [p for p in caught.value.errors if p.rule == "formula_without_value"]
    assert summary.row == 2 and "=40+5" in summary.value


def test_a_long_code_stored_as_a_number_is_refused_with_its_reason(county, tmp_path: Path) -> None:
    """An 18-digit id typed into a General cell keeps Excel's 15 significant digits: read as text it had
    made-up last digits (unique ones passed with no word; equal ones only said 教师编号唯一)."""
    workbook = county_workbook(county)
    header = [cell.value for cell in workbook["teachers"][1]]
    column = next(i for i, h in enumerate(header, start=1) if h in ("teacher_id", "教师编号"))
    workbook["teachers"].cell(row=3, column=column).value = 430102198001009984.0
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    with pytest.raises(InputError) as caught:
        load_county(path, as_of=AS_OF)
    [problem] = caught.value.errors
    assert (problem.row, problem.column) == (3, "teacher_id")
    assert "18 位长编号" in problem.expected and "文本" in problem.expected


def test_a_formula_in_a_skipped_total_row_does_not_block(county, tmp_path: Path) -> None:
    """A 合计 row with =SUM(…) saved without its result: the row is skipped with a warning, and its
    formula blocked the whole workbook as “1 个公式单元格” with no cell named."""
    workbook = county_workbook(county)
    sheet = workbook["classes"]
    header = [cell.value for cell in sheet[1]]
    total = ["合计", *[None] * (len(header) - 1)]
    total[header.index("students")] = f"=SUM(D2:D{sheet.max_row})"
    sheet.append(total)
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    loaded = load_county(path, as_of=AS_OF)
    assert [p.rule for p in loaded.warnings] == ["summary_row"]
    assert loaded.classes.equals(county.classes)


def test_year_month_typed_as_a_number_in_a_workbook(county, tmp_path: Path) -> None:
    """HR staff type 1985.04 into a General cell; Excel keeps the number 1985.04 (and 2015.11 as it is,
    1985.4 for 1985.40): a year and month, not the serial day 1985 (1905-06-07)."""
    loaded = load_county(_workbook_with_number_dates(county, tmp_path, 1985.04, 2015.11), as_of=AS_OF)
    assert loaded.teachers.loc[0, "birth_date"].date() == date(1985, 4, 1)
    assert loaded.teachers.loc[0, "school_since"].date() == date(2015, 11, 1)
    loaded = load_county(_workbook_with_number_dates(county, tmp_path, 1985.4, 2015.09), as_of=AS_OF)
    assert loaded.teachers.loc[0, "birth_date"].date() == date(1985, 4, 1)


def test_year_month_number_that_could_be_january_or_october_is_refused(county, tmp_path: Path) -> None:
    """2016.1 in a number cell was typed "2016.1" or "2016.10": the error says so and what to type."""
    with pytest.raises(InputError) as caught:
        load_county(_workbook_with_number_dates(county, tmp_path, 1985.04, 2016.1), as_of=AS_OF)
    [problem] = caught.value.errors
    assert (problem.row, problem.column, problem.value) == (2, "school_since", "2016.1")
    assert "1月还是10月" in problem.expected and "2016-10-01" in problem.expected


# --------------------------------------------------------------------------------------------------
# Lists
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "science;it",
        "science,it",
        "science、it",
        "science；it",
        "science，it",
        "science; it",
        "science ; it ;",
        "科学、信息科技",
        "科学；it",
        "science;it;science",  # a repeat is dropped
    ],
)
def test_list_separators_other_subjects(folder: Path, text: str) -> None:
    row = row_of(folder, "teachers", "teacher_id", "T02")
    set_cell(folder, "teachers", row, "other_subjects", text)
    teachers = load(folder).teachers.set_index("teacher_id")
    assert teachers.loc["T02", "other_subjects"] == ("science", "it")


@pytest.mark.parametrize("separator", [";", ",", "、", "；"])
def test_list_separators_wishes_keep_order(folder: Path, separator: str) -> None:
    row = row_of(folder, "teachers", "teacher_id", "T08")
    set_cell(folder, "teachers", row, "wishes", separator.join(["N1", "P1", "J1"]))
    teachers = load(folder).teachers.set_index("teacher_id")
    assert teachers.loc["T08", "wishes"] == ("N1", "P1", "J1")


def test_empty_lists(county, folder: Path) -> None:
    teachers = load(folder).teachers.set_index("teacher_id")
    assert teachers.loc["T01", "other_subjects"] == ()
    assert teachers.loc["T01", "wishes"] == ()
    assert teachers.loc["T07", "other_subjects"] == ("chinese", "music", "art")


# --------------------------------------------------------------------------------------------------
# Numbers and defaults
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [("120", 120), ("120.0", 120), (" 120 ", 120), ("1,200", 1200),
                                                 ("１２０", 120)])
def test_int_forms(folder: Path, text: str, expected: int) -> None:
    set_cell(folder, "schools", 3, "boarding_students", text)
    assert load(folder).schools.set_index("school_id").loc["J1", "boarding_students"] == expected


def test_optional_blanks_take_defaults(folder: Path) -> None:
    for column in ("title", "backbone", "status", "rural_years", "volunteer", "education", "service_until"):
        set_cell(folder, "teachers", 3, column, "")
    set_cell(folder, "schools", 3, "boarding_students", "")
    set_cell(folder, "schools", 3, "establishment", "")
    set_cell(folder, "schools", 3, "weak", "")
    loaded = load(folder)
    t02 = loaded.teachers.set_index("teacher_id").loc["T02"]
    assert (t02["title"], t02["backbone"], t02["status"], t02["rural_years"], t02["volunteer"]) == (
        "none", "none", "active", 0.0, False)
    assert pd.isna(t02["education"]) and pd.isna(t02["service_until"])
    j1 = loaded.schools.set_index("school_id").loc["J1"]
    assert (j1["boarding_students"], j1["weak"]) == (0, False)
    assert j1["establishment"] is pd.NA


# --------------------------------------------------------------------------------------------------
# Spreadsheets from other tools (each case a silent misread or a lost row before)
# --------------------------------------------------------------------------------------------------


def test_decimal_commas_in_a_semicolon_csv(county, folder: Path) -> None:
    """Excel where the decimal mark is a comma writes 农村任教年限 2,5 in a semicolon CSV: 2.5, not 25."""
    set_cell(folder, "teachers", 2, "rural_years", "2.5")
    expected = load(folder)
    for table in ("schools", "classes", "teachers", "distances"):
        rows = read_rows(folder, table)
        text = [";".join(cell.replace(".", ",") if _is_decimal(cell) else f'"{cell}"' if ";" in cell else cell
                         for cell in row) for row in rows]
        csv_path(folder, table).write_text("\n".join(text) + "\n", encoding="utf-8")
    loaded = load(folder)
    assert loaded.teachers.loc[0, "rural_years"] == 2.5
    assert loaded.equals(expected)


def _is_decimal(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return "." in cell


def test_a_comma_that_is_no_thousands_separator_is_refused(folder: Path) -> None:
    """In a comma CSV a quoted "2,5" was read as 25 (every comma dropped); 1,200 still reads as 1200."""
    set_cell(folder, "teachers", 2, "rural_years", "2,5")
    with pytest.raises(InputError) as caught:
        load(folder)
    [problem] = caught.value.errors
    assert (problem.row, problem.column) == (2, "rural_years") and "2.5" in problem.expected


def test_year_dot_one_in_a_csv_that_never_writes_dot_ten_is_refused(folder: Path) -> None:
    """Excel saves a General cell's 1988.10 to CSV as 1988.1: in a column with no .10 anywhere .1 may be
    October, refused with what to type; where the column writes .10 (text), .1 is January."""
    set_cell(folder, "teachers", 2, "birth_date", "1988.1")
    set_cell(folder, "teachers", 3, "birth_date", "1986.11")
    with pytest.raises(InputError) as caught:
        load(folder)
    [problem] = caught.value.errors
    assert (problem.row, problem.column) == (2, "birth_date") and "1月还是10月" in problem.expected
    set_cell(folder, "teachers", 3, "birth_date", "1986.10")
    teachers = load(folder).teachers
    assert teachers.loc[0, "birth_date"].date() == date(1988, 1, 1)
    assert teachers.loc[1, "birth_date"].date() == date(1986, 10, 1)


def test_a_cell_beyond_the_header_is_an_error_in_a_csv(folder: Path) -> None:
    """志愿学校 written X005,X026 without quotes splits into two cells: the second wish was dropped silently."""
    rows = read_rows(folder, "teachers")
    row = row_of(folder, "teachers", "teacher_id", "T08")
    rows[row - 1][rows[0].index("wishes")] = "N1,P1"
    csv_path(folder, "teachers").write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load(folder)
    [problem] = caught.value.errors
    assert (problem.row, problem.value, problem.rule) == (row, "P1", "extra_cells")


def test_a_split_cell_is_named_even_when_the_cell_it_pushes_out_is_empty(folder: Path) -> None:
    """农村任教年限 written 0,5 without quotes pushes the last cell (志愿学校, usually empty) past the header:
    only the shifted cells' errors were said (服务期截止 “5”), not the split. A row longer by one empty
    cell than the others now says so (a warning: the shifted cells block; a stray trailing comma not)."""
    rows = read_rows(folder, "teachers")
    assert rows[0][-1] == "wishes"
    row = next(i for i, r in enumerate(rows, start=1) if i > 1 and r[-1] == "" and r[rows[0].index("rural_years")])
    rows[row - 1][rows[0].index("rural_years")] = "0,5"
    csv_path(folder, "teachers").write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load(folder)
    [split] = [p for p in caught.value.warnings if p.rule == "extra_cells"]
    assert split.row == row and "多出 1 个" in split.expected and ",5," in split.value
    assert any(p.row == row and p.column == "service_until" for p in caught.value.errors)
    rows[row - 1][rows[0].index("rural_years")] = "0"
    rows[row - 1].append("")  # a stray trailing comma: read as before, with the warning
    csv_path(folder, "teachers").write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    assert [p.rule for p in load_county(folder, as_of=AS_OF).warnings] == ["extra_cells"]


def test_a_workbook_with_a_stale_stated_size_is_read_whole(county, tmp_path: Path) -> None:
    """Some exporters leave the sheet's stated size (<dimension>) short of the data; openpyxl's read-only
    mode trusted it and dropped the last teachers without a word."""
    import re
    import zipfile

    path = tmp_path / "county.xlsx"
    county_workbook(county).save(path)
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(stale, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:C3"/>', data)
            target.writestr(item, data)
    assert load_county(stale, as_of=AS_OF).equals(county.replace(distances=None))


@pytest.mark.parametrize("name", ["教师名单", "教师信息表", "教师花名册"])
def test_a_table_named_with_an_office_suffix_is_read(county, tmp_path: Path, name: str) -> None:
    workbook = county_workbook(county)
    workbook["teachers"].title = name
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    assert load_county(path, as_of=AS_OF).equals(county.replace(distances=None))


def test_a_sheet_not_recognised_is_named_in_the_error(county, tmp_path: Path) -> None:
    workbook = county_workbook(county)
    workbook["teachers"].title = "在编人员"
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    with pytest.raises(InputError) as caught:
        load_county(path, as_of=AS_OF)
    [problem] = caught.value.errors
    assert problem.rule == "missing_table" and "未识别、未读取的工作表：在编人员" in problem.expected


def test_a_row_in_another_encoding_is_named(folder: Path) -> None:
    """One GBK row pasted into a UTF-8 file: the file is refused, naming that line."""
    path = csv_path(folder, "teachers")
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3] + b"," + "张三".encode("gbk")  # an extra GBK cell: the encoding fails first
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InputError) as caught:
        load(folder)
    [problem] = caught.value.errors
    assert problem.rule == "encoding" and problem.row == 4 and "第 4 行" in problem.expected


@pytest.mark.parametrize(("column", "text", "expected"), [
    ("service_until", "无", None), ("other_subjects", "无", ()), ("wishes", "—", ()),
    ("title", "无", "none"), ("title", "中小学一级教师", "first"), ("gender", "男性", "M"),
    ("birth_date", "1985-03-15T00:00:00", date(1985, 3, 15)),
])
def test_what_an_office_writes_reads_as_meant(folder: Path, column: str, text: str, expected: object) -> None:
    """无 or — in a column that may be blank is blank (it was an error in 5,258 cells of one roster); the
    titles 中小学一级教师 etc. and 男性/女性 are the contract's values; an ISO timestamp is its date."""
    set_cell(folder, "teachers", 2, column, text)
    value = load(folder).teachers.set_index("teacher_id").loc["T01", column]
    if expected is None:
        assert pd.isna(value)
    elif isinstance(expected, date):
        assert value.date() == expected
    else:
        assert value == expected


def test_an_eight_digit_date_number_in_a_workbook(county, tmp_path: Path) -> None:
    """19850301 typed into a General cell is a number; read as the date it spells."""
    workbook = county_workbook(county)
    workbook["teachers"].cell(row=2, column=4).value = 19850301
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    assert load_county(path, as_of=AS_OF).teachers.loc[0, "birth_date"].date() == date(1985, 3, 1)


def test_an_excel_error_cell_is_reported_once(folder: Path) -> None:
    set_cell(folder, "teachers", 2, "birth_date", "#N/A")
    with pytest.raises(InputError) as caught:
        load(folder)
    assert [(p.row, p.column, p.rule) for p in caught.value.errors] == [(2, "birth_date", "excel_error")]


def test_a_sheet_pasted_together_from_blocks_reads_its_records(county, tmp_path: Path) -> None:
    """教师 pasted from one block per school, each with a title line and the header again: the repeated
    headers and their titles are skipped with a warning (each was a dozen errors), the records are read."""
    workbook = county_workbook(county)
    sheet = workbook["teachers"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, records = rows[0], rows[1:]
    sheet.delete_rows(1, sheet.max_row)
    sheet.append(header)
    for i, record in enumerate(records):
        if i == 3:
            sheet.append([f"第二部分：{record[4]} 教师名单"])
            sheet.append([])
            sheet.append(header)
        sheet.append(record)
    path = tmp_path / "blocks.xlsx"
    workbook.save(path)
    loaded = load_county(path, as_of=AS_OF)
    assert loaded.equals(county.replace(distances=None))
    assert [(p.rule, p.row) for p in loaded.warnings] == [("repeated_header", 5), ("repeated_header", 7)]


def test_a_gbk_file_whose_rows_happen_to_be_valid_utf8_is_gbk(county, folder: Path) -> None:
    """女 in GBK (C5 AE) is also valid UTF-8 (as Latin letters): a teachers file without names whose
    genders are mostly 女 was taken for UTF-8 with GBK rows pasted in, and refused."""
    rows = read_rows(folder, "teachers")
    name, gender = rows[0].index("name"), rows[0].index("gender")
    rows = [[c for i, c in enumerate(r) if i != name] for r in rows]
    for r in rows[1:]:
        r[gender - (name < gender)] = "女"
    csv_path(folder, "teachers").write_bytes(("\n".join(",".join(r) for r in rows) + "\n").encode("gbk"))
    assert set(load(folder).teachers["gender"]) == {"F"}


def test_a_note_column_and_an_index_column_are_warned_about_not_refused(county, folder: Path) -> None:
    """Excel pads a CSV's header to the used width (a 备注 column without a header); pandas writes its index
    under a blank header: both read, with one warning naming the column."""
    rows = read_rows(folder, "teachers")
    rows = [["", *rows[0], ""], *[[str(i), *r, "待核实" if i == 2 else ""] for i, r in enumerate(rows[1:])]]
    write_rows(folder, "teachers", rows)
    loaded = load(folder)
    assert loaded.equals(county)
    [warning] = loaded.warnings
    assert warning.rule == "unheaded_cells" and warning.value.startswith("A 列（第 2 行起）")


def test_a_roster_sheet_beside_the_teachers_sheet_is_set_aside(county, tmp_path: Path) -> None:
    """教师 and 教师花名册 (the raw roster kept beside the cleaned sheet): 教师 is read, the roster set aside
    with a warning, not "only one 教师 table"."""
    workbook = county_workbook(county)
    workbook.copy_worksheet(workbook["teachers"]).title = "教师花名册"
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    loaded = load_county(path, as_of=AS_OF)
    assert loaded.equals(county.replace(distances=None))
    assert [(p.rule, p.sheet) for p in loaded.warnings] == [("table_set_aside", "教师花名册")]


def test_a_sheet_renamed_to_look_like_another_table_names_the_missing_one(county, tmp_path: Path) -> None:
    """The 班级 sheet renamed 教师名单: it was set aside “两者都是教师表” (false), with no word of 班级, the
    table then missing. It says it looks like a teachers sheet and to rename it if it is 班级."""
    workbook = county_workbook(county)
    workbook["classes"].title = "教师名单"
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    with pytest.raises(InputError) as caught:
        load_county(path, as_of=AS_OF)
    [warning] = caught.value.warnings
    assert warning.rule == "table_set_aside" and warning.sheet == "教师名单"
    assert "名称像教师表；若它其实是“班级”表，请改用该名称" in warning.expected and "两者都是" not in warning.expected


def test_an_eight_digit_date_typed_into_a_date_formatted_cell_is_read(county, tmp_path: Path, capfd) -> None:
    """19881023 typed into a cell formatted as a date is no Excel date: openpyxl warned on stderr and
    read #VALUE!, which the problem put down to a formula (an HR tester's workbook). It is read as the
    number typed, which an 8-digit date is."""
    workbook = county_workbook(county)
    sheet = workbook["teachers"]
    column = [c.value for c in sheet[1]].index("birth_date") + 1
    sheet.cell(row=2, column=column).value = 19881023
    sheet.cell(row=2, column=column).number_format = "yyyy-mm-dd"
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    loaded = load_county(path, as_of=AS_OF)
    assert loaded.teachers.loc[0, "birth_date"].date() == date(1988, 10, 23)
    assert "UserWarning" not in capfd.readouterr().err


def test_year_dot_one_typed_as_text_in_a_workbook_is_january(county, tmp_path: Path) -> None:
    """A workbook's text cell keeps what was typed ("1988.1"): January, even in a column without .10."""
    workbook = county_workbook(county)
    workbook["teachers"].cell(row=2, column=4).value = "1988.1"
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    assert load_county(path, as_of=AS_OF).teachers.loc[0, "birth_date"].date() == date(1988, 1, 1)
