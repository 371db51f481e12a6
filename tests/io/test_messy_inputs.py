"""What real HR spreadsheets do to the input, found by a tester with ~70 damaged files: each case either
reads as meant or is refused with a message that names the cause (file, row, column), never silently
read wrong.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from tests.helpers import (
    AS_OF,
    county_workbook,
    csv_path,
    read_rows,
    row_of,
    set_cell,
    set_header,
    write_county_csv,
    write_rows,
)

from teacheralloc.errors import InputError
from teacheralloc.io.pins import find_pins, read_pins
from teacheralloc.io.read import load_county


def load(path: Path):
    return load_county(path, as_of=AS_OF)


def errors(path: Path) -> list:
    with pytest.raises(InputError) as caught:
        load(path)
    return caught.value.errors


def test_a_stray_quote_that_swallows_rows_is_named_not_read(folder: Path) -> None:
    """A name typed as "杨芳 (one quote) made the next rows part of that cell: the file validated with
    fewer teachers and the first one took another's dates. Now: an error at the row, naming the lines."""
    path = csv_path(folder, "teachers")
    lines = path.read_text(encoding="utf-8").splitlines()
    name = read_rows(folder, "teachers")[1][1]
    lines[1] = lines[1].replace(name, '"' + name, 1)
    lines[4] = lines[4].replace(",", '",', 1)  # the quote closes three lines further down
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = errors(folder)
    [problem] = [p for p in found if p.rule == "stray_quote"]
    assert (problem.file, problem.row, problem.column) == ("teachers.csv", 2, "name")
    assert {p.row for p in found} == {2}  # the row's other cells are off too; the rows swallowed are no records
    assert "第 3–5 行（3 行）都并进了这一格" in problem.expected


def test_a_utf8_row_pasted_into_a_gbk_file_is_named(county, tmp_path: Path) -> None:
    """Read as GB18030 a UTF-8 row turns into other characters (新城小学 → 鏂板煄灏忓) without an error; the
    file is refused, naming the line that is out of step."""
    folder = write_county_csv(county, tmp_path / "gbk", encoding="gbk", chinese=True)
    path = folder / "学校.csv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].decode("gbk").encode("utf-8")
    path.write_bytes(b"\n".join(lines))
    [problem] = errors(folder)
    assert problem.rule == "encoding" and problem.row == 3 and "第 3 行（按文本行计）与其余各行的编码不同" in problem.expected


def test_invisible_characters_do_not_make_another_code(folder: Path) -> None:
    """A zero-width space after an id, a byte-order mark where files were pasted together, a DOS Ctrl-Z at
    the end: none of them is part of a value (T01 + U+200B was not a duplicate of T01)."""
    path = csv_path(folder, "teachers")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\nT02,", "\n\ufeffT02\u200b,", 1) + "\x1a", encoding="utf-8")
    loaded = load(folder)
    assert "T02" in set(loaded.teachers["teacher_id"])
    set_cell(folder, "teachers", row_of(folder, "teachers", "teacher_id", "T03"), "teacher_id", "T01\u200b")
    [problem] = errors(folder)
    assert problem.rule == "unique" and problem.value == "T01"


@pytest.mark.parametrize("mark", ["合计：8人", "共计 8 人", "合计（人）", "以下空白", "制表：李四", "汇总"])
def test_total_and_sign_off_rows_as_offices_write_them_are_skipped(county, folder: Path, mark: str) -> None:
    path = csv_path(folder, "teachers")
    path.write_text(path.read_text(encoding="utf-8") + mark + ",,,,\n", encoding="utf-8")
    loaded = load(folder)
    assert loaded.equals(county)
    assert [w.rule for w in loaded.warnings] == ["summary_row"]


def test_a_subtotal_in_the_grade_column_is_a_total_row(county, folder: Path) -> None:
    """X001, 小计, 12, 540 under a school's grades: a subtotal, not grade “小计”."""
    path = csv_path(folder, "classes")
    path.write_text(path.read_text(encoding="utf-8") + "S1,小计,12,540\n", encoding="utf-8")
    loaded = load(folder)
    assert loaded.equals(county) and [w.rule for w in loaded.warnings] == ["summary_row"]


@pytest.mark.parametrize(("column", "text", "code"), [
    ("subject", "语　文", "chinese"), ("stage", "小 学", "primary"), ("subject", "道法", "morality"),
    ("subject", "外语", "english"), ("subject", "英文", "english"), ("subject", "思政", "morality"),
])
def test_spaced_and_short_names_of_codes(folder: Path, column: str, text: str, code: str) -> None:
    """语　文 spaced to line up in a roster, and the short forms offices use, are the codes they name."""
    row = row_of(folder, "teachers", "teacher_id", "T01")
    set_cell(folder, "teachers", row, column, text)
    loaded = load(folder)
    assert loaded.teachers.set_index("teacher_id").at["T01", column] == code


@pytest.mark.parametrize(("text", "grade"), [("一年级", 1), ("六年级", 6), ("初一", 7), ("七年级", 7), ("初三", 9), ("1年级", 1)])
def test_grades_by_their_chinese_names(folder: Path, text: str, grade: int) -> None:
    rows = read_rows(folder, "classes")
    index = next(i for i, row in enumerate(rows) if row[1] == str(grade))
    set_cell(folder, "classes", index + 1, "grade", text)
    loaded = load(folder)
    assert grade in set(loaded.classes["grade"])


def test_rural_years_beyond_a_working_life_are_refused(folder: Path) -> None:
    """45 years of rural service for a teacher born in 1996: the field decides 支教 eligibility."""
    set_cell(folder, "teachers", row_of(folder, "teachers", "teacher_id", "T02"), "rural_years", "45")
    [problem] = errors(folder)
    assert (problem.column, problem.rule) == ("rural_years", "plausible_rural_years")
    # Just over the limit (14.16 years since 16): the limit is not shown rounded up to the value refused.
    set_cell(folder, "teachers", row_of(folder, "teachers", "teacher_id", "T02"), "rural_years", "14.2")
    [problem] = errors(folder)
    assert "计 14.16 年" in problem.expected


@pytest.mark.parametrize(("written", "says"), [
    ("s1", "学校表中有 S1：大小写、符号或引号与之不同"),
    ("S-1", "学校表中有 S1：大小写、符号或引号与之不同"),
    ('="S1"', "学校表中有 S1"),
])
def test_a_school_code_written_almost_right_gets_a_hint(folder: Path, written: str, says: str) -> None:
    set_cell(folder, "teachers", row_of(folder, "teachers", "teacher_id", "T01"), "school_id", written)
    [problem] = errors(folder)
    assert problem.rule == "reference" and says in problem.expected


def test_a_school_name_where_its_code_belongs_gets_a_hint(county, folder: Path) -> None:
    name = county.schools.set_index("school_id").at["S1", "name"]
    set_cell(folder, "teachers", row_of(folder, "teachers", "teacher_id", "T01"), "school_id", name)
    [problem] = errors(folder)
    assert f"“{name}”是学校名称，其代码为 S1" in problem.expected


def test_ids_in_scientific_notation_are_explained(folder: Path) -> None:
    for tid in ("T01", "T02"):
        set_cell(folder, "teachers", row_of(folder, "teachers", "teacher_id", tid), "teacher_id", "4.30102E+17")
    [problem] = errors(folder)
    assert problem.rule == "unique" and "科学计数法" in problem.expected


def test_a_missing_column_names_the_headers_not_recognised(folder: Path) -> None:
    set_header(folder, "classes", "students", "学生数（人）")
    [problem] = errors(folder)
    assert problem.rule == "missing_column" and "表头中未识别的列：“学生数（人）”" in problem.expected


def test_a_hidden_stale_sheet_gives_way_to_the_visible_roster(county, tmp_path: Path) -> None:
    """教师 hidden (an old copy) and 教师花名册 visible: the visible one is read, with a warning; it was the
    hidden one, silently, with 150 teachers instead of 200."""
    workbook = county_workbook(county)
    roster = workbook.copy_worksheet(workbook["teachers"])
    roster.title = "教师花名册"
    stale = workbook["teachers"]
    stale.delete_rows(3, 4)
    stale.sheet_state = "hidden"
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    loaded = load(path)
    assert loaded.equals(county.replace(distances=None))
    assert [(w.rule, w.sheet) for w in loaded.warnings] == [("hidden_sheet", "teachers")]


def test_a_pins_sheet_in_the_data_workbook_is_read(county, tmp_path: Path) -> None:
    """A 指定 sheet in the county's workbook was ignored without a word (its pins not honoured)."""
    workbook = county_workbook(county)
    sheet = workbook.create_sheet("指定")
    sheet.append(["教师编号", "必须留任", "必须调出", "调往学校", "不得调往"])
    sheet.append(["T01", "是", None, None, None])
    sheet.append(["合计", None, None, None, None])
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    data = load(path)
    assert find_pins(path) == path
    pins = read_pins(find_pins(path), data)
    assert pins[["teacher_id", "kind"]].values.tolist() == [["T01", "must_stay"]]


def test_a_folder_given_as_the_pins_file_is_an_input_error(county, folder: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_pins(folder, load(folder))
    assert caught.value.errors[0].rule == "not_a_file"


def test_serial_numbers_of_a_1904_workbook_are_counted_from_1904(county, tmp_path: Path) -> None:
    """Older Mac Excel counts days from 1904: a birth date left as a number in a General cell read four
    years early (1974-05-11 as 1970-05-10), silently."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    workbook = county_workbook(county)
    workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook["teachers"]
    header = [cell.value for cell in sheet[1]]
    birth = county.teachers.set_index("teacher_id").at["T01", "birth_date"]
    serial = (birth.date() - date(1904, 1, 1)).days
    sheet.cell(row=2, column=header.index("birth_date") + 1, value=serial)
    path = tmp_path / "mac.xlsx"
    workbook.save(path)
    loaded = load(path)
    assert loaded.teachers.set_index("teacher_id").at["T01", "birth_date"] == birth


def test_a_merge_two_columns_wide_fills_its_rows(county, tmp_path: Path) -> None:
    """教育集团 merged over J2:K3 (its column and the next): the second school lost its group, silently."""
    workbook = county_workbook(county)
    sheet = workbook["schools"]
    header = [cell.value for cell in sheet[1]]
    first = header.index("group") + 1
    assert header[first] == "weak" and sheet.cell(row=3, column=first).value == sheet.cell(row=2, column=first).value
    sheet.merge_cells(start_row=2, start_column=first, end_row=3, end_column=first + 1)
    path = tmp_path / "merged.xlsx"
    workbook.save(path)
    loaded = load(path)
    assert loaded.equals(county.replace(distances=None))
    assert [w.rule for w in loaded.warnings] == ["merged_cells"]


def test_utf16_without_its_byte_order_mark_is_read(county, folder: Path) -> None:
    """Some exporters write UTF-16 with no byte-order mark: read as UTF-8 its header was s c h o o l _ i d."""
    for table in ("schools", "teachers"):
        path = csv_path(folder, table)
        path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16-le"))
    csv_path(folder, "classes").write_bytes(csv_path(folder, "classes").read_text(encoding="utf-8")
                                            .encode("utf-16-be"))
    assert load(folder).equals(county)


def test_a_file_named_csv_that_is_no_csv_says_what_it_is(county, folder: Path, tmp_path: Path) -> None:
    """A workbook saved as teachers.csv, a binary file, a folder named teachers.csv: each said for what it
    is (a workbook read as "rows pasted from another file"; the folder as 文件操作失败 [Errno 21])."""
    path = csv_path(folder, "teachers")
    workbook = tmp_path / "county.xlsx"
    county_workbook(county).save(workbook)
    path.write_bytes(workbook.read_bytes())
    [problem] = errors(folder)
    assert (problem.file, problem.rule) == ("teachers.csv", "not_csv") and ".xlsx" in problem.value
    path.write_bytes(bytes(range(256)) * 20)
    [problem] = errors(folder)
    assert problem.rule == "encoding" and "不是文本文件" in problem.value
    path.unlink()
    path.mkdir()
    [problem] = errors(folder)
    assert (problem.file, problem.rule) == ("teachers.csv", "not_csv") and "不是文件夹" in problem.expected


def test_the_other_headers_county_rosters_use_are_read(county, folder: Path) -> None:
    """工号, 出生年月, 学段, 主要任教学科, 来校年月, 学校标识码: real rosters' headers, each refused before
    (“rename the column”). Where a roster has both a column's own header and another name for it (任教学校
    and 学校代码), the own header is read and the other is an extra column, not a duplicate."""
    for column, header in (("teacher_id", "工号"), ("birth_date", "出生年月"), ("stage", "学段"),
                           ("subject", "主要任教学科"), ("school_since", "来校年月")):
        set_header(folder, "teachers", column, header)
    set_header(folder, "schools", "school_id", "学校标识码")
    set_header(folder, "classes", "school_id", "学校标识码")
    assert load(folder).equals(county)
    set_header(folder, "teachers", "school_id", "任教学校")
    rows = read_rows(folder, "teachers")
    write_rows(folder, "teachers", [[*row, "学校代码" if i == 0 else "X999"] for i, row in enumerate(rows)])
    loaded = load(folder)
    assert loaded.teachers["school_id"].equals(county.teachers["school_id"])


def test_gender_as_the_national_code(county, folder: Path) -> None:
    """性别 1 / 2 (GB/T 2261.1: 1 男, 2 女) was refused."""
    rows = read_rows(folder, "teachers")
    gender = rows[0].index("gender")
    write_rows(folder, "teachers", [row if i == 0 else [*row[:gender], {"M": "1", "F": "2"}[row[gender]],
                                                        *row[gender + 1:]] for i, row in enumerate(rows)])
    assert load(folder).equals(county)


def test_a_notes_row_under_the_header_is_skipped(county, tmp_path: Path) -> None:
    """Forms put （必填）/（选填） under each header: that row was read as a record (25 cell errors)."""
    workbook = county_workbook(county)
    for sheet in workbook.worksheets:
        width = sheet.max_column
        sheet.insert_rows(2)
        for column in range(1, width + 1):
            sheet.cell(row=2, column=column).value = "（必填）" if column <= 2 else "（选填）"
    path = tmp_path / "county.xlsx"
    workbook.save(path)
    loaded = load(path)
    assert loaded.equals(county.replace(distances=loaded.distances))
    assert {(p.row, p.rule) for p in loaded.warnings} >= {(2, "notes_row")}


def test_two_ids_that_differ_only_in_case_are_said(folder: Path) -> None:
    """JS00005 and js00005 were read as two teachers without a word."""
    row = row_of(folder, "teachers", "teacher_id", "T02")
    set_cell(folder, "teachers", row, "teacher_id", "t01")
    loaded = load(folder)
    [warning] = [p for p in loaded.warnings if p.rule == "unique_case"]
    assert (warning.row, warning.column, warning.value) == (row, "teacher_id", "t01") and "T01" in warning.expected
