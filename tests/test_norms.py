"""Norms checked number by number on small hand-computed counties (编制核定、学科需求、指标)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from teacheralloc.domain import ClassGroup, County, School, Teacher
from teacheralloc.norms import compute_norms, required_total, weighted_cv
from teacheralloc.policy import load_policy

AS_OF = date(2026, 9, 1)


def teacher(tid: str, school: str, stage: str = "primary", subject: str = "chinese", **kw: object) -> Teacher:
    return Teacher(teacher_id=tid, gender="F", birth_date=date(1985, 3, 1), school_id=school,
                   school_since=date(2015, 9, 1), stage=stage, subject=subject, **kw)


def row(norms_schools: pd.DataFrame, school_id: str, stage: str = "primary") -> pd.Series:
    match = norms_schools[(norms_schools["school_id"] == school_id) & (norms_schools["stage"] == stage)]
    assert len(match) == 1, f"expected one row for {school_id}/{stage}"
    return match.iloc[0]


@pytest.fixture(scope="module")
def teaching_point() -> County:
    """A rural teaching point with 3 classes (grades 1–3, 24 pupils) and two active teachers."""
    return County.from_records(
        schools=[School(school_id="P1", name="西营村教学点", township="西营镇", type="teaching_point", area="rural")],
        classes=[ClassGroup(school_id="P1", grade=g, classes=1, students=n) for g, n in ((1, 8), (2, 7), (3, 9))],
        teachers=[teacher("T1", "P1", subject="chinese", other_subjects=("music",)), teacher("T2", "P1", subject="math")],
        as_of=AS_OF,
    )


def test_teaching_point_uses_mean_of_ratio_and_class_rule(teaching_point: County) -> None:
    result = row(compute_norms(teaching_point).schools, "P1")
    assert result["students"] == 24 and result["classes"] == 3
    assert result["required_ratio"] == pytest.approx(24 / 19)
    assert result["required_class"] == pytest.approx(3 * 1.7)
    assert result["required"] == pytest.approx((24 / 19 + 3 * 1.7) / 2, abs=1e-4)  # 3.1816
    assert result["rule"] == "small_mean"
    assert result["teachers_before"] == 2
    assert result["gap_before"] == pytest.approx((24 / 19 + 5.1) / 2 - 2, abs=1e-4)


def test_teaching_point_max_rule_and_minimum(teaching_point: County) -> None:
    by_max = load_policy(overrides={"staffing": {"small_school": {"method": "max"}}})
    assert row(compute_norms(teaching_point, by_max).schools, "P1")["required"] == pytest.approx(5.1)
    floor = load_policy(overrides={"staffing": {"small_school": {"min_per_teaching_point": 4}}})
    lifted = row(compute_norms(teaching_point, floor).schools, "P1")
    assert lifted["required"] == pytest.approx(4.0)
    assert lifted["rule"] == "teaching_point_min"


def test_subject_demand_and_supply_at_teaching_point(teaching_point: County) -> None:
    subjects = compute_norms(teaching_point).subjects.set_index("subject")
    # Chinese: (8 + 8 + 7) periods a week ÷ standard load 15 = 1.5333 FTE; one Chinese teacher covers 1.
    assert subjects.loc["chinese", "demand"] == pytest.approx(23 / 15, abs=1e-4)
    assert subjects.loc["chinese", "supply_main"] == pytest.approx(1.0)
    assert subjects.loc["chinese", "gap"] == pytest.approx(23 / 15 - 1, abs=1e-4)
    # Maths: 12 / 15 = 0.8 FTE; the maths teacher's spare 0.2 goes to generalist subjects (small school).
    assert subjects.loc["math", "demand"] == pytest.approx(0.8)
    assert subjects.loc["math", "spare"] == pytest.approx(0.0, abs=1e-4)
    assert subjects.loc["morality", "supply_other"] == pytest.approx(0.2, abs=1e-4)
    # Music: 6 periods ÷ 19 = 0.3158 FTE; nobody with spare teaches it, so it stays short.
    assert subjects.loc["music", "gap"] == pytest.approx(6 / 19, abs=1e-4)


def test_main_subject_surplus_fills_qualified_other_subject() -> None:
    """Two Chinese teachers in a 1-class-per-grade school: the spare FTE of one fills music."""
    county = County.from_records(
        schools=[School(school_id="S1", name="一小", township="城关镇", type="primary", area="urban")],
        classes=[ClassGroup(school_id="S1", grade=g, classes=1, students=120) for g in range(1, 3)],
        teachers=[teacher("A", "S1", subject="chinese", other_subjects=("music",)), teacher("B", "S1")],
        as_of=AS_OF,
    )
    subjects = compute_norms(county).subjects.set_index("subject")
    # Chinese demand (8 + 8) / 15 = 1.0667; 2 teachers → spare 0.9333, of which music takes 4/19.
    assert subjects.loc["music", "demand"] == pytest.approx(4 / 19, abs=1e-4)
    assert subjects.loc["music", "supply_other"] == pytest.approx(4 / 19, abs=1e-4)
    assert subjects.loc["music", "gap"] == pytest.approx(0.0, abs=1e-4)
    assert subjects.loc["chinese", "spare"] == pytest.approx(2 - 16 / 15 - 4 / 19, abs=1e-4)


@pytest.fixture(scope="module")
def nine_year() -> County:
    """A nine-year school: grades 1–6 with 2 classes of 40, grades 7–9 with 2 classes of 45; 50 posts held."""
    classes = [ClassGroup(school_id="N1", grade=g, classes=2, students=80) for g in range(1, 7)]
    classes += [ClassGroup(school_id="N1", grade=g, classes=2, students=90) for g in range(7, 10)]
    return County.from_records(
        schools=[School(school_id="N1", name="故县学校", township="故县镇", type="nine_year", area="town",
                        establishment=50, boarding_students=135)],
        classes=classes,
        teachers=[teacher("P", "N1"), teacher("J", "N1", stage="junior", subject="math")],
        as_of=AS_OF,
    )


def test_nine_year_school_has_two_parts(nine_year: County) -> None:
    schools = compute_norms(nine_year).schools
    primary, junior = row(schools, "N1", "primary"), row(schools, "N1", "junior")
    assert (primary["students"], primary["classes"]) == (480, 12)
    assert (junior["students"], junior["classes"]) == (270, 6)
    assert primary["required"] == pytest.approx(480 / 19, abs=1e-4)
    assert junior["required"] == pytest.approx(270 / 13.5, abs=1e-4)
    assert primary["rule"] == junior["rule"] == "ratio"
    # Posts held (核定编制 50) are split between the parts by their required posts.
    total = 480 / 19 + 20
    assert primary["posts_held"] == pytest.approx(50 * (480 / 19) / total, abs=0.01)
    assert junior["posts_held"] == pytest.approx(50 * 20 / total, abs=0.01)


def test_boarding_allowance_only_when_enabled(nine_year: County) -> None:
    assert row(compute_norms(nine_year).schools, "N1", "junior")["boarding_extra"] == 0
    policy = load_policy(overrides={"staffing": {"boarding": {"enabled": True, "staff_per_100_boarders": 2}}})
    junior = row(compute_norms(nine_year, policy).schools, "N1", "junior")
    boarders = 135 * 270 / 750  # boarders shared between the parts by enrolment
    assert junior["boarding_extra"] == pytest.approx(boarders / 100 * 2, abs=1e-4)
    assert junior["required"] == pytest.approx(20 + boarders / 100 * 2, abs=1e-4)


def test_teacher_on_leave_is_on_establishment_not_on_duty() -> None:
    county = County.from_records(
        schools=[School(school_id="S1", name="一小", township="城关镇", type="primary", area="urban")],
        classes=[ClassGroup(school_id="S1", grade=1, classes=4, students=190)],  # not small: ratio rule
        teachers=[teacher("A", "S1"), teacher("B", "S1", status="maternity"), teacher("C", "S1", status="seconded")],
        as_of=AS_OF,
    )
    result = row(compute_norms(county).schools, "S1")
    assert (result["teachers_establishment"], result["teachers_before"]) == (3, 1)
    assert result["gap_before"] == pytest.approx(190 / 19 - 1)
    counted = load_policy(overrides={"staffing": {"count_on_leave": True}})
    assert row(compute_norms(county, counted).schools, "S1")["teachers_before"] == 3


def test_indicators_per_100_students_and_exclusions() -> None:
    county = County.from_records(
        schools=[School(school_id="S1", name="一小", township="城关镇", type="primary", area="urban"),
                 School(school_id="P1", name="小教学点", township="西营镇", type="teaching_point", area="rural")],
        classes=[ClassGroup(school_id="S1", grade=1, classes=4, students=200),
                 ClassGroup(school_id="P1", grade=1, classes=1, students=12)],
        teachers=[
            teacher("A", "S1", backbone="county", education="associate"),
            teacher("B", "S1", backbone="city", education="secondary", subject="pe"),
            teacher("C", "S1", education="bachelor", status="study", subject="music"),  # away: not counted
            teacher("D", "P1", subject="music"),
        ],
        as_of=AS_OF,
    )
    norms = compute_norms(county)
    s1 = row(norms.schools, "S1")
    assert s1["per100_backbone"] == pytest.approx(1.0) and s1["meets_backbone"]
    assert s1["per100_pe_arts"] == pytest.approx(0.5) and not s1["meets_pe_arts"]
    assert s1["per100_higher_degree"] == pytest.approx(0.5)  # only A (大专) is above 中师 among those at school
    assert s1["teacher_indicators_met"] == 1
    assert s1["six_of_seven"] == "教师指标不达标"
    assert not row(norms.schools, "P1")["in_evaluation"]  # teaching point under 50 pupils
    assert norms.county.set_index("stage").loc["primary", "evaluated_schools"] == 1


def test_weighted_cv_matches_the_worked_example() -> None:
    """policy.md §3.3: 5 schools, students 45/37/89/76/55, books 279/137/935/160/402 → CV 0.52."""
    students = pd.Series([45, 37, 89, 76, 55])
    books = pd.Series([279, 137, 935, 160, 402])
    per_student = books / students
    assert (students * per_student).sum() / students.sum() == pytest.approx(6.33, abs=0.005)
    assert weighted_cv(per_student, students) == pytest.approx(0.52, abs=0.005)
    unweighted = per_student.std(ddof=0) / per_student.mean()
    assert unweighted == pytest.approx(0.49, abs=0.01)  # the weighting matters


def test_weighted_cv_of_equal_schools_is_zero() -> None:
    assert weighted_cv(pd.Series([1.0, 1.0]), pd.Series([100, 300])) == 0.0


def test_required_total_sums_school_rows(teaching_point: County, nine_year: County) -> None:
    assert required_total(nine_year) == pytest.approx(480 / 19 + 20, abs=1e-3)
    assert required_total(teaching_point) == pytest.approx((24 / 19 + 5.1) / 2, abs=1e-3)


def test_class_and_school_size_checks() -> None:
    county = County.from_records(
        schools=[School(school_id="S1", name="城关一小", township="城关镇", type="primary", area="urban")],
        classes=[ClassGroup(school_id="S1", grade=1, classes=10, students=580),   # 58 a class: large
                 ClassGroup(school_id="S1", grade=2, classes=10, students=460),   # 46: over 45
                 ClassGroup(school_id="S1", grade=3, classes=20, students=1000)],  # 50: over; school 2,040
        teachers=[teacher("A", "S1")],
        as_of=AS_OF,
    )
    result = row(compute_norms(county).schools, "S1")
    assert result["grades_over_class_limit"] == 3
    assert result["grades_large_class"] == 1
    assert result["max_avg_class_size"] == pytest.approx(58.0)
    assert result["over_school_size"]


def test_every_required_figure_names_its_rule_and_sources(teaching_point: County, nine_year: County) -> None:
    """Issue 3: every required-establishment figure can be traced to a policy number and its source."""
    for county in (teaching_point, nine_year):
        for row in compute_norms(county).schools.itertuples():
            assert row.rule in ("ratio", "small_mean", "small_max", "teaching_point_min", "special")
            assert row.rule_source and "未注明来源" not in row.rule_source
    small = compute_norms(teaching_point).schools.iloc[0]
    assert "staffing.small_school.staff_per_class" in small["rule_source"] and "[R]" in small["rule_source"]
    ratio = compute_norms(nine_year).schools.iloc[0]
    assert "staffing.students_per_staff" in ratio["rule_source"] and "2014" in ratio["rule_source"]


def test_approved_posts_given_for_some_schools_are_said_of_those_schools(nine_year: County) -> None:
    """The 编制测算 text said 现有核定编制 N 个 of the stage when only some schools gave `establishment`
    (optional per school): now it names how many schools gave it and their teachers on the books."""
    from teacheralloc.report.norms import establishment_table

    extra = School(school_id="P2", name="南关小学", township="故县镇", type="primary", area="town")
    county = County.from_records(
        schools=[*nine_year.schools.pipe(lambda s: [School(**{k: v for k, v in r.items() if pd.notna(v)})
                                                   for r in s.to_dict("records")]), extra],
        classes=[*(ClassGroup(**r) for r in nine_year.classes.to_dict("records")),
                 ClassGroup(school_id="P2", grade=1, classes=2, students=80)],
        teachers=[teacher("P", "N1"), teacher("J", "N1", stage="junior", subject="math"), teacher("Q", "P2")],
        as_of=AS_OF,
    )
    table = establishment_table(compute_norms(county)).set_index("学段")
    text = table.at["小学", "说明"]
    assert "提供了现有核定编制的 1 所学校（共 2 所）核定编制 28 个、在编教师 1 人" in text
    assert table.at["小学", "现有核定编制覆盖学校"] == "1 / 2 个学校学段"  # the table says it beside the figure
    whole = establishment_table(compute_norms(nine_year)).set_index("学段").at["小学", "说明"]
    assert "现有核定编制 28 个；" in whole and "提供了" not in whole
