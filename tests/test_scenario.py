"""Scenario files (情景): each transformation on a small county, and the validation of the file.

Transformations are pure functions County → County: the tests check what each conserves (pupils and
teachers under a closure or a merger), what it moves (everyone at a closed school), what it keeps
(teacher ids in a merger), and that hires reach the optimizer as pinned teachers at holding schools.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.helpers import make_county, write_county_csv

from teacheralloc.domain import County
from teacheralloc.errors import InputError
from teacheralloc.policy import Policy
from teacheralloc.sample import generate_county
from teacheralloc.scenario import (
    Close,
    Hire,
    Merge,
    Retire,
    ScaleEnrollment,
    add_hires,
    close_schools,
    figure_catalogue,
    load_scenario,
    merge_schools,
    nearest_school,
    retire_until,
    scale_enrollment,
)

POLICY = Policy.default()
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def county() -> County:
    """generate_county(300, seed=1): 18 schools (11 teaching points of 18–68 pupils), 300 teachers."""
    return generate_county(300, seed=1)


def pupils(county: County) -> int:
    return int(county.classes["students"].sum())


# --------------------------------------------------------------------------------------------------
# scale_enrollment
# --------------------------------------------------------------------------------------------------


def test_scale_enrollment_scales_only_the_selection(county: County) -> None:
    change = ScaleEnrollment(factor=0.85, area="乡村", stage="primary")  # Chinese labels are accepted
    scaled, text = scale_enrollment(county, change)
    rural = county.schools.loc[county.schools["area"] == "rural", "school_id"]
    rows = county.classes["school_id"].isin(rural) & (county.classes["grade"] <= 6)
    before, after = county.classes, scaled.classes
    expected = (before.loc[rows, "students"] * 0.85 + 0.5).astype(int)
    assert (after.loc[rows, "students"].to_numpy() == expected.to_numpy()).all()
    assert after.loc[~rows].equals(before.loc[~rows])
    assert scaled.teachers.equals(county.teachers)
    # average class size kept: never larger than before, and a grade with pupils keeps a class
    assert (after.loc[rows, "classes"] <= before.loc[rows, "classes"]).all()
    assert (after.loc[rows & (after["students"] > 0), "classes"] >= 1).all()
    assert "学生" in text


def test_classes_kept_past_the_class_limit_are_said(county: County) -> None:
    """Pupils × 1.8 with `classes: keep` ran classes of up to twice the limit without a word."""
    _, text = scale_enrollment(county, ScaleEnrollment(factor=1.8, classes="keep"), POLICY)
    assert "个年级平均班额超过上限（小学 45、初中 50 人" in text
    _, text = scale_enrollment(county, ScaleEnrollment(factor=1.8), POLICY)  # resize: each grade keeps its size
    assert "班额超过上限" not in text


def test_more_pupils_add_classes_only_beyond_the_class_limit(county: County) -> None:
    """Pupils × 1.1 with `classes: resize`: a grade keeps its classes unless its pupils pass the class
    limit (primary 45, junior 50) or their old average. Kept at the old average, a teaching point's
    class of 8 that gained a pupil became two, and the county's classes nearly doubled."""
    scaled, _ = scale_enrollment(county, ScaleEnrollment(factor=1.1), POLICY)
    before, after = county.classes, scaled.classes
    limit = np.where(before["grade"] <= 6, 45, 50)
    average = before["students"] / before["classes"].where(before["classes"] > 0, 1)
    needed = np.ceil(after["students"] / np.maximum(limit, average) - 1e-9)
    assert (after["classes"] == np.maximum(before["classes"], needed)).all()
    small = (before["students"] < 20) & (after["students"] > before["students"])
    assert small.any() and (after.loc[small, "classes"] == before.loc[small, "classes"]).all()


def test_scale_enrollment_by_grade_and_school_keeps_classes(county: County) -> None:
    change = ScaleEnrollment(factor=1.2, school="X001", grade=[1, 2], classes="keep")
    scaled, _ = scale_enrollment(county, change)
    rows = (county.classes["school_id"] == "X001") & county.classes["grade"].isin([1, 2])
    assert scaled.classes.loc[rows, "classes"].equals(county.classes.loc[rows, "classes"])
    assert pupils(scaled) - pupils(county) == pytest.approx(0.2 * county.classes.loc[rows, "students"].sum(), abs=2)


# --------------------------------------------------------------------------------------------------
# close
# --------------------------------------------------------------------------------------------------


def test_closure_moves_every_pupil_and_teacher_to_the_nearest_school(county: County) -> None:
    small = ["D001", "D002", "D008"]  # teaching points of 18, 19 and 18 pupils
    closed, _ = close_schools(county, Close(students_below=20, type="teaching_point"), POLICY)
    assert sorted(set(county.school_ids) - set(closed.school_ids)) == small
    assert pupils(closed) == pupils(county)
    assert len(closed.teachers) == len(county.teachers)
    assert set(closed.teachers["teacher_id"]) == set(county.teachers["teacher_id"])
    assert not closed.teachers["school_id"].isin(small).any()
    assert not closed.classes["school_id"].isin(small).any()
    for school_id in small:
        receiver = nearest_school(county, school_id, "primary", set(small))
        assert receiver is not None and not receiver.startswith("D")  # an ordinary school before a teaching point
        moved = county.teachers.loc[county.teachers["school_id"] == school_id, "teacher_id"]
        where = closed.teachers.set_index("teacher_id").loc[moved]
        assert (where["school_id"] == receiver).all()
        assert (where["school_since"] == pd.Timestamp(county.as_of)).all()  # they arrive this year
    # the approved establishment goes with the teachers
    est_before = county.schools["establishment"].sum()
    assert closed.schools["establishment"].sum() == est_before


def test_closing_a_nine_year_school_names_each_stages_receiver() -> None:
    """J002's primary pupils and teachers go to the nearest primary school, its junior ones to the nearest
    junior school: the text names both with their stage (it named the primary one for all 472 pupils),
    and a junior teacher's wish for J002 now names the junior receiver (it named the primary one)."""
    from teacheralloc.io.read import load_county

    county = load_county(Path(__file__).parents[1] / "scenarios" / "sample-county")
    primary = nearest_school(county, "J002", "primary", {"J002"})
    junior = nearest_school(county, "J002", "junior", {"J002"})
    assert primary != junior
    wisher = county.teachers[(county.teachers["stage"].astype(str) == "junior")
                             & (county.teachers["school_id"] != "J002")]["teacher_id"].iloc[0]
    teachers = county.teachers.copy()
    at = teachers["teacher_id"] == wisher
    teachers.loc[at, "volunteer"] = True
    teachers.loc[at, "wishes"] = pd.Series([("J002",)], index=teachers.index[at])
    closed, text = close_schools(county.replace(teachers=teachers), Close(school="J002"), POLICY)
    names = county.schools.set_index("school_id")["name"]
    assert f"{primary} {names[primary]}（小学）" in text and f"{junior} {names[junior]}（初中）" in text
    assert closed.teachers.set_index("teacher_id").at[wisher, "wishes"] == (junior,)


def test_a_junior_teachers_wish_for_a_closed_primary_school_follows_its_pupils(county: County) -> None:
    """A junior teacher may go to primary: their wish for the teaching point D004, closed into X004, names
    X004 (looked up by the teacher's stage, it was dropped, leaving a volunteer with no wish)."""
    wisher = county.teachers.loc[county.teachers["stage"].astype(str) == "junior", "teacher_id"].iloc[0]
    teachers = county.teachers.copy()
    at = teachers["teacher_id"] == wisher
    teachers.loc[at, "volunteer"] = True
    teachers.loc[at, "wishes"] = pd.Series([("D004",)], index=teachers.index[at])
    closed, _ = close_schools(county.replace(teachers=teachers), Close(school="D004", into="X004"), POLICY)
    assert closed.teachers.set_index("teacher_id").at[wisher, "wishes"] == ("X004",)


def test_closure_into_a_named_school(county: County) -> None:
    closed, text = close_schools(county, Close(school="D004", into="X004"), POLICY)
    moved = county.teachers["school_id"] == "D004"
    assert (closed.teachers.loc[moved.to_numpy(), "school_id"] == "X004").all()
    x004 = closed.classes[closed.classes["school_id"] == "X004"]["students"].sum()
    assert x004 == county.classes[county.classes["school_id"].isin(["X004", "D004"])]["students"].sum()
    assert "X004" in text


def test_closure_into_a_school_without_the_stage_is_reported(county: County) -> None:
    problems: list[tuple[str | None, object, str]] = []
    close_schools(county, Close(school="D004", into="C001"), POLICY, lambda *p: problems.append(p))
    assert problems and problems[0][0] == "into" and "小学" in problems[0][2]


# --------------------------------------------------------------------------------------------------
# merge
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["merge", "close"])
def test_taking_in_a_school_with_no_establishment_makes_the_receivers_unknown(how: str) -> None:
    """J1 (its number blanked) or the teaching point P1 has no 核定编制 given: S1 taking it in keeps no
    number of its own (40 would read as full with the newcomers, and the plan would send it no one); the
    change says so."""
    county = make_county()
    schools = county.schools.copy()
    schools.loc[schools["school_id"] == "J1", "establishment"] = None
    county = county.replace(schools=schools)
    if how == "merge":
        changed, text = merge_schools(county, Merge(school="J1", into="S1"))
    else:
        changed, text = close_schools(county, Close(school="P1", into="S1"), POLICY)
    assert pd.isna(changed.schools.set_index("school_id").at["S1", "establishment"])
    assert "核定编制按未填处理" in text


def test_merger_keeps_teacher_ids_and_everyone() -> None:
    county = make_county()
    merged, text = merge_schools(county, Merge(school="J1", into="S1"))
    assert "J1" not in merged.school_ids
    assert merged.teachers["teacher_id"].tolist() == county.teachers["teacher_id"].tolist()
    j1 = county.teachers["school_id"] == "J1"
    assert (merged.teachers.loc[j1.to_numpy(), "school_id"] == "S1").all()
    assert merged.teachers["school_since"].equals(county.teachers["school_since"])  # dates at school stay
    assert pupils(merged) == pupils(county)
    assert merged.classes["classes"].sum() == county.classes["classes"].sum()  # classes kept
    survivor = merged.schools.set_index("school_id").loc["S1"]
    assert survivor["type"] == "nine_year"  # a primary school that gains junior grades
    assert survivor["establishment"] == 40 + 38
    assert "教师编号不变" in text


def test_merger_of_an_unknown_school_is_reported() -> None:
    problems: list[tuple[str | None, object, str]] = []
    merge_schools(make_county(), Merge(school="NOPE", into="S1"), lambda *p: problems.append(p))
    assert [p[0] for p in problems] == ["school"]


# --------------------------------------------------------------------------------------------------
# hire, retire
# --------------------------------------------------------------------------------------------------


def test_hires_wait_at_holding_schools_pinned_to_move(county: County) -> None:
    hired, pins, text = add_hires(county, Hire(count=3, stage="primary", subject="音乐"))
    new = hired.teachers[~hired.teachers["teacher_id"].isin(county.teachers["teacher_id"])]
    assert new["teacher_id"].tolist() == ["NEW-0001", "NEW-0002", "NEW-0003"]
    assert (new["subject"] == "music").all() and (new["stage"] == "primary").all()
    assert pins["kind"].tolist() == ["must_move"] * 3
    pools = hired.schools[hired.schools["school_id"].str.startswith("POOL-")]
    assert len(pools) == 3 and set(new["school_id"]) == set(pools["school_id"])
    assert (pools["establishment"] == 1).all()  # closed to transfers: nobody else is sent there
    assert hired.classes.equals(county.classes)
    again, _, one = add_hires(hired, Hire(count=1, stage="junior", subject="art"))
    assert "NEW-0004" in set(again.teachers["teacher_id"])  # ids continue after those in use
    assert "NEW-0001–NEW-0003" in text
    assert "（NEW-0004）" in one  # one hire is no range "NEW-0004–NEW-0004"


def test_retirement_removes_exactly_those_reaching_the_age(county: County) -> None:
    until = date(2028, 8, 31)
    retired, _ = retire_until(county, Retire(until=until), POLICY)
    gone = set(county.teachers["teacher_id"]) - set(retired.teachers["teacher_id"])
    expected = {
        row.teacher_id for row in county.teachers.itertuples()
        if POLICY.retirement.retirement_date(str(row.gender), row.birth_date.date()) <= until
    }
    assert gone == expected and gone


# --------------------------------------------------------------------------------------------------
# The file: load, validation errors
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, county: County) -> Path:
    base = tmp_path_factory.mktemp("scenario")
    write_county_csv(county, base / "county")
    return base


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_scenario_applies_its_changes_in_order(folder: Path) -> None:
    path = write(folder, "ok.yaml", """
name: 测试情景
question: 测试
base: county
as_of: 2026-09-01
policy: {staffing: {students_per_staff: {primary: 17}}}
changes:
  - close: {type: teaching_point, students_below: 20}
  - hire: {count: 2, stage: primary, subject: pe}
  - pins: [{teacher_id: JS00001, must_stay: true}]
""")
    scenario = load_scenario(path)
    assert scenario.name == "测试情景" and scenario.county.as_of == date(2026, 9, 1)
    assert scenario.policy.staffing.students_per_staff.primary == 17
    assert scenario.hire_ids == ("NEW-0001", "NEW-0002")
    assert sorted(scenario.pins["kind"]) == ["must_move", "must_move", "must_stay"]
    assert [line.split("：")[0] for line in scenario.changes] == ["政策参数", "1. 撤并学校", "2. 招聘教师", "3. 指定"]


def problems_of(path: Path) -> list[tuple[int | None, str, str]]:
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    return [(p.row, p.column, p.expected) for p in caught.value.problems]


def test_raises_every_problem_of_the_file_at_once_naming_line_and_key(folder: Path) -> None:
    path = write(folder, "bad.yaml", """base: county
colour: blue
changes:
  - scale_enrollment: {factor: -1, area: suburb}
  - close: {}
  - hire: {count: 3, stage: primary, subject: music}
    retire: {until: 2028-08-31}
  - fly: {to: moon}
  - pins: missing.csv
expect:
  required.primary: sideways
  required.primery: down
""")
    found = problems_of(path)
    columns = {column for _row, column, _expected in found}
    # A bad direction in `expect` once hid the misspelt code beside it; a missing pins file was named
    # without the scenario's line and key.
    assert {"colour", "changes[1].scale_enrollment.factor", "changes[1].scale_enrollment.area",
            "changes[2].close", "changes[3]", "changes[4].fly", "changes[5].pins", "expect.required.primary",
            "expect.required.primery"} <= columns
    rows = {column: row for row, column, _ in found}
    assert rows["colour"] == 2 and rows["changes[1].scale_enrollment.factor"] == 4 and rows["changes[4].fly"] == 8
    expected = {column: text for _row, column, text in found}
    assert "大于 0" in expected["changes[1].scale_enrollment.factor"]
    assert "恰好一种变化" in expected["changes[3]"]
    assert "此键不存在" in expected["colour"]


def test_raises_for_unknown_schools_and_teachers_naming_the_change(folder: Path) -> None:
    path = write(folder, "refs.yaml", """base: county
changes:
  - close: {school: D001, into: NOPE}
  - merge: {school: X003, into: X999}
  - pins: [{teacher_id: NOBODY, must_move: true}]
expect:
  no.such.figure: up
""")
    found = {column: row for row, column, _ in problems_of(path)}
    assert found == {"changes[1].close.into": 3, "changes[2].merge.into": 4, "changes[3].pins[1].teacher_id": 5,
                     "expect.no.such.figure": 7}


def test_a_pin_on_a_teacher_who_retires_in_a_later_change_is_refused_at_its_line(folder: Path,
                                                                                county: County) -> None:
    """Pins are checked against the county as the changes before them left it; a `retire` after the pin
    took its teacher away and the model met a pin with no such teacher (KeyError, exit 70). Now the pin
    is refused at its line, once, whichever order (an HR tester's scenario)."""
    until = date(2030, 8, 31)
    retired, _ = retire_until(county, Retire(until=until), POLICY)
    leaving = sorted(set(county.teachers["teacher_id"]) - set(retired.teachers["teacher_id"]))[0]
    before = write(folder, "pin_then_retire.yaml", f"""base: county
changes:
  - pins: [{{teacher_id: {leaving}, must_move: true}}]
  - retire: {{until: {until}}}
""")
    [(row, column, expected)] = problems_of(before)
    assert (row, column) == (3, "changes[1].pins[1].teacher_id") and "在其后的变化中离开" in expected
    after = write(folder, "retire_then_pin.yaml", f"""base: county
changes:
  - retire: {{until: {until}}}
  - pins: [{{teacher_id: {leaving}, must_stay: true}}]
""")
    assert [(row, column) for row, column, _ in problems_of(after)] == [(4, "changes[2].pins[1].teacher_id")]


def test_a_change_that_selects_no_class_is_refused(folder: Path, county: County) -> None:
    """Grade 8 of a primary school selects no class row: the change did nothing, said only as
    “0 所学校，学生 0 → 0” (an HR tester's scenario). Now refused at its key."""
    primary = county.schools.loc[county.schools["type"] == "primary", "school_id"].iloc[0]
    path = write(folder, "nothing.yaml", f"""base: county
changes:
  - scale_enrollment: {{factor: 0.5, school: {primary}, grade: 8}}
""")
    [(row, column, expected)] = problems_of(path)
    assert (row, column) == (3, "changes[1].scale_enrollment.grade") and "没有选中任何班级" in expected


def test_a_bad_inline_pin_is_one_problem_at_its_entry(folder: Path, county: County) -> None:
    """A pin with two kinds was also reported as the whole list not being text (`pins` may be a file
    name), a false second problem."""
    teacher = county.teachers["teacher_id"].iloc[0]
    path = write(folder, "two_kinds.yaml", f"""base: county
changes:
  - pins:
      - {{teacher_id: {teacher}, must_stay: true, must_move: true}}
""")
    [(row, column, expected)] = problems_of(path)
    assert (row, column) == (4, "changes[1].pins[1]") and "恰好一项" in expected


def test_raises_for_bad_policy_overrides_and_a_missing_base(folder: Path) -> None:
    path = write(folder, "policy.yaml", """base: county
policy:
  staffing:
    students_per_staff: {primary: zero}
    studnets: 3
""")
    found = {column: row for row, column, _ in problems_of(path)}
    assert found == {"policy.staffing.students_per_staff.primary": 4, "policy.staffing.studnets": 5}
    missing = write(folder, "missing.yaml", "base: nowhere\n")
    assert problems_of(missing) == [(1, "base", "存在的数据文件夹或 .xlsx（相对于情景文件）")]


def test_bad_policy_and_unknown_selections_are_reported_together(folder: Path) -> None:
    """A typo in a township selects nothing; it is reported with the policy's problems, not after them."""
    path = write(folder, "together.yaml", """base: county
policy: {staffing: {students_per_staff: {primary: 0}}}
changes:
  - scale_enrollment: {township: 没有这个乡, factor: 0.9}
  - close: {school: NOPE}
""")
    found = {column: row for row, column, _ in problems_of(path)}
    assert found["policy.staffing.students_per_staff.primary"] == 2
    assert found["changes[1].scale_enrollment.township"] == 4
    assert found == {"policy.staffing.students_per_staff.primary": 2, "changes[1].scale_enrollment.township": 4,
                     "changes[2].close.school": 5}  # not also "no school selected": the unknown code says why


def test_a_misspelt_key_does_not_hide_the_other_problems(folder: Path) -> None:
    """The file's own problems (a misspelt key, a bad value) come with the policy's and the other
    changes' in one round: before, the policy and the unknown school were reported only once the
    file's problems were mended."""
    path = write(folder, "one_round.yaml", """base: county
policy: {staffing: {students_per_staff: {primary: -3}}}
changes:
  - close: {schools: [D001]}
  - hire: {count: 2, stage: primary, subject: music, school: NOPE}
  - scale_enrollment: {factor: -1}
  - merge: {school: X003, into: X999}
""")
    found = {column: row for row, column, _ in problems_of(path)}
    assert found == {"policy.staffing.students_per_staff.primary": 2, "changes[1].close.schools": 4,
                     "changes[2].hire.school": 5, "changes[3].scale_enrollment.factor": 6,
                     "changes[4].merge.into": 7}


def test_what_a_bad_base_or_changes_list_hid_is_said_too(folder: Path) -> None:
    """A missing base hid a missing policy_file; changes written as a mapping hid it too; a scenario file
    given as the base was blamed on that file (“.yaml”, 期望 含 CSV 文件的文件夹) instead of this one's base."""
    missing = write(folder, "no_base.yaml", "base: nowhere\npolicy_file: nope.yaml\n")
    assert [(row, column) for row, column, _ in problems_of(missing)] == [(1, "base"), (2, "policy_file")]
    mapping = write(folder, "mapping.yaml", "base: county\npolicy_file: nope.yaml\nchanges:\n  close: {school: X001}\n")
    assert {(row, column) for row, column, _ in problems_of(mapping)} == {(2, "policy_file"), (3, "changes")}
    layered = write(folder, "layered.yaml", "base: ok.yaml\nchanges: []\n")
    write(folder, "ok.yaml", "base: county\nchanges: []\n")
    [(row, column, expected)] = problems_of(layered)
    assert (row, column) == (1, "base") and "不能以另一个情景文件为基础" in expected


def test_type_errors_are_said_in_chinese(folder: Path) -> None:
    """pydantic's English (“Input should be a valid dictionary or instance of SolveSection”, “Datetimes
    provided to dates should have zero time”) reached HR; `pins: 5` gave two errors."""
    path = write(folder, "types.yaml", "base: county\nas_of: 5\nsolve: 3\npolicy: {plan: 5}\n"
                                       "changes:\n  - pins: 5\n")
    found = problems_of(path)
    assert [(row, column) for row, column, _ in found] == [(2, "as_of"), (3, "solve"), (4, "policy.plan"),
                                                          (6, "changes[1].pins")]
    assert [expected for *_, expected in found] == ["日期 YYYY-MM-DD", "键值对（下一级的设置项，如 key: value）",
                                                    "键值对（下一级的设置项，如 key: value）",
                                                    "pins 文件名（如 pins.csv，相对于情景文件），或指定的列表"]


def test_an_impossible_date_is_named_with_its_line(folder: Path) -> None:
    """YAML's own date parsing raised a bare ValueError on 2027-13-01 (an internal error to the user)."""
    path = write(folder, "bad_date.yaml", "base: county\nas_of: 2027-13-01\nchanges: []\n")
    assert [(row, column) for row, column, _ in problems_of(path)] == [(2, "as_of")]
    good = write(folder, "good_date.yaml", "base: county\nas_of: 2027-09-01\nchanges: []\n")
    assert load_scenario(good).county.as_of == date(2027, 9, 1)


def test_raises_for_broken_yaml(folder: Path) -> None:
    path = write(folder, "broken.yaml", "base: county\nchanges: [\n")
    ((row, _column, expected),) = problems_of(path)
    assert row is not None and "YAML" in expected


def test_the_shipped_scenarios_load_on_the_sample_county() -> None:
    files = sorted(SCENARIOS.glob("*.yaml"))
    assert 4 <= len(files) <= 6
    codes = set(figure_catalogue())
    for path in files:
        scenario = load_scenario(path)
        assert scenario.question, path.name
        assert path.read_text(encoding="utf-8").startswith("# 问题："), path.name
        assert scenario.expect or path.stem == "baseline", path.name
        assert set(scenario.expect) <= codes


def test_a_pins_file_naming_a_school_the_scenario_closed_says_so(folder: Path, county: County) -> None:
    """`--pins` with a school the scenario closes read “学校表中已有的学校代码”, though the school is in the
    table: the scenario's county is the one after its changes."""
    from teacheralloc.io.pins import read_pins

    teacher = county.teachers["teacher_id"].iloc[0]
    path = write(folder, "pins_closed.csv", f"teacher_id,to_school\n{teacher},GONE\n")
    with pytest.raises(InputError) as caught:
        read_pins(path, county, scenario=True)
    [problem] = caught.value.problems
    assert problem.expected.startswith("情景变化后仍在的学校代码")


def test_a_retirement_date_before_the_reference_date_is_refused(folder: Path) -> None:
    """retire: {until: 2001-01-01}, a typo for a year to come, retired no one without a word."""
    path = write(folder, "retire_past.yaml", "base: county\nas_of: 2026-09-01\nchanges:\n  - retire: {until: 2001-01-01}\n")
    [(row, column, expected)] = problems_of(path)
    assert (row, column) == (4, "changes[1].retire.until") and "不早于基准日期 2026-09-01" in expected


def test_a_scenario_keeps_the_base_datasets_own_pins(tmp_path: Path, county: County) -> None:
    """The office's pins.csv beside its data were dropped by every scenario of it: the "现状" scenario
    planned without them (a must_move teacher not moved) and nothing said so. They are kept, except
    those a change takes away (said) and those the scenario pins itself (its own pin wins), and
    `base_pins: false` leaves them out."""
    write_county_csv(county, tmp_path / "county")
    as_of = date(2026, 9, 1)
    teachers = county.teachers.sort_values("teacher_id")
    dates = [POLICY.retirement.retirement_date(str(g), b.date())
             for g, b in zip(teachers["gender"], teachers["birth_date"], strict=True)]
    retiring = next(t for t, d in zip(teachers["teacher_id"], dates, strict=True) if as_of < d <= date(2028, 9, 1))
    staying = [t for t, d in zip(teachers["teacher_id"], dates, strict=True) if d > date(2030, 9, 1)][:2]
    (tmp_path / "county" / "pins.csv").write_text(
        f"teacher_id,must_stay,must_move\n{staying[0]},是,\n{staying[1]},是,\n{retiring},,是\n", encoding="utf-8")

    def pins_of(text: str) -> tuple[set[tuple[str, str]], tuple[str, ...]]:
        scenario = load_scenario(write(tmp_path, "s.yaml", f"base: county\nas_of: {as_of}\n{text}"))
        return set(zip(scenario.pins["teacher_id"], scenario.pins["kind"], strict=True)), scenario.changes

    pins, changes = pins_of("changes: []\n")
    assert pins == {(staying[0], "must_stay"), (staying[1], "must_stay"), (retiring, "must_move")}
    assert changes[0].startswith("基础数据自带的指定（pins.csv）：沿用 3 项")
    pins, changes = pins_of(f"changes:\n  - retire: {{until: 2028-09-01}}\n"
                            f"  - pins: [{{teacher_id: {staying[1]}, must_move: true}}]\n")
    assert pins == {(staying[0], "must_stay"), (staying[1], "must_move")}
    assert f"1 项因教师退休或学校撤并不再适用，已略去（{retiring}）" in changes[0]
    assert f"1 项由本情景对同一教师的指定代替，已略去（{staying[1]}）" in changes[0]
    pins, changes = pins_of("base_pins: false\nchanges: []\n")
    assert pins == set() and not any("基础数据自带的指定" in line for line in changes)


def test_every_closed_school_with_nowhere_to_go_is_named(tmp_path: Path, county: County) -> None:
    """Two teaching points with no coordinates and no distances, closed without `into`: only the first
    was reported (the second looked like its duplicate) and showed up once the first was fixed."""
    schools = county.schools.copy()
    lost = ["D001", "D002"]
    schools.loc[schools["school_id"].isin(lost), ["lat", "lon"]] = float("nan")
    write_county_csv(county.replace(schools=schools, distances=None), tmp_path / "county")
    path = write(tmp_path, "close.yaml", "base: county\nchanges:\n  - close: {school: [D001, D002]}\n")
    found = problems_of(path)
    assert [p for p in lost if any(p in expected for _, _, expected in found)] == lost
