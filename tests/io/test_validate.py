"""Validation of a county dataset: every rule reports the exact place (file, spreadsheet row, column).

Each test starts from the valid CSV folder of `tests.helpers.make_county()`, breaks one thing the way a
user would, and asserts the one error the loader reports. Row numbers are the ones a spreadsheet shows
(the header is row 1). In the valid folder:

- schools.csv: S1 row 2, J1 row 3, N1 row 4, P1 row 5;
- classes.csv: S1 grades 1–6 rows 2–7, J1 grades 7–9 rows 8–10, N1 grades 1–9 rows 11–19,
  P1 grades 1–4 rows 20–23 (grade 4 has no classes and no students);
- teachers.csv: T01 … T08 rows 2 … 9 (T04 and T08 volunteer with wishes);
- distances.csv: five pairs, rows 2–6.
"""

from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from tests.helpers import (
    AS_OF,
    add_column,
    append_row,
    copy_row,
    csv_path,
    drop_column,
    make_county,
    read_rows,
    row_of,
    set_cell,
    write_county_csv,
    write_rows,
)

from teacheralloc.domain import TABLE_LABELS, County
from teacheralloc.errors import InputError, Problem
from teacheralloc.io.read import load_county
from teacheralloc.io.write import table_rows

Key = tuple[str, int | None, str, str]  # (file, row, column, rule)


@pytest.fixture(scope="session")
def valid_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The valid county written once as a UTF-8 CSV folder with English codes."""
    return write_county_csv(make_county(), tmp_path_factory.mktemp("valid") / "county")


@pytest.fixture
def folder(valid_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the valid CSV folder, for one test to break."""
    return Path(shutil.copytree(valid_template, tmp_path / "county"))


def key(problem: Problem) -> Key:
    return (problem.file, problem.row, problem.column, problem.rule)


def load_errors(path: Path) -> list[Problem]:
    """Load `path`, which must be invalid, and return its errors (warnings left out)."""
    with pytest.raises(InputError) as info:
        load_county(path, as_of=AS_OF)
    return info.value.errors


def only_error(path: Path) -> Problem:
    errors = load_errors(path)
    assert len(errors) == 1, "\n".join(p.message() for p in errors)
    return errors[0]


def test_valid_folder_loads(folder: Path) -> None:
    county = load_county(folder, as_of=AS_OF)
    assert county.equals(make_county())
    assert county.warnings == ()
    assert county.num_teachers == 8


# --------------------------------------------------------------------------------------------------
# Files and columns
# --------------------------------------------------------------------------------------------------


def test_missing_required_file(folder: Path) -> None:
    csv_path(folder, "classes").unlink()
    problem = only_error(folder)
    assert key(problem) == (str(folder), None, "", "missing_table")
    assert "classes.csv" in problem.expected and "班级" in problem.expected


def test_missing_optional_file_is_fine(folder: Path) -> None:
    csv_path(folder, "distances").unlink()
    county = load_county(folder, as_of=AS_OF)
    assert county.distances is None
    assert county.equals(make_county(with_distances=False))


def test_missing_required_column(folder: Path) -> None:
    drop_column(folder, "teachers", "birth_date")
    problem = only_error(folder)
    assert key(problem) == ("teachers.csv", 1, "birth_date", "missing_column")
    assert problem.label == "出生日期"
    assert "出生日期" in problem.expected and "birth_date" in problem.expected


def test_missing_school_key_column_is_one_problem_not_every_reference(folder: Path) -> None:
    """Without the schools table's 学校代码 column no reference can be checked: the missing column is
    the problem, not every class, teacher, distance and wish that names a school."""
    drop_column(folder, "schools", "school_id")
    assert [key(p) for p in load_errors(folder)] == [("schools.csv", 1, "school_id", "missing_column")]


def recode(folder: Path, codes: dict[str, str]) -> None:
    """Rename school codes in every table that holds them."""
    for table, columns in (("schools", ["school_id"]), ("classes", ["school_id"]),
                           ("teachers", ["school_id"]), ("distances", ["from_id", "to_id"])):
        rows = read_rows(folder, table)
        at = [rows[0].index(c) for c in columns]
        for row in rows[1:]:
            for i in at:
                row[i] = codes.get(row[i], row[i])
        write_rows(folder, table, rows)


def test_codes_that_lost_their_leading_zeros_say_so(folder: Path) -> None:
    """0101 in the schools table, 101 in the classes table (Excel read the column as numbers): each
    reference error names the code it probably meant."""
    recode(folder, {"S1": "0101", "J1": "0201"})
    for row in range(2, 8):
        set_cell(folder, "classes", row, "school_id", "101")
    errors = load_errors(folder)
    assert {key(p) for p in errors} == {("classes.csv", row, "school_id", "reference") for row in range(2, 8)}
    assert all("0101" in p.expected and "开头的 0" in p.expected for p in errors)


def test_codes_written_as_decimals_say_so(folder: Path) -> None:
    """1001 in the schools table, 1001.0 in the teachers table (a float column written out): the reference
    error names the code it probably meant and the “.0” (it said only 学校表中已有的学校代码)."""
    recode(folder, {"S1": "1001"})
    row = row_of(folder, "teachers", "school_id", "1001")
    set_cell(folder, "teachers", row, "school_id", "1001.0")
    [problem] = load_errors(folder)
    assert key(problem) == ("teachers.csv", row, "school_id", "reference")
    assert "学校表中有 1001：末尾的“.0”" in problem.expected


def test_missing_optional_column_takes_default(folder: Path) -> None:
    drop_column(folder, "teachers", "title")
    county = load_county(folder, as_of=AS_OF)
    assert set(county.teachers["title"]) == {"none"}


def test_duplicate_column_code_and_label(folder: Path) -> None:
    add_column(folder, "teachers", "出生日期", "1985-03-01")
    problem = only_error(folder)
    assert key(problem) == ("teachers.csv", 1, "birth_date", "duplicate_column")
    assert problem.value == "出生日期"
    assert "birth_date" in problem.expected  # names the header already holding the column


def test_undecodable_file(folder: Path) -> None:
    junk = random.Random(0).randbytes(300)
    csv_path(folder, "teachers").write_bytes(junk)
    problem = only_error(folder)
    assert key(problem) == ("teachers.csv", None, "", "encoding")
    assert "GBK" in problem.expected


def test_empty_file(folder: Path) -> None:
    csv_path(folder, "classes").write_bytes(b"")
    assert key(only_error(folder)) == ("classes.csv", None, "", "empty_file")


# --------------------------------------------------------------------------------------------------
# Cell values
# --------------------------------------------------------------------------------------------------

CELL_CASES = [
    # (table, row, column, bad value, rule)
    pytest.param("teachers", 5, "gender", "", "required", id="required-empty"),
    pytest.param("teachers", 5, "gender", "   ", "required", id="required-whitespace"),
    pytest.param("schools", 3, "name", "", "required", id="required-text"),
    pytest.param("classes", 3, "classes", "两", "type_int", id="bad-int"),
    pytest.param("classes", 3, "students", "12.5", "type_int", id="fractional-int"),
    pytest.param("teachers", 4, "rural_years", "三年", "type_number", id="bad-number"),
    pytest.param("schools", 2, "lat", "北纬28度", "type_number", id="bad-number-lat"),
    pytest.param("classes", 7, "grade", "10", "type_int", id="grade-10"),
    pytest.param("classes", 7, "grade", "0", "type_int", id="grade-0"),
    pytest.param("classes", 3, "classes", "-1", "type_int", id="negative-classes"),
    pytest.param("schools", 3, "boarding_students", "9" * 20, "type_int", id="int-beyond-int64"),
    pytest.param("schools", 3, "establishment", "1e19", "type_int", id="optional-int-beyond-int64"),
    pytest.param("teachers", 3, "rural_years", "51", "type_number", id="rural-years-above-50"),
    pytest.param("schools", 4, "type", "中学", "type_enum", id="bad-enum-type"),
    pytest.param("teachers", 6, "subject", "cooking", "type_enum", id="bad-enum-subject"),
    pytest.param("teachers", 6, "title", "副高", "type_enum", id="bad-enum-title"),
    pytest.param("teachers", 2, "birth_date", "1990/13/01", "type_date", id="bad-date-month-13"),
    pytest.param("teachers", 2, "birth_date", "1990-02-30", "type_date", id="bad-date-feb-30"),
    pytest.param("teachers", 2, "school_since", "去年", "type_date", id="bad-date-text"),
    pytest.param("teachers", 3, "service_until", "2027", "type_date", id="bad-date-year-only"),
    pytest.param("teachers", 5, "volunteer", "maybe", "type_bool", id="bad-bool"),
    pytest.param("schools", 2, "weak", "2", "type_bool", id="bad-bool-number"),
    pytest.param("teachers", 3, "other_subjects", "science;cooking", "type_list_enum", id="bad-list-enum"),
]


@pytest.mark.parametrize(("table", "row", "column", "value", "rule"), CELL_CASES)
def test_bad_cell(folder: Path, table: str, row: int, column: str, value: str, rule: str) -> None:
    set_cell(folder, table, row, column, value)
    problem = only_error(folder)
    assert key(problem) == (f"{table}.csv", row, column, rule)
    assert problem.value == value.strip()
    assert problem.expected  # says what was expected
    assert f"第 {row} 行" in problem.message()


def test_out_of_range_says_the_range(folder: Path) -> None:
    set_cell(folder, "classes", 7, "grade", "10")
    problem = only_error(folder)
    assert "1–9" in problem.expected
    assert problem.message().startswith("[错误] classes.csv 第 7 行 年级(grade)：“10”")


def test_bad_enum_lists_the_choices(folder: Path) -> None:
    set_cell(folder, "schools", 4, "type", "中学")
    problem = only_error(folder)
    assert "nine_year 九年一贯制" in problem.expected and "teaching_point 教学点" in problem.expected


def test_bad_date_message_is_chinese_with_code(folder: Path) -> None:
    set_cell(folder, "teachers", 2, "birth_date", "1990/13/01")
    message = only_error(folder).message()
    assert message.startswith("[错误] teachers.csv 第 2 行 出生日期(birth_date)：“1990/13/01”，期望：日期")


# --------------------------------------------------------------------------------------------------
# Unique keys and references
# --------------------------------------------------------------------------------------------------


def test_duplicate_school_id(folder: Path) -> None:
    row = copy_row(folder, "schools", 2, name="城关第二小学")
    problem = only_error(folder)
    assert key(problem) == ("schools.csv", row, "school_id", "unique")
    assert row == 6
    assert problem.value == "S1"
    assert "第 2 行" in problem.expected


def test_duplicate_teacher_id(folder: Path) -> None:
    copy_row(folder, "teachers", 3, name="另一位教师")
    problem = only_error(folder)
    assert key(problem) == ("teachers.csv", 10, "teacher_id", "unique")
    assert problem.value == "T02" and "第 3 行" in problem.expected


def test_duplicate_school_grade_in_classes(folder: Path) -> None:
    copy_row(folder, "classes", 2, classes="3", students="120")
    problem = only_error(folder)
    assert key(problem) == ("classes.csv", 24, "grade", "unique")
    assert problem.value == "S1 / 1"


def test_duplicate_distance_pair(folder: Path) -> None:
    copy_row(folder, "distances", 2, km="13")
    assert key(only_error(folder)) == ("distances.csv", 7, "to_id", "unique")


def test_class_row_of_unknown_school(folder: Path) -> None:
    set_cell(folder, "classes", 2, "school_id", "X9")
    problem = only_error(folder)
    assert key(problem) == ("classes.csv", 2, "school_id", "reference")
    assert problem.value == "X9"


def test_teacher_at_unknown_school(folder: Path) -> None:
    set_cell(folder, "teachers", 2, "school_id", "X9")
    assert key(only_error(folder)) == ("teachers.csv", 2, "school_id", "reference")


def test_wish_for_unknown_school(folder: Path) -> None:
    set_cell(folder, "teachers", 5, "wishes", "N1;X9")
    problem = only_error(folder)
    assert key(problem) == ("teachers.csv", 5, "wishes", "reference")
    assert "X9" in problem.expected and "N1" not in problem.expected


def test_distance_to_unknown_school(folder: Path) -> None:
    set_cell(folder, "distances", 2, "to_id", "X9")
    assert key(only_error(folder)) == ("distances.csv", 2, "to_id", "reference")


def test_distance_from_unknown_school(folder: Path) -> None:
    set_cell(folder, "distances", 4, "from_id", "X8")
    assert key(only_error(folder)) == ("distances.csv", 4, "from_id", "reference")


# --------------------------------------------------------------------------------------------------
# Rules across columns and tables
# --------------------------------------------------------------------------------------------------


def test_grade_8_at_primary_school(folder: Path) -> None:
    row = append_row(folder, "classes", school_id="S1", grade="8", classes="1", students="30")
    problem = only_error(folder)
    assert key(problem) == ("classes.csv", row, "grade", "grade_for_type")
    assert "小学" in problem.expected and "1–6" in problem.expected


def test_an_empty_row_for_a_grade_the_school_does_not_teach_is_left_out_with_a_warning(folder: Path) -> None:
    """Forms list grades 1–9 for every school, with zeros where a grade is not taught: such a row was an
    error (33 of them rejected another generator's county); it is left out, with a warning."""
    before = load_county(folder, as_of=AS_OF)
    row = append_row(folder, "classes", school_id="S1", grade="8", classes="0", students="0")
    county = load_county(folder, as_of=AS_OF)
    assert [(key(p), p.severity) for p in county.warnings] == [
        (("classes.csv", row, "grade", "grade_for_type"), "warning")]
    assert "已忽略" in county.warnings[0].expected
    assert county.classes.equals(before.classes)


def test_grade_7_at_teaching_point(folder: Path) -> None:
    row = append_row(folder, "classes", school_id="P1", grade="7", classes="1", students="10")
    problem = only_error(folder)
    assert key(problem) == ("classes.csv", row, "grade", "grade_for_type")
    assert "教学点" in problem.expected


def test_grade_1_at_junior_school(folder: Path) -> None:
    row = append_row(folder, "classes", school_id="J1", grade="1", classes="1", students="10")
    assert key(only_error(folder)) == ("classes.csv", row, "grade", "grade_for_type")


def test_junior_teacher_at_primary_school(folder: Path) -> None:
    set_cell(folder, "teachers", 2, "stage", "junior")
    problem = only_error(folder)
    assert key(problem) == ("teachers.csv", 2, "stage", "stage_for_type")
    assert problem.value == "junior" and "S1" in problem.expected  # as written, not its label


def test_both_stages_at_nine_year_school(folder: Path) -> None:
    row = row_of(folder, "teachers", "teacher_id", "T05")
    set_cell(folder, "teachers", row, "stage", "junior")
    assert load_county(folder, as_of=AS_OF).teachers.set_index("teacher_id").loc["T05", "stage"] == "junior"


def test_fewer_students_than_classes(folder: Path) -> None:
    set_cell(folder, "classes", 2, "students", "1")
    problem = only_error(folder)
    assert key(problem) == ("classes.csv", 2, "students", "students_vs_classes")


def test_an_absurd_class_size_is_a_typing_error(folder: Path) -> None:
    """10^8 students in a grade (a slip of the keyboard) once made `plan` place posts for 17 minutes."""
    set_cell(folder, "classes", 2, "students", "100000000")
    problem = only_error(folder)
    assert key(problem) == ("classes.csv", 2, "students", "class_size")
    assert "150" in problem.expected


def test_students_without_classes(folder: Path) -> None:
    set_cell(folder, "classes", 23, "students", "5")
    problem = only_error(folder)
    assert key(problem) == ("classes.csv", 23, "classes", "classes_for_students")


def test_no_classes_no_students_is_fine(folder: Path) -> None:
    county = load_county(folder, as_of=AS_OF)
    p1 = county.classes[county.classes["school_id"] == "P1"].set_index("grade")
    assert (p1.loc[4, "classes"], p1.loc[4, "students"]) == (0, 0)


@pytest.mark.parametrize(
    ("birth", "plausible"),
    [
        pytest.param("2014-01-01", False, id="age-12"),
        pytest.param("1946-05-01", False, id="age-80"),
        pytest.param("9990-01-01", False, id="year-9990"),
        pytest.param("2008-09-01", True, id="age-18"),
        pytest.param("1957-09-01", True, id="age-69"),
    ],
)
def test_birth_date_plausible(folder: Path, birth: str, plausible: bool) -> None:
    row = row_of(folder, "teachers", "teacher_id", "T06")  # at N1 since 1995
    set_cell(folder, "teachers", row, "school_since", "2025-09-01")
    set_cell(folder, "teachers", row, "rural_years", "0")  # 31 years would not fit an 18-year-old
    set_cell(folder, "teachers", row, "birth_date", birth)
    if plausible:
        load_county(folder, as_of=AS_OF)
        return
    problem = only_error(folder)  # the birth date only: school_since is not judged against it
    assert key(problem) == ("teachers.csv", row, "birth_date", "plausible_birth_date")
    assert "18–70" in problem.expected


@pytest.mark.parametrize(
    "since",
    [
        pytest.param("2000-09-01", id="before-age-16"),  # T01 was born 1985-03-01
        pytest.param("2030-09-01", id="far-future"),
        pytest.param("1940-09-01", id="before-1950"),
    ],
)
def test_school_since_implausible(folder: Path, since: str) -> None:
    set_cell(folder, "teachers", 2, "school_since", since)
    assert key(only_error(folder)) == ("teachers.csv", 2, "school_since", "plausible_school_since")


def test_an_implausible_date_is_quoted_as_written(folder: Path) -> None:
    set_cell(folder, "teachers", 2, "school_since", "2000.09 ")  # T01 was born 1985-03-01
    problem = only_error(folder)
    assert key(problem) == ("teachers.csv", 2, "school_since", "plausible_school_since")
    assert problem.value == "2000.09"  # not the date it was read as (2000-09-01)


def test_school_since_next_year_is_fine(folder: Path) -> None:
    set_cell(folder, "teachers", 2, "school_since", "2027-03-01")  # a planned start, within a year
    load_county(folder, as_of=AS_OF)


def test_school_since_at_most_one_year_ahead_to_the_day(folder: Path) -> None:
    """docs/input-format.md: 不晚于基准日期后一年. 366 days let the day after that through."""
    latest = AS_OF.replace(year=AS_OF.year + 1)
    set_cell(folder, "teachers", 2, "school_since", latest.isoformat())
    load_county(folder, as_of=AS_OF)
    set_cell(folder, "teachers", 2, "school_since", (latest + timedelta(days=1)).isoformat())
    assert key(only_error(folder)) == ("teachers.csv", 2, "school_since", "plausible_school_since")


def test_service_until_implausible(folder: Path) -> None:
    set_cell(folder, "teachers", 3, "service_until", "2070-08-31")
    assert key(only_error(folder)) == ("teachers.csv", 3, "service_until", "plausible_service")


@pytest.mark.parametrize("blank", ["lon", "lat"])
def test_lat_without_lon(folder: Path, blank: str) -> None:
    set_cell(folder, "schools", 3, blank, "")
    problem = only_error(folder)
    assert key(problem) == ("schools.csv", 3, blank, "lat_lon_pair")


def test_no_coordinates_is_fine(folder: Path) -> None:
    set_cell(folder, "schools", 3, "lat", "")
    set_cell(folder, "schools", 3, "lon", "")
    load_county(folder, as_of=AS_OF)


# --------------------------------------------------------------------------------------------------
# All problems at once; warnings; row numbers
# --------------------------------------------------------------------------------------------------


def test_reports_every_problem_of_every_file(folder: Path) -> None:
    set_cell(folder, "schools", 3, "area", "郊区")
    set_cell(folder, "schools", 5, "lon", "")
    set_cell(folder, "classes", 4, "students", "many")
    set_cell(folder, "classes", 15, "grade", "12")
    dup = copy_row(folder, "classes", 20)
    set_cell(folder, "teachers", 2, "birth_date", "1990/13/01")
    set_cell(folder, "teachers", 4, "gender", "")
    set_cell(folder, "teachers", 7, "school_id", "X9")
    set_cell(folder, "teachers", 9, "wishes", "P1;X7")
    set_cell(folder, "distances", 6, "km", "-3")
    errors = load_errors(folder)
    assert [key(p) for p in errors] == [
        ("classes.csv", 4, "students", "type_int"),
        ("classes.csv", 15, "grade", "type_int"),
        ("classes.csv", dup, "grade", "unique"),
        ("distances.csv", 6, "km", "type_number"),
        ("schools.csv", 3, "area", "type_enum"),
        ("schools.csv", 5, "lon", "lat_lon_pair"),
        ("teachers.csv", 2, "birth_date", "type_date"),
        ("teachers.csv", 4, "gender", "required"),
        ("teachers.csv", 7, "school_id", "reference"),
        ("teachers.csv", 9, "wishes", "reference"),
    ]
    assert dup == 24
    with pytest.raises(InputError) as info:
        load_county(folder, as_of=AS_OF)
    assert str(info.value).startswith("10 个输入错误")
    report = info.value.report()
    assert "共 10 个错误" in report and "未写出任何文件" in report


def test_missing_file_and_bad_cells_reported_together(folder: Path) -> None:
    csv_path(folder, "classes").unlink()
    set_cell(folder, "teachers", 3, "subject", "烹饪")
    drop_column(folder, "schools", "area")
    assert sorted(key(p) for p in load_errors(folder)) == sorted([
        (str(folder), None, "", "missing_table"),
        ("schools.csv", 1, "area", "missing_column"),
        ("teachers.csv", 3, "subject", "type_enum"),
    ])


def test_wishes_without_volunteer_is_a_warning(folder: Path) -> None:
    set_cell(folder, "teachers", 9, "volunteer", "false")  # T08 keeps wishes P1;N1
    county = load_county(folder, as_of=AS_OF)
    assert [(key(p), p.severity) for p in county.warnings] == [
        (("teachers.csv", 9, "wishes", "wishes_without_volunteer"), "warning")
    ]
    assert county.teachers.set_index("teacher_id").loc["T08", "wishes"] == ("P1", "N1")


def test_own_school_among_the_wishes_is_a_warning(folder: Path) -> None:
    teachers = load_county(folder, as_of=AS_OF).teachers.set_index("teacher_id")
    own = teachers.loc["T08", "school_id"]
    set_cell(folder, "teachers", 9, "wishes", f"{own};P1;N1")
    county = load_county(folder, as_of=AS_OF)
    assert [(key(p), p.severity) for p in county.warnings] == [
        (("teachers.csv", 9, "wishes", "wish_own_school"), "warning")
    ]
    # as the warning says, the own school does not count: the others keep their order (P1 is wish 1)
    assert county.teachers.set_index("teacher_id").loc["T08", "wishes"] == ("P1", "N1")
    # and a volunteer who named only their own school has no wish list (they could not move at all)
    set_cell(folder, "teachers", 9, "wishes", own)
    assert load_county(folder, as_of=AS_OF).teachers.set_index("teacher_id").loc["T08", "wishes"] == ()


def test_a_primary_teachers_wish_for_a_junior_school_is_a_warning(folder: Path) -> None:
    """A primary teacher who wishes only for junior schools can never move: validate said nothing."""
    teachers = load_county(folder, as_of=AS_OF).teachers.set_index("teacher_id")
    assert teachers.loc["T08", "stage"] == "primary"
    set_cell(folder, "teachers", 9, "wishes", "J1")
    [warning] = load_county(folder, as_of=AS_OF).warnings
    assert key(warning) == ("teachers.csv", 9, "wishes", "wish_other_stage") and "此申请无法满足" in warning.expected
    set_cell(folder, "teachers", 9, "wishes", "J1;P1")
    [warning] = load_county(folder, as_of=AS_OF).warnings
    assert "J1 不设小学" in warning.expected and "这一志愿不会实现" in warning.expected


def test_odd_distance_rows_are_warned_about(folder: Path) -> None:
    """A school paired with itself, and a pair given both ways 12.5 and 40 km apart: said, not guessed."""
    rows = read_rows(folder, "distances")
    write_rows(folder, "distances", [*rows, ["J1", "S1", "40"], ["P1", "P1", "0"], ["N1", "J1", "18"]])
    county = load_county(folder, as_of=AS_OF)
    assert [(key(p), p.severity) for p in county.warnings] == [
        (("distances.csv", 7, "km", "asymmetric_distance"), "warning"),
        (("distances.csv", 8, "to_id", "self_distance"), "warning"),
    ]  # 18.2 against 18 km is no cause for a warning
    assert "第 2 行的反方向 12.5 公里" in county.warnings[0].expected


def test_an_establishment_far_below_the_teachers_is_warned_about(folder: Path) -> None:
    """核定编制 3 for a school of many more teachers is likely a typo, and it closes the school to transfers."""
    teachers = load_county(folder, as_of=AS_OF).teachers
    first = row_of(folder, "teachers", "school_id", "J1")
    for i in range(8):
        copy_row(folder, "teachers", first, teacher_id=f"T9{i}")
    held = int((teachers["school_id"] == "J1").sum()) + 8
    row = row_of(folder, "schools", "school_id", "J1")
    set_cell(folder, "schools", row, "establishment", "2")
    county = load_county(folder, as_of=AS_OF)
    assert [(key(p), p.severity) for p in county.warnings] == [
        (("schools.csv", row, "establishment", "establishment_far_below"), "warning")]
    assert f"在编教师 {held} 人" in county.warnings[0].expected


def test_teachers_of_a_stage_the_school_has_no_class_of_are_warned_about(folder: Path) -> None:
    """A nine-year school whose grades 7–9 are missing from the classes table, with a junior teacher: its
    junior norm is 0 and the teacher counts as surplus (another generator's county: 7 of 16 redeployed
    to primary schools, without a word)."""
    rows = read_rows(folder, "classes")
    school, grade = rows[0].index("school_id"), rows[0].index("grade")
    write_rows(folder, "classes", [r for r in rows if not (r[school] == "N1" and int(r[grade] or 0) >= 7)])
    county = load_county(folder, as_of=AS_OF)
    row = row_of(folder, "schools", "school_id", "N1")
    assert [(key(p), p.severity) for p in county.warnings] == [
        (("schools.csv", row, "school_id", "stage_without_classes"), "warning")]
    assert "班级表中有该校初中的年级行（教师表中有该校初中教师 1 人" in county.warnings[0].expected


def test_a_teaching_point_without_pupils_is_warned_about(folder: Path) -> None:
    """A 教学点 whose class rows hold no pupil gets a norm of 0, not the teaching-point minimum, and its
    teachers count as surplus: said (another generator's county redeployed its one teacher silently)."""
    rows = read_rows(folder, "classes")
    school, classes, students = (rows[0].index(c) for c in ("school_id", "classes", "students"))
    for row in rows[1:]:
        if row[school] == "P1":
            row[classes], row[students] = "0", "0"
    write_rows(folder, "classes", rows)
    county = load_county(folder, as_of=AS_OF)
    row = row_of(folder, "schools", "school_id", "P1")
    assert [(key(p), p.severity) for p in county.warnings] == [
        (("schools.csv", row, "school_id", "empty_teaching_point"), "warning")]


def test_warnings_are_reported_with_errors(folder: Path) -> None:
    set_cell(folder, "teachers", 9, "volunteer", "否")
    set_cell(folder, "teachers", 2, "gender", "")
    with pytest.raises(InputError) as info:
        load_county(folder, as_of=AS_OF)
    assert [key(p) for p in info.value.errors] == [("teachers.csv", 2, "gender", "required")]
    assert [key(p) for p in info.value.warnings] == [
        ("teachers.csv", 9, "wishes", "wishes_without_volunteer")
    ]
    assert "[警告]" in info.value.report()


def test_blank_lines_do_not_shift_row_numbers(folder: Path) -> None:
    rows = read_rows(folder, "teachers")
    # a blank line after T02 (now row 4), and a row of empty cells after T04 (now row 7)
    rows = [*rows[:3], [], *rows[3:5], [""] * len(rows[0]), *rows[5:], []]
    write_rows(folder, "teachers", rows)
    assert row_of(folder, "teachers", "teacher_id", "T05") == 8
    set_cell(folder, "teachers", 8, "gender", "X")
    set_cell(folder, "teachers", 5, "birth_date", "1978-13-02")  # T03
    assert [key(p) for p in load_errors(folder)] == [
        ("teachers.csv", 5, "birth_date", "type_date"),
        ("teachers.csv", 8, "gender", "type_enum"),
    ]


def test_blank_lines_are_skipped(folder: Path) -> None:
    path = csv_path(folder, "classes")
    path.write_text(path.read_text(encoding="utf-8").replace("\n", "\n\n"), encoding="utf-8")
    assert load_county(folder, as_of=AS_OF).equals(make_county())


def test_line_break_inside_a_cell_is_one_spreadsheet_row(folder: Path) -> None:
    add_column(folder, "teachers", "备注", "")
    set_cell(folder, "teachers", 3, "备注", "2019年入职\n特岗教师")  # Alt+Enter in an Excel cell
    set_cell(folder, "teachers", 5, "gender", "?")
    assert [key(p) for p in load_errors(folder)] == [("teachers.csv", 5, "gender", "type_enum")]


def test_template_example_rows_are_skipped(folder: Path) -> None:
    append_row(folder, "classes", school_id="示例：X001", grade="年级", classes="班数", students="学生数")
    assert load_county(folder, as_of=AS_OF).equals(make_county())


def _workbook(county: County, path: Path) -> Path:
    """The county as an .xlsx workbook with Chinese sheet names and headers, written with openpyxl."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name in ("schools", "classes", "teachers"):
        sheet = workbook.create_sheet(TABLE_LABELS[name])
        header, rows = table_rows(county, name, chinese=True)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_problem_names_the_sheet(tmp_path: Path) -> None:
    county = make_county(with_distances=False)
    path = _workbook(county, tmp_path / "county.xlsx")
    assert load_county(path, as_of=AS_OF).equals(county)

    workbook = load_workbook(path)
    workbook["教师"].cell(row=4, column=4).value = "1990/13/01"  # 出生日期 of T03
    workbook["班级"].cell(row=3, column=2).value = 10  # 年级
    workbook.save(path)
    problems = load_errors(path)
    assert [(p.file, p.sheet, p.row, p.column, p.rule) for p in problems] == [
        ("county.xlsx", "教师", 4, "birth_date", "type_date"),
        ("county.xlsx", "班级", 3, "grade", "type_int"),
    ]
    assert problems[0].message().startswith("[错误] county.xlsx / 教师 第 4 行 出生日期(birth_date)")


def test_xlsx_missing_sheet(tmp_path: Path) -> None:
    path = _workbook(make_county(with_distances=False), tmp_path / "county.xlsx")

    workbook = load_workbook(path)
    del workbook["班级"]
    workbook.save(path)
    assert [key(p) for p in load_errors(path)] == [("county.xlsx", None, "", "missing_table")]


OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")


@pytest.mark.parametrize(("content", "says"), [
    pytest.param(b"PK\x03\x04 not really a zip", "工作簿已损坏", id="damaged"),
    pytest.param(b"", "空文件", id="empty"),
    pytest.param(OLE2 + bytes(504), ".xls", id="xls-renamed"),
    pytest.param(OLE2 + bytes(200) + "EncryptedPackage".encode("utf-16-le") + bytes(200), "密码", id="password"),
    pytest.param(b"<html><body><table><tr><td>1</td></tr></table></body></html>", "网页", id="html-export"),
    pytest.param("学校代码,学校名称\nC001,城关一小\n".encode("gbk"), "文本文件", id="csv-renamed"),
    pytest.param(("学校代码,学校名称 \n" + "C001,城关第一小学\n" * 400).encode("utf-8"), "文本文件",
                 id="csv-renamed-long"),  # the sniffed 4 KB end inside a character
    pytest.param(("学校代码\t学校名称\n" + "C001\t城关第一小学\n" * 400).encode("utf-16"), "文本文件",
                 id="unicode-text-renamed"),
])
def test_not_a_workbook_says_what_the_file_is(tmp_path: Path, content: bytes, says: str) -> None:
    """One problem, naming what the file really is (not openpyxl's “File is not a zip file”)."""
    path = tmp_path / "county.xlsx"
    path.write_bytes(content)
    (problem,) = load_errors(path)
    assert key(problem) == ("county.xlsx", None, "", "xlsx_open")
    assert says in problem.value + problem.expected


def test_path_not_found(tmp_path: Path) -> None:
    assert [p.rule for p in load_errors(tmp_path / "nowhere")] == ["not_found"]



@pytest.mark.parametrize(
    "newline", [pytest.param("\r\n", id="CRLF-windows"), pytest.param("\r", id="CR-excel-mac")]
)
def test_line_endings(folder: Path, newline: str) -> None:
    def convert() -> None:
        for table in ("schools", "classes", "teachers"):
            path = csv_path(folder, table)
            path.write_bytes(path.read_text(encoding="utf-8").replace("\n", newline).encode("utf-8"))

    convert()
    assert load_county(folder, as_of=AS_OF).equals(make_county())
    set_cell(folder, "teachers", 4, "gender", "")
    convert()
    assert [key(p) for p in load_errors(folder)] == [("teachers.csv", 4, "gender", "required")]


def test_as_of_on_a_leap_day(folder: Path) -> None:
    county = load_county(folder, as_of=date(2028, 2, 29))
    assert county.as_of == date(2028, 2, 29)
