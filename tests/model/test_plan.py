"""The optimizer on small hand-made counties with a known optimum: each test asserts the exact plan
(who moves where, with which move type and subject), worked out by hand from the rules and the
tier order (quota → headcount → subject → balance → disruption → wishes). The counties and their
figures are described in tests/model/counties.py.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.model.counties import (
    LONG,
    NAMES,
    NEAR_RETIREMENT,
    SERVICE,
    county,
    cross_stage,
    english_gap,
    far_shortage,
    gaps_after,
    grade,
    moves,
    nine_year_junior_surplus,
    on_leave_volunteer,
    own_primary_section,
    pins,
    quota_only,
    quota_out_of_reach,
    school,
    staff,
    subject_versus_headcount,
    surplus_and_shortage,
    teacher,
    tier,
    two_rural_short,
)
from tests.model.counties import checked_plan as plan_county

from teacheralloc.domain import County
from teacheralloc.errors import InputError
from teacheralloc.io.pins import read_pins
from teacheralloc.norms import compute_norms
from teacheralloc.policy import Policy, load_policy

POLICY = Policy.default()


def assert_reasons_name_destination(plan) -> None:
    """Every move has a Chinese reason that names the destination school."""
    for move in plan.moves.itertuples(index=False):
        assert isinstance(move.reason, str) and move.reason, move
        assert NAMES[move.to_school] in move.reason, (move.teacher_id, move.reason)


# --------------------------------------------------------------------------------------------------
# 1. One surplus school, one shortage school
# --------------------------------------------------------------------------------------------------


def test_surplus_teachers_are_redeployed_to_the_shortage() -> None:
    """Nobody is rotation-eligible: the 2 surplus teachers are redeployed (调剂), the two most recent
    arrivals (U10, U11), and both schools end exactly at their norm."""
    plan = plan_county(surplus_and_shortage(eligible=False), POLICY)
    assert moves(plan) == {
        ("U10", "U1", "R1", "redeploy", "chinese"),
        ("U11", "U1", "R1", "redeploy", "chinese"),
    }
    assert gaps_after(plan) == {"U1": 0.0, "R1": 0.0}
    assert plan.schools.set_index("school_id")["gap_before"].to_dict() == {"U1": -2.0, "R1": 2.0}
    assert (plan.moves["from_stage"] == "primary").all() and (plan.moves["to_stage"] == "primary").all()
    assert not plan.moves["voluntary"].any()
    assert plan.quota["required_rotations"] == 0 and plan.quota["rotation_quota_met"]
    assert_reasons_name_destination(plan)
    assert all("富余教师调剂" in r for r in plan.moves["reason"])
    assert tier(plan, "headcount") == pytest.approx(0.0, abs=1e-6)
    # disruption: 2 moves × (1 + 0.02 × 20 km)
    assert tier(plan, "disruption") == pytest.approx(2.8, abs=1e-6)


def test_surplus_teachers_rotate_when_eligible() -> None:
    """All 12 at U1 are eligible (≥ 6 years): quota ⌈10 % × 12⌉ = 2, so the two surplus moves are
    rotations (交流轮岗), and they go to the longest-serving (U00 since 2008, U01 since 2009)."""
    plan = plan_county(surplus_and_shortage(eligible=True), POLICY)
    assert moves(plan) == {
        ("U00", "U1", "R1", "rotation", "chinese"),
        ("U01", "U1", "R1", "rotation", "chinese"),
    }
    assert gaps_after(plan) == {"U1": 0.0, "R1": 0.0}
    assert_reasons_name_destination(plan)
    assert all("交流轮岗" in r for r in plan.moves["reason"])
    quota = plan.quota
    assert (quota["eligible_base"], quota["required_rotations"], quota["rotations"]) == (12, 2, 2)
    assert quota["rotation_quota_met"]
    # Nobody eligible is a backbone teacher: the 20 % backbone share cannot be met, and the plan says why.
    assert (quota["backbone_rotations"], quota["backbone_required"]) == (0, 1)
    assert not quota["backbone_quota_met"]
    assert any("骨干" in note and "仅 0 人" in note for note in quota["shortfall"]), quota["shortfall"]


# --------------------------------------------------------------------------------------------------
# 2. A quota that forces rotations where nobody is short
# --------------------------------------------------------------------------------------------------


def test_quota_forces_rotations_without_any_shortage() -> None:
    """No shortage anywhere, 12 eligible at the urban school: still 2 rotations to the rural school
    (the longest-serving U00, U01). The rural school, now 2 over its norm, may give 2 back by
    redeployment (an exchange, allowed: it received 2): its two most recent arrivals R08, R09 fill the
    2 posts the rotations left empty in the city (headcount tier)."""
    plan = plan_county(quota_only(), POLICY)
    assert moves(plan) == {
        ("U00", "U1", "R1", "rotation", "chinese"),
        ("U01", "U1", "R1", "rotation", "chinese"),
        ("R08", "R1", "U1", "redeploy", "chinese"),
        ("R09", "R1", "U1", "redeploy", "chinese"),
    }
    assert gaps_after(plan) == {"U1": 0.0, "R1": 0.0}
    assert plan.quota["required_rotations"] == 2 and plan.quota["rotations"] == 2
    assert plan.quota["rotation_quota_met"]
    assert_reasons_name_destination(plan)
    # No eligible backbone teacher: the shortfall explains it instead of failing.
    assert not plan.quota["backbone_quota_met"]
    assert any("骨干" in note for note in plan.quota["shortfall"])
    # quota tier: backbone slack 20 % × 2 rotations = 0.4, nothing else
    assert tier(plan, "quota") == pytest.approx(0.4, abs=1e-6)


def test_quota_takes_an_eligible_backbone_teacher() -> None:
    """U07, a county backbone teacher, is eligible: one of the 2 rotations is theirs (share 50 % ≥ 20 %),
    the other the longest-serving U00."""
    plan = plan_county(quota_only(backbone="U07"), POLICY)
    assert moves(plan) == {
        ("U00", "U1", "R1", "rotation", "chinese"),
        ("U07", "U1", "R1", "rotation", "chinese"),
        ("R08", "R1", "U1", "redeploy", "chinese"),
        ("R09", "R1", "U1", "redeploy", "chinese"),
    }
    quota = plan.quota
    assert (quota["rotations"], quota["backbone_rotations"], quota["backbone_required"]) == (2, 1, 1)
    assert quota["rotation_quota_met"] and quota["backbone_quota_met"] and quota["shortfall"] == []
    assert quota["backbone_rotations"] >= POLICY.rotation.min_backbone_share_of_rotators * quota["rotations"]
    assert tier(plan, "quota") == pytest.approx(0.0, abs=1e-6)


# --------------------------------------------------------------------------------------------------
# 3. Exempt teachers
# --------------------------------------------------------------------------------------------------


def test_unexempt_english_teacher_is_the_one_to_move() -> None:
    """The control for the exemption tests: X, U1's English teacher, fills both R1's post and its
    English gap, so X is the one redeployed."""
    plan = plan_county(english_gap(), POLICY)
    assert moves(plan) == {("X", "U1", "R1", "redeploy", "english")}
    assert gaps_after(plan) == {"U1": 0.0, "R1": 0.0, "R3": 0.0}
    assert_reasons_name_destination(plan)
    assert "英语教师缺 1 人（按主教学科整人计）" in plan.moves.at[0, "reason"]  # not subjects.csv's FTE


EXEMPTIONS = {
    "maternity": ({"status": "maternity"}, None, {"staffing": {"count_on_leave": True}}),
    "service_obligation": ({"service_until": SERVICE}, None, None),
    "near_retirement": ({"birth_date": NEAR_RETIREMENT}, None, None),
    "pinned_must_stay": ({}, pins(("X", "must_stay")), None),
}


@pytest.mark.parametrize("case", EXEMPTIONS, ids=list(EXEMPTIONS))
def test_exempt_teacher_never_moves(case: str) -> None:
    """X is exempt (maternity leave — counted on duty here, so moving X would fill R1's post —, a
    service obligation, < 5 years to retirement, or pinned to stay): X stays although moving X would
    fill R1's English gap; the most recent Chinese arrival (U09) fills R1's post instead."""
    x, pinned, overrides = EXEMPTIONS[case]
    policy = load_policy(overrides=overrides) if overrides else POLICY
    plan = plan_county(english_gap(x=x), policy, pins=pinned)
    assert moves(plan) == {("U09", "U1", "R1", "redeploy", "chinese")}
    assert "X" not in set(plan.moves["teacher_id"])
    assert gaps_after(plan) == {"U1": 0.0, "R1": 0.0, "R3": 0.0}
    # The English gap stays: subject tier 2 (English weight) worse than with X moving.
    control = plan_county(english_gap(), policy)
    assert tier(plan, "subject") == pytest.approx(tier(control, "subject") + 2.0, abs=1e-6)


def test_volunteer_under_service_obligation_may_move_to_a_wished_school() -> None:
    """X is under a service obligation but volunteers (申请交流) with R1 as first wish: X moves there,
    as a voluntary move (no disruption cost), and nobody else has to."""
    plan = plan_county(
        english_gap(x={"service_until": SERVICE, "volunteer": True, "wishes": ("R1",)}), POLICY
    )
    assert moves(plan) == {("X", "U1", "R1", "redeploy", "english")}
    move = plan.moves.iloc[0]
    assert bool(move["voluntary"]) and move["wish_rank"] == 1
    assert "本人申请交流，山岭村小学为其第 1 志愿" in move["reason"]  # the wish named, not only its rank
    assert tier(plan, "disruption") == pytest.approx(0.0, abs=1e-6)
    assert tier(plan, "wishes") == pytest.approx(-3.0, abs=1e-6)


def test_county_where_nobody_may_move_gives_an_empty_plan() -> None:
    base = english_gap()
    teachers = base.teachers.assign(service_until=SERVICE)
    plan = plan_county(base.replace(teachers=teachers), POLICY)
    assert plan.moves.empty
    assert gaps_after(plan) == {"U1": -1.0, "R1": 1.0, "R3": 0.0}


def test_quota_counts_only_rotations_out_of_its_base() -> None:
    """The quota is a share of the urban and town schools' eligible teachers (quota_base: sending): a
    rotation between rural schools does not meet it. None of the base can rotate (a junior school, no
    other junior school), so no one moves; the shortfall is explained. Counting any rotation would have
    sent a rural teacher to the weak school and another back to fill the post left."""
    plan = plan_county(quota_out_of_reach(), POLICY)
    assert moves(plan) == set()
    quota = plan.quota
    assert (quota["eligible_base"], quota["required_rotations"], quota["rotations"], quota["rotations_all"]) == (
        10, 1, 0, 0)
    assert not quota["rotation_quota_met"] and quota["shortfall"]
    assert tier(plan, "quota") == pytest.approx(11.0)  # (base + 1) × 1 rotation short


def test_quota_base_all_counts_every_rotation() -> None:
    """With quota_base: all the base is every eligible teacher (20: 2 rotations) and every rotation counts:
    the rural school's teachers may meet it by rotating to the weak school."""
    policy = load_policy(overrides={"rotation": {"quota_base": "all"}})
    plan = plan_county(quota_out_of_reach(), policy)
    quota = plan.quota
    assert (quota["eligible_base"], quota["required_rotations"], quota["rotations"]) == (20, 2, 2)
    assert {(m[1], m[2], m[3]) for m in moves(plan) if m[3] == "rotation"} == {("R1", "R2", "rotation")}
    assert not any("不计入轮岗比例" in reason for reason in plan.moves["reason"])


def reasons_for(data: County, *moves: tuple[str, str, str, str, str, bool, int],
                stages: tuple[tuple[str, str], ...] = ()) -> list[str]:
    """`move_reasons` for moves written by hand: (teacher, from, to, type, subject, voluntary, wish rank),
    all primary unless `stages` gives a move's (from_stage, to_stage)."""
    from teacheralloc.model.candidates import build_candidates
    from teacheralloc.model.explain import move_reasons

    candidates = build_candidates(data, compute_norms(data, POLICY), POLICY, pins())
    table = pd.DataFrame(list(moves), columns=["teacher_id", "from_school", "to_school", "move_type", "subject",
                                               "voluntary", "wish_rank"])
    from_stage, to_stage = zip(*(stages or (("primary", "primary"),) * len(moves)), strict=True)
    table = table.assign(from_stage=list(from_stage), to_stage=list(to_stage))
    return move_reasons(table, candidates, data.schools, POLICY)


def test_a_surplus_under_a_fractional_norm_is_called_a_surplus() -> None:
    """城关第一小学 with 11 teachers for 10.16 posts (193 pupils): its norm rounds to 10, so one teacher
    is surplus (what the rule reads) and the redeployment's reason says so; it used to call this an
    exchange with a teacher who came in (对调), because 11 − 10.16 < 1, though no one came."""
    data = county([school("U1"), school("R1")], [grade("U1", 1, students=193), grade("R1", 1)],
                  staff("U", "U1", 11) + staff("R", "R1", 9), {("U1", "R1"): 20})
    [reason] = reasons_for(data, ("U00", "U1", "R1", "redeploy", "chinese", False, 0))
    assert "富余 1 人，富余教师调剂" in reason and "对调" not in reason
    plan = plan_county(data, POLICY)
    assert moves(plan) == {("U00", "U1", "R1", "redeploy", "chinese")}
    assert "富余 1 人" in plan.moves.at[0, "reason"]


def test_a_rotation_outside_the_base_says_it_does_not_count() -> None:
    """A rural teacher rotated to the weak school (a rotation the rules allow: eligible, toward a lower
    level): with the default base the reason says it does not count toward the quota."""
    reason, other = reasons_for(quota_out_of_reach(), ("R00", "R1", "R2", "rotation", "chinese", False, 0),
                                ("J00", "J1", "R2", "redeploy", "chinese", False, 0),
                                stages=(("primary", "primary"), ("junior", "primary")))
    assert "交流轮岗" in reason and "不计入轮岗比例" in reason
    assert "不计入轮岗比例" not in other


# --------------------------------------------------------------------------------------------------
# 4. Pins
# --------------------------------------------------------------------------------------------------
# english_gap(chinese_at_u1=11): U1 has 11 Chinese teachers and X (English) for 10 posts; with no pin
# only X moves (to R1, for its post and its English gap); R3 needs nobody.


def test_no_pins_baseline() -> None:
    plan = plan_county(english_gap(chinese_at_u1=11), POLICY)
    assert moves(plan) == {("X", "U1", "R1", "redeploy", "english")}


def test_pin_to_school_sends_that_teacher_there() -> None:
    """U03 pinned to R3 (which needs nobody) goes there; X still fills R1."""
    plan = plan_county(english_gap(chinese_at_u1=11), POLICY, pins=pins(("U03", "to_school", "R3")))
    assert moves(plan) == {
        ("U03", "U1", "R3", "redeploy", "chinese"),
        ("X", "U1", "R1", "redeploy", "english"),
    }
    assert_reasons_name_destination(plan)
    reasons = plan.moves.set_index("teacher_id")["reason"]  # a pinned move says it was the office's choice
    assert "按人事股指定调出（pins.csv）" in reasons["U03"] and "指定" not in reasons["X"]


def test_a_volunteer_rotated_or_posted_says_the_wish() -> None:
    """A volunteer moved as a rotation to their first wish read as any rotation: the wish was said only
    for redeployments."""
    wished, other = reasons_for(quota_out_of_reach(), ("R00", "R1", "R2", "rotation", "chinese", True, 1),
                                ("J00", "J1", "R2", "rotation", "chinese", False, 0),
                                stages=(("primary", "primary"), ("junior", "primary")))
    name = NAMES["R2"]
    assert "交流轮岗" in wished and f"本人申请交流，{name}为其第 1 志愿" in wished
    assert "志愿" not in other


def test_an_exempt_teacher_moved_because_they_applied_says_so() -> None:
    """A teacher under a service obligation who volunteered (no wish list) is redeployed as surplus: the
    reason read 富余教师调剂 alone, as if anyone could have been sent."""
    teachers = [*staff("U", "U1", 10), teacher("SV", "U1", volunteer=True, service_until=SERVICE), *staff("R", "R1", 9)]
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)], teachers, {("U1", "R1"): 20})
    [reason] = reasons_for(data, ("SV", "U1", "R1", "redeploy", "chinese", False, 0))
    assert "该教师属“服务期未满”，因本人申请交流可以调动" in reason


def test_a_volunteer_leaving_a_school_with_no_surplus_says_so() -> None:
    """A volunteer's move out of a section that is short (柳坪乡中心学校 junior, 2.8 short, to a town school)
    read only 本人申请交流: plan.md says a move out of a section with no surplus names what it got back."""
    data = county([school("U1"), school("R1")], [grade("U1", 1, students=193), grade("R1", 1)],
                  staff("U", "U1", 11) + staff("R", "R1", 9), {("U1", "R1"): 20})
    [reason] = reasons_for(data, ("R00", "R1", "U1", "redeploy", "chinese", True, 1))
    assert f"{NAMES['R1']}无富余，本人申请的志愿调动不受富余限制" in reason


def test_pin_must_move() -> None:
    """U03 must move: the nearest useful place is R1 (20 km; R3 is 25 km), and X still goes to R1 for
    English (R1 ends one over its norm, which no tier minds)."""
    plan = plan_county(english_gap(chinese_at_u1=11), POLICY, pins=pins(("U03", "must_move")))
    assert moves(plan) == {
        ("U03", "U1", "R1", "redeploy", "chinese"),
        ("X", "U1", "R1", "redeploy", "english"),
    }


def test_pin_must_move_but_not_to_school() -> None:
    """U03 must move but not to R1: U03 goes to R3, the only other school."""
    table = pins(("U03", "must_move"), ("U03", "not_to_school", "R1"))
    plan = plan_county(english_gap(chinese_at_u1=11), POLICY, pins=table)
    assert moves(plan) == {
        ("U03", "U1", "R3", "redeploy", "chinese"),
        ("X", "U1", "R1", "redeploy", "english"),
    }


def test_pin_not_to_school_keeps_teacher_away() -> None:
    """X may not go to R1 (and has nowhere else useful to go): X stays, U09 fills R1's post."""
    plan = plan_county(english_gap(chinese_at_u1=11), POLICY, pins=pins(("X", "not_to_school", "R1")))
    assert moves(plan) == {("U09", "U1", "R1", "redeploy", "chinese")}


def test_pin_must_stay() -> None:
    plan = plan_county(english_gap(chinese_at_u1=11), POLICY, pins=pins(("X", "must_stay")))
    assert moves(plan) == {("U09", "U1", "R1", "redeploy", "chinese")}


def _pins_csv(folder: Path, rows: list[str]) -> Path:
    path = folder / "pins.csv"
    path.write_text(
        "\n".join(["teacher_id,must_stay,must_move,to_school,not_to_school", *rows]) + "\n", encoding="utf-8"
    )
    return path


def test_pins_must_stay_and_must_move_contradict(tmp_path: Path) -> None:
    county = english_gap()
    table = read_pins(_pins_csv(tmp_path, ["X,是,,,", "X,,是,,"]), county)
    with pytest.raises(InputError) as caught:
        plan_county(county, POLICY, pins=table)
    [problem] = caught.value.errors
    assert (problem.file, problem.row, problem.column, problem.rule) == (
        "pins.csv",
        3,
        "must_move",
        "pin_conflict",
    )
    assert "第 2 行的“必须留任”" in problem.expected  # the other pin, by its row
    assert "pins.csv 第 3 行 必须调出(must_move)：“是”" in caught.value.report()


def test_contradicting_pins_come_with_the_files_other_problems(tmp_path: Path) -> None:
    """An unknown teacher on one row and X pinned to stay and to move on two others: the contradiction
    came a round later, once the unknown teacher was mended (an HR tester's pins.csv)."""
    with pytest.raises(InputError) as caught:
        read_pins(_pins_csv(tmp_path, ["NOBODY,是,,,", "X,是,,,", "X,,是,,"]), english_gap())
    assert [(p.row, p.column, p.rule) for p in caught.value.errors] == [
        (2, "teacher_id", "reference"), (4, "must_move", "pin_conflict")]


@pytest.mark.parametrize(
    ("x", "label"),
    [
        ({"service_until": SERVICE}, "服务期未满"),
        ({"birth_date": NEAR_RETIREMENT}, "临近退休"),
        ({"status": "maternity"}, "产假"),
    ],
    ids=["service_obligation", "near_retirement", "maternity"],
)
@pytest.mark.parametrize("pin", ["X,,是,,", "X,,,R1,"], ids=["must_move", "to_school"])
def test_pin_moving_an_exempt_teacher_is_an_input_error(
    tmp_path: Path, x: dict, label: str, pin: str
) -> None:
    county = english_gap(x=x)
    table = read_pins(_pins_csv(tmp_path, [pin]), county)
    with pytest.raises(InputError) as caught:
        plan_county(county, POLICY, pins=table)
    [problem] = caught.value.errors
    assert (problem.file, problem.row, problem.rule) == ("pins.csv", 2, "pin_conflict")
    assert label in problem.expected and "rotation.exempt_" in problem.expected
    shown = "必须调出(must_move)：“是”" if pin.startswith("X,,是") else "调往学校(to_school)：“R1”"
    assert f"pins.csv 第 2 行 {shown}" in caught.value.report()


@pytest.mark.parametrize(
    ("rows", "county", "row", "says"),
    [
        (["X,,,R1,", "X,,,R3,"], "english_gap", 3, "每人只能指定一所调往学校"),
        (["X,,,R1,", "X,,,,R1"], "english_gap", 2, "不得调往"),
        (["V,,,R2,"], "two_rural_short", 2, "只能调往志愿学校"),
        (["U00,,是,,", "U01,,是,,", "X,,是,,"], "english_gap", 4, "rotation.max_share_leaving_school"),
        # the pin to the teacher's own school is wrong once, not also counted over the leaving cap
        (["X,,,U1,", "U00,,是,,", "U01,,是,,"], "english_gap", 2, "该教师已在此校"),
    ],
    ids=["two_schools", "pinned_and_barred", "off_the_wish_list", "over_the_leaving_cap", "own_school_once"],
)
def test_pins_no_plan_can_honour_name_the_rule(tmp_path: Path, rows: list[str], county: str, row: int,
                                                says: str) -> None:
    """Pins that contradict each other or a rule are an input error at the pin, saying what to relax,
    not a plan that silently drops one (two to_school pins: the second was ignored) or a bare
    “no feasible plan”."""
    data = english_gap() if county == "english_gap" else two_rural_short(("R1",))
    table = read_pins(_pins_csv(tmp_path, rows), data)
    with pytest.raises(InputError) as caught:
        plan_county(data, POLICY, pins=table)
    [problem] = caught.value.errors
    assert (problem.file, problem.row, problem.rule) == ("pins.csv", row, "pin_conflict")
    assert says in problem.expected


def test_a_junior_teacher_pinned_to_move_with_only_primary_schools_to_go_names_the_cross_stage_rule(
        tmp_path: Path) -> None:
    """A junior teacher of a section with no surplus, pinned to move, where the only other school is a
    primary: the error listed 学段、编制已满、志愿或距离上限 and said to relax plan.max_km, which was not set."""
    data = county([school("J1", type="junior"), school("P1")], [grade("J1", 7, 4, 135), grade("P1", 1)],
                  staff("J", "J1", 10, stage="junior") + staff("P", "P1", 10), {("J1", "P1"): 3})
    table = read_pins(_pins_csv(tmp_path, ["J00,,是,,"]), data)
    with pytest.raises(InputError) as caught:
        plan_county(data, POLICY, pins=table)
    [problem] = caught.value.errors
    assert "rules.cross_stage_from_surplus" in problem.expected and "max_km" not in problem.expected


def test_pins_that_only_the_model_finds_impossible_name_the_pins_and_the_rule(tmp_path: Path) -> None:
    """城关第一小学 has one teacher over its posts and nobody eligible to rotate; 山岭村小学's teachers are
    under a service obligation (no exchange). Two must_move pins at U1 pass every per-pin check (and
    the leaving cap, 2 of 11) but ask for two redeployments out of a surplus of one. The error names
    both pins and the rule, not a bare “no feasible plan”, and says that dropping either is enough."""
    teachers = staff("U", "U1", 11) + staff("R", "R1", 9, service_until=SERVICE)
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)], teachers, {("U1", "R1"): 20})
    table = read_pins(_pins_csv(tmp_path, ["U00,,是,,", "U01,,是,,"]), data)
    with pytest.raises(InputError) as caught:
        plan_county(data, POLICY, pins=table)
    problems = caught.value.errors
    assert [(p.file, p.row, p.rule) for p in problems] == [("pins.csv", 2, "pin_conflict"),
                                                            ("pins.csv", 3, "pin_conflict")]
    assert all("调剂限于富余" in p.expected and "删去这 2 项指定（pins.csv 第 2、3 行）中任一项即可" in p.expected
               for p in problems)
    one = read_pins(_pins_csv(tmp_path, ["U00,,是,,"]), data)
    assert "U00" in set(plan_county(data, POLICY, pins=one).moves["teacher_id"])
    exact = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)],
                   staff("U", "U1", 10) + staff("R", "R1", 9, service_until=SERVICE), {("U1", "R1"): 20})
    with pytest.raises(InputError) as caught:  # no surplus at all: the one pin is the conflict
        plan_county(exact, POLICY, pins=read_pins(_pins_csv(tmp_path, ["U00,,是,,"]), exact))
    [problem] = caught.value.errors
    assert "删去此项指定即可" in problem.expected and "1 项" not in problem.expected


def test_pins_against_two_rules_together_name_both(tmp_path: Path) -> None:
    """Two must_move pins at 河口镇中学 (one teacher over its posts, no other junior school): each would go
    to primary, which both 调剂限于富余 and 跨学段只调富余 forbid beyond the one surplus teacher;
    relaxing either rule alone leaves no plan, so both are named, as one conflict."""
    data = cross_stage()
    table = read_pins(_pins_csv(tmp_path, ["J00,,是,,", "J01,,是,,"]), data)
    with pytest.raises(InputError) as caught:
        plan_county(data, POLICY, pins=table)
    problems = caught.value.errors
    assert [p.row for p in problems] == [2, 3]
    assert all("调剂限于富余" in p.expected and "跨学段" in p.expected and "共同冲突" in p.expected
               for p in problems)


# --------------------------------------------------------------------------------------------------
# 5. Cross-stage redeployment
# --------------------------------------------------------------------------------------------------


def test_junior_surplus_teaches_science_in_primary() -> None:
    """The junior school's surplus physics teacher is redeployed to the primary school, teaching
    science (physics → science): the post and the science gap (weight 2) at once."""
    plan = plan_county(cross_stage(), POLICY)
    assert moves(plan) == {("PHY", "J1", "P1", "redeploy", "science")}
    move = plan.moves.iloc[0]
    assert (move["from_stage"], move["to_stage"]) == ("junior", "primary")
    assert "跨学段到小学任教科学" in move["reason"]
    assert_reasons_name_destination(plan)
    assert gaps_after(plan) == {"J1": 0.0, "P1": 0.0}
    # disruption: 1 move + 0.02 × 3 km + cross-stage 2
    assert tier(plan, "disruption") == pytest.approx(3.06, abs=1e-6)


def test_no_cross_stage_move_when_disabled() -> None:
    policy = load_policy(overrides={"plan": {"junior_to_primary": False}})
    plan = plan_county(cross_stage(), policy)
    assert plan.moves.empty
    assert gaps_after(plan) == {"J1": -1.0, "P1": 1.0}
    assert tier(plan, "headcount") == pytest.approx(1.5, abs=1e-6)  # town weight 1.5 × 1


@pytest.mark.parametrize(("chinese", "moved"), [(4, True), (3, False)])
def test_a_junior_volunteer_goes_to_primary_only_from_a_surplus(chinese: int, moved: bool) -> None:
    """PHY volunteers for 河口镇第二小学 alone, where a science teacher is missing. With J1 one over its
    posts PHY goes (voluntary, first wish); with J1 exactly at its posts PHY is not surplus, and a wish
    to teach primary does not make a junior teacher surplus (rules.cross_stage_from_surplus): no one
    moves, J1 keeps its 10. (Exempt from the rule, PHY went and left J1 short: a 2,500-teacher county
    short at both stages lost 145 junior volunteers to primary, junior shortage 287 → 431.)"""
    plan = plan_county(cross_stage(chinese, phy={"volunteer": True, "wishes": ("P1",)}), POLICY)
    if moved:
        assert moves(plan) == {("PHY", "J1", "P1", "redeploy", "science")}
        assert plan.moves.iloc[0]["wish_rank"] == 1
    else:
        assert plan.moves.empty
        assert gaps_after(plan) == {"J1": 0.0, "P1": 1.0}


def test_a_junior_hire_is_placed_in_its_stage() -> None:
    """A physics teacher hired for junior (a scenario's hire, waiting at a holding school with a surplus of
    one) is placed at 河口镇中学 to teach physics, not at the primary school to fill its science gap as a
    surplus junior teacher would be: the bureau recruited for a junior post. (Before, the hire went to
    P1 to teach science.)"""
    from teacheralloc.model.solve import plan_county as solve_plan
    from teacheralloc.scenario import Hire, add_hires

    hired, hire_pins, _ = add_hires(cross_stage(3), Hire(count=1, stage="junior", subject="physics"))
    assert hired.holding_schools == frozenset({"POOL-0001"})
    plan = solve_plan(hired, POLICY, pins=hire_pins)
    assert moves(plan) == {("NEW-0001", "POOL-0001", "J1", "redeploy", "physics")}


def test_a_teacher_on_leave_gives_no_exchange_credit() -> None:
    """V, in full-time study (脱产进修) at 河湾村小学, volunteers for 城关第一小学, which has exactly its
    10 posts; 山岭村小学 (rural, weight 2) is one short. V goes (a wish, no disruption) but fills no
    post this year, so 城关第一小学 may not redeploy one of its own in exchange (对调): with that
    credit a teacher went to 山岭村小学 and 城关第一小学 ended one short on duty (weighted 2 → 1, a
    gap no plan should open). V's reason says V does not count on duty."""
    plan = plan_county(on_leave_volunteer(), POLICY)
    assert moves(plan) == {("V", "R3", "U1", "redeploy", "chinese")}
    assert gaps_after(plan) == {"U1": 0.0, "R1": 1.0, "R3": 0.0}
    reason = plan.moves.iloc[0]["reason"]
    assert "脱产进修" in reason and "不计在岗" in reason and "缺编" not in reason.split("（")[0]


def test_moves_of_unknown_distance_leave_km_blank_and_say_so() -> None:
    """Without distances.csv and without lat/lon no distance is known: the move's km is blank (not
    0.0), and a note says the disruption tier estimated it."""
    base = surplus_and_shortage(eligible=False)
    blind = dataclasses.replace(base, distances=None)
    plan = plan_county(blind, POLICY)
    assert len(plan.moves) == 2 and plan.moves["km"].isna().all()
    assert any(note.startswith("调动距离未知：2 人次") for note in plan.notes)
    known = plan_county(base, POLICY)
    assert known.moves["km"].tolist() == [20.0, 20.0]
    assert not any(note.startswith("调动距离未知") for note in known.notes)


def test_an_unknown_distance_is_the_median_of_the_known_ones_not_zero() -> None:
    """Two of five schools have no coordinates and no distances row: a pair in one township is estimated
    at the median of the known same-township distances, a pair across townships at the median of the known
    cross-township ones (at 0 km such pairs drew the plan to them). A new hire's holding school is no place:
    0 km from anywhere."""
    from tests.helpers import school as any_school

    from teacheralloc.model.candidates import distance_lookup

    located = [any_school(s, township=t, lat=28.0 + dy, lon=113.0) for s, t, dy in
               (("U1", "城关镇", 0.0), ("U2", "城关镇", 0.09), ("R1", "山岭乡", 0.45))]
    blind = [any_school("R2", township="城关镇"), any_school("R3", township="山岭乡")]
    data = dataclasses.replace(county([*located, *blind], [grade(s.school_id, 1) for s in [*located, *blind]],
                                      staff("U", "U1", 1), {}), distances=None)
    index, km = distance_lookup(data, POLICY)
    near, far = km[index["U1"], index["U2"]], km[index["U1"], index["R1"]]
    assert 0 < near < far
    assert km[index["U1"], index["R2"]] == pytest.approx(near)  # same township: the one known pair
    assert km[index["R1"], index["R2"]] == pytest.approx(float(np.median([far, km[index["U2"], index["R1"]]])))
    assert km[index["R2"], index["R2"]] == 0.0
    holding = dataclasses.replace(data, holding_schools=frozenset({"R3"}))
    _, km = distance_lookup(holding, POLICY)
    assert km[index["R3"]].sum() == 0 and km[:, index["R3"]].sum() == 0
    # Only pairs within a township known: a pair across townships is at least the farthest known one.
    one_town = dataclasses.replace(data, schools=data.schools.assign(lat=[28.0, 28.09, None, None, None]))
    index, km = distance_lookup(one_town, POLICY)
    assert km[index["U1"], index["R1"]] == pytest.approx(km[index["U1"], index["U2"]])


def test_a_distance_limit_never_cuts_an_estimated_distance() -> None:
    """`plan.max_km` bounds known distances only, as `check` does: a pair of unknown distance, estimated
    above the limit, stays a candidate (the estimate cut some unknown pairs and kept others, whatever the
    true distance). A distances row from a school to itself is not used (0 km)."""
    from tests.helpers import school as any_school

    from teacheralloc.model.candidates import build_candidates, distance_lookup

    schools = [any_school("U1", township="城关镇", area="urban", lat=28.0, lon=113.0),
               any_school("U2", township="城关镇", lat=28.0, lon=113.5),  # ~50 km × road factor
               any_school("R1", township="山岭乡")]  # no coordinates: U1–R1 is estimated at ~60 km
    data = county(schools, [grade(s.school_id, 1) for s in schools],
                  staff("U", "U1", 11) + staff("W", "U2", 10) + staff("R", "R1", 9), {})
    data = dataclasses.replace(data, distances=pd.DataFrame({"from_id": ["U1"], "to_id": ["U1"], "km": [30.0]}))
    policy = load_policy(overrides={"plan": {"max_km": 10}})
    index, km = distance_lookup(data, policy)
    assert km[index["U1"], index["U1"]] == 0.0 and km[index["U1"], index["R1"]] > 10
    candidates = build_candidates(data, compute_norms(data, policy), policy, pins())
    arcs = candidates.arcs
    assert ((arcs["school_id"] == "U1") & (arcs["dest_school"] == "R1")).any()  # estimated: kept
    assert not ((arcs["school_id"] == "U1") & (arcs["dest_school"] == "U2")).any()  # known 50 km: cut
    plan = plan_county(data, policy)
    assert set(plan.moves["to_school"]) == {"R1"} and plan.moves["km"].isna().all()


# --------------------------------------------------------------------------------------------------
# 6. Volunteers and their wishes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wishes", "first", "other"), [(("R2", "R1"), "R2", "R1"), (("R1", "R2"), "R1", "R2")]
)
def test_volunteer_gets_first_wish_when_both_help_equally(
    wishes: tuple[str, str], first: str, other: str
) -> None:
    """R1 and R2 are identical and both short by one; U1 has 2 surplus, among them V, a volunteer: V
    goes to their first wish, and U1's most recent arrival (U09) to the other school."""
    plan = plan_county(two_rural_short(wishes), POLICY)
    assert moves(plan) == {
        ("V", "U1", first, "redeploy", "chinese"),
        ("U09", "U1", other, "redeploy", "chinese"),
    }
    v = plan.moves.set_index("teacher_id").loc["V"]
    assert bool(v["voluntary"]) and v["wish_rank"] == 1
    assert tier(plan, "wishes") == pytest.approx(-3.0, abs=1e-6)
    assert gaps_after(plan) == {"U1": 0.0, "R1": 0.0, "R2": 0.0}


def test_volunteer_goes_only_to_a_wished_school() -> None:
    """X volunteers for R3 only. R1 needs an English teacher (X would be ideal there) but X may only go
    to R3, and does (their wish); U09 fills R1's post."""
    plan = plan_county(english_gap(x={"volunteer": True, "wishes": ("R3",)}, chinese_at_u1=11), POLICY)
    assert moves(plan) == {
        ("X", "U1", "R3", "redeploy", "english"),
        ("U09", "U1", "R1", "redeploy", "chinese"),
    }
    x = plan.moves.set_index("teacher_id").loc["X"]
    assert bool(x["voluntary"]) and x["wish_rank"] == 1


# --------------------------------------------------------------------------------------------------
# 7. Tier priority
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("km", [50, 400, 3000])
def test_headcount_beats_any_distance(km: float) -> None:
    """One surplus teacher, two schools short by one: the town school 5 km away (weight 1.5) and the
    rural one `km` away (weight 2). The surplus goes to the rural school however far: no disruption
    (1 + 0.02 × km, up to 61) buys half a weighted post."""
    plan = plan_county(far_shortage(km), POLICY)
    assert moves(plan) == {("U10", "U1", "RF", "redeploy", "chinese")}
    assert plan.moves.at[0, "km"] == pytest.approx(km)
    assert gaps_after(plan) == {"U1": 0.0, "T1": 1.0, "RF": 0.0}
    assert tier(plan, "headcount") == pytest.approx(1.5, abs=1e-6)
    assert tier(plan, "disruption") == pytest.approx(1 + 0.02 * km, rel=1e-6)


def test_subject_chooses_who_moves_but_never_against_headcount() -> None:
    """U1's one surplus must fill R1's post (headcount). Among U1's teachers the subject tier picks X,
    the one teacher whose subject U1 does not need (moving anyone else opens a gap at U1); and although
    X would fill R2's English gap (weight 2), X goes to R1: R2 has no post free and R1's would stay empty."""
    plan = plan_county(subject_versus_headcount(), POLICY)
    assert moves(plan) == {("X", "U1", "R1", "redeploy", "english")}
    assert gaps_after(plan) == {"U1": 0.0, "R1": 0.0, "R2": 0.0}
    headcount = next(t for t in plan.tiers if t.name == "headcount")
    subject = next(t for t in plan.tiers if t.name == "subject")
    assert headcount.before == pytest.approx(2.0) and headcount.value == pytest.approx(0.0, abs=1e-6)
    # X at R1 changes no subject gap: R2's English gap (weight 2) is left, rather than R1's post.
    assert subject.value == pytest.approx(subject.before, abs=1e-5)


# --------------------------------------------------------------------------------------------------
# Statuses on a trivial county
# --------------------------------------------------------------------------------------------------


def test_proven_optimum_is_reported_optimal() -> None:
    plan = plan_county(far_shortage(400), POLICY)
    assert moves(plan) == {("U10", "U1", "RF", "redeploy", "chinese")}
    assert [t.status for t in plan.tiers] == ["optimal"] * 6
    assert plan.status == "optimal"


def test_hand_computed_figures_of_the_counties() -> None:
    """The norms the expected plans rest on: 190 pupils → 10 posts, 228 → 12, 135 junior → 10; one
    whole English teacher needed in grade 3, none in grade 1."""
    for sample, expected in [
        (surplus_and_shortage(False), {"U1": 10.0, "R1": 10.0}),
        (quota_only(), {"U1": 12.0, "R1": 10.0}),
        (cross_stage(), {"J1": 10.0, "P1": 10.0}),
    ]:
        required = compute_norms(sample).schools.set_index("school_id")["required"].to_dict()
        assert required == pytest.approx(expected)
    subjects = compute_norms(english_gap()).subjects.set_index(["school_id", "subject"])
    assert subjects.at[("R1", "english"), "demand"] == pytest.approx(10 / 17, abs=1e-4)
    assert ("U1", "english") not in subjects.index or subjects.at[("U1", "english"), "demand"] == 0


def test_support_posting_counts_where_the_teacher_serves_and_keeps_the_post_at_home() -> None:
    """U1 (urban) has 11 teachers for 10 posts, one of them S: title 一级 with no rural service, so S
    needs a rural posting for 高级职称. R1 (rural) has 9 for 10. S goes on a one-year support posting
    (支教): on duty at R1 (teachers 9 → 10) while the post stays at U1 (在编 11 → 11, R1 9 → 9)."""
    teachers = [*staff("U", "U1", 10), teacher("S", "U1", title="first", rural_years=0), *staff("R", "R1", 9)]
    plan = plan_county(county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)], teachers,
                              {("U1", "R1"): 20}), POLICY)
    assert moves(plan) == {("S", "U1", "R1", "support", "chinese")}
    rows = plan.schools.set_index("school_id")
    assert (rows.at["U1", "teachers_before"], rows.at["U1", "teachers_after"]) == (11, 10)
    assert (rows.at["R1", "teachers_before"], rows.at["R1", "teachers_after"]) == (9, 10)
    assert (rows.at["U1", "establishment_before"], rows.at["U1", "establishment_after"]) == (11, 11)
    assert (rows.at["R1", "establishment_before"], rows.at["R1", "establishment_after"]) == (9, 9)
    assert "人事关系仍在" in plan.moves.at[0, "reason"] and "支教 1 年可满足申报高级职称条件" in plan.moves.at[0, "reason"]
    # Three years of rural service asked for: one posting does not meet it, and the reason says so (it said
    # the one year met it).
    three = POLICY.model_copy(update={"support": POLICY.support.model_copy(update={"senior_title_rural_years": 3.0})})
    plan = plan_county(county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)], teachers,
                              {("U1", "R1"): 20}), three)
    assert moves(plan) == {("S", "U1", "R1", "support", "chinese")}
    assert "支教 1 年后累计 1 年，距申报高级职称所需的 3 年尚差 2 年" in plan.moves.at[0, "reason"]


@pytest.mark.parametrize("take_part", [False, True])
def test_special_school_teachers_take_part_only_when_the_policy_says_so(take_part: bool) -> None:
    """城关第一小学 (U2 here, typed as the special-education school) has 12 teachers for 10 posts and 山岭村小学
    needs 2: by default (plan.special_schools_take_part: false) its specialists stay and the gap
    remains; when the policy lets them take part, two are redeployed."""
    teachers = staff("U", "U2", 12) + staff("R", "R1", 8)
    special = county([school("U2", type="special"), school("R1")], [grade("U2", 1, students=40), grade("R1", 1)],
                     teachers, {("U2", "R1"): 20})
    policy = load_policy(overrides={"plan": {"special_schools_take_part": take_part}})
    plan = plan_county(special, policy)
    moved = {m[0] for m in moves(plan)}
    if take_part:
        assert len(moved) == 2 and all(t.startswith("U") for t in moved)
    else:
        assert moved == set()
        assert gaps_after(plan)["R1"] == pytest.approx(2.0)


def test_a_special_school_volunteer_without_wishes_stays() -> None:
    """A special-education teacher who volunteers moves only to a wished school (plan.md); one with no wish
    list was posted out on 支教 to a village school, leaving the special school short."""
    teachers = [*staff("U", "U2", 10), teacher("UV", "U2", volunteer=True, title="first", rural_years=0),
                # exempt for another reason first (a service obligation): still a special school's teacher
                teacher("US", "U2", volunteer=True, service_until=SERVICE, title="first", rural_years=0),
                teacher("UW", "U2", volunteer=True, wishes=("R1",)), *staff("R", "R1", 8)]
    special = county([school("U2", type="special"), school("R1")], [grade("U2", 1, students=40), grade("R1", 1)],
                     teachers, {("U2", "R1"): 20})
    plan = plan_county(special, POLICY)
    assert {m[0] for m in moves(plan)} == {"UW"}  # the wished move only


@pytest.mark.parametrize(("row", "says"), [
    ("UV,,是,,", "该教师已申请交流但未填志愿，请补填志愿学校"),  # a special-school volunteer with no wishes
    ("R00,,,U2,", "该校是特殊教育学校，不接收调入"),
])
def test_pins_at_a_special_school_say_what_to_do(tmp_path: Path, row: str, says: str) -> None:
    """A special-school volunteer with no wish list pinned to move was told 由本人申请交流 (she had), and a
    pin into a special school got the generic 没有可调往的学校."""
    teachers = [*staff("U", "U2", 10), teacher("UV", "U2", volunteer=True), *staff("R", "R1", 8)]
    special = county([school("U2", type="special"), school("R1")], [grade("U2", 1, students=40), grade("R1", 1)],
                     teachers, {("U2", "R1"): 20})
    table = read_pins(_pins_csv(tmp_path, [row]), special)
    with pytest.raises(InputError) as caught:
        plan_county(special, POLICY, pins=table)
    [problem] = caught.value.errors
    assert says in problem.expected


def test_a_full_school_the_plan_leaves_below_its_posts_is_said_so() -> None:
    """城关第一小学 is at its 核定编制 (12 of 12) and rotates 2 of its 12 eligible teachers to 山岭村小学: left 2
    short, its cause said 已达核定编制…（只可安排支教）；如需增人须先核增编制 — but no 支教 goes to an urban
    school, and after the plan it holds 10 of its 12 posts (a tester's county, 88 of 90)."""
    teachers = [teacher(f"U{i:02d}", "U1", since=LONG) for i in range(12)] + staff("R", "R1", 8)
    data = county([school("U1", establishment=12), school("R1")], [grade("U1", 1, 6, 228), grade("R1", 1)],
                  teachers, {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    assert plan.quota["rotations"] == 2
    cause = plan.causes.set_index(["school_id", "kind"]).loc[("U1", "headcount"), "cause"]
    assert "调配前已达核定编制，本次不能调入；本方案调出后在编 10 人，低于核定编制 12 人，下一轮调配可补入" in cause
    assert "只可安排支教" not in cause and "须先核增编制" not in cause


def test_a_full_school_over_the_standard_on_the_books_is_told_to_even_out_itself() -> None:
    """城关第一小学 holds its 14 approved posts (核定编制 14) for a standard of 10, four of its teachers on sick
    leave; the quota rotates 2 of its active teachers. Its gaps read 下一轮调配可补入 (to 14), where the
    school already holds more than its standard on the books: it is the school's to even out."""
    teachers = [teacher(f"U{i:02d}", "U1", since=LONG) for i in range(10)]
    teachers += [teacher(f"S{i:02d}", "U1", since=LONG, status="sick") for i in range(4)]
    teachers += [*staff("R", "R1", 8)]
    data = county([school("U1", establishment=14), school("R1")], [grade("U1", 1), grade("R1", 1)], teachers,
                  {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    causes = plan.causes[plan.causes["school_id"] == "U1"]
    assert len(causes) and not causes["cause"].str.contains("下一轮调配可补入").any()
    here = causes[causes["cause"].str.contains("全校在编")]
    assert len(here) and here["cause"].str.contains("已达按标准应有的 10 人").all()


def test_a_gap_left_by_teachers_away_on_support_asks_no_posts() -> None:
    """A teacher of 城关第一小学 who needs rural service goes to 山岭村小学 on 支教 (another is exchanged): it is
    1 short on duty but holds all its 10 posts. The cause said 全县小学已无富余可调教师：总量不足，属需补充编制
    的缺口 where the establishment request asks for none."""
    teachers = [*staff("U", "U1", 8), teacher("UEN", "U1", subject="english", title="first", rural_years=0),
                teacher("USC", "U1", subject="science", title="first", rural_years=0), *staff("R", "R1", 9)]
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 3)], teachers, {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    assert (plan.moves["move_type"] == "support").sum() == 1
    cause = plan.causes.set_index(["school_id", "kind"]).loc[("U1", "headcount"), "cause"]
    assert "在编 10 人已达按标准应有的 10 人：在岗的缺口来自仍占本校编制而不在岗的教师（外出支教" in cause and "不需增编" in cause


def test_a_shortage_partly_of_teachers_away_says_how_many_posts_it_lacks() -> None:
    """城关第一小学 (30 for 30) sends two teachers who need rural service on 支教 and lets a volunteer go: 3
    short on duty, of whom the two 支教 teachers still hold posts here. The cause said 属需补充编制的缺口
    for all 3 while the establishment request asked 1 post (a tester's county): it says how many of them
    hold a post here and what the school lacks on the books."""
    teachers = [*staff("U", "U1", 25, start=6),
                *[teacher(f"UP{i}", "U1", title="first", rural_years=0) for i in range(3)],
                teacher("UQ", "U1", subject="math", title="first", rural_years=2),
                teacher("UV", "U1", subject="math", volunteer=True, wishes=("R1",)),
                *staff("W", "U2", 19), *staff("R", "R1", 18), *staff("T", "T1", 20)]
    data = county([school("U1"), school("U2", weak=True), school("R1"), school("T1")],
                  [grade("U1", 1, 12, 570), *[grade(s, 1, 8, 380) for s in ("U2", "R1", "T1")]], teachers,
                  {("U1", "U2"): 5, ("U1", "R1"): 20, ("U1", "T1"): 15, ("U2", "R1"): 20, ("U2", "T1"): 15,
                   ("R1", "T1"): 10})
    plan = plan_county(data, POLICY)
    out = plan.moves[plan.moves["from_school"] == "U1"]
    assert (out["move_type"] == "support").sum() == 2 and "UV" in set(out["teacher_id"]) and len(out) == 3
    cause = plan.causes.set_index(["school_id", "kind"]).loc[("U1", "headcount"), "cause"]
    assert cause.endswith("其中 2 人是仍占本校编制而不在岗的教师（外出支教、借调、休假或脱产进修，期满返回），"
                          "按在编人数缺 1 人"), cause


def test_a_gap_at_a_special_school_is_put_down_to_its_staying_apart() -> None:
    """A special school short of teachers takes no one by default: its cause said 已达核定编制 (a tester's
    special school, 19 teachers for 17 核定) or that the county has no spare teachers, not the rule."""
    teachers = staff("U", "U1", 12) + staff("S", "U2", 6)
    data = county([school("U1"), school("U2", type="special")], [grade("U1", 1), grade("U2", 1, students=190)],
                  teachers, {("U1", "U2"): 5})
    plan = plan_county(data, POLICY)
    assert plan.moves.empty
    cause = plan.causes.set_index(["school_id", "kind"]).loc[("U2", "headcount"), "cause"]
    assert cause.startswith("特殊教育学校不参加调配（plan.special_schools_take_part")


# --------------------------------------------------------------------------------------------------
# A nine-year school's own sections (校内跨学段调剂)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["exact", "priced", "pooled"])
@pytest.mark.parametrize("pinned", [False, True, "full"], ids=["free", "pinned_to_leave", "at_its_establishment"])
def test_surplus_junior_teacher_takes_the_own_schools_primary_post(pinned: bool | str, mode: str) -> None:
    """N1's surplus junior teacher fills N1's own primary shortage (weight 2) rather than P1's (1.5):
    a redeployment within the school, 0 km, its reason saying so (it had gone to P1, 10 km, while N1's
    primary section stayed short). A teacher pinned must_move leaves the school all the same: the
    pin means 调出, not a change of section. A school at its 核定编制 (20 for its 20 teachers) makes the
    move all the same: its posts do not change (it had been closed to it, like a transfer in). The tiers
    are what each plan leaves."""
    table = pins(("NJ00", "must_move")) if pinned is True else None
    county = own_primary_section()
    if pinned == "full":
        county.schools.loc[county.schools["school_id"] == "N1", "establishment"] = 20
    # The school-to-school model, priced paths over pools, and pools routed: the move within the school
    # is a direct arc of its own in the two pooled ones (pools never return to the origin school).
    sizes = {"exact": {}, "priced": {"exact_distance_arcs": 0}, "pooled": {"exact_distance_arcs": 0, "priced_paths": 0}}
    policy = load_policy(overrides={"plan": sizes[mode]})
    plan = plan_county(county, policy, pins=table)
    [move] = plan.moves.to_dict("records")
    assert (move["teacher_id"][:2], move["from_school"], move["from_stage"], move["to_stage"],
            move["move_type"]) == ("NJ", "N1", "junior", "primary", "redeploy")
    if pinned is True:
        assert (move["teacher_id"], move["to_school"]) == ("NJ00", "P1")
        assert tier(plan, "headcount") == pytest.approx(2.0, abs=1e-6)
    else:
        assert (move["to_school"], move["km"]) == ("N1", 0.0)
        assert "校内跨学段调整" in move["reason"] and "不离开本校" in move["reason"]
        assert tier(plan, "headcount") == pytest.approx(1.5, abs=1e-6)


def test_pins_file_tab_separated_with_full_width_ids(tmp_path: Path) -> None:
    """A pins file saved from Excel as “Unicode 文本” (UTF-16, tab-separated), the id typed full-width
    (Ｕ０３): read as the tables are (NFKC, the delimiter found), not as an unknown teacher."""
    path = tmp_path / "pins.csv"
    path.write_bytes("教师编号\t必须留任\nＵ０３\t是\n".encode("utf-16"))
    table = read_pins(path, english_gap(chinese_at_u1=11))
    assert table[["teacher_id", "kind"]].values.tolist() == [["U03", "must_stay"]]


def test_a_pin_row_saying_no_is_no_pin_and_a_bad_yes_no_is_one_problem(tmp_path: Path) -> None:
    """必须调出 = 否 written out pins nothing (it was an error, “（空）… 每行恰好一项”); a yes/no that is
    neither is reported once, at its cell, not again as an empty row; two kinds on a row are named in
    Chinese."""
    county = english_gap(chinese_at_u1=11)
    table = read_pins(_pins_csv(tmp_path, ["U03,,否,,", "U04,是,,,"]), county)
    assert table[["teacher_id", "kind", "row"]].values.tolist() == [["U04", "must_stay", 3]]
    with pytest.raises(InputError) as caught:
        read_pins(_pins_csv(tmp_path, ["U03,,也许,,", "U04,是,是,,"]), county)
    assert [(p.row, p.rule) for p in caught.value.errors] == [(2, "type_bool"), (3, "one_pin_per_row")]
    assert caught.value.errors[1].value == "必须留任、必须调出"


def test_pins_from_an_xlsx_workbook(tmp_path: Path) -> None:
    """--pins may be a workbook (its first sheet, the pins.csv headers); an id typed as a number in a
    number cell is read as the whole number, as the tables read it."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["教师编号", "必须留任", "必须调出", "调往学校", "不得调往"])
    sheet.append(["U03", "是", None, None, None])
    sheet.append([None, None, None, None, None])
    sheet.append(["X", None, None, "R1", None])
    book.save(tmp_path / "pins.xlsx")
    table = read_pins(tmp_path / "pins.xlsx", english_gap(chinese_at_u1=11))
    assert table[["teacher_id", "kind", "row"]].values.tolist() == [["U03", "must_stay", 2], ["X", "to_school", 4]]
    assert table["school_id"].iloc[1] == "R1"


def test_a_growing_summed_shortage_is_explained_by_the_weights() -> None:
    """Shortage summed over schools may grow when the weighted tier falls (teachers sent from urban to
    rural schools): the note names each kind of school's shortage before and after, with its weight."""
    from teacheralloc.model.explain import shortage_shift_note

    schools = pd.DataFrame({"type": ["primary", "primary", "teaching_point"], "area": ["urban", "rural", "rural"],
                            "gap_before": [0.4, 2.0, 1.0], "gap_after": [2.4, 1.6, 0.0]})
    note = shortage_shift_note(schools, POLICY)
    assert note is not None and note.startswith("分校合计缺编由 3.4 人增至 4.0 人")
    assert "教学点 1.0 → 0.0 人（权重 3）" in note and "乡村 2.0 → 1.6 人（权重 2）" in note
    assert "城区 0.4 → 2.4 人（权重 1）" in note and "镇区" not in note
    assert shortage_shift_note(schools.assign(gap_after=[0.4, 1.0, 0.0]), POLICY) is None
    assert "9.4" not in note  # an example school no county had
    # A headcount tier the plan made worse (a quota's rotations out of a school at its norm): the tiers
    # ranked before it, not the weights
    quota = shortage_shift_note(schools, POLICY, headcount=(0.0, 3.0))
    assert "排在总量缺编之前的目标（轮岗比例缺口）所需的调动使加权总量缺编由 0 增至 3" in quota
    assert "权重低的缺编学校" not in quota


# --------------------------------------------------------------------------------------------------
# Causes of the shortages left (缺口原因)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("establishment", [None, 10])
def test_a_subject_gap_left_says_why_without_claiming_a_move(establishment: int | None) -> None:
    """山岭村小学 (rural, 10 posts, 10 Chinese teachers) lacks a maths teacher (1.33 FTE); 城关第一小学 has
    one teacher over its posts and one maths teacher, whom it needs itself (1.33 FTE): nobody moves. The
    cause must not say the maths teachers "were sent to schools in greater need" (no one was); with
    山岭村小学 at its 核定编制 the cause is that it can receive no one."""
    teachers = [*staff("U", "U1", 10), teacher("UMA", "U1", subject="math"), *staff("R", "R1", 10)]
    data = county([school("U1"), school("R1", establishment=establishment)], [grade("U1", 3), grade("R1", 3)],
                  teachers, {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    assert plan.moves.empty
    causes = plan.causes.set_index(["school_id", "kind", "subject"])["cause"]
    math = causes[("R1", "subject", "math")]
    assert "已调往" not in math
    if establishment is None:
        assert math.startswith("可任教数学的富余教师调来会在原校或别的学科留下更重的缺口")
    else:  # at its 核定编制 and at its standard on the books: the subject mix is the school's to mend
        assert math.startswith("调配前已达核定编制，不能调入") and "宜由本校教师兼课或培训转岗解决，不需增编" in math


def test_a_move_into_a_place_the_plan_vacated_says_so() -> None:
    """城关第一小学's ten teachers are all eligible: the quota sends one rotation, the backbone share
    makes it X (county backbone), to 河口镇中心小学, which lacks backbone teachers (山岭村小学 is at its
    核定编制). 城关第一小学 is then one short, and a teacher of 河口镇中心小学 comes back in exchange (对调).
    That teacher's reason names the place X's rotation left, not a gap that was never there (it said
    only 到…任教语文); a rotation no redeployment follows claims none (it said 补足派出学校的位置由调剂完成)."""
    teachers = [teacher("X", "U1", since=LONG, backbone="county"), *staff("U", "U1", 9, since=LONG),
                *staff("T", "T1", 10), *staff("R", "R1", 9)]
    data = county([school("U1"), school("T1"), school("R1", establishment=9)],
                  [grade("U1", 1), grade("T1", 1), grade("R1", 1)], teachers, {})
    plan = plan_county(data, POLICY)
    rows = plan.moves.set_index("move_type")
    assert set(plan.moves["move_type"]) == {"rotation", "redeploy"}
    assert rows.at["rotation", "teacher_id"] == "X" and rows.at["rotation", "to_school"] == "T1"
    assert rows.at["redeploy", "from_school"] == "T1" and rows.at["redeploy", "to_school"] == "U1"
    assert rows.at["redeploy", "reason"].startswith("城关第一小学本次调出在岗教师（交流轮岗 1 人），补其空出的位置")
    assert "调剂完成" not in " ".join(plan.moves["reason"])


def test_a_county_with_no_subject_demand_plans() -> None:
    """Two schools with no pupils this year (an empty subject table): it raised ValueError in the subject
    tier's value before the plan. Nothing to fill, so nobody moves."""
    data = county([school("U1"), school("R1")], [grade("U1", 1, 0, 0), grade("R1", 1, 0, 0)],
                  [*staff("U", "U1", 3), *staff("R", "R1", 1)], {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    assert plan.moves.empty
    assert tier(plan, "subject") == 0 and tier(plan, "headcount") == 0


def test_a_school_the_plan_fills_to_its_establishment_says_so() -> None:
    """山岭村小学 (rural, 10 posts for 190 pupils, 核定编制 8) has 7 teachers; 城关第一小学 (380 pupils, 20
    posts) has 25, one of them A (一级, no rural service: needs a support posting). One redeployment brings
    山岭村小学 to its 8 posts, A's support posting (post kept at home) adds one on duty: it ends one short.
    The cause is its 核定编制, reached by this plan's own transfer (it said the surplus went to higher
    weights or was held by the leaving cap, while 城关第一小学 kept four to spare)."""
    teachers = [teacher("A", "U1", title="first"), *staff("U", "U1", 24), *staff("R", "R1", 7)]
    data = county([school("U1"), school("R1", establishment=8)], [grade("U1", 1, 9, 380), grade("R1", 1)],
                  teachers, {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    assert sorted(plan.moves["move_type"]) == ["redeploy", "support"]
    assert gaps_after(plan)["R1"] == 1.0
    causes = plan.causes.set_index(["school_id", "kind"])["cause"]
    assert causes[("R1", "headcount")].startswith("本方案调入后已达核定编制，不能再调入")


def test_a_junior_subject_gap_is_not_put_down_to_primary_teachers() -> None:
    """河口镇中学 (junior, 10 posts) has ten Chinese teachers and no maths teacher; 河口镇第二小学 (primary)
    one teacher over its posts, its maths teacher among them. A primary teacher never goes to junior, so
    the junior maths gap has no spare teacher to come from (it said the maths teachers went elsewhere)."""
    teachers = [*staff("J", "J1", 10, stage="junior"), *staff("P", "P1", 10), teacher("PMA", "P1", subject="math")]
    data = county([school("J1", type="junior"), school("P1")], [grade("J1", 7, 4, 135), grade("P1", 3)],
                  teachers, {("J1", "P1"): 3})
    plan = plan_county(data, POLICY)
    causes = plan.causes.set_index(["school_id", "kind", "subject"])["cause"]
    assert causes[("J1", "subject", "math")].startswith("全县无富余的初中数学教师")


def test_teachers_held_back_explain_no_more_gaps_than_they_could_fill() -> None:
    """城关第一小学 (2 over its posts) holds the county's only spare music teacher, under a service obligation;
    three village schools each lack one. She was named the cause of all three gaps (不属结构性缺编); she could
    fill one: the others are structural (需招聘补充)."""
    teachers = [*staff("U", "U1", 11), teacher("UMU", "U1", subject="music", service_until=SERVICE)]
    for village in ("R1", "R2", "R3"):
        teachers += staff(village, village, 10)
    schools = [school(s) for s in ("U1", "R1", "R2", "R3")]
    data = county(schools, [grade(s.school_id, 1) for s in schools], teachers, {})
    plan = plan_county(data, POLICY)
    causes = plan.causes[(plan.causes["kind"] == "subject") & (plan.causes["subject"] == "music")]
    assert set(causes["school_id"]) == {"R1", "R2", "R3"}
    held = causes["cause"].str.startswith("有富余的学校中可任教音乐的小学教师均不可调动（服务期未满 1 人）")
    assert held.sum() == 1
    assert causes.loc[~held, "cause"].str.startswith("全县无富余的小学音乐教师（含可兼教者）：属结构性缺编").all()


def test_a_subject_the_county_has_plenty_of_is_no_case_for_recruiting() -> None:
    """城关第一小学 has ten Chinese teachers, 山岭村小学 ten maths teachers and no Chinese teacher; each
    school is at its norm and every teacher is under a service obligation, so nobody moves. The Chinese
    gap read 全县无富余的小学语文教师：属结构性缺编，需招聘补充, though the county has Chinese teachers
    well over its demand (a tester's county: 117 FTE over); it is a structural gap needing no posts."""
    teachers = [*staff("U", "U1", 10, service_until=SERVICE), *staff("R", "R1", 10, subject="math",
                                                                    service_until=SERVICE)]
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)], teachers, {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    assert plan.moves.empty
    causes = plan.causes.set_index(["school_id", "kind", "subject"])["cause"]
    assert causes[("R1", "subject", "chinese")].startswith("全县小学语文教师合计多于需求")
    assert "不需增编" in causes[("R1", "subject", "chinese")]
    assert "需招聘补充" not in causes[("R1", "subject", "chinese")]


def test_a_shortage_left_by_a_sections_own_leaving_cap_names_the_cap() -> None:
    """山岭九年一贯制学校's junior section has 15 teachers for 10 posts and may send 3 (20 % of 15, its own cap:
    rotation.leaving_cap_by_stage), the school 11; 河口镇中学 lacks 5. The cause of the 2 left named the
    weights (富余教师已优先补充权重更高的缺口…), the school-wide cap not being reached."""
    teachers = [teacher(f"NJ{i:02d}", "N1", stage="junior") for i in range(15)]
    teachers += staff("NP", "N1", 40, service_until=SERVICE)
    teachers += [teacher(f"J{i:02d}", "J1", stage="junior") for i in range(5)]
    data = county([school("N1", type="nine_year"), school("J1", type="junior")],
                  [grade("N1", 7, 4, 135), grade("N1", 1, 20, 760), grade("J1", 7, 4, 135)], teachers,
                  {("N1", "J1"): 10})
    plan = plan_county(data, POLICY)
    assert len(plan.moves) == 3
    causes = plan.causes
    [cause] = causes.loc[(causes["school_id"] == "J1") & (causes["kind"] == "headcount"), "cause"]
    assert cause.startswith("有富余的初中学校都已调出到调出比例上限") and "多学段学校各学段另计" in cause


def test_a_volunteers_wished_move_is_no_choice_of_the_plans_in_the_causes() -> None:
    """山岭村小学 and 石桥村小学 (both rural, both 1 short) — a teacher of 山岭村小学 asks for 石桥村小学 and goes:
    山岭村小学's cause said the plan sent her 为补权重更高的学校, though both weigh the same; it was her wish."""
    teachers = [*staff("R", "R1", 8), teacher("V", "R1", volunteer=True, wishes=("R2",)), *staff("S", "R2", 9)]
    data = county([school("R1"), school("R2")], [grade("R1", 1), grade("R2", 1)], teachers, {("R1", "R2"): 10})
    plan = plan_county(data, POLICY)
    assert moves(plan) == {("V", "R1", "R2", "redeploy", "chinese")}
    causes = plan.causes
    [cause] = causes.loc[(causes["school_id"] == "R1") & (causes["kind"] == "headcount"), "cause"]
    assert cause.startswith("本方案从本校调出 1 人（本人申请 1）") and "权重更高" not in cause.split("；")[0]


def test_a_shortage_left_by_the_leaving_cap_names_the_cap() -> None:
    """城关第一小学 has 3 teachers over its posts but may send 2 a year (20 % of 13); 山岭村小学 lacks 3. The
    shortage left read 富余教师已优先补充权重更高的缺口…或受单校调出比例上限限制, weights first though
    nothing else competed for them: it names the cap."""
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)],
                  staff("U", "U1", 13) + staff("R", "R1", 7), {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    assert len(plan.moves) == 2 and gaps_after(plan)["R1"] == 1.0
    causes = plan.causes
    [cause] = causes.loc[(causes["school_id"] == "R1") & (causes["kind"] == "headcount"), "cause"]
    assert cause.startswith("有富余的小学学校都已调出到调出比例上限（rotation.max_share_leaving_school")


def test_arrivals_beyond_a_gap_do_not_name_it_again() -> None:
    """山岭村小学 is one teacher short and lacks an English and a science teacher (0.59 FTE each); two
    teachers of 城关第一小学 who need rural service for their title are posted there (支教). Every arrival
    named the school's 缺编 1 人 (a teaching point 4 short cited it 8 times): now only the first does, the
    other names the subject it fills."""
    teachers = [*staff("U", "U1", 10), teacher("UEN", "U1", subject="english", title="first", rural_years=0),
                teacher("USC", "U1", subject="science", title="first", rural_years=0), *staff("R", "R1", 9)]
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 3)], teachers, {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    reasons = plan.moves.set_index("teacher_id")["reason"]
    assert set(reasons.index) == {"UEN", "USC"}
    assert sum("缺编 1 人" in reason for reason in reasons) == 1
    assert "英语教师缺 1 人" in reasons["UEN"] and "科学教师缺 1 人" in reasons["USC"]


@pytest.mark.parametrize(("extra", "posted"), [(None, 2), (1, 2), (0, 1)])
def test_support_postings_into_a_school_stop_at_its_shortage_and_the_policys_extra(extra: int | None,
                                                                                   posted: int) -> None:
    """山岭村小学 is one short of its 10 and lacks an English and a science teacher: both of 城关第一小学's
    teachers who need rural service go there by default (支教 holds no post there). With
    `support.max_above_norm` k, at most 1 + k go (testers' counties: a village school needing 5.8 went
    4 → 11 on postings)."""
    teachers = [*staff("U", "U1", 10), teacher("UEN", "U1", subject="english", title="first", rural_years=0),
                teacher("USC", "U1", subject="science", title="first", rural_years=0), *staff("R", "R1", 9)]
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 3)], teachers, {("U1", "R1"): 20})
    plan = plan_county(data, load_policy(overrides={"support": {"max_above_norm": extra}}))
    assert (plan.moves["move_type"] == "support").sum() == posted


def test_a_subject_gap_under_one_teacher_that_the_tier_counts_has_a_cause() -> None:
    """山岭村小学 (one short) needs 0.59 FTE of English, which the subject tier counts as one whole teacher;
    the only spare English teacher is 50 km away, beyond `plan.max_km` 30. The gap the tier counts gets
    its cause (it got none: causes listed subject gaps of a whole FTE only)."""
    teachers = [*staff("U", "U1", 10), teacher("UEN", "U1", subject="english"), *staff("R", "R1", 9)]
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 3)], teachers, {("U1", "R1"): 50})
    plan = plan_county(data, load_policy(overrides={"plan": {"max_km": 30}}))
    assert plan.moves.empty and tier(plan, "subject") > 0
    causes = plan.causes.set_index(["school_id", "kind", "subject"])
    assert causes.loc[("R1", "subject", "english"), "gap_after"] == pytest.approx(0.59, abs=0.01)
    assert causes.loc[("R1", "subject", "english"), "cause"] == "30 公里内无可调的英语教师"


@pytest.mark.parametrize(("finished", "timed_out", "noted"), [(False, True, True), (False, False, False),
                                                          (True, True, False)])
def test_a_tier_the_time_limit_stopped_says_so(finished: bool, timed_out: bool, noted: bool) -> None:
    """A 4,236-teacher county's wishes tier ran out of the 120 s with a plan (−300 against −353) and read as an
    ordinary 可行, where the next run, cut a moment earlier, said the time limit had stopped it. The note
    follows the MIP's own stop reason (its time limit, or the share of it a tier may take), not the clock;
    a node limit or a plan within the accepted gap gets none."""
    from teacheralloc.model.tiers import _cut_by_time

    note = _cut_by_time("wishes", finished, timed_out, 120.0)
    assert bool(note) == noted
    if noted:
        assert note.startswith("意愿满足（负值，越小越好）：在时间上限（--time-limit 120 秒") and "加大 --time-limit" in note


def test_a_plan_over_its_time_limit_says_so() -> None:
    """The sample county took 6 s at --time-limit 1 and nothing said the limit was passed (a tester)."""
    from teacheralloc.model.solve import SolveParams
    from teacheralloc.model.solve import plan_county as plain
    from teacheralloc.sample import generate_county

    plan = plain(generate_county(num_teachers=800, seed=1), POLICY, params=SolveParams(time_limit_s=0.01))
    [note] = [n for n in plan.notes if "超过时间上限" in n]
    assert note.startswith(f"用时 {plan.wall_time:.1f} 秒，超过时间上限 0.01 秒")
    assert not any("超过时间上限" in n for n in plan_county(quota_only(), POLICY).notes)


def test_a_quota_short_names_what_binds() -> None:
    """The quota's shortfall says why in the county's terms: no junior school to rotate to (河口镇中学's
    base), or every junior section below at its 核定编制; it listed every possible restriction."""
    plan = plan_county(quota_out_of_reach(), POLICY)
    [note] = plan.quota["shortfall"]
    assert "没有可交流去的同学段学校" in note and "核定编制" not in note
    full = county([school("J1", type="junior"), school("N1", type="nine_year", establishment=10)],
                  [grade("J1", 7, 3, 135), grade("N1", 7, 3, 135)],
                  [teacher(f"J{i:02d}", "J1", stage="junior", since=LONG) for i in range(10)]
                  + [teacher(f"N{i:02d}", "N1", stage="junior") for i in range(10)], {("J1", "N1"): 10})
    plan = plan_county(full, POLICY)
    [note] = plan.quota["shortfall"]
    assert note.endswith("可接收交流的 1 所学校均已达核定编制（未填的按标准人数），不能净调入")


def test_the_backbone_shortfall_counts_the_backbone_teachers_of_the_quotas_base() -> None:
    """No eligible backbone teacher at 城关第一小学 (the quota's base), one at a village school (whose
    rotations do not count): the note said 全县符合交流条件的骨干教师仅 1 人."""
    data = quota_only()
    rural = data.teachers["school_id"] == "R1"
    first = data.teachers.index[rural][0]
    teachers = data.teachers.copy()
    teachers.loc[first, ["backbone", "school_since"]] = ["county", pd.Timestamp(2015, 9, 1)]
    plan = plan_county(data.replace(teachers=teachers), POLICY)
    [note] = [n for n in plan.quota["shortfall"] if n.startswith("交流的骨干教师")]
    assert note.endswith("比例基数内的学校（城区、镇区非薄弱学校）符合交流条件的骨干教师仅 0 人")


def test_a_quota_short_names_the_rule_whose_relaxation_rotates_more() -> None:
    """A quota of 2 out of 城关第一小学, whose leaving cap lets 2 go, while 山岭村小学 has room for one
    more teacher under its 核定编制 of 11 and none of its own may leave to make room (no surplus): one
    rotation. The cause names the 核定编制 and how to relax it, found by the quota LP with each rule
    relaxed in turn; it listed direction, the leaving cap and the establishment together (a planted
    county of another tester, where the cap did not bind)."""
    data = quota_only()
    bound = data.teachers["school_id"] == "R1"  # under a service obligation: no exchange makes room
    data = data.replace(teachers=data.teachers.assign(
        service_until=data.teachers["service_until"].where(~bound, pd.Timestamp(2030, 8, 31))))
    capped = data.replace(schools=data.schools.assign(establishment=data.schools["school_id"].map({"R1": 11})))
    plan = plan_county(capped, POLICY)
    assert (plan.quota["rotations"], plan.quota["required_rotations"]) == (1, 2)
    note, backbone = plan.quota["shortfall"]
    assert backbone.endswith("比例基数内的学校（城区、镇区非薄弱学校）符合交流条件的骨干教师仅 0 人")  # nobody else to blame
    assert note.endswith("受“调入后不超过接收学校的核定编制”限制：核增接收学校的编制（schools.establishment）即可多交流")
    assert "单校" not in note and "方向" not in note
    roomy = data.replace(schools=data.schools.assign(establishment=data.schools["school_id"].map({"R1": 12})))
    assert plan_county(roomy, POLICY).quota["rotation_quota_met"]


def test_a_subject_gap_at_a_school_with_teachers_to_spare_is_not_a_case_for_posts() -> None:
    """城关第一小学 has 12 Chinese teachers for 10 posts, at its 核定编制 of 12, and no maths teacher: its maths
    gap is for its own spare teachers to fill (兼课, 转岗), not 核增编制 as the cause said."""
    data = county([school("U1", establishment=12), school("R1")], [grade("U1", 3), grade("R1", 3)],
                  [*staff("U", "U1", 12), *staff("R", "R1", 10)], {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    cause = plan.causes.set_index(["school_id", "kind", "subject"])["cause"][("U1", "subject", "math")]
    assert cause.startswith("本校总量富余 2 人，缺的是数学") and "不需增编" in cause and "核增编制" not in cause


@pytest.mark.parametrize(("held", "u1_teachers"), [("service", 12), ("pinned", 12), ("service", 11)])
def test_a_shortage_left_by_teachers_who_may_not_move_is_not_put_down_to_posts(held: str, u1_teachers: int) -> None:
    """城关第一小学 has 12 teachers for 10 posts, every one under a service obligation (or pinned to stay);
    山岭村小学 8 for 10. Nobody may move, so 山岭村小学 stays 2 short: the county is not short of primary
    posts, the cause says who is held and what frees them (it said 总量不足，属需补充编制的缺口). With 11 at
    城关第一小学 the county is short by one all the same: that cause stands, naming the held teachers too."""
    obligation = {"service_until": date(2030, 8, 31)} if held == "service" else {}
    teachers = [*staff("U", "U1", u1_teachers, **obligation), *staff("R", "R1", 8)]
    data = county([school("U1"), school("R1")], [grade("U1", 1), grade("R1", 1)], teachers, {("U1", "R1"): 20})
    stay = pins(*((f"U{i:02d}", "must_stay") for i in range(u1_teachers))) if held == "pinned" else None
    plan = plan_county(data, POLICY, stay)
    assert plan.moves.empty
    cause = plan.causes.set_index(["school_id", "kind"])["cause"][("R1", "headcount")]
    reason = "服务期未满" if held == "service" else "指定留任"
    if u1_teachers == 12:
        assert cause.startswith(f"全县小学总量不缺，但有富余的学校留下的教师均不可调动（{reason} 12 人）")
        assert ("服务期满后" if held == "service" else "取消其“必须留任”的指定后") in cause
    else:
        assert cause == f"全县小学已无富余可调教师：总量不足，属需补充编制的缺口（另有富余学校的教师不可调动：{reason} 11 人）"


def test_a_surplus_junior_teacher_pinned_to_a_full_primary_school_is_told_the_school_is_full(tmp_path: Path) -> None:
    """PHY (junior, 河口镇中学 one over its posts) may be redeployed to primary; pinned to 河口镇第二小学
    when that school is at its 核定编制, the pin is refused for the 核定编制, not for the stage (it said
    该校没有该教师所在学段). With room there, the same pin sends PHY to teach science."""
    data = cross_stage()
    table = read_pins(_pins_csv(tmp_path, ["PHY,,,P1,"]), data)
    assert ("PHY", "J1", "P1", "redeploy", "science") in moves(plan_county(data, POLICY, pins=table))
    full = data.replace(schools=data.schools.assign(establishment=data.schools["school_id"].map({"P1": 9})))
    with pytest.raises(InputError) as caught:
        plan_county(full, POLICY, pins=read_pins(_pins_csv(tmp_path, ["PHY,,,P1,"]), full))
    [problem] = caught.value.errors
    assert problem.expected.startswith("该校已达核定编制，不能再调入")


def test_causes_name_the_tiers_a_county_ranked_first() -> None:
    """With `plan.tiers` putting disruption first nobody moves: the quota shortfall and the shortage left
    at 山岭村小学 are put down to that order (they blamed direction and caps, or surplus gone elsewhere)."""
    data = surplus_and_shortage(eligible=True)
    order = ("disruption", "quota", "headcount", "subject", "balance", "wishes")
    first = POLICY.model_copy(update={"plan": POLICY.plan.model_copy(update={"tiers": order})})
    plan = plan_county(data, first)
    assert plan.moves.empty
    assert plan.quota["shortfall"][0].endswith("plan.tiers 把调动扰动排在轮岗比例之前，这些目标优先")
    cause = plan.causes.set_index(["school_id", "kind"])["cause"][("R1", "headcount")]
    assert cause == "plan.tiers 把调动扰动排在总量缺编之前，富余教师按这些目标优先安排"
    default = plan_county(data, POLICY)
    assert len(default.moves) and not any("plan.tiers" in text for text in default.quota["shortfall"])


def test_a_quota_short_of_what_the_leaving_cap_allows_says_what_else_binds() -> None:
    """12 eligible teachers at 城关第一小学, a quota of 2, at most 1 may leave a year (5 %): the cap explains
    one rotation missing, not two. With plan.max_km 10 (山岭村小学 is 20 km away) none rotates: the cause said
    only 最多可调出 1 人; now it adds what holds the rest, the distance limit named."""
    data = surplus_and_shortage(eligible=True)
    policy = POLICY.model_copy(update={
        "rotation": POLICY.rotation.model_copy(update={"max_share_leaving_school": 0.05}),
        "plan": POLICY.plan.model_copy(update={"max_km": 10.0})})
    plan = plan_county(data, policy)
    assert plan.quota["rotations"] == 0 and plan.quota["required_rotations"] == 2
    [text] = plan.quota["shortfall"]
    assert "各校符合条件的教师最多可调出 1 人" in text
    assert text.endswith("其余 1 人又受交流方向（城区、优质学校向乡村、薄弱学校）、调动距离上限（plan.max_km 10 公里）所限："
                         "符合条件的教师没有更多可去的学校（放宽调出、调入限制也不能多交流）")


def test_an_indicator_the_plan_takes_below_its_standard_is_noted() -> None:
    """A county whose junior 高于规定学历 teachers per 100 students went from 5.33 to 5.19 against 5.3
    had no note: that indicator is in no tier. Backbone falling below 1 is noted with the weight to raise."""
    from teacheralloc.model.explain import indicator_drop_note

    def table(higher: float, backbone: float) -> pd.DataFrame:
        return pd.DataFrame({"stage": ["primary", "junior"], "per100_higher_degree": [5.0, higher],
                             "per100_backbone": [1.2, backbone], "per100_pe_arts": [1.0, 1.0]})

    note = indicator_drop_note(table(5.33, 1.1), table(5.19, 1.1), POLICY)
    assert note == ("调配后全县指标由达标变为未达标：初中每百名学生高于规定学历教师数由 5.33 降至 5.19，低于标准 5.3"
                    "（不在优质均衡目标层内：plan.balance_weight 只计骨干与体育艺术教师）。可用 pins.csv 留任相关教师")
    assert indicator_drop_note(table(5.33, 1.1), table(5.4, 0.9), POLICY).endswith("，或加大 plan.balance_weight")
    assert indicator_drop_note(table(5.2, 1.1), table(5.1, 1.1), POLICY) is None  # not met before either
    assert "由 1.10 降至 0.99，低于标准 1" in indicator_drop_note(table(5.4, 1.1), table(5.4, 0.9985), POLICY)
    # A 校际差异系数 pushed over its limit (junior 骨干 0.254 → 0.465 against 0.45) went unsaid
    cv = {"cv_higher_degree": [0.2, 0.2], "cv_pe_arts": [0.2, 0.2], "cv_max": [0.5, 0.45]}
    before = table(5.4, 1.1).assign(**cv, cv_backbone=[0.3, 0.254])
    after = table(5.4, 1.1).assign(**cv, cv_backbone=[0.3, 0.465])
    assert "初中县级以上骨干教师校际差异系数由 0.254 升至 0.465，超过上限 0.45" in indicator_drop_note(before, after,
                                                                                          POLICY)
    assert indicator_drop_note(before, before, POLICY) is None


def test_a_required_figure_in_a_reason_rounds_halves_up() -> None:
    """3.55 posts read 按标准需 3.5 人 (the float is 3.5499…); the plan rounds halves up."""
    from teacheralloc.model.explain import _tenths

    assert (_tenths(3.55), _tenths(10.15), _tenths(2.04), _tenths(7.0)) == ("3.6", "10.2", "2.0", "7.0")


def test_a_shortage_the_plans_own_moves_made_says_so_first() -> None:
    """城关第一小学 has its 12 teachers for 12 posts and sends the quota's 2 rotations to 山岭村小学, whose
    teachers may not leave (service obligation) to make up for them: it ends 2 short. Its cause gave
    only why nobody came back; it now says first that the plan sent 2 away and what for. (山岭村小学 has
    a 核定编制 of 12: without one its norm of 10 would stand for it and it could take none.)"""
    data = quota_only()
    bound = data.teachers["school_id"] == "R1"
    data = data.replace(teachers=data.teachers.assign(
        service_until=data.teachers["service_until"].where(~bound, pd.Timestamp(2030, 8, 31))),
        schools=data.schools.assign(establishment=data.schools["school_id"].map({"R1": 12})))
    plan = plan_county(data, POLICY)
    assert plan.quota["rotations"] == 2
    cause = plan.causes.set_index(["school_id", "kind"])["cause"][("U1", "headcount")]
    assert cause.startswith("本方案从本校调出 2 人（交流轮岗 2），缺编由 0.0 增至 2.0 人（为完成交流轮岗比例）；")


# --------------------------------------------------------------------------------------------------
# The leaving cap by stage (rotation.leaving_cap_by_stage)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("by_stage", "leaving"), [(True, 2), (False, 3)])
def test_a_section_of_a_nine_year_school_has_its_own_leaving_cap(by_stage: bool, leaving: int) -> None:
    """A nine-year school's junior section of 13 sends at most ⌊20 % × 13⌋ = 2 teachers a year, though
    the school's cap (4 of 23) would let its whole surplus of 3 go: a tester's county lost 25 of a junior
    section's 69 teachers under its school's cap of 26. Off, the school's cap alone holds."""
    policy = POLICY.model_copy(update={
        "rotation": POLICY.rotation.model_copy(update={"leaving_cap_by_stage": by_stage})})
    plan = plan_county(nine_year_junior_surplus(), policy)
    assert len(plan.moves) == leaving
    assert set(plan.moves["from_school"]) == {"U9"} and set(plan.moves["to_school"]) == {"RJ"}
    assert set(plan.moves["from_stage"]) == {"junior"}
    assert gaps_after(plan)["RJ"] == 3 - leaving


def test_pins_over_a_sections_leaving_cap_name_the_stage(tmp_path: Path) -> None:
    """Three junior teachers of the nine-year school pinned to move, where its junior section may send
    two: an input error at the third pin naming the section's cap and the setting to relax."""
    data = nine_year_junior_surplus()
    table = read_pins(_pins_csv(tmp_path, ["UJ00,,是,,", "UJ01,,是,,", "UJ02,,是,,"]), data)
    with pytest.raises(InputError) as caught:
        plan_county(data, POLICY, pins=table)
    [problem] = caught.value.errors
    assert (problem.file, problem.row, problem.rule) == ("pins.csv", 4, "pin_conflict")
    assert "U9初中部" in problem.expected and "上限 2 人" in problem.expected
    assert "rotation.leaving_cap_by_stage" in problem.expected


def _made_under_checked_by(data: object, off: Policy, folder: Path) -> object:
    """The plan made under `off` (a rule turned off), written to `folder`, checked under the default policy."""
    from teacheralloc.check import check_plan
    from teacheralloc.io.write import write_plan

    write_plan(plan_county(data, off), folder, off)
    return check_plan(data, POLICY, folder, None)


def test_check_finds_a_section_over_its_leaving_cap(tmp_path: Path) -> None:
    """The independent checker applies the cap by stage: the plan made without it (three junior teachers
    leave a section of 13) fails `max_leaving` under the policy with it, naming the section."""
    off = POLICY.model_copy(update={"rotation": POLICY.rotation.model_copy(update={"leaving_cap_by_stage": False})})
    report = _made_under_checked_by(nine_year_junior_surplus(), off, tmp_path)
    assert {v.rule for v in report.violations} == {"max_leaving"}
    [violation] = report.violations
    assert violation.school_id == "U9" and "初中部" in violation.message and "上限 2 人" in violation.message


# --------------------------------------------------------------------------------------------------
# A school with no 核定编制 takes its norm for one (plan.arrivals_within_shortage)
# --------------------------------------------------------------------------------------------------


def _quota_into_a_full_school() -> object:
    """quota_only, with 山岭村小学's teachers under a service obligation: none may move back, so the quota's
    2 rotations out of 城关第一小学 can only land there, at its norm (10 of 10) and with no 核定编制."""
    data = quota_only()
    bound = data.teachers["school_id"] == "R1"
    return data.replace(teachers=data.teachers.assign(
        service_until=data.teachers["service_until"].where(~bound, pd.Timestamp(2030, 8, 31))))


def test_a_quota_short_by_the_swaps_a_full_school_can_make_says_so() -> None:
    """城关第一小学 has 25 eligible teachers (quota ⌈10 % × 25⌉ = 3); 山岭村小学 is at its norm with no 核定编制,
    so a rotation in is one of its 10 teachers out, and it lets go at most max(1, ⌊20 % × 10⌋) = 2 a year: 2
    rotations. The shortfall named only the full school, not the leaving cap that stops the third swap."""
    teachers = [teacher(f"U{i:02d}", "U1", since=LONG) for i in range(25)] + staff("R", "R1", 10)
    data = county([school("U1"), school("R1")], [grade("U1", 1, 6, 228), grade("R1", 1)], teachers,
                  {("U1", "R1"): 20})
    plan = plan_county(data, POLICY)
    assert plan.quota["required_rotations"] == 3 and plan.quota["rotations"] == 2
    note = plan.quota["shortfall"][0]  # [1]: no backbone teacher to rotate
    assert note.endswith("不能净调入，只能对调，而这些学校一年最多调出 2 人（rotation.max_share_leaving_school 20%），"
                         "故至多交流 2 人")


@pytest.mark.parametrize("on", [True, False])
def test_a_quota_does_not_pile_rotations_into_a_school_with_no_establishment(on: bool) -> None:
    """A tester's 3,000-teacher county sent 68 of its 128 rotations into one junior school with no 核定编制
    (11 → 77 teachers for 9.7 posts). Its norm now stands for the missing 核定编制: the quota is short
    instead, and says why; with plan.arrivals_within_shortage off, the rotations go as before."""
    policy = POLICY.model_copy(update={"plan": POLICY.plan.model_copy(update={"arrivals_within_shortage": on})})
    plan = plan_county(_quota_into_a_full_school(), policy)
    if on:
        assert plan.quota["rotations"] == 0 and plan.quota["required_rotations"] == 2
        assert "均已达核定编制（未填的按标准人数），不能净调入" in plan.quota["shortfall"][0]
        assert plan.moves.empty
    else:
        assert plan.quota["rotations"] == 2
        assert set(plan.moves["to_school"]) == {"R1"}


def test_check_finds_a_school_with_no_establishment_filled_past_its_norm(tmp_path: Path) -> None:
    """The independent checker applies the same rule: the plan made with it off fails under it."""
    off = POLICY.model_copy(update={"plan": POLICY.plan.model_copy(update={"arrivals_within_shortage": False})})
    report = _made_under_checked_by(_quota_into_a_full_school(), off, tmp_path)
    assert {v.rule for v in report.violations} == {"establishment"}
    assert all(v.school_id == "R1" and "未填核定编制" in v.message for v in report.violations)


def test_a_subject_gap_the_plans_own_moves_made_says_so_first() -> None:
    """The quota takes 城关第一小学's one backbone teacher, its PE teacher: its PE gap widens. The cause
    said 宜由本校富余教师兼课 or 需招聘补充 (a tester's county: a backbone PE teacher rotated out); it now says
    first that the plan sent that subject's teacher away, and what for."""
    data = quota_only(backbone="U05")
    data = data.replace(teachers=data.teachers.assign(
        subject=data.teachers["subject"].where(data.teachers["teacher_id"] != "U05", "pe")))
    plan = plan_county(data, POLICY)
    assert "U05" in set(plan.moves["teacher_id"])
    causes = plan.causes.set_index(["school_id", "kind", "subject"])["cause"]
    assert causes[("U1", "subject", "pe")].startswith("本方案从本校调出体育与健康教师 1 人（交流轮岗 1），该科缺口由 ")


@pytest.mark.parametrize(("change", "says"), [
    ({"move_type": "rotation"}, "校内跨学段只能是调剂"),
    ({"to_stage": "junior"}, "同一学校内只能作为调剂到另一学段"),
    ({}, "必须调出"),  # the plan as it is, checked against a must_move pin on its teacher
])
def test_check_allows_the_own_school_only_as_a_redeployment_to_the_other_section(
        tmp_path: Path, change: dict, says: str) -> None:
    """`check` accepts a move within a school only as the planner makes it: a redeployment to the
    school's other section, for a teacher not pinned to leave the school."""
    from teacheralloc.check import check_plan
    from teacheralloc.io.write import write_plan

    county = own_primary_section()
    plan = plan_county(county, POLICY)
    write_plan(plan, tmp_path, POLICY)
    table = pd.read_csv(tmp_path / "plan.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for key, value in change.items():
        table[key] = value
    table.to_csv(tmp_path / "plan.csv", index=False, encoding="utf-8-sig")
    report = check_plan(county, POLICY, tmp_path, pins((table.at[0, "teacher_id"], "must_move")) if not change
                        else None)
    assert any(says in v.message for v in report.violations if v.rule in ("well_formed", "pins")), \
        report.summary_lines(10)
    if not change:
        assert "只在本校" in report.violations[0].message


def test_moves_within_a_school_can_be_turned_off(tmp_path: Path) -> None:
    """`plan.within_school_cross_stage: false`: N1's surplus junior teacher goes to P1 (10 km) and N1's
    primary section stays short (headcount 2, the optimum without the move within the school); `check`
    under that policy refuses the plan made with it on."""
    from teacheralloc.check import check_plan
    from teacheralloc.io.write import write_plan

    off = load_policy(overrides={"plan": {"within_school_cross_stage": False}})
    plan = plan_county(own_primary_section(), off)
    assert {(m[0][:2], m[1], m[2], m[3]) for m in moves(plan)} == {("NJ", "N1", "P1", "redeploy")}
    assert tier(plan, "headcount") == pytest.approx(2.0, abs=1e-6)
    county = own_primary_section()
    write_plan(plan_county(county, POLICY), tmp_path, POLICY)
    report = check_plan(county, off, tmp_path, None)
    assert any("plan.within_school_cross_stage" in v.message for v in report.violations), report.summary_lines(10)


def test_the_own_school_on_a_wish_list_is_no_wish() -> None:
    """A surplus junior teacher of N1 who applied with N1 as their only wish (validate: 志愿学校不含本校,
    the wish does not count) is not moved within N1 for a wish score: a colleague of the group takes the
    primary post, and the wishes tier scores nothing."""
    county = own_primary_section()
    at = county.teachers["teacher_id"] == "NJ00"
    county.teachers.loc[at, "volunteer"] = True
    county.teachers.loc[at, "wishes"] = pd.Series([("N1",)], index=county.teachers.index[at])
    plan = plan_county(county, POLICY)
    [move] = plan.moves.to_dict("records")
    assert move["teacher_id"] != "NJ00" and move["to_school"] == "N1" and not move["voluntary"]
    assert tier(plan, "wishes") == pytest.approx(0.0, abs=1e-6)


def test_check_reads_a_move_within_a_school_from_the_contract_columns_alone(tmp_path: Path) -> None:
    """A plan.csv cut to the data contract's six columns (no stages): a redeployment to the own school
    is read as to its other section, and passes."""
    from teacheralloc.check import check_plan
    from teacheralloc.io.write import write_plan

    county = own_primary_section()
    write_plan(plan_county(county, POLICY), tmp_path, POLICY)
    table = pd.read_csv(tmp_path / "plan.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table[["teacher_id", "from_school", "to_school", "move_type", "subject", "reason"]].to_csv(
        tmp_path / "plan.csv", index=False, encoding="utf-8-sig")
    report = check_plan(county, POLICY, tmp_path, None)
    assert report.ok, report.summary_lines(10)


@pytest.mark.parametrize("within", [True, False], ids=["allowed", "turned_off"])
def test_a_pin_to_the_own_school_moves_within_it_or_names_the_setting(within: bool) -> None:
    """NJ00 pinned to_school N1, its own school: a surplus junior teacher takes N1's primary post, the
    reason saying the office pinned that (not 调出); with `plan.within_school_cross_stage: false` the pin
    is an input error naming the setting (it read as if the teacher could not be such a move)."""
    policy = load_policy(overrides={"plan": {"within_school_cross_stage": within}})
    table = pins(("NJ00", "to_school", "N1"))
    if within:
        plan = plan_county(own_primary_section(), policy, pins=table)
        [move] = plan.moves.to_dict("records")
        assert (move["teacher_id"], move["to_school"], move["to_stage"]) == ("NJ00", "N1", "primary")
        assert "按人事股指定转任本校小学部（pins.csv）" in move["reason"]
        return
    with pytest.raises(InputError) as caught:
        plan_county(own_primary_section(), policy, pins=table)
    assert "plan.within_school_cross_stage: false" in caught.value.errors[0].expected


def test_moves_within_a_school_count_for_no_leaving_cap() -> None:
    """N1's junior section has 13 teachers for 10 posts, its primary section 7 for 10, and no other school
    is in reach (P1 is staffed exactly): the three surplus junior teachers all take N1's primary posts,
    though the junior section may lose only ⌊20 % × 13⌋ = 2 teachers a year: a move within the school
    loses it no one (counted, one primary post stayed short, headcount 2)."""
    teachers = [teacher(f"NJ{i:02d}", "N1", stage="junior") for i in range(13)] + staff("NP", "N1", 7)
    teachers += staff("P", "P1", 10)
    data = county([school("N1", type="nine_year"), school("P1")],
                  [grade("N1", 7, 4, 135), grade("N1", 1), grade("P1", 1)], teachers, {("N1", "P1"): 10})
    plan = plan_county(data, POLICY)
    assert len(plan.moves) == 3 and (plan.moves["from_school"] == plan.moves["to_school"]).all()
    assert tier(plan, "headcount") == pytest.approx(0.0, abs=1e-6)


def test_priced_paths_start_from_a_group_moving_both_within_and_out_of_its_school() -> None:
    """N1's junior section has 13 teachers for 10 posts, its primary section 9 for 10, and P1 (10 km) 8
    for 10: one surplus junior teacher takes N1's primary post, two go to P1. With priced paths the
    group's moves to P1 start the path model beside its direct arc within N1 (they were dropped as if the
    whole group moved on direct arcs, and the priced tiers gave up for the pooled ones); the plan is the
    school-to-school model's."""
    teachers = [teacher(f"NJ{i:02d}", "N1", stage="junior") for i in range(13)] + staff("NP", "N1", 9)
    teachers += staff("P", "P1", 8)
    data = county([school("N1", type="nine_year"), school("P1")],
                  [grade("N1", 7, 4, 135), grade("N1", 1), grade("P1", 1)], teachers, {("N1", "P1"): 10})
    priced = plan_county(data, load_policy(overrides={"plan": {"exact_distance_arcs": 0}}))
    exact = plan_county(data, POLICY)
    assert "priced_paths" in priced.model_size
    for plan in (priced, exact):
        assert sorted(zip(plan.moves["to_school"], plan.moves["to_stage"], strict=True)) == [
            ("N1", "primary"), ("P1", "primary"), ("P1", "primary")]
        assert tier(plan, "headcount") == pytest.approx(0.0, abs=1e-6)
    assert tier(priced, "disruption") == pytest.approx(tier(exact, "disruption"), abs=1e-6)


def test_check_recomputes_the_disruption_of_a_plan_with_a_move_within_a_school(tmp_path: Path) -> None:
    """The county gives distances.csv only (no lat/lon): a move within N1 is 0 km to `check` too, so a
    wrong disruption tier in summary.json is still found (the unknown same-school distance had switched the
    recomputation off for the whole plan)."""
    import json

    from teacheralloc.check import check_plan
    from teacheralloc.io.write import write_plan

    county = own_primary_section()
    write_plan(plan_county(county, POLICY), tmp_path, POLICY)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    next(t for t in summary["tiers"] if t["tier"] == "disruption")["value"] += 5
    (tmp_path / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    report = check_plan(county, POLICY, tmp_path, None)
    assert any(v.rule == "derived" and "调动扰动" in v.message for v in report.violations), report.summary_lines(10)


def test_summary_counts_the_moves_within_a_school_and_check_verifies_it(tmp_path: Path) -> None:
    """summary.json's moves.within_school: the redeployments that stay in their school (one, N1 → N1), read
    by compare and plan.xlsx; `check` recomputes it from plan.csv."""
    import json

    from teacheralloc.check import check_plan
    from teacheralloc.io.write import write_plan

    county = own_primary_section()
    plan = plan_county(county, POLICY)
    assert plan.summary()["moves"]["within_school"] == 1
    write_plan(plan, tmp_path, POLICY)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    summary["moves"]["within_school"] = 0
    (tmp_path / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    report = check_plan(county, POLICY, tmp_path, None)
    assert any("moves.within_school" in v.message for v in report.violations), report.summary_lines(10)


def test_a_quota_short_names_the_receiving_schools_at_their_establishment() -> None:
    """城关第一小学's 30 teachers are all eligible (quota 3); 山岭村小学 is at its 核定编制 (20 of 20) and a
    teaching point with no 核定编制 may take only what it lacks: 2 rotate. The cause named the arrival and
    leaving caps only, though raising 山岭村小学's posts meets the quota (a tester's county): it names it."""
    teachers = [*staff("U", "U1", 30, since=LONG), *staff("R", "R1", 20), *staff("P", "P1", 2)]
    data = county([school("U1"), school("R1", establishment=20), school("P1", type="teaching_point", area="rural")],
                  [grade("U1", 1, 12, 570), grade("R1", 1, 8, 380), *[grade("P1", g, 1, 10) for g in (1, 2, 3)]],
                  teachers, {("U1", "R1"): 10, ("U1", "P1"): 15, ("R1", "P1"): 5})
    quota = plan_county(data, POLICY).quota
    assert quota["rotations"] < quota["required_rotations"] == 3
    assert any("另有 1 所可接收交流的学校已达核定编制（R1），不接收调入：核增其编制也可多交流" in note
               for note in quota["shortfall"]), quota["shortfall"]


def test_a_shortage_the_distance_limit_leaves_names_it() -> None:
    """plan.max_km 15: 城关第一小学 and 城关第二小学 have one spare teacher each, 5 km from 河口镇中心小学 and 10–12 km
    from 山岭村小学, but 45–50 km from 河湾村小学 (rural, weighted above the town school). Both spare teachers go
    within reach; 河湾村小学's cause read only 全县小学已无富余可调教师：总量不足 (a tester's county): it names
    the limit first."""
    teachers = [*staff("U", "U1", 21), *staff("V", "U2", 21), *staff("R", "R1", 19), *staff("H", "R3", 19),
                *staff("T", "T1", 19)]
    data = county([school(s) for s in ("U1", "U2", "R1", "R3", "T1")],
                  [grade(s, 1, 8, 380) for s in ("U1", "U2", "R1", "R3", "T1")], teachers,
                  {("U1", "T1"): 5, ("U2", "T1"): 5, ("U1", "R1"): 10, ("U2", "R1"): 12, ("U1", "R3"): 50,
                   ("U2", "R3"): 45})
    limited = POLICY.model_copy(update={"plan": POLICY.plan.model_copy(update={"max_km": 15.0})})
    plan = plan_county(data, limited)
    assert gaps_after(plan)["R3"] == 1.0
    cause = plan.causes.set_index(["school_id", "kind"]).loc[("R3", "headcount"), "cause"]
    assert cause.startswith("原有富余小学教师的 2 所学校都在 15 公里以外（调动距离上限 plan.max_km，最近约 45 公里）"), cause
