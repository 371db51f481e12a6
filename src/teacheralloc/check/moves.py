"""Rules on single moves (rules 2–7, 12): who may move, rotate or be posted where, the stage and subject
taught, wishes, pins and the distance limit."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from teacheralloc.check.facts import Distances
from teacheralloc.check.report import STAGE_LABEL, TYPE_LABEL, Violation
from teacheralloc.check.rows import Move
from teacheralloc.domain import SchoolType, Stage, Status, Subject
from teacheralloc.policy import Policy

KM_TOLERANCE = 0.11  # plan.csv rounds distances to 0.1 km


def rank_in_wishes(teacher: pd.Series, to_school: str) -> int:
    """1-based position of `to_school` on a volunteer's wish list; 0 otherwise, and for the teacher's own
    school (validate: 志愿学校不含本校, the wish does not count)."""
    wishes = list(teacher["wishes"])
    if teacher["volunteer"] and to_school in wishes and to_school != teacher["school_id"]:
        return wishes.index(to_school) + 1
    return 0


def check_move(
    move: Move,
    teachers: pd.DataFrame,
    schools: pd.DataFrame,
    policy: Policy,
    distances: Distances,
    out: list[Violation],
    hires: pd.DataFrame | None = None,
) -> None:
    def bad(rule: str, message: str, school: str | None = None) -> None:
        out.append(Violation(rule, message, teacher_id=move.teacher_id, school_id=school, row=move.row))

    tid, kind = move.teacher_id, move.move_type
    dest = schools.loc[move.to_school]
    dest_stages = dest["stages"]
    stage_label = STAGE_LABEL
    if move.to_stage not in dest_stages:
        bad(
            "stage",
            f"{move.to_school}（{SchoolType(dest['type']).label}）没有{stage_label[move.to_stage]}学段，"
            f"教师 {tid} 不能到该校任{stage_label[move.to_stage]}教学",
            move.to_school,
        )
    if dest["type"] == "special" and not policy.plan.special_schools_take_part:
        bad("movable", f"{move.to_school} 是特殊教育学校，不参与调配（plan.special_schools_take_part 为 false），"
                       f"不能调入教师 {tid}", move.to_school)
    if kind == "new_hire":  # a scenario's hire: its stage and subject (it has no school, wishes or distance)
        if hires is not None:
            check_stage_subject(move, hires.loc[tid], policy, bad)
        return
    teacher = teachers.loc[tid]
    origin = schools.loc[move.from_school]
    volunteer = bool(teacher["volunteer"])
    exempt = teacher["exempt"]

    # Rule 2: who may move.
    if exempt and not volunteer:
        bad("movable", f"教师 {tid} {exempt}，不在交流调动范围内，且本人未申请交流，不得调动")
    elif origin["type"] == "special" and not policy.plan.special_schools_take_part and not teacher["wishes"]:
        bad("movable", f"教师 {tid} 是特殊教育学校教师（plan.special_schools_take_part 为 false），只可调往本人"
                       "志愿学校，而其未填志愿", move.from_school)
    if teacher["pinned_stay"]:
        bad("movable", f"教师 {tid} 被指定“必须留任”，方案却将其调往 {move.to_school}")

    # Rule 3: rotation eligibility and direction.
    if kind == "rotation":
        why = []
        years = float(teacher["years_at_school"])
        if years < policy.rotation.eligible_years_at_school:
            why.append(f"在本校任教 {years:.1f} 年，不满 {policy.rotation.eligible_years_at_school:g} 年")
        if teacher["status"] != Status.active.value:
            why.append(f"在岗状态为“{Status(teacher['status']).label}”")
        if exempt and exempt not in why:  # an exempt status is said once
            why.append(exempt)
        if teacher["pinned_stay"]:
            why.append("被指定必须留任")
        if why:
            bad("rotation", f"教师 {tid} 不符合交流轮岗条件：{'；'.join(why)}")
        if not origin["level"] > dest["level"]:
            bad(
                "rotation",
                f"交流方向错误：教师 {tid} 从{_school_kind(origin)} {move.from_school}（层级 "
                f"{origin['level']:g}）到{_school_kind(dest)} {move.to_school}（层级 {dest['level']:g}），"
                "交流轮岗只能由城镇向乡村、由优质学校向薄弱学校",
                move.to_school,
            )

    # Rule 4: support postings.
    if kind == "support":
        if origin["area"] not in policy.support.from_areas or origin["weak"]:
            bad(
                "support",
                f"支教须从{'、'.join(_area_label(a) for a in policy.support.from_areas)}的非薄弱学校派出，"
                f"而 {move.from_school} 是{_school_kind(origin)}",
                move.from_school,
            )
        if not (dest["area"] == "rural" or dest["weak"]):
            bad(
                "support",
                f"支教只能去乡村学校或薄弱学校，而 {move.to_school} 是{_school_kind(dest)}",
                move.to_school,
            )
        rural_short = float(teacher["rural_years"]) < policy.support.senior_title_rural_years
        needs = teacher["title"] == "first" and rural_short
        asked = volunteer and len(teacher["wishes"]) == 0
        if not (needs or asked):
            bad(
                "support",
                f"教师 {tid} 既无晋升高级职称所需的农村任教经历缺口（一级职称且农村任教不足 "
                f"{policy.support.senior_title_rural_years:g} 年），也未申请交流（且未填志愿），不应安排支教",
            )

    check_stage_subject(move, teacher, policy, bad)

    # Rule 7: wishes.
    expected_rank = rank_in_wishes(teacher, move.to_school)
    if volunteer and len(teacher["wishes"]) and expected_rank == 0:
        bad(
            "wishes",
            f"教师 {tid} 申请交流并填报志愿 {'、'.join(teacher['wishes'])}，方案却调往志愿以外的 "
            f"{move.to_school}",
            move.to_school,
        )
    if move.wish_rank is not None and move.wish_rank != expected_rank:
        bad(
            "wishes",
            f"教师 {tid} 调往 {move.to_school} 的志愿序号写为 {move.wish_rank}，按其志愿应为 {expected_rank}",
            move.to_school,
        )
    if move.voluntary is not None and move.voluntary != (expected_rank > 0):
        bad("wishes", f"教师 {tid} 的“本人申请”写为 {move.voluntary}，按其志愿应为 {expected_rank > 0}")

    # Rule 12: distance (and the km figure of plan.csv, rule 13).
    km = distances.km(move.from_school, move.to_school)
    if km is not None:
        limit = policy.plan.max_km
        if limit is not None and expected_rank == 0 and km > limit + 1e-6:
            bad(
                "max_km",
                f"教师 {tid} 从 {move.from_school} 到 {move.to_school} 约 {km:.1f} 公里，超过调动距离上限 "
                f"{limit:g} 公里（非本人志愿）",
                move.to_school,
            )
        if move.km is not None and abs(move.km - km) > KM_TOLERANCE:
            bad(
                "figures", f"教师 {tid} 的距离写为 {move.km:g} 公里，重新计算为 {km:.1f} 公里", move.to_school
            )


def check_stage_subject(move: Move, teacher: pd.Series, policy: Policy, bad: Callable[..., None]) -> None:
    """Rules 5 and 6: the stage taught (junior → primary only as a redeployment where the policy allows
    it; a new hire in the stage it was recruited for) and the subject (the main or another qualified
    one, the mapped one for junior → primary)."""
    # Rule 5: stage.
    cross = move.to_stage != move.from_stage
    junior_to_primary = move.from_stage == Stage.junior.value and move.to_stage == Stage.primary.value
    if cross and not (junior_to_primary and move.move_type == "redeploy" and policy.plan.junior_to_primary):
        if move.move_type == "new_hire":
            allowed = "新教师按招聘的学段分配"
        elif not junior_to_primary:
            allowed = "小学教师不能改任初中（跨学段只能由初中富余教师调剂到小学）"
        else:
            allowed = "仅调剂可由初中到小学" + (
                "" if policy.plan.junior_to_primary else "，且本县政策未允许（plan.junior_to_primary）"
            )
        bad(
            "stage",
            f"教师 {move.teacher_id} 由{STAGE_LABEL[move.from_stage]}改任{STAGE_LABEL[move.to_stage]}"
            f"（{TYPE_LABEL[move.move_type]}）：{allowed}",
        )

    # Rule 6: subject.
    if Subject.parse(move.subject) is not None:
        main = teacher["subject"]
        if cross and junior_to_primary:
            mapped = {str(k): str(v) for k, v in policy.plan.junior_to_primary_subjects.items()}
            expected = mapped.get(main, main)
            if move.subject != expected:
                bad(
                    "subject",
                    f"初中{_subject_label(main)}教师 {move.teacher_id} 到小学应任教{_subject_label(expected)}，"
                    f"方案却为{_subject_label(move.subject)}",
                )
        else:
            qualified = {main, *teacher["other_subjects"]}
            if move.subject not in qualified:
                bad(
                    "subject",
                    f"教师 {move.teacher_id} 主教{_subject_label(main)}、兼教"
                    f"{'、'.join(_subject_label(s) for s in teacher['other_subjects']) or '无'}，"
                    f"不能任教{_subject_label(move.subject)}",
                )


def _area_label(area: str) -> str:
    return {"urban": "城区", "town": "镇区", "rural": "乡村"}.get(area, area)


def _school_kind(school: pd.Series) -> str:
    return f"{_area_label(school['area'])}{'薄弱' if school['weak'] else ''}学校"


def _subject_label(code: str) -> str:
    member = Subject.parse(str(code))
    return member.label if member else str(code)


def check_pins(moves: list[Move], pins: pd.DataFrame, out: list[Violation]) -> None:
    """Rule 7 (pins): must_move teachers leave their school, to_school ones move there; not_to_school is
    respected."""
    if pins is None or pins.empty:
        return
    where = {m.teacher_id: m for m in moves}  # a scenario's hires are pinned too (must_move, to_school)
    for pin in pins.itertuples(index=False):
        move = where.get(pin.teacher_id)
        who = f"教师 {pin.teacher_id} 被指定"
        found: tuple[str, str | None] | None = None  # (message, school)
        if pin.kind == "must_move" and move is None:
            found = (f"{who}“必须调出”，方案中却没有其调动", None)
        elif pin.kind == "must_move" and move.from_school == move.to_school:
            found = (f"{who}“必须调出”，方案却只在本校 {move.from_school} 内调整学段", move.from_school)
        elif pin.kind == "to_school" and move is None:
            found = (f"{who}调往 {pin.school_id}，方案中却没有其调动", pin.school_id)
        elif pin.kind == "to_school" and move.to_school != pin.school_id:
            found = (f"{who}调往 {pin.school_id}，方案却调往 {move.to_school}", move.to_school)
        elif pin.kind == "not_to_school" and move is not None and move.to_school == pin.school_id:
            found = (f"{who}不得调往 {pin.school_id}，方案却调往该校", pin.school_id)
        if found:
            out.append(Violation("pins", found[0], teacher_id=pin.teacher_id, school_id=found[1],
                                 row=move.row if move is not None else None))
