"""Small hand-made counties with a known optimal plan, for the optimizer tests (tests/model).

The numbers are chosen so every figure can be checked by hand:

- a primary school with 190 pupils (≥ 100: the ratio rule) requires exactly 190 / 19 = 10 teachers,
  with 228 pupils exactly 12; a junior school with 135 pupils 135 / 13.5 = 10;
- grade 1 has no English, grade 3 has 2 English and 2 science periods a week: 5 classes of grade 3
  need 10 / 17 = 0.59 FTE of each, i.e. one whole English and one whole science teacher;
- teachers at their school since `RECENT` (3 years) are not rotation-eligible, since `LONG` (11
  years) they are (≥ 6 years); `SERVICE` is a service obligation not yet served on the 2026-09-01
  reference date; a woman born `NEAR_RETIREMENT` retires in January 2029 (< 5 years away).

Distances are given for every pair of schools (road km), so disruption costs are exact.
"""

from __future__ import annotations

from datetime import date
from itertools import combinations
from typing import Any

import pandas as pd

from teacheralloc.domain import ClassGroup, County, Distance, School, Teacher
from teacheralloc.plan import Plan

AS_OF = date(2026, 9, 1)
RECENT = date(2023, 9, 1)
LONG = date(2015, 9, 1)
SERVICE = date(2028, 8, 31)
NEAR_RETIREMENT = date(1973, 3, 1)

#: Ordinary primary school names: the reasons must name the destination.
NAMES = {
    "U1": "城关第一小学",
    "U2": "城关第二小学",
    "T1": "河口镇中心小学",
    "R1": "山岭村小学",
    "R2": "石桥村小学",
    "R3": "河湾村小学",
    "RF": "远山村小学",
    "J1": "河口镇中学",
    "P1": "河口镇第二小学",
    "N1": "山岭九年一贯制学校",
    "U9": "城关九年一贯制学校",
    "RJ": "山岭村中学",
}
AREAS = {"U": "urban", "T": "town", "R": "rural", "J": "town", "P": "town", "N": "rural"}


def school(school_id: str, type: str = "primary", **kw: Any) -> School:
    return School(
        school_id=school_id,
        name=NAMES[school_id],
        township="城关镇",
        type=type,
        area=kw.pop("area", AREAS[school_id[0]]),
        **kw,
    )


def grade(school_id: str, grade: int, classes: int = 5, students: int = 190) -> ClassGroup:
    return ClassGroup(school_id=school_id, grade=grade, classes=classes, students=students)


def teacher(
    teacher_id: str,
    school_id: str,
    subject: str = "chinese",
    stage: str = "primary",
    since: date = RECENT,
    **kw: Any,
) -> Teacher:
    kw.setdefault("gender", "F")
    kw.setdefault("birth_date", date(1985, 3, 1))
    return Teacher(
        teacher_id=teacher_id, school_id=school_id, school_since=since, stage=stage, subject=subject, **kw
    )


def staff(prefix: str, school_id: str, count: int, start: int = 0, **kw: Any) -> list[Teacher]:
    """`count` interchangeable teachers `prefix00`, `prefix01`, ... (Chinese, primary, since RECENT)."""
    return [teacher(f"{prefix}{i:02d}", school_id, **kw) for i in range(start, start + count)]


def county(
    schools: list[School],
    classes: list[ClassGroup],
    teachers: list[Teacher],
    km: dict[tuple[str, str], float],
    default_km: float = 30.0,
) -> County:
    """A county with a road distance for every pair of schools (`km`, else `default_km`)."""
    ids = [s.school_id for s in schools]
    distances = [
        Distance(from_id=a, to_id=b, km=km.get((a, b), km.get((b, a), default_km)))
        for a, b in combinations(ids, 2)
    ]
    return County.from_records(
        schools=schools, classes=classes, teachers=teachers, distances=distances, as_of=AS_OF
    )


def pins(*rows: tuple[str, str] | tuple[str, str, str]) -> pd.DataFrame:
    """A pins table as `io.pins.read_pins` returns it: (teacher_id, kind[, school_id]); rows 2, 3, ..."""
    return pd.DataFrame(
        {
            "teacher_id": pd.Series([r[0] for r in rows], dtype=object),
            "kind": pd.Series([r[1] for r in rows], dtype=object),
            "school_id": pd.Series([r[2] if len(r) > 2 else None for r in rows], dtype=object),
            "row": pd.Series(range(2, 2 + len(rows)), dtype="int64"),
        }
    )


def moves(plan: Plan) -> set[tuple[str, str, str, str, str]]:
    """The plan as a set of (teacher, from, to, move type, subject taught)."""
    frame = plan.moves
    return set(
        zip(
            frame["teacher_id"],
            frame["from_school"],
            frame["to_school"],
            frame["move_type"],
            frame["subject"],
            strict=True,
        )
    )


def gaps_after(plan: Plan) -> dict[str, float]:
    """gap_after per school (single-stage schools)."""
    return {
        s: round(float(g), 4)
        for s, g in zip(plan.schools["school_id"], plan.schools["gap_after"], strict=True)
    }


def tier(plan: Plan, name: str) -> float:
    return tier_result(plan, name).value


def tier_result(plan: Plan, name: str):
    """The plan's result for one tier (value, bound, status)."""
    return next(t for t in plan.tiers if t.name == name)


# --------------------------------------------------------------------------------------------------
# The counties
# --------------------------------------------------------------------------------------------------


def surplus_and_shortage(eligible: bool) -> County:
    """城关第一小学 (urban) has 12 teachers for 10 posts; 山岭村小学 (rural, 20 km) 8 for 10.

    Not eligible: everyone at U1 arrived 2021–2024 (U10, U11 in 2024, the least rooted).
    Eligible: everyone at U1 arrived 2008–2019 (≥ 6 years; U00 in 2008, U01 in 2009 the longest),
    so 12 are eligible and the quota is ⌈10 % × 12⌉ = 2 rotations; nobody is a backbone teacher.
    """
    if eligible:
        since = [date(2008 + i, 9, 1) for i in range(12)]
    else:
        since = [date(2021, 9, 1)] * 10 + [date(2024, 9, 1)] * 2
    teachers = [teacher(f"U{i:02d}", "U1", since=s) for i, s in enumerate(since)]
    teachers += staff("R", "R1", 8)
    return county(
        [school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)], teachers, {("U1", "R1"): 20}
    )


def quota_only(backbone: str | None = None) -> County:
    """No shortage anywhere: 城关第一小学 (urban, 228 pupils → 12 posts) has 12 eligible teachers
    (arrived 2008–2019), 山岭村小学 (rural, 10 posts) 10 recent ones. Quota: ⌈10 % × 12⌉ = 2
    rotations. `backbone`: the id of one U1 teacher who is a county backbone teacher."""
    teachers = [
        teacher(
            f"U{i:02d}",
            "U1",
            since=date(2008 + i, 9, 1),
            backbone="county" if f"U{i:02d}" == backbone else "none",
        )
        for i in range(12)
    ]
    teachers += [
        teacher(f"R{i:02d}", "R1", since=date(2022, 9, 1) if i < 8 else date(2024, 9, 1)) for i in range(10)
    ]
    return county(
        [school("U1"), school("R1")], [grade("U1", 1, 6, 228), grade("R1", 1)], teachers, {("U1", "R1"): 20}
    )


def quota_out_of_reach() -> County:
    """河口镇中学 (town junior, 135 pupils → 10 posts) has 10 eligible teachers: the quota's base, ⌈10 % ×
    10⌉ = 1 rotation. No junior school to rotate to. 山岭村小学 (rural) has 10 eligible primary teachers
    and 石桥村小学 (rural, weak) 10 recent ones, each school at its 10 posts: a rural teacher could
    rotate to the weak school, but that rotation is not out of the base (urban and town schools)."""
    teachers = [teacher(f"J{i:02d}", "J1", stage="junior", since=LONG) for i in range(10)]
    teachers += [teacher(f"R{i:02d}", "R1", since=LONG) for i in range(10)]
    teachers += [teacher(f"W{i:02d}", "R2") for i in range(10)]
    return county([school("J1", type="junior"), school("R1"), school("R2", weak=True)],
                  [grade("J1", 7, 3, 135), grade("R1", 1), grade("R2", 1)], teachers, {("R1", "R2"): 10})


def english_gap(x: dict[str, Any] | None = None, chinese_at_u1: int = 10) -> County:
    """城关第一小学 (urban, grade 1: no English) has `chinese_at_u1` Chinese teachers (U00–U08
    arrived 2022, the rest 2024) and X, an English teacher: 11 (or more) for 10 posts.
    山岭村小学 (rural, grade 3) has 9 Chinese teachers for 10 posts and needs one English teacher.
    河湾村小学 (rural, grade 1) has exactly its 10 posts. Roads: U1–R1 20 km, U1–R3 25 km, R1–R3 50 km.

    Without rules in the way, X is the one to move: to R1, filling both the post and English.
    `x` overrides X's record (exemptions, volunteering, wishes).
    """
    teachers = [
        teacher(f"U{i:02d}", "U1", since=date(2022, 9, 1) if i < 9 else date(2024, 9, 1))
        for i in range(chinese_at_u1)
    ]
    teachers.append(teacher("X", "U1", subject="english", since=date(2022, 9, 1), **(x or {})))
    teachers += staff("R", "R1", 9) + staff("W", "R3", 10)
    return county(
        [school("U1"), school("R1"), school("R3")],
        [grade("U1", 1), grade("R1", 3), grade("R3", 1)],
        teachers,
        {("U1", "R1"): 20, ("U1", "R3"): 25, ("R1", "R3"): 50},
    )


def two_rural_short(wishes: tuple[str, ...]) -> County:
    """城关第一小学 (urban) has 12 teachers for 10 posts, among them V, a volunteer with `wishes`;
    山岭村小学 and 石桥村小学 (rural) are identical, each 9 for 10, both 20 km from U1 (30 km apart)."""
    teachers = [
        teacher(f"U{i:02d}", "U1", since=date(2022, 9, 1) if i < 9 else date(2024, 9, 1)) for i in range(11)
    ]
    teachers.append(teacher("V", "U1", since=date(2022, 9, 1), volunteer=True, wishes=wishes))
    teachers += staff("R", "R1", 9) + staff("S", "R2", 9)
    return county(
        [school("U1"), school("R1"), school("R2")],
        [grade("U1", 1), grade("R1", 1), grade("R2", 1)],
        teachers,
        {("U1", "R1"): 20, ("U1", "R2"): 20, ("R1", "R2"): 30},
    )


def cross_stage(chinese: int = 4, phy: dict[str, Any] | None = None) -> County:
    """河口镇中学 (junior, 135 pupils in grade 7 → 10 posts) has 11 teachers: 4 Chinese, 4 maths,
    2 English and PHY, a physics teacher (grade 7 has no physics). 河口镇第二小学 (primary, grade 3,
    190 pupils → 10 posts) has 9: 7 Chinese, one English, one maths teacher; it lacks a science
    teacher (weight 2). 3 km apart. `chinese` = 3 leaves J1 exactly at its posts (no surplus); `phy`
    overrides PHY's record (volunteering, wishes)."""
    subjects = ["chinese"] * chinese + ["math"] * 4 + ["english"] * 2
    teachers = [teacher(f"J{i:02d}", "J1", subject=s, stage="junior") for i, s in enumerate(subjects)]
    teachers.append(teacher("PHY", "J1", subject="physics", stage="junior", **(phy or {})))
    teachers += [
        *staff("P", "P1", 7),
        teacher("PEN", "P1", subject="english"),
        teacher("PMA", "P1", subject="math"),
    ]
    return county(
        [school("J1", type="junior"), school("P1")],
        [grade("J1", 7, 4, 135), grade("P1", 3)],
        teachers,
        {("J1", "P1"): 3},
    )


def on_leave_volunteer() -> County:
    """城关第一小学 (urban) has exactly its 10 posts; 山岭村小学 (rural) 9 for 10; 河湾村小学 (rural) its 10
    and V, in full-time study (脱产进修), who volunteers for 城关第一小学 only."""
    teachers = staff("U", "U1", 10) + staff("R", "R1", 9) + staff("W", "R3", 10)
    teachers.append(teacher("V", "R3", status="study", volunteer=True, wishes=("U1",)))
    return county([school("U1"), school("R1"), school("R3")], [grade(s, 1) for s in ("U1", "R1", "R3")],
                  teachers, {("U1", "R1"): 20, ("U1", "R3"): 25, ("R1", "R3"): 30})


def own_primary_section() -> County:
    """山岭九年一贯制学校 (rural, nine-year) has 11 junior teachers for 10 posts (135 pupils in grade 7)
    and 9 primary teachers for 10 (190 pupils in grade 1); 河口镇第二小学 (town) 9 for 10, 10 km away,
    all under a service obligation (nobody there can move); 河口镇中学 (junior) has exactly its 10 and
    its approved establishment (核定编制) is 10, so it receives nobody and none of its teachers may be
    redeployed (no surplus). The one surplus junior teacher may be redeployed to primary: to their
    own school's primary section (校内跨学段调剂, weight 2), which the optimum chooses, leaving P1
    short (weight 1.5: headcount 1.5); or, pinned to leave the school, to P1 (headcount 2)."""
    teachers = [teacher(f"NJ{i:02d}", "N1", stage="junior") for i in range(11)]
    teachers += staff("NP", "N1", 9) + staff("P", "P1", 9, service_until=SERVICE)
    teachers += [teacher(f"J{i:02d}", "J1", stage="junior") for i in range(10)]
    return county(
        [school("N1", type="nine_year"), school("P1"), school("J1", type="junior", establishment=10)],
        [grade("N1", 7, 4, 135), grade("N1", 1), grade("P1", 1), grade("J1", 7, 4, 135)],
        teachers,
        {("N1", "P1"): 10, ("N1", "J1"): 15, ("P1", "J1"): 12},
    )


def nine_year_junior_surplus() -> County:
    """城关九年一贯制学校 (urban, nine-year) has 10 primary teachers for 10 posts (190 pupils in grade 1)
    and 13 junior teachers for 10 (135 pupils in grade 7): a junior surplus of 3. 山岭村中学 (rural
    junior, 10 km away) has 7 for 10. The school's leaving cap is ⌊20 % × 23⌋ = 4, its junior section's
    ⌊20 % × 13⌋ = 2: with the cap by stage two junior teachers go, without it all three."""
    teachers = staff("UP", "U9", 10) + [teacher(f"UJ{i:02d}", "U9", stage="junior") for i in range(13)]
    teachers += [teacher(f"RJ{i:02d}", "RJ", stage="junior") for i in range(7)]
    return county(
        [school("U9", type="nine_year"), school("RJ", type="junior")],
        [grade("U9", 1), grade("U9", 7, 4, 135), grade("RJ", 7, 4, 135)],
        teachers,
        {("U9", "RJ"): 10},
    )


def far_shortage(km_far: float) -> County:
    """城关第一小学 (urban) has 11 teachers for 10 posts. 河口镇中心小学 (town, weight 1.5) 5 km away
    and 远山村小学 (rural, weight 2) `km_far` away each have 9 for 10."""
    teachers = [
        teacher(f"U{i:02d}", "U1", since=date(2022, 9, 1) if i < 10 else date(2024, 9, 1)) for i in range(11)
    ]
    teachers += staff("T", "T1", 9) + staff("F", "RF", 9)
    return county(
        [school("U1"), school("T1"), school("RF")],
        [grade(s, 1) for s in ("U1", "T1", "RF")],
        teachers,
        {("U1", "T1"): 5, ("U1", "RF"): km_far, ("T1", "RF"): km_far},
    )


def subject_versus_headcount() -> County:
    """城关第一小学 (urban, grade 1 in 10 classes of 19: Chinese 80/15 → 5, maths 40/15 → 3, PE
    40/17 → 2 whole teachers) has exactly 5 Chinese, 3 maths, 2 PE teachers, plus X (English, not
    needed there): 11 for 10 posts. 山岭村小学 (rural, grade 1) has 9 for 10 (7 Chinese, a maths and a
    PE teacher: every subject they teach is covered) and needs no English.
    石桥村小学 (rural, grade 3) has its 10 posts filled (all under a service obligation, so nobody
    there can move) but no English teacher."""
    subjects = ["chinese"] * 5 + ["math"] * 3 + ["pe"] * 2
    teachers = [teacher(f"U{i:02d}", "U1", subject=s) for i, s in enumerate(subjects)]
    teachers.append(teacher("X", "U1", subject="english"))
    teachers += [*staff("R", "R1", 7), teacher("RM", "R1", subject="math"), teacher("RP", "R1", subject="pe")]
    teachers += staff("S", "R2", 10, service_until=SERVICE)
    return county(
        [school("U1"), school("R1"), school("R2")],
        [grade("U1", 1, 10, 190), grade("R1", 1), grade("R2", 3)],
        teachers,
        {("U1", "R1"): 20, ("U1", "R2"): 20, ("R1", "R2"): 30},
    )


def exchange_for_subject() -> County:
    """An optimum that needs a replacement where nothing was short before the plan.

    城关第一小学 (urban, grade 1) has 11 Chinese teachers and Y, a maths teacher who can also teach
    English: 12 for 10 posts, and Y is its only maths teacher (maths needs one). 城关第二小学 (urban,
    5 km away) has 9 Chinese and two maths teachers (MB1, MB2): 11 for 10 posts. 山岭村小学 (rural,
    grade 3, 20 km from both) has 8 Chinese and a maths teacher: 9 for 10, and no English teacher.

    Optimum: Y goes to R1 to teach English, and a maths teacher from U2 replaces Y at U1, where maths
    was not short before the plan.
    """
    teachers = [*staff("A", "U1", 11), teacher("Y", "U1", subject="math", other_subjects=("english",))]
    teachers += [
        *staff("B", "U2", 9),
        teacher("MB1", "U2", subject="math"),
        teacher("MB2", "U2", subject="math"),
    ]
    teachers += [*staff("R", "R1", 8), teacher("RM", "R1", subject="math")]
    return county(
        [school("U1"), school("U2"), school("R1")],
        [grade("U1", 1), grade("U2", 1), grade("R1", 3)],
        teachers,
        {("U1", "U2"): 5, ("U1", "R1"): 20, ("U2", "R1"): 20},
    )


def checked_plan(county, policy, pins=None, params=None, progress=None):
    """`plan_county`, then the independent checker on the written plan: every plan the tests make is
    re-verified against every hard rule (issue 4: the suite runs `check` on every plan it produces)."""
    import tempfile
    from pathlib import Path

    from teacheralloc.check import check_plan
    from teacheralloc.io.write import write_plan
    from teacheralloc.model.solve import plan_county

    plan = plan_county(county, policy, pins=pins, params=params, progress=progress)
    with tempfile.TemporaryDirectory() as folder:
        write_plan(plan, Path(folder), policy)
        report = check_plan(county, policy, Path(folder), pins)
    assert report.ok, "\n".join(report.summary_lines(20))
    return plan
