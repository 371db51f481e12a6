"""The HR workbook (io/template.py): blank template layout, filled round trip, hand-filled template."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from teacheralloc.domain import (
    TABLE_LABELS,
    Area,
    Backbone,
    ClassGroup,
    County,
    Distance,
    Education,
    Gender,
    School,
    SchoolType,
    Stage,
    Status,
    Subject,
    Teacher,
    Title,
    columns,
)
from teacheralloc.errors import InputError
from teacheralloc.io.read import EXAMPLE_MARK, load_county
from teacheralloc.io.template import GUIDE_SHEET, MIN_VALIDATED_ROWS, OPTIONS_SHEET, write_workbook

AS_OF = date(2025, 9, 1)
DATA_SHEETS = ["学校", "班级", "教师"]


def small_county(distances: bool = True) -> County:
    schools = [
        School(
            school_id="X001",
            name="城关一小",
            township="城关镇",
            type=SchoolType.primary,
            area=Area.urban,
            lat=27.7321,
            lon=112.5418,
            establishment=40,
            group="城关教育集团",
        ),
        School(
            school_id="X002",
            name="青山九年一贯制学校",
            township="青山乡",
            type=SchoolType.nine_year,
            area=Area.rural,
            lat=27.61234567,
            lon=112.40123,
            boarding_students=120,
            weak=True,
        ),
        School(
            school_id="X003",
            name="石门教学点",
            township="青山乡",
            type=SchoolType.teaching_point,
            area=Area.rural,
        ),
    ]
    classes = [
        ClassGroup(school_id="X001", grade=1, classes=4, students=176),
        ClassGroup(school_id="X001", grade=2, classes=4, students=170),
        ClassGroup(school_id="X002", grade=3, classes=1, students=38),
        ClassGroup(school_id="X002", grade=7, classes=2, students=85),
        ClassGroup(school_id="X003", grade=1, classes=1, students=6),
    ]
    teachers = [
        Teacher(
            teacher_id="T0001",
            name="张老师",
            gender=Gender.F,
            birth_date=date(1985, 3, 1),
            school_id="X001",
            school_since=date(2015, 9, 1),
            stage=Stage.primary,
            subject=Subject.chinese,
            other_subjects=(Subject.morality, Subject.labor),
            title=Title.first,
            backbone=Backbone.county,
            education=Education.bachelor,
        ),
        Teacher(
            teacher_id="T0002",
            gender=Gender.M,
            birth_date=date(1998, 7, 15),
            school_id="X002",
            school_since=date(2021, 8, 30),
            stage=Stage.junior,
            subject=Subject.math,
            rural_years=4.5,
            service_until=date(2026, 8, 31),
            volunteer=True,
            wishes=("X001", "X003"),
        ),
        Teacher(
            teacher_id="00123",
            name="李老师",
            gender=Gender.F,
            birth_date=date(1975, 11, 2),
            school_id="X002",
            school_since=date(2003, 9, 1),
            stage=Stage.primary,
            subject=Subject.english,
            other_subjects=(Subject.music,),
            title=Title.senior,
            backbone=Backbone.city,
            status=Status.maternity,
            rural_years=22,
        ),
        Teacher(
            teacher_id="T0004",
            gender=Gender.M,
            birth_date=date(1990, 1, 20),
            school_id="X003",
            school_since=date(2019, 9, 1),
            stage=Stage.primary,
            subject=Subject.pe,
            other_subjects=(Subject.art, Subject.science),
            education=Education.associate,
        ),
    ]
    dist = [Distance(from_id="X001", to_id="X002", km=18.4), Distance(from_id="X002", to_id="X003", km=6.25)]
    return County.from_records(schools, classes, teachers, dist if distances else None, as_of=AS_OF)


def test_blank_template_layout(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "blank.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == [GUIDE_SHEET, *DATA_SHEETS, OPTIONS_SHEET]
    assert book[OPTIONS_SHEET].sheet_state == "hidden"
    assert all(book[name].sheet_state == "visible" for name in [GUIDE_SHEET, *DATA_SHEETS])

    guide_codes = {cell.value for cell in book[GUIDE_SHEET]["C"]}
    options = book[OPTIONS_SHEET]
    for name, label in TABLE_LABELS.items():
        if name == "distances":
            continue
        sheet = book[label]
        specs = columns(name)
        header = [cell.value for cell in sheet[1]]
        assert header == [col.label for col in specs]
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref.startswith("A1:")
        # The example row: first cell 示例…, grey italic.
        assert str(sheet.cell(2, 1).value).startswith(EXAMPLE_MARK)
        assert sheet.cell(2, 1).font.i
        assert sheet.max_row == 2
        validations = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
        for index, col in enumerate(specs, start=1):
            cell = sheet.cell(1, index)
            assert cell.font.b
            assert (
                cell.comment is not None
                and col.code in cell.comment.text
                and col.description in cell.comment.text
            )
            assert ("必填" in cell.comment.text) == col.required
            assert (cell.font.color.rgb == "00C00000") == col.required
            assert col.code in guide_codes
            letter = cell.column_letter
            dimension = sheet.column_dimensions[letter]
            assert dimension.width and dimension.width >= 6
            if col.kind == "date":
                assert dimension.number_format == "yyyy-mm-dd"
                assert isinstance(sheet.cell(2, index).value, datetime | type(None))
                if sheet.cell(2, index).value is not None:
                    assert sheet.cell(2, index).number_format == "yyyy-mm-dd"
            target = f"{letter}2:{letter}{MIN_VALIDATED_ROWS}"
            if col.kind in ("enum", "bool"):
                dv = validations[target]
                assert dv.type == "list"
                sheet_ref, cells = dv.formula1.split("!")
                assert sheet_ref.strip("'") == OPTIONS_SHEET
                listed = [c.value for row in options[cells.replace("$", "")] for c in row]
                expected = ["是", "否"] if col.kind == "bool" else [m.label for m in col.enum]
                assert listed == expected
            elif col.kind in ("list_enum", "list_text"):
                assert target not in validations or validations[target].type != "list"
    # A blank template has only example rows: loading it says each required sheet has no data.
    with pytest.raises(InputError) as caught:
        load_county(path, as_of=AS_OF)
    assert {(p.sheet, p.rule) for p in caught.value.errors} == {
        ("学校", "no_rows"), ("班级", "no_rows"), ("教师", "no_rows")}


def test_filled_workbook_round_trips(tmp_path: Path) -> None:
    county = small_county()
    path = write_workbook(tmp_path / "c.xlsx", county)
    book = load_workbook(path)
    assert book.sheetnames == [GUIDE_SHEET, *DATA_SHEETS, "距离", OPTIONS_SHEET]
    teachers = book["教师"]
    assert not str(teachers.cell(2, 1).value).startswith(EXAMPLE_MARK)
    assert teachers.max_row == 1 + county.num_teachers
    row = [c.value for c in teachers[2]]
    assert row[:8] == [
        "T0001",
        "张老师",
        "女",
        datetime(1985, 3, 1),
        "X001",
        datetime(2015, 9, 1),
        "小学",
        "语文",
    ]
    assert row[8] == "道德与法治、劳动"
    assert teachers.cell(2, 4).number_format == "yyyy-mm-dd"
    assert teachers.cell(4, 1).value == "00123"  # text ids keep their leading zeros

    loaded = load_county(path, as_of=AS_OF)
    assert loaded.equals(county)
    assert loaded.distances is not None and len(loaded.distances) == 2

    without = small_county(distances=False)
    path2 = write_workbook(tmp_path / "nodist.xlsx", without)
    assert "距离" not in load_workbook(path2).sheetnames
    assert load_county(path2, as_of=AS_OF).equals(without)


def test_hand_filled_blank_template_loads(tmp_path: Path) -> None:
    """Type rows under the headers of the blank template (labels, date cells), as HR staff would."""
    path = write_workbook(tmp_path / "blank.xlsx")
    book = load_workbook(path)
    d = date
    typed = {
        "学校": [
            "学校代码 学校名称 乡镇 学校类型 城乡类别 纬度 经度 寄宿生数 核定编制 教育集团 薄弱学校",
            ("X001", "城关一小", "城关镇", "小学", "城区", 27.7321, 112.5418, 0, 40,
             "城关教育集团", "否"),
            ("X002", "青山九年一贯制学校", "青山乡", "九年一贯制", "乡村", 27.61234567, 112.40123,
             120, None, None, "是"),
            ("X003", "石门教学点", "青山乡", "教学点", "乡村"),
        ],
        "班级": [
            "学校代码 年级 班数 学生数",
            ("X001", 1, 4, 176),
            ("X001", 2, 4, 170),
            ("X002", 3, 1, 38),
            ("X002", 7, 2, 85),
            ("X003", 1, 1, 6),
        ],
        "教师": [
            "教师编号 姓名 性别 出生日期 任教学校 到校时间 任教学段 主教学科 兼教学科"
            " 职称 骨干级别 最高学历 在岗状态 农村任教年限 服务期截止 申请交流 志愿学校",
            ("T0001", "张老师", "女", d(1985, 3, 1), "X001", d(2015, 9, 1), "小学", "语文",
             "道德与法治、劳动", "一级", "县级", "本科"),
            ("T0002", None, "男", d(1998, 7, 15), "X002", d(2021, 8, 30), "初中", "数学",
             None, None, None, None, None, 4.5, d(2026, 8, 31), "是", "X001;X003"),
            ("00123", "李老师", "女", d(1975, 11, 2), "X002", d(2003, 9, 1), "小学", "英语",
             "音乐", "高级", "市级", None, "产假", 22),
            ("T0004", None, "男", d(1990, 1, 20), "X003", d(2019, 9, 1), "小学", "体育与健康",
             "美术、科学", "未定级", "无", "大专", "在岗", 0, None, "否"),
        ],
    }  # fmt: skip
    for sheet_name, (headers, *rows) in typed.items():
        sheet = book[sheet_name]
        position = {cell.value: cell.column for cell in sheet[1]}
        for offset, values in enumerate(rows):
            for header, value in zip(headers.split(), values, strict=False):
                if value is not None:
                    sheet.cell(3 + offset, position[header], value)  # below the example row
    book.save(path)

    loaded = load_county(path, as_of=AS_OF)
    assert loaded.equals(small_county(distances=False))
    assert loaded.num_teachers == 4


def test_template_readable_by_pandas_and_read_only(tmp_path: Path) -> None:
    for county in (None, small_county()):
        path = write_workbook(tmp_path / ("blank.xlsx" if county is None else "filled.xlsx"), county)
        frames = pd.read_excel(path, sheet_name=None)
        assert list(frames)[:4] == [GUIDE_SHEET, *DATA_SHEETS]
        assert list(frames["教师"].columns) == [col.label for col in columns("teachers")]
        assert len(frames["教师"]) == (1 if county is None else county.num_teachers)
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            for sheet in book.worksheets:
                rows = list(sheet.iter_rows(values_only=True))
                assert rows, sheet.title
        finally:
            book.close()


def test_example_rows_are_valid_and_consistent(tmp_path: Path) -> None:
    """Without the 示例 mark, the example rows are a valid one-school county (ids refer to each other)."""
    path = write_workbook(tmp_path / "blank.xlsx")
    book = load_workbook(path)
    school = book["学校"].cell(2, 1).value
    assert book["班级"].cell(2, 1).value == school
    assert book["教师"].cell(2, 5).value == school  # 任教学校
    for name in DATA_SHEETS:
        sheet = book[name]
        for cell in sheet[2]:
            if isinstance(cell.value, str) and cell.value.startswith(EXAMPLE_MARK):
                cell.value = cell.value.removeprefix(EXAMPLE_MARK)
    book.save(path)
    county = load_county(path, as_of=AS_OF)
    assert county.school_ids == [school.removeprefix(EXAMPLE_MARK)]
    assert len(county.classes) == 1 and county.num_teachers == 1
    teacher = county.teacher_records()[0]
    assert teacher.school_id == county.school_ids[0]
    assert teacher.other_subjects == (Subject.morality, Subject.labor)
