"""申请交流教师的结果 (applicants.csv): every teacher who asked to move, where the plan sends them, and for
each one it keeps, why. The office answers every applicant; a volunteer the plan kept appeared in no
output at all (a tester's planted county), so HR could not say why the application failed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from teacheralloc.domain import Stage
from teacheralloc.model.candidates import EXEMPT_LABELS, Candidates
from teacheralloc.policy import Policy

#: applicants.csv, in order; `outcome`: `wish_1`, `wish_2`, … (moved to that wish), `moved` (moved, no
#: wish list), `stayed`.
APPLICANT_COLUMNS = ("teacher_id", "school_id", "stage", "subject", "wishes", "outcome", "to_school", "reason")


def applicant_outcomes(candidates: Candidates, policy: Policy, moves: pd.DataFrame,
                       schools: pd.DataFrame) -> pd.DataFrame:
    """One row per applicant (申请交流): moved to which wish, or kept and why. `moves`: plan.csv's rows
    (with `reason`, `wish_rank`); `schools`: the plan's school table (`gap_after` per school and stage)."""
    teachers = candidates.teachers
    applied = teachers[teachers["volunteer"].astype(bool)]
    if not len(applied):
        return pd.DataFrame(columns=list(APPLICANT_COLUMNS))
    moved = moves.drop_duplicates("teacher_id").set_index("teacher_id") if len(moves) else pd.DataFrame()
    arcs = candidates.arcs
    direct = arcs[arcs["kind"] == "direct"]
    reachable = direct.groupby("group", observed=True)["dest_school"].agg(lambda s: set(s.astype(str)))
    gap_after = schools.set_index(["school_id", "stage"])["gap_after"]
    rows = []
    for t in applied.itertuples(index=False):
        wishes = tuple(t.wishes)
        row = {"teacher_id": t.teacher_id, "school_id": t.school_id, "stage": str(t.stage), "subject": t.subject,
               "wishes": ";".join(wishes), "to_school": "", "reason": ""}
        if t.teacher_id in moved.index:
            move = moved.loc[t.teacher_id]
            rank = int(move["wish_rank"]) if "wish_rank" in move and move["wish_rank"] == move["wish_rank"] else 0
            row.update(outcome=f"wish_{rank}" if rank > 0 else "moved", to_school=str(move["to_school"]),
                       reason=str(move["reason"]))
        else:
            row.update(outcome="stayed",
                       reason=_why_kept(t, wishes, reachable.get(t.group, set()), candidates, policy, gap_after))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(APPLICANT_COLUMNS))


def _why_kept(teacher: object, wishes: tuple[str, ...], reachable: set[str], candidates: Candidates,
              policy: Policy, gap_after: pd.Series) -> str:
    """Why an applicant stays: not movable, no wish school open to them (each school's rule), or the
    wished move would cost a tier ranked above the wishes (the facts that say so)."""
    t = teacher
    if not t.movable:  # type: ignore[attr-defined]
        label = EXEMPT_LABELS.get(t.exempt, t.exempt)  # type: ignore[attr-defined]
        if t.exempt == "special":  # type: ignore[attr-defined]
            return "特殊教育学校教师只调往本人志愿学校（plan.special_schools_take_part），未填志愿：未调动"
        return f"不参加调动：{label}（rotation.exempt_*；指定留任见 pins.csv）"
    stage = str(t.stage)  # type: ignore[attr-defined]
    home = gap_after.get((t.school_id, stage), np.nan)  # type: ignore[attr-defined]
    stage_label = Stage(stage).label
    if not wishes:
        return "未填志愿学校：按一般教师参加调配（交流轮岗、支教、调剂），本方案未调动"
    closed = [w for w in wishes if w not in reachable]
    if len(closed) == len(wishes):
        return "志愿学校都不能调入：" + "；".join(f"{w}（{_closed(t, w, candidates, policy)}）" for w in wishes)
    parts = []
    if home == home and home > -1 + 1e-9:
        parts.append(f"本校{stage_label}调配后" + (f"仍缺 {home:.1f} 人" if home > 1e-9 else "没有富余教师")
                     + "，调出会加大缺编（总量缺编先于意愿）")
    served = [w for w in wishes if w in reachable]
    full = [w for w in served if _filled(w, stage, gap_after)]
    if full:
        parts.append(f"志愿学校{'、'.join(full)}调配后已不缺{stage_label}教师")
    if closed:
        parts.append("；".join(f"{w}不能调入（{_closed(t, w, candidates, policy)}）" for w in closed))
    if not parts:
        parts.append("调往志愿学校会加大学科缺口、优质均衡差额或超出调出比例上限（这些先于意愿）")
    return "；".join(parts) + "：本方案未调动"


def _filled(school: str, stage: str, gap_after: pd.Series) -> bool:
    """The wished school has no shortage left in the applicant's stage (or in primary, the only other
    stage a junior teacher may take)."""
    stages = (stage, Stage.primary.value) if stage == Stage.junior.value else (stage,)
    gaps = [gap_after.get((school, s), np.nan) for s in stages]
    known = [g for g in gaps if g == g]
    return bool(known) and all(g <= 1e-9 for g in known)


def _closed(teacher: object, school: str, candidates: Candidates, policy: Policy) -> str:
    """The first rule that closes `school` to this applicant."""
    t = teacher
    units = candidates.units[candidates.units["school_id"] == school]
    stages = set(units["stage"].astype(str))
    stage = str(t.stage)  # type: ignore[attr-defined]
    if not len(units):
        return "不参加调配"
    if not policy.plan.special_schools_take_part and (units["type"].astype(str) == "special").any():
        return "特殊教育学校，不接收调入（plan.special_schools_take_part）"
    if stage not in stages:
        if stage == Stage.junior.value and Stage.primary.value in stages:
            if not policy.plan.junior_to_primary:
                return "本县政策不允许初中教师到小学任教（plan.junior_to_primary）"
            return "初中教师只能作为富余教师跨学段到小学，本校初中没有富余（rules.cross_stage_from_surplus）"
        return f"没有{Stage(stage).label}学段"
    if bool((units["school_posts"] >= units["establishment"].fillna(np.inf)).any()):
        return "已达核定编制"
    max_km = policy.plan.max_km
    if max_km is not None:
        index = candidates.school_index
        km = float(candidates.distance[index[t.school_id], index[school]])  # type: ignore[attr-defined]
        if km > max_km:
            return f"相距约 {km:.0f} 公里，超过调动距离上限 plan.max_km（{max_km:g} 公里）"
    return "调入会超出该校按标准应有的人数（plan.arrivals_within_shortage）或不符合其他调动规则"
