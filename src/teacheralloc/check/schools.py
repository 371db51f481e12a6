"""Rules on schools (rules 8–10: 核定编制, the yearly leaving cap, redeployment from surplus) and on the
county (rule 11: the rotation quotas)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from teacheralloc.check.moves import rank_in_wishes
from teacheralloc.check.report import STAGE_LABEL, Violation
from teacheralloc.check.rows import TRANSFERS, Move
from teacheralloc.policy import Policy


def _over_leaving_cap(sid: str, stage: str, posts: int, count: int, share: float, out: list[Violation]) -> None:
    """Rule 9 for a school (`stage` "") or one of its stages: at most max(1, ⌊share × its teachers⌋) leave."""
    cap = max(1, math.floor(share * posts + 1e-9))
    if count > cap:
        where, what = (f"{sid} {STAGE_LABEL[stage]}部", "该学段上限") if stage else (f"{sid} ", "上限")
        note = "；rotation.leaving_cap_by_stage" if stage else ""
        out.append(Violation("max_leaving", f"{where}有教师 {posts} 人，一年调出 {count} 人，超过{what} {cap} 人"
                                            f"（{share:.0%}，至少 1 人{note}）", school_id=sid))


def _on_duty_and_norm(table: pd.DataFrame, sid: str, stage: str) -> tuple[int, int]:
    """A section's teachers on duty before the plan and its norm in whole teachers (⌈target⌉)."""
    return int(table.at[(sid, stage), "teachers_before"]), math.ceil(float(table.at[(sid, stage), "target"]) - 1e-9)


def check_schools(
    moves: list[Move],
    teachers: pd.DataFrame,
    schools: pd.DataFrame,
    units: pd.DataFrame,
    policy: Policy,
    out: list[Violation],
    pinned_to: set[str] | None = None,
) -> None:
    transfers_out: dict[str, int] = {}
    transfers_in: dict[str, int] = {}
    leaving: dict[str, int] = {}
    leaving_section: dict[tuple[str, str], int] = {}
    # Rule 8 where no 核定编制 is given (plan.arrivals_within_shortage): net transfers the plan chose, by stage
    blank = {sid for sid, est in schools["establishment"].items() if est is None or pd.isna(est)}
    pinned = pinned_to or set()
    net: dict[tuple[str, str], int] = {}
    unit_in: dict[tuple[str, str], int] = {}
    redeploy_out: dict[tuple[str, str], int] = {}
    across_out: dict[tuple[str, str], int] = {}  # redeployed to another stage
    posted: dict[tuple[str, str], int] = {}  # support postings on duty the plan chose, by section
    for m in moves:
        if m.move_type == "support" and m.on_duty and m.teacher_id not in pinned:
            posted[(m.to_school, m.to_stage)] = posted.get((m.to_school, m.to_stage), 0) + 1
        within = m.from_school == m.to_school  # 校内跨学段: the school's posts do not change
        if (m.move_type in TRANSFERS or m.move_type == "new_hire") and not within:
            transfers_in[m.to_school] = transfers_in.get(m.to_school, 0) + 1
        # An arrival on duty (a new hire too) fills a post: credit for an exchange; a teacher on leave
        # fills none.
        if (m.move_type in TRANSFERS or m.move_type == "new_hire") and m.on_duty:
            unit_in[(m.to_school, m.to_stage)] = unit_in.get((m.to_school, m.to_stage), 0) + 1
        if m.move_type in TRANSFERS and not within:
            transfers_out[m.from_school] = transfers_out.get(m.from_school, 0) + 1
        voluntary = m.move_type != "new_hire" and rank_in_wishes(teachers.loc[m.teacher_id], m.to_school) > 0
        if m.on_duty and m.move_type in TRANSFERS and m.to_school in blank and m.teacher_id not in pinned \
                and not voluntary:  # a volunteer's own choice, a pinned move: not the plan's
            net[(m.to_school, m.to_stage)] = net.get((m.to_school, m.to_stage), 0) + 1
        if m.move_type != "new_hire":
            key = (m.from_school, m.from_stage)
            if not within:  # a move within the school loses it no one (rule 9)
                leaving[m.from_school] = leaving.get(m.from_school, 0) + 1
                leaving_section[key] = leaving_section.get(key, 0) + 1
            if m.on_duty and m.from_school in blank:
                net[key] = net.get(key, 0) - 1
            if m.move_type == "redeploy" and not voluntary:
                redeploy_out[key] = redeploy_out.get(key, 0) + 1
            if m.move_type == "redeploy" and m.to_stage != m.from_stage:  # a volunteer's too
                across_out[key] = across_out.get(key, 0) + 1

    # Rule 8: establishment (核定编制, school level; posts = every teacher of the school).
    for sid, school in schools.iterrows():
        est = school["establishment"]
        if est is None or pd.isna(est):
            continue
        est, posts = int(est), int(school["posts"])
        arriving, departing = transfers_in.get(sid, 0), transfers_out.get(sid, 0)
        if posts >= est and arriving:
            out.append(
                Violation(
                    "establishment",
                    f"{sid} 在编 {posts} 人，已达核定编制 {est} 人，不得再调入，方案却调入 {arriving} 人",
                    school_id=sid,
                )
            )
        elif posts < est and posts - departing + arriving > est:
            out.append(
                Violation(
                    "establishment",
                    f"{sid} 核定编制 {est} 人，在编 {posts} 人，调出 {departing}、调入 "
                    f"{arriving} 后为 {posts - departing + arriving} 人，超出核定编制",
                    school_id=sid,
                )
            )

    # Rule 8, schools without a 核定编制 (plan.arrivals_within_shortage): the norm stands for it, by stage.
    table = units.set_index(["school_id", "stage"])
    if policy.plan.arrivals_within_shortage:
        for (sid, stage), gained in sorted(net.items()):
            if gained <= 0 or (sid, stage) not in table.index:
                continue
            before, norm = _on_duty_and_norm(table, sid, stage)
            if before + gained > max(norm, before):
                out.append(
                    Violation(
                        "establishment",
                        f"{sid}{STAGE_LABEL[stage]}未填核定编制，按标准应有 {norm} 人，在岗 {before} 人，"
                        f"调入比调出多 {gained} 人后为 {before + gained} 人，超过标准"
                        "（plan.arrivals_within_shortage）",
                        school_id=sid,
                    )
                )

    # Rule 8, support postings (support.max_above_norm): what a section lacked of its norm, and that many more.
    extra = policy.support.max_above_norm
    if extra is not None:
        for (sid, stage), count in sorted(posted.items()):
            if (sid, stage) not in table.index:
                continue
            before, norm = _on_duty_and_norm(table, sid, stage)
            if count > max(0, norm - before) + extra:
                out.append(Violation(
                    "establishment",
                    f"{sid}{STAGE_LABEL[stage]}按标准应有 {norm} 人，在岗 {before} 人，支教调入 {count} 人，"
                    f"超过所缺人数加 {extra} 人（support.max_above_norm）", school_id=sid))

    # Rule 9: no school loses more than its share.
    share = policy.rotation.max_share_leaving_school
    for sid, count in sorted(leaving.items()):
        _over_leaving_cap(sid, "", int(schools.at[sid, "posts"]), count, share, out)

    # Rule 9 by stage: each section of a school with several holding teachers, when the policy says so.
    if policy.rotation.leaving_cap_by_stage:
        held = teachers.groupby(["school_id", "stage"]).size()
        sections = {(sid, stage) for sid, stage in zip(units["school_id"], units["stage"], strict=True)
                    if held.get((sid, stage), 0) > 0}
        stages = pd.Series([sid for sid, _ in sections], dtype=object).value_counts()
        for (sid, stage), count in sorted(leaving_section.items()):
            if (sid, stage) not in sections or stages.get(sid, 0) < 2:
                continue
            _over_leaving_cap(sid, stage, int(held[(sid, stage)]), count, share, out)

    # Rule 10: involuntary redeployment only from surplus (plus what the unit receives).
    for (sid, stage), count in sorted(redeploy_out.items()):
        surplus = int(table.at[(sid, stage), "surplus"]) if (sid, stage) in table.index else 0
        received = unit_in.get((sid, stage), 0)
        if count > surplus + received:
            before = int(table.at[(sid, stage), "teachers_before"]) if (sid, stage) in table.index else 0
            target = float(table.at[(sid, stage), "target"]) if (sid, stage) in table.index else 0.0
            out.append(
                Violation(
                    "redeploy_surplus",
                    f"{sid}{STAGE_LABEL[stage]}在岗 {before} 人、按编制应有 {target:g} 人，"
                    f"富余 {surplus} 人、调入在岗教师 {received} 人，却调剂出 {count} 人"
                    "（非本人志愿）",
                    school_id=sid,
                )
            )
    # ... and to another stage only from its own surplus (初中富余教师转任小学; no credit for transfers in).
    for (sid, stage), count in sorted(across_out.items()):
        surplus = int(table.at[(sid, stage), "surplus"]) if (sid, stage) in table.index else 0
        if count > surplus:
            out.append(
                Violation(
                    "redeploy_surplus",
                    f"{sid}{STAGE_LABEL[stage]}富余 {surplus} 人，却跨学段调剂出 {count} 人：跨学段调剂只能调出本校"
                    "该学段的富余教师（调入的教师不抵）",
                    school_id=sid,
                )
            )


def quota_figures(
    moves: list[Move], teachers: pd.DataFrame, schools: pd.DataFrame, policy: Policy
) -> dict[str, Any]:
    rotation = policy.rotation
    eligible = teachers[teachers["rotation_eligible"]]
    every = [m for m in moves if m.move_type == "rotation"]
    if rotation.quota_base == "sending":  # the base: urban and town schools, not weak; only their rotations count
        sending = set(schools.index[(schools["area"] != "rural") & ~schools["weak"]])
        eligible = eligible[eligible["school_id"].isin(sending)]
        counted = [m for m in every if m.from_school in sending]
    else:
        counted = every
    base = len(eligible)
    required = math.ceil(rotation.min_share_of_eligible * base - 1e-9)
    rotated = [m.teacher_id for m in counted]
    backbone = int(teachers.loc[rotated, "backbone_flag"].sum()) if rotated else 0
    share = rotation.min_backbone_share_of_rotators
    return {
        "eligible_base": base,
        "required_rotations": required,
        "rotations": len(rotated),
        "rotations_all": len(every),
        "backbone_rotations": backbone,
        "backbone_required": math.ceil(share * len(rotated) - 1e-9),
        "rotation_quota_met": len(rotated) >= required,
        "backbone_quota_met": backbone >= share * len(rotated) - 1e-9,
    }


def check_quota(
    quota: dict[str, Any],
    summary: dict[str, Any],
    policy: Policy,
    out: list[Violation],
    warn: list[Violation],
) -> None:
    written = summary.get("quota") if isinstance(summary.get("quota"), dict) else {}
    shortfall = [str(s) for s in (written.get("shortfall") or []) if str(s).strip()]
    short = []
    if not quota["rotation_quota_met"]:
        short.append(
            f"交流轮岗 {quota['rotations']} 人，少于应交流 {quota['required_rotations']} 人"
            f"（符合条件教师 {quota['eligible_base']} 人的 {policy.rotation.min_share_of_eligible:.0%}）"
        )
    if not quota["backbone_quota_met"]:
        short.append(
            f"交流的骨干教师 {quota['backbone_rotations']} 人，少于交流人数的 "
            f"{policy.rotation.min_backbone_share_of_rotators:.0%}（{quota['backbone_required']} 人）"
        )
    for text in short:
        if shortfall:
            warn.append(Violation("quota", f"{text}（summary.json 已说明原因，见下）", severity="warning"))
        else:
            out.append(Violation("quota", f"{text}，且 summary.json 未说明原因（quota.shortfall 为空）"))
    if short and shortfall:
        warn.extend(
            Violation("quota", f"summary.json 说明：{reason}", severity="warning") for reason in shortfall
        )
    for key, value in quota.items():
        if key in written and written[key] != value:
            out.append(
                Violation("quota", f"summary.json 的 quota.{key} 为 {written[key]}，重新计算为 {value}")
            )
