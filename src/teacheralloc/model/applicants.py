"""申请交流教师的结果 (applicants.csv): every teacher who asked to move, where the plan sends them, and for
each one it keeps, why. The office answers every applicant; a volunteer the plan kept appeared in no
output at all (a tester's planted county), so HR could not say why the application failed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from teacheralloc.domain import Stage
from teacheralloc.model.candidates import EXEMPT_LABELS, Candidates, capped_sections, leaving_cap
from teacheralloc.policy import Policy

#: applicants.csv, in order; `outcome`: `wish_1`, `wish_2`, … (moved to that wish), `moved` (moved, no
#: wish list), `stayed`.
APPLICANT_COLUMNS = ("teacher_id", "school_id", "stage", "subject", "wishes", "outcome", "to_school", "reason")


def applicant_outcomes(candidates: Candidates, policy: Policy, moves: pd.DataFrame, schools: pd.DataFrame,
                       pins: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per applicant (申请交流): moved to which wish, or kept and why. `moves`: plan.csv's rows
    (with `reason`, `wish_rank`); `schools`: the plan's school table (`gap_before`, `gap_after` per school
    and stage); `pins`: the plan's pins (a not_to_school pin closes a wish)."""
    teachers = candidates.teachers
    applied = teachers[teachers["volunteer"].astype(bool)]
    if not len(applied):
        return pd.DataFrame(columns=list(APPLICANT_COLUMNS))
    moved = moves.drop_duplicates("teacher_id").set_index("teacher_id") if len(moves) else pd.DataFrame()
    arcs = candidates.arcs
    direct = arcs[arcs["kind"] == "direct"]
    reachable = direct.groupby("group", observed=True)["dest_school"].agg(lambda s: set(s.astype(str)))
    barred = set() if pins is None or pins.empty else set(
        zip(*pins.loc[pins["kind"] == "not_to_school", ["teacher_id", "school_id"]].to_numpy().T, strict=True))
    context = _Context(candidates, policy, schools, moves, barred)
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
            row.update(outcome="stayed", reason=context.why_kept(t, wishes, reachable.get(t.group, set())))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(APPLICANT_COLUMNS))


class _Context:
    """What the reasons for kept applicants read: schools' gaps and names, departures against the yearly
    leaving caps, the tier order, the pins."""

    def __init__(self, candidates: Candidates, policy: Policy, schools: pd.DataFrame, moves: pd.DataFrame,
                 barred: set[tuple[str, str]]) -> None:
        self.candidates, self.policy, self.barred = candidates, policy, barred
        keyed = schools.set_index(["school_id", "stage"])
        self.gap_after = keyed["gap_after"]
        self.gap_before = keyed["gap_before"] if "gap_before" in keyed else keyed["gap_after"] * np.nan
        units = candidates.units
        per_school = units.drop_duplicates("school_id").set_index("school_id")
        self.names = per_school["name"].astype(str).to_dict()
        out = moves[moves["from_school"] != moves["to_school"]] if len(moves) else moves
        self.sent = out["from_school"].value_counts().to_dict() if len(out) else {}
        self.sent_section = (out["from_school"] + "|" + out["from_stage"]).value_counts().to_dict() if len(out) \
            else {}
        posts = per_school["school_posts"]
        self.cap = dict(zip(posts.index, leaving_cap(posts, policy.rotation.max_share_leaving_school), strict=True))
        sections = capped_sections(units, policy)
        self.section_cap = dict(zip(sections["unit"], sections["cap"], strict=True))
        # Posts held against the 核定编制 (none given: no limit), before and after the plan: a school the
        # plan's own transfers filled takes no more (a tester: a wish named 仍缺 0.3 人 that the plan had
        # filled to its 11 posts); one full before reads as such (a 支教 arc may reach it all the same).
        establishment = per_school["establishment"].fillna(np.inf)
        held = schools.groupby("school_id")["establishment_after"].sum() if "establishment_after" in schools \
            else pd.Series(dtype=float)
        self.full_before = set(posts.index[posts >= establishment - 1e-9])
        self.filled_posts = set(held.index[held >= establishment.reindex(held.index).fillna(np.inf) - 1e-9]) \
            - self.full_before
        order = tuple(policy.plan.tiers)
        self.headcount_first = order.index("headcount") < order.index("wishes")

    def named(self, school: str) -> str:
        name = self.names.get(school, "")
        return f"{school}（{name}）" if name else school

    def why_kept(self, t: object, wishes: tuple[str, ...], reachable: set[str]) -> str:
        """Why an applicant stays: not movable, no wish list, each wish school's state (closed by which
        rule, no longer short, or open), then what held the teacher: the yearly leaving cap, the home
        school's own shortage, else the tiers ranked above the wishes."""
        if not t.movable:  # type: ignore[attr-defined]
            if t.exempt == "pinned":  # type: ignore[attr-defined]
                return "指定留任（pins.csv）：未调动"
            if t.exempt == "special":  # type: ignore[attr-defined]
                return "特殊教育学校教师只调往本人志愿学校（plan.special_schools_take_part），未填志愿：未调动"
            label = EXEMPT_LABELS.get(t.exempt, t.exempt)  # type: ignore[attr-defined]
            return f"不参加调动：{label}（rotation.exempt_*）"
        stage = str(t.stage)  # type: ignore[attr-defined]
        if not wishes:
            return "未填志愿学校：按一般教师参加调配（交流轮岗、支教、调剂），本方案未调动"
        states, open_short = [], []
        for w in wishes:
            if (t.teacher_id, w) in self.barred:  # type: ignore[attr-defined]
                state = "指定不得调往（pins.csv）"
            elif w not in reachable:
                state = _closed(t, w, self.candidates, self.policy)
            elif w in self.full_before:  # reachable all the same: a 支教 posting may serve there
                state = "已达核定编制，不能调入"
            elif w in self.filled_posts:
                state = "本方案调入后已达核定编制，不能再调入"
            elif _filled(w, stage, self.gap_after):
                before = _filled(w, stage, self.gap_before)
                state = f"{'不缺' if before else '调配后已不缺'}{Stage(stage).label}教师"
            else:
                short = max(float(self.gap_after.get((w, s), 0.0)) for s in _stages_for(stage))
                state = f"仍缺 {short:.1f} 人"
                open_short.append(w)
            states.append(f"{self.named(w)}{state}")
        parts = ["志愿学校：" + "；".join(states)]
        if open_short:  # a wish school still short could take them: what held them at home
            parts += self._held(t, stage)
        return "。".join(parts) + "。本方案未调动"

    def _held(self, t: object, stage: str) -> list[str]:
        """What kept a teacher whose wish schools (some of them) could take them."""
        school = t.school_id  # type: ignore[attr-defined]
        section = f"{school}|{stage}"
        if self.sent.get(school, 0) >= self.cap.get(school, np.inf):
            return [f"本校本年调出已达上限 {self.cap[school]:.0f} 人（rotation.max_share_leaving_school）"]
        if section in self.section_cap and self.sent_section.get(section, 0) >= self.section_cap[section]:
            return [f"本校{Stage(stage).label}本年调出已达上限 {self.section_cap[section]:.0f} 人"
                    "（rotation.leaving_cap_by_stage）"]
        home = float(self.gap_after.get((school, stage), np.nan))
        if home == home and home > -1 + 1e-9:
            ranked = "（总量缺编先于意愿，plan.tiers）" if self.headcount_first else ""
            return [f"本校{Stage(stage).label}调配后" + (f"仍缺 {home:.1f} 人" if home > 1e-9 else "没有富余教师")
                    + f"，调出会加大本校缺编{ranked}"]
        return ["调往志愿学校会加大学科缺口、优质均衡差额或调动扰动（plan.tiers 中排在意愿之前的目标）"]


def _stages_for(stage: str) -> tuple[str, ...]:
    """The stages an applicant may teach at a wished school: their own; a junior teacher also primary."""
    return (stage, Stage.primary.value) if stage == Stage.junior.value else (stage,)


def _filled(school: str, stage: str, gaps: pd.Series) -> bool:
    """The school has no shortage in the applicant's stages (`_stages_for`)."""
    known = [g for g in (gaps.get((school, s), np.nan) for s in _stages_for(stage)) if g == g]
    return bool(known) and all(g <= 1e-9 for g in known)


def _closed(teacher: object, school: str, candidates: Candidates, policy: Policy) -> str:
    """The first rule that closes `school` to this applicant. A wished move is bound by neither the
    distance limit nor the norm cap of a school with no 核定编制 (docs/plan.md), so neither is named."""
    t = teacher
    units = candidates.units[candidates.units["school_id"] == school]
    stages = set(units["stage"].astype(str))
    stage = str(t.stage)  # type: ignore[attr-defined]
    if not len(units):
        return "不参加调配"
    if not policy.plan.special_schools_take_part and (units["type"].astype(str) == "special").any():
        return "是特殊教育学校，不接收调入（plan.special_schools_take_part）"
    if stage not in stages:
        if stage == Stage.junior.value and Stage.primary.value in stages:
            if not policy.plan.junior_to_primary:
                return "只有小学，本县政策不允许初中教师到小学任教（plan.junior_to_primary）"
            return "只有小学，初中教师只能作为富余教师跨学段到小学，本校初中没有富余（rules.cross_stage_from_surplus）"
        return f"没有{Stage(stage).label}学段"
    if bool((units["school_posts"] >= units["establishment"].fillna(np.inf)).any()):
        return "已达核定编制，不能调入"
    return "不能调入（不符合学段、任教学科等调动规则）"
