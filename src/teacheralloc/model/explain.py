"""Reasons and causes (理由与原因): a Chinese sentence for every move naming the gap it fills and the
rule that allows it, and for every shortage left, why no transfer could fix it."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pandas as pd

from teacheralloc.domain import INDICATOR_DROP_NOTE, SHORTAGE_SHIFT_NOTE, Area, MoveType, Stage, Status, Subject, Title
from teacheralloc.model.candidates import EXEMPT_LABELS, Candidates, leaving_cap, unit_id
from teacheralloc.model.objective import TIER_LABELS
from teacheralloc.policy import Policy

AREA = {a.value: a.label for a in Area}
#: The start of the note on moves of unknown distance (`unknown_distance_note`), to find it again.
UNKNOWN_DISTANCE = "调动距离未知"
STAGE = {s.value: s.label for s in Stage}
MOVE_LABEL = {m.value: m.label for m in MoveType}
#: Moves out of a school as its causes count them: by type, a volunteer's wished move apart.
#: Teachers who hold their post at a school while not on duty there (they count on the books, not on duty).
AWAY = "外出支教、借调、休假或脱产进修，期满返回"
OUT_LABEL = {**MOVE_LABEL, "wish": "本人申请", "within": "校内转任小学部"}


def _subject(code: str) -> str:
    member = Subject.parse(str(code))
    return member.label if member else str(code)


def _tenths(value: float) -> str:
    """A figure to one decimal, halves up as the plan rounds (3.55 → 3.6; `:.1f` gave 3.5, the float
    being 3.5499…)."""
    return f"{math.floor(value * 10 + 0.5 + 1e-9) / 10:.1f}"


class _Openings:
    """What each unit lacked before the plan, in whole teachers, handed out to its arrivals in plan order:
    an arrival names a gap only while one is left (a teaching point 4 short, 8 arrivals: the first 4 name
    缺编 4 人, the others what else they fill, or only the rule that allows them)."""

    def __init__(self, units: dict[str, dict[str, Any]], gaps: dict[tuple[str, str], float]) -> None:
        self.headcount = {k: math.ceil(u["headcount_gap"] - 1e-9) for k, u in units.items() if u["headcount_gap"] > 0}
        self.subject = {k: math.ceil(g - 1e-9) for k, g in gaps.items() if g > 0}
        self.backbone = {k: math.ceil(u["backbone_target"] - u["backbone_before"] - 1e-9) for k, u in units.items()
                         if u["backbone_target"] > u["backbone_before"]}
        self.pe_arts = {k: math.ceil(u["pe_arts_target"] - u["pe_arts_before"] - 1e-9) for k, u in units.items()
                        if u["pe_arts_target"] > u["pe_arts_before"]}

    @staticmethod
    def _take(left: dict[Any, int], key: Any) -> bool:
        if left.get(key, 0) <= 0:
            return False
        left[key] -= 1
        return True

    def needs(self, key: str, unit: dict[str, Any], taught: str, backbone: bool, pe_arts: bool,
              gaps: dict[tuple[str, str], float]) -> str:
        """What unit `key` (its row as a dict) lacked before the plan that this arrival fills, in words."""
        parts = []
        if self._take(self.headcount, key):
            parts.append(f"缺编 {unit['headcount_gap']:.0f} 人（按标准需 {_tenths(unit['required'])} 人，"
                         f"在岗 {unit['before']}）")
        if self._take(self.subject, (key, taught)):
            # The subject tier's count: whole teachers of that main subject (subjects.csv's FTE also counts
            # what teachers of other subjects can cover, so it may show less: 0.2 where this says 1).
            parts.append(f"{_subject(taught)}教师缺 {gaps[(key, taught)]:.0f} 人（按主教学科整人计）")
        if backbone and self._take(self.backbone, key):
            parts.append("县级以上骨干教师未达每百名学生 1 人")
        if pe_arts and self._take(self.pe_arts, key):
            parts.append("体育艺术教师未达每百名学生 0.9 人")
        return "，".join(parts)


def move_reasons(moves: pd.DataFrame, candidates: Candidates, schools: pd.DataFrame, policy: Policy,
                 subject_fte: dict[str, tuple[float, float]] | None = None) -> list[str]:
    """One sentence per move: the gap it fills at the destination and the rule that allows it.
    `subject_fte`: each unit's subject shortage in FTE before and after the plan, for a move whose
    destination lacked no whole teacher of what it teaches but whose subject shortage fell (the
    school's own teachers take over the subjects it lacks)."""
    subject_fte = subject_fte or {}
    units = candidates.units.set_index("unit")
    names = schools.set_index("school_id")["name"]
    gaps = {(u, s): g for u, s, g in zip(candidates.subjects["unit"], candidates.subjects["subject"],
                                         candidates.subjects["gap"], strict=True)}
    # Rows as dicts: a pandas row lookup per move costs more than the sentence.
    unit_rows = units.to_dict("index")
    teacher_frame = candidates.teachers.set_index("teacher_id")
    teacher_rows = teacher_frame.loc[
        moves["teacher_id"],
        ["backbone_flag", "pe_arts_flag", "years_at_school", "support_need", "title", "on_duty", "status",
         "rural_years", "pin_must_move", "exempt", "volunteer"],
    ].to_dict("records")
    # Transfers on duty into each unit: what an exchange (对调) redeploys against (rules.redeploy_from_surplus).
    duty = moves["teacher_id"].map(teacher_frame["on_duty"]).fillna(True).astype(bool)
    transfer = moves["move_type"].isin(["rotation", "redeploy"]) & duty
    received = (moves.loc[transfer, "to_school"] + "|" + moves.loc[transfer, "to_stage"]).value_counts().to_dict()
    # Teachers on duty each unit sends away in this plan, by kind: the places a move may fill that
    # were not short before the plan (a rotation's or a support posting's replacement).
    leaving = moves[duty]
    vacated: dict[str, dict[str, int]] = {}
    for key, kind in zip(leaving["from_school"] + "|" + leaving["from_stage"], leaving["move_type"], strict=True):
        vacated.setdefault(key, {}).setdefault(str(kind), 0)
        vacated[key][str(kind)] += 1
    arriving = (moves.loc[duty, "to_school"] + "|" + moves.loc[duty, "to_stage"]).value_counts().to_dict()
    openings = _Openings(unit_rows, gaps)
    places = {key: sum(kinds.values()) for key, kinds in vacated.items()}  # places left by this plan's moves
    reasons = []
    for move, teacher in zip(moves.itertuples(index=False), teacher_rows, strict=True):
        origin = unit_rows[f"{move.from_school}|{move.from_stage}"]
        dest_key = f"{move.to_school}|{move.to_stage}"
        dest = unit_rows[dest_key]
        need = "" if not teacher["on_duty"] else openings.needs(
            dest_key, dest, move.subject, bool(teacher["backbone_flag"]), bool(teacher["pe_arts_flag"]), gaps)
        to_name, from_name = names[move.to_school], names[move.from_school]
        subject = _subject(move.subject)
        if move.move_type == "rotation":
            rule = (f"该教师在{from_name}连续任教满 {int(teacher['years_at_school'])} 年，符合交流轮岗条件（满 "
                    f"{policy.rotation.eligible_years_at_school:g} 年）；由{AREA[origin['area']]}"
                    f"{'薄弱' if origin['weak'] else ''}学校向"
                    f"{AREA[dest['area']]}{'薄弱' if dest['weak'] else ''}学校交流（交流轮岗"
                    + ("" if candidates.quota_schools is None or move.from_school in candidates.quota_schools
                       else "；不计入轮岗比例，比例按城区、镇区非薄弱学校的教师计") + "）")
        elif move.move_type == "support":
            if teacher["support_need"]:
                # After the posting: what it brings the teacher's rural service to, said as it is (with a
                # threshold above the term, one posting does not meet it).
                needed, term = policy.support.senior_title_rural_years, policy.support.term_years
                served = float(teacher["rural_years"]) + term
                outcome = ("可满足申报高级职称条件" if served >= needed - 1e-9 else
                           f"后累计 {served:g} 年，距申报高级职称所需的 {needed:g} 年尚差 {needed - served:g} 年")
                rule = (f"该教师为{Title(teacher['title']).label}教师，农村或薄弱学校任教经历不足 "
                        f"{needed:g} 年，支教 {term:g} 年{outcome}（支教）；人事关系仍在{from_name}")
            else:
                rule = f"本人申请交流，安排支教 {policy.support.term_years:g} 年（支教）；人事关系仍在{from_name}"
        elif move.voluntary:
            rule = f"本人申请交流，{to_name}为其第 {move.wish_rank} 志愿"
            if origin["surplus"] < 1 and teacher["on_duty"]:  # plan.md: a unit with no surplus says what it got back
                part = f"{STAGE[move.from_stage]}部" if origin["type"] in ("nine_year", "special") else ""
                back = received.get(f"{move.from_school}|{move.from_stage}", 0)
                rule += (f"；{from_name}{part}无富余，本次调入在岗教师（支教除外） {back} 人，以调入抵调出（对调）"
                         if back else f"；{from_name}{part}无富余，本人申请的志愿调动不受富余限制")
        else:
            # The surplus the rule reads (rules.redeploy_from_surplus): whole teachers over the rounded norm.
            # Before/after required ≥ 1 said 富余 where a section of 11 for 10.15 posts (surplus 1 here)
            # or 对调 where the norm rounds the other way.
            part = f"{STAGE[move.from_stage]}部" if origin["type"] in ("nine_year", "special") else ""
            if origin["surplus"] >= 1:
                rule = (f"{from_name}{part}在岗 {origin['before']} 人，按编制标准需 {_tenths(origin['required'])} 人、"
                        f"应有 {origin['target']:g} 人，富余 {origin['surplus']} 人，富余教师调剂")
            else:
                rule = (f"{from_name}{part}无富余，本次调入在岗教师（支教除外） "
                        f"{received.get(f'{move.from_school}|{move.from_stage}', 0)} 人，以调入抵调出（对调调剂）")
            if move.from_stage != move.to_stage and move.from_school == move.to_school:
                rule += f"；校内跨学段调整：初中富余教师转任本校小学部，任教{subject}（不离开本校）"
            elif move.from_stage != move.to_stage:
                rule += f"；初中富余教师跨学段到小学任教{subject}"
        # A volunteer's wish and a pin are said whatever the kind of move (a volunteer rotated to their
        # first wish read as any rotation; a teacher pinned to move, as one the plan chose).
        rank = int(getattr(move, "wish_rank", 0) or 0)
        if move.voluntary and rank > 0 and "志愿" not in rule:
            rule += f"；本人申请交流，{to_name}为其第 {rank} 志愿"
        if teacher["pin_must_move"]:  # a to_school pin to the own school moves within it (校内跨学段)
            rule += "；按人事股指定转任本校小学部（pins.csv）" if move.from_school == move.to_school \
                else "；按人事股指定调出（pins.csv）"
        if teacher["exempt"] and teacher["volunteer"] and "本人申请" not in rule:
            # movable only because they applied: a teacher under a service obligation read 富余教师调剂 alone
            rule += f"；该教师属“{EXEMPT_LABELS.get(teacher['exempt'], teacher['exempt'])}”，因本人申请交流可以调动"
        place = to_name if to_name.endswith(STAGE[move.to_stage]) or dest["type"] not in ("nine_year", "special") \
            else f"{to_name}{STAGE[move.to_stage]}部"
        if not teacher["on_duty"]:  # on leave: fills no post this year, whatever the destination lacks
            head = (f"调往{place}任教{subject}（该教师目前{Status(teacher['status']).label}，"
                    "本年不计在岗，不补缺编）")
        elif need:
            head = f"{place}{need}，任教{subject}"
        elif places.get(dest_key, 0) > 0:
            places[dest_key] -= 1
            kinds = "、".join(f"{MOVE_LABEL.get(k, k)} {n} 人" for k, n in vacated[dest_key].items())
            head = f"{place}本次调出在岗教师（{kinds}），补其空出的位置，任教{subject}"
        elif subject_fte.get(dest_key, (0.0, 0.0))[0] > subject_fte.get(dest_key, (0.0, 0.0))[1] + 0.05:
            before, after = subject_fte[dest_key]
            digits = 1 if round(before, 1) != round(after, 1) else 2  # "由 2.1 人降至 2.1 人" said nothing
            head = (f"{place}学科缺口（折合）由 {before:.{digits}f} 人降至 {after:.{digits}f} 人"
                    f"（调入后本校{subject}教师有余力兼任所缺学科），任教{subject}")
        elif move.move_type == "rotation":
            origin_key = f"{move.from_school}|{move.from_stage}"
            filled = f"；{from_name}的位置由本次调入的 {arriving[origin_key]} 人补足" if origin_key in arriving else ""
            head = f"按交流轮岗比例安排到{place}任教{subject}{filled}"
        else:
            head = f"到{place}任教{subject}"
        reasons.append(f"{head}。{rule}。")
    return reasons


def shortage_causes(after: pd.DataFrame, subjects_after: pd.DataFrame, candidates: Candidates, policy: Policy,
                    moved: set[str], moves: pd.DataFrame | None = None,
                    subjects_before: pd.DataFrame | None = None) -> pd.DataFrame:
    """For every school and stage still short after the plan (headcount, or a subject by a whole
    teacher or more, or by the whole teacher its demand rounds to), the reason the plan could not fix
    it; where the plan's own moves out of a school
    made its shortage larger (`moves`: rotations to weaker schools, support postings), first that: a
    city school left 22 short by 14 rotations and 17 postings gave only 全县初中已无富余可调教师. The same
    for a subject gap the plan's moves of that subject's teachers made (`subjects_before`): a junior
    school left 2.8 FTE short of Chinese by three Chinese rotations read 属结构性缺编，需招聘补充."""
    units = candidates.units.set_index("unit")
    teachers = candidates.teachers
    staying = teachers[teachers["movable"] & ~teachers["teacher_id"].isin(moved)]
    surplus_units = set(after.loc[after["gap_after"] <= -1, "unit"])
    spare = staying[(staying["school_id"] + "|" + staying["stage"].astype(str)).isin(surplus_units)]
    # Teachers of surplus schools the rules keep where they are (exempt, pinned to stay): a shortage the
    # county could fill once they may move is no shortage of posts.
    fixed = teachers[~teachers["movable"] & ~teachers["teacher_id"].isin(moved)]
    held = fixed[(fixed["school_id"] + "|" + fixed["stage"].astype(str)).isin(surplus_units)]
    short_total = after.groupby("stage")["gap_after"].sum()
    held_teach = _teachable(held, policy)
    # What the spare teachers cover, once: the stages they are in, and per stage the subjects they teach
    # or may teach there (a junior teacher in primary the mapped subject, where the policy allows it).
    spare_stages = set(spare["stage"].astype(str))
    spare_subjects = _subjects_by_stage(spare, policy)
    moved_subjects = _subjects_by_stage(teachers[teachers["teacher_id"].isin(moved)], policy)
    # At or above its 核定编制 before the plan, a school receives no transfer (candidates: `closed`); one
    # the plan's own transfers bring to it receives no more (posts after: `establishment_after`).
    cap = units["establishment"].fillna(np.inf)
    full = set(units.index[units["school_posts"] >= cap])
    if "establishment_after" in after:
        posts_after = units["school_id"].map(after.groupby("school_id")["establishment_after"].sum()).fillna(0)
        filled = set(units.index[(posts_after >= cap) & ~units.index.isin(list(full))])
    else:
        filled = set()
        posts_after = pd.Series(np.nan, index=units.index)
    # 支教 goes only to rural or weak schools: only there may a full school still receive one.
    support_in = set(units.index[(units["area"].astype(str) == "rural") | units["weak"].astype(bool)])

    school_target = units["school_id"].map(units.groupby("school_id")["target"].sum())
    sections = units.groupby("school_id")["school_id"].transform("size")

    def establishment_cause(unit: str) -> str | None:
        if unit not in full and unit not in filled:
            return None
        only = "（只可安排支教）" if unit in support_in else ""
        books, whole = float(posts_after.get(unit, np.nan)), float(school_target.get(unit, np.nan))
        if books >= whole - 1e-9:
            # The school as a whole holds its standard on the books: a section short beside another over it,
            # or a subject short, is the school's to even out (a nine-year school 57 on the books for 51,
            # a primary school 85 for 79, were told 下一轮调配可补入 up to their 核定编制 60 and 95).
            when = "调配前" if unit in full else "本方案调入后"
            how = ("由学校在学段之间调整" if sections.get(unit, 1) > 1
                   else "由本校教师兼课或培训转岗")
            return (f"{when}已达核定编制，不能调入{only}；全校在编 {books:.0f} 人已达按标准应有的 {whole:g} 人，"
                    f"宜{how}解决，不需增编")
        if unit in full and posts_after.get(unit, np.inf) < cap[unit]:  # the plan's departures freed posts
            return (f"调配前已达核定编制，本次不能调入{only}；本方案调出后在编 {posts_after[unit]:.0f} 人，"
                    f"低于核定编制 {cap[unit]:.0f} 人，下一轮调配可补入")
        head = "已达核定编制" if unit in full else "本方案调入后已达核定编制"
        return f"{head}，不能再调入{only}；如需增人须先核增编制"

    # A volunteer's move to a wished school is theirs, not the plan's choice: counted as "wish" (a wished
    # move out of a village school read 为补权重更高的学校 though both schools weighed the same).
    # A move within the school (校内跨学段) leaves the section, not the school: "within".
    kinds_out = (pd.Series(dtype=str) if moves is None or not len(moves) else
                 moves["move_type"].astype(str).where(~moves["voluntary"].astype(bool), "wish")
                 .where(moves["from_school"] != moves["to_school"], "within"))
    sent: dict[str, dict[str, int]] = {}  # moves out of each unit, by type
    if moves is not None and len(moves):
        for key, kind in zip(moves["from_school"] + "|" + moves["from_stage"], kinds_out, strict=True):
            sent.setdefault(key, {}).setdefault(str(kind), 0)
            sent[key][str(kind)] += 1

    # Rotations beyond what the quota asks were chosen for other tiers (balance, headcount), and those of
    # schools outside the quota's base count for none: 为完成交流轮岗比例 is then said of neither (a tester:
    # 4 rotations out of a school, 3 asked county-wide, all 为完成交流轮岗比例).
    quota_schools = candidates.quota_schools
    rotations = moves[moves["move_type"].astype(str) == "rotation"] if moves is not None and len(moves) else None
    rotations_counted = 0 if rotations is None else int(
        len(rotations) if quota_schools is None else rotations["from_school"].isin(quota_schools).sum())

    def rotation_why(school: str) -> str:
        within_quota = rotations_counted <= candidates.quota_target and \
            (quota_schools is None or school in quota_schools)
        return "完成交流轮岗比例" if within_quota else "交流轮岗"

    def made_worse(row: Any) -> str:
        """The plan's own part in a shortage it made larger, or ""."""
        if row.unit not in sent or not row.gap_after > row.gap_before + 0.5:
            return ""
        out = sent[row.unit]
        kinds = "、".join(f"{OUT_LABEL.get(k, k)} {n}" for k, n in out.items())
        change = (f"由富余 {-row.gap_before:.1f} 人变为缺编 {row.gap_after:.1f} 人" if row.gap_before < 0
                  else f"缺编由 {row.gap_before:.1f} 增至 {row.gap_after:.1f} 人")
        why = [text for kind, text in (("rotation", rotation_why(row.school_id)), ("support", "安排支教"),
                                       ("redeploy", "补权重更高的学校（plan.headcount_weight）"),
                                       ("wish", "本人申请交流"), ("within", "补本校小学部")) if kind in out]
        verb = "本方案从本学部调出" if "within" in out else "本方案从本校调出"  # some stayed in the school
        return f"{verb} {sum(out.values())} 人（{kinds}），{change}（为{'、'.join(why)}）；"

    had_surplus = after.loc[after["gap_before"] <= -1, ["school_id", "stage"]] if "gap_before" in after \
        else after.iloc[0:0][["school_id", "stage"]]

    def out_of_reach(row: Any) -> str:
        """With `plan.max_km`: every school that had spare teachers of this stage lies beyond it, so their
        surplus went to schools within reach (a tester: a rural school weighted 2 stayed short beside a
        town school weighted 1.5 that got the teacher, and read only 总量不足)."""
        max_km = policy.plan.max_km
        if max_km is None:
            return ""
        stages = {row.stage} | ({Stage.junior.value} if row.stage == Stage.primary.value
                                and policy.plan.junior_to_primary else set())
        sources = set(had_surplus.loc[had_surplus["stage"].astype(str).isin(stages), "school_id"]) - {row.school_id}
        index = candidates.school_index
        if not sources or row.school_id not in index:
            return ""
        km = [float(candidates.distance[index[row.school_id], index[s]]) for s in sources if s in index]
        if not km or min(km) <= max_km:
            return ""
        return (f"原有富余{STAGE[row.stage]}教师的 {len(km)} 所学校都在 {max_km:g} 公里以外"
                f"（调动距离上限 plan.max_km，最近约 {min(km):.0f} 公里），其富余已调往各自距离以内的学校；")

    @functools.cache  # per stage, asked of every short section
    def capped_spare(stage: str) -> bool:
        """Every school with spare teachers of `stage` left has sent as many as its leaving cap allows
        (`rotation.max_share_leaving_school`; every move out of the school counts, not one within it): a
        shortage left beside them is the cap's, not the weights' (all schools weighed alike, the cause named
        the weights first)."""
        stages = {stage} | ({Stage.junior.value} if stage == Stage.primary.value and policy.plan.junior_to_primary
                            else set())  # spare junior teachers may fill primary posts
        kept = spare[spare["stage"].astype(str).isin(stages)]
        spare_sections = set(kept["school_id"] + "|" + kept["stage"].astype(str))
        if not spare_sections or moves is None:
            return False
        share = policy.rotation.max_share_leaving_school
        posts = units.drop_duplicates("school_id").set_index("school_id")["school_posts"]
        out = moves[moves["teacher_id"].isin(set(teachers["teacher_id"]))
                    & (moves["from_school"] != moves["to_school"])]
        by_school = out["from_school"].value_counts()
        by_section = (out["from_school"] + "|" + out["from_stage"]).value_counts()

        def capped(section: str) -> bool:
            school = section.split("|")[0]
            if by_school.get(school, 0) >= leaving_cap([posts.get(school, 0)], share)[0]:
                return True
            if policy.rotation.leaving_cap_by_stage and section in units.index and sections.get(section, 1) > 1:
                # the section's own cap (rotation.leaving_cap_by_stage): a nine-year school's junior section
                # had sent its 2 while the school might send 8, and the cause named the weights
                return by_section.get(section, 0) >= leaving_cap([units.at[section, "unit_posts"]], share)[0]
            return False

        return all(capped(section) for section in spare_sections)

    # Special schools take part only by policy: a gap there is theirs to fill, whatever else holds.
    apart = set() if policy.plan.special_schools_take_part else set(units.index[units["type"] == "special"])
    special = ("特殊教育学校不参加调配（plan.special_schools_take_part 默认关闭：其教师的专业与普通学校不同），"
               "缺口由本校内部调整或补充特殊教育专业教师解决")
    # Posts held (在编) after the plan, by section: a teacher away on 支教 or on leave holds theirs at home.
    held_posts = (after.set_index("unit")["establishment_after"] if "establishment_after" in after
                  else pd.Series(dtype=float))
    rows = []
    for row in after[after["gap_after"] >= 0.5].itertuples(index=False):
        holding = float(held_posts.get(row.unit, np.nan))
        target = float(units.at[row.unit, "target"]) if row.unit in units.index else np.nan
        if row.unit in apart:
            cause = special
        elif holding >= target - 1e-9:  # short on duty only: its own teachers away hold their posts here
            cause = (f"在编 {holding:.0f} 人已达按标准应有的 {target:g} 人：在岗的缺口来自仍占本校编制而不在岗的教师"
                     f"（{AWAY}），不需增编")
        elif establishment_cause(row.unit):
            cause = establishment_cause(row.unit)
        elif row.stage not in spare_stages and not (row.stage == Stage.primary.value and capped_spare(row.stage)):
            kept = held[held["stage"].astype(str) == row.stage]
            if len(kept) and short_total.get(row.stage, 0.0) < 0.5:
                cause = (f"全县{STAGE[row.stage]}总量不缺，但有富余的学校留下的教师均不可调动（{_held_back(kept)}）："
                         f"{_when_movable(kept)}，不属需补充编制的缺口")
            else:
                cause = f"全县{STAGE[row.stage]}已无富余可调教师：总量不足，属需补充编制的缺口" + (
                    f"（另有富余学校的教师不可调动：{_held_back(kept)}）" if len(kept) else "")
                cause = out_of_reach(row) + cause
        elif policy.plan.max_km is not None:
            cause = f"{policy.plan.max_km:g} 公里内无可调的富余{STAGE[row.stage]}教师"
        elif ahead_of("headcount", policy):
            cause = f"plan.tiers 把{ahead_of('headcount', policy)}排在总量缺编之前，富余教师按这些目标优先安排"
        elif capped_spare(row.stage):
            share = policy.rotation.max_share_leaving_school
            across = row.stage not in spare_stages  # only junior sections' surplus could come (跨学段)
            who = "可跨学段到小学的富余初中教师所在学部" if across else f"有富余的{STAGE[row.stage]}学校"
            cause = (f"{who}都已调出到调出比例上限（rotation.max_share_leaving_school：每校每年至多调出在编教师的 "
                     f"{share:.0%}，多学段学校各学段另计）：下一轮调配可继续调出")
        else:
            cause = "富余教师已优先补充权重更高的缺口（教学点、乡村学校），或受单校调出比例上限限制"
        # Part of the gap on duty may be teachers who hold their posts here while away (支教, 借调, leave):
        # those posts need no new establishment (a tester: 3.0 short, 2 of them 支教, read 属需补充编制的缺口
        # while establishment.md asked 1 post).
        away = float(row.gap_after) - (target - holding)
        if row.unit not in apart and holding < target - 1e-9 and away >= 0.5:
            cause += (f"；其中 {away:.0f} 人是仍占本校编制而不在岗的教师（{AWAY}），"
                      f"按在编人数缺 {target - holding:g} 人")
        cause = made_worse(row) + cause
        rows.append((row.school_id, row.stage, "headcount", "", round(float(row.gap_after), 2), cause))
    over = after.set_index("unit")["gap_after"]
    gap_before = ({} if subjects_before is None else
                  subjects_before.set_index(["school_id", "stage", "subject"])["gap"].to_dict())
    main = teachers.set_index("teacher_id")["subject"].astype(str)
    sent_subject: dict[tuple[str, str], dict[str, int]] = {}  # moves out of each unit, by subject and type
    if moves is not None and len(moves):
        for tid, key, kind in zip(moves["teacher_id"], moves["from_school"] + "|" + moves["from_stage"],
                                  kinds_out, strict=True):
            if tid in main.index:
                counts = sent_subject.setdefault((key, main[tid]), {})
                counts[str(kind)] = counts.get(str(kind), 0) + 1

    def subject_made_worse(row: Any, unit: str) -> str:
        """The plan's own moves of this subject's teachers out of a unit whose gap in it they widened, or ""."""
        out = sent_subject.get((unit, row.subject))
        before = float(gap_before.get((row.school_id, row.stage, row.subject), 0.0))
        if not out or not row.gap > before + 0.5:
            return ""
        kinds = "、".join(f"{OUT_LABEL.get(k, k)} {n}" for k, n in out.items())
        why = [text for kind, text in (("rotation", rotation_why(row.school_id)), ("support", "安排支教"),
                                       ("redeploy", "补更急需的学校"), ("wish", "本人申请交流"),
                                       ("within", "补本校小学部")) if kind in out]
        verb = "本方案从本学部调出" if "within" in out else "本方案从本校调出"  # some stayed in the school
        return (f"{verb}{_subject(row.subject)}教师 {sum(out.values())} 人（{kinds}），该科缺口由 "
                f"{_tenths(max(before, 0.0))} 增至 {_tenths(row.gap)}（为{'、'.join(why)}）；")

    # A gap the subject tier counts: a whole teacher or more (FTE), or a demand that rounds to a teacher
    # more than those covering it (0.63 FTE of music, nobody to teach it: the tier's target is 1).
    whole = np.floor(subjects_after["demand"] + 0.5) - subjects_after["supply_main"] - subjects_after["supply_other"]
    counted = (subjects_after["gap"] >= 1) | (whole >= 1 - 1e-9)
    held_left: dict[tuple[str, str], int] = {}  # held-back teachers not yet named as a gap's cause
    # The county's teachers of each subject (main subject, FTE) against its demand: a subject no school
    # with teachers to spare can give may still be over-supplied county-wide (117 FTE of primary Chinese
    # over demand, all in schools that need their headcount), and then it is no case for recruiting.
    county_balance = (subjects_after.assign(stage=subjects_after["stage"].astype(str))
                      .groupby(["stage", "subject"])[["main", "demand"]].sum())
    county_balance = (county_balance["main"] - county_balance["demand"]).to_dict()
    for row in subjects_after[counted].itertuples(index=False):
        unit = unit_id(row.school_id, row.stage)
        spare_here = -float(over.get(unit, 0.0))
        if unit in apart:
            cause = special
        elif spare_here >= 1:  # the school has teachers enough, of other subjects: not a case for posts
            # On duty, that is: 支教 teachers serve here a year, holding their posts at home.
            short_of_posts = float(held_posts.get(unit, np.inf)) < float(units.at[unit, "target"]) - 1e-9 \
                if unit in units.index else False
            cause = (f"本校在岗比标准多 {spare_here:.0f} 人（含一年期支教教师，在编仍不足标准），缺的是"
                     f"{_subject(row.subject)}：本年宜由本校教师兼课补足" if short_of_posts else
                     f"本校总量富余 {spare_here:.0f} 人，缺的是{_subject(row.subject)}：宜由本校富余教师兼课或培训转岗"
                     "补足，不需增编" + ("（本校已达核定编制，不能调入）" if establishment_cause(unit) else ""))
        elif establishment_cause(unit):
            cause = establishment_cause(unit)
        elif row.subject not in spare_subjects.get(row.stage, set()):
            kept = held.iloc[held_teach.get((row.stage, row.subject), np.zeros(0, dtype=np.int64))]
            # The teachers held back cover as many whole teachers of gaps as they are, no more: 2 such
            # teachers were the cause of 16 gaps (10.6 FTE), all called 不属结构性缺编.
            left = held_left.setdefault((row.stage, row.subject), len(kept))
            wanted = math.ceil(float(row.gap) - 1e-9)
            if len(kept) and left >= wanted:
                held_left[(row.stage, row.subject)] = left - wanted
                cause = (f"有富余的学校中可任教{_subject(row.subject)}的{STAGE[row.stage]}教师均不可调动"
                         f"（{_held_back(kept)}）：{_when_movable(kept)}，不属结构性缺编")
            else:
                others = (f"（有富余的学校中另有 {len(kept)} 名可任教者不可调动，已计入其他学校的这一缺口）"
                          if len(kept) else "")
                balance = float(county_balance.get((str(row.stage), row.subject), 0.0))
                if balance >= 0.5:
                    cause = (f"全县{STAGE[row.stage]}{_subject(row.subject)}教师合计多于需求 {balance:.0f} 人，但都在"
                             f"总量不富余的学校（调出即缺编）：属结构性缺口，不需增编，宜在补充教师时调整学科，"
                             f"或由本校教师兼课、培训转岗{others}")
                else:
                    cause = (f"全县无富余的{STAGE[row.stage]}{_subject(row.subject)}教师（含可兼教者）：属结构性缺编，"
                             f"需招聘补充{others}")
        elif policy.plan.max_km is not None:
            cause = f"{policy.plan.max_km:g} 公里内无可调的{_subject(row.subject)}教师"
        elif ahead_of("subject", policy):
            cause = (f"plan.tiers 把{ahead_of('subject', policy)}排在学科缺口之前，可任教{_subject(row.subject)}的"
                     "富余教师按这些目标优先安排")
        elif row.subject in moved_subjects.get(row.stage, set()):
            cause = f"富余的{_subject(row.subject)}教师已调往更急需的学校，或受调出比例、编制上限限制"
        else:  # nobody who teaches it moved: not "sent elsewhere"
            cause = (f"可任教{_subject(row.subject)}的富余教师调来会在原校或别的学科留下更重的缺口，"
                     "或受调出比例、编制上限限制")
        cause = subject_made_worse(row, unit) + cause
        rows.append((row.school_id, row.stage, "subject", row.subject, round(float(row.gap), 2), cause))
    return pd.DataFrame(rows, columns=["school_id", "stage", "kind", "subject", "gap_after", "cause"])


#: The tiers ranked ahead of each by default (`plan.tiers`): a shortage left for those is the ordinary case.
DEFAULT_AHEAD = {"quota": (), "headcount": ("quota",), "subject": ("quota", "headcount")}


def ahead_of(tier: str, policy: Policy) -> str:
    """The tiers `plan.tiers` ranks ahead of `tier` beyond the default order, as HR reads them
    (“调动扰动、意愿满足”), or "": a county that puts disruption first leaves shortages for it."""
    order = tuple(policy.plan.tiers)
    ahead = [t for t in order[:order.index(tier)] if t not in DEFAULT_AHEAD.get(tier, ())]
    return "、".join(TIER_LABELS[t].split("（")[0] for t in ahead)


def _held_back(teachers: pd.DataFrame) -> str:
    """Why these teachers may not move, counted by reason: 服务期未满 18 人、指定留任 1 人."""
    counts = teachers["exempt"].astype(str).value_counts()
    order = {code: i for i, code in enumerate(EXEMPT_LABELS)}
    codes = sorted(counts.index, key=lambda code: (order.get(code, len(order)), code))
    return "、".join(f"{EXEMPT_LABELS.get(code, code or '不可调动')} {counts[code]} 人" for code in codes)


#: When a teacher held back by each reason may move (`_when_movable`).
_MOVABLE_WHEN = {
    "maternity": "休假结束返岗后", "sick": "休假结束返岗后", "seconded": "借调结束后", "study": "进修结束后",
    "service": "服务期满后", "retirement": "临近退休者本人申请交流时", "pinned": "取消其“必须留任”的指定后",
    "special": "设置 plan.special_schools_take_part 后",
}


def _when_movable(teachers: pd.DataFrame) -> str:
    """The conditions under which these held-back teachers could be planned: 服务期满后或本人申请交流后可调配."""
    codes = set(teachers["exempt"].astype(str))
    when = [_MOVABLE_WHEN[code] for code in _MOVABLE_WHEN if code in codes]
    if not codes & {"pinned", "special", "retirement"}:  # those say it their own way, or cannot
        when.append("本人申请交流后")
    return f"{'、'.join(dict.fromkeys(when))}可调配" if when else "本人申请交流后可调配"


def _teachable(teachers: pd.DataFrame, policy: Policy) -> dict[tuple[str, str], np.ndarray]:
    """(stage, subject) → the positions of these teachers who could teach it there (as
    `_subjects_by_stage` reads it), built once for every shortage row to look up."""
    mapped = {str(k): str(v) for k, v in policy.plan.junior_to_primary_subjects.items()}
    found: dict[tuple[str, str], list[int]] = {}
    for i, (stage, subject, others) in enumerate(zip(teachers["stage"].astype(str), teachers["subject"].astype(str),
                                                      teachers["other_subjects"], strict=True)):
        taught = {(stage, s) for s in (subject, *others)}
        if stage == Stage.junior.value and policy.plan.junior_to_primary:
            taught.add((Stage.primary.value, mapped.get(subject, subject)))
        for key in taught:
            found.setdefault(key, []).append(i)
    return {key: np.asarray(positions, dtype=np.int64) for key, positions in found.items()}


def _subjects_by_stage(teachers: pd.DataFrame, policy: Policy) -> dict[str, set[str]]:
    """Stage → the subjects these teachers could teach there (`_teachable`): their own stage's main and
    other subjects; in primary also a junior teacher's mapped subject when `plan.junior_to_primary`."""
    out: dict[str, set[str]] = {}
    for stage, subject in _teachable(teachers, policy):
        out.setdefault(stage, set()).add(subject)
    return out


def unknown_distance_note(moves: pd.DataFrame, any_known: bool = True) -> str | None:
    """The note for moves whose distance is unknown (km blank in plan.csv: neither distances.csv nor
    both schools' lat/lon give it): the disruption tier counted them at the median known distance
    (`candidates.distance_lookup`), or, when no distance at all is known (`any_known` false), at 0 km.
    None when every distance is known. A new hire comes from nowhere: no distance to know."""
    unknown = moves["km"].isna() & (moves["move_type"] != "new_hire") if len(moves) else np.zeros(0, dtype=bool)
    count = int(np.sum(unknown))
    if not count:
        return None
    counted = ("扰动层按已知距离的中位数（同乡镇、跨乡镇分别计）估计" if any_known else
               "全县没有一对学校的距离已知，扰动层只计调动人次、不计距离")
    return (f"{UNKNOWN_DISTANCE}：{count} 人次调动的两校之间，距离表（distances.csv）没有记录，学校表也缺经纬度，"
            f"plan.csv 的距离留空，{counted}；补充距离或经纬度后重新求解可按实际距离安排")


def shortage_shift_note(schools: pd.DataFrame, policy: Policy, headcount: tuple[float, float] | None = None
                        ) -> str | None:
    """Why the schools' summed shortage can grow though the headcount tier fell: the tier weighs each
    school's shortage (teaching points and rural schools above town and urban ones) in whole teachers,
    so a plan may send teachers from lightly weighted short schools to heavier ones (rotation and
    support postings included), and fractions of a post left over count nowhere. None when the sum
    does not grow. (A county at 80 % of its posts: 749.3 → 758.7 while the weighted tier fell 1,101.5
    → 894: urban primary schools 61 → 173, rural primary schools 154 → 8.) `headcount`: the tier's value
    before and in the plan; when it rose, the tiers ranked before it made the moves (a quota of 3
    rotations out of a school at its norm: the weights were named, and an example school of 9.4 posts
    no county had)."""
    before = schools["gap_before"].clip(lower=0)
    after = schools["gap_after"].clip(lower=0)
    if after.sum() < before.sum() + 0.05:
        return None
    kind = schools["area"].astype(str).where(schools["type"].astype(str) != "teaching_point", "teaching_point")
    labels = {"teaching_point": "教学点", **AREA}
    weights = policy.plan.headcount_weight
    parts = [f"{labels[k]} {before[kind == k].sum():.1f} → {after[kind == k].sum():.1f} 人"
             f"（权重 {weights.get(k, 1.0):g}）" for k in ("teaching_point", "rural", "town", "urban")
             if (kind == k).any()]
    head = f"{SHORTAGE_SHIFT_NOTE}{before.sum():.1f} 人增至 {after.sum():.1f} 人："
    tail = f"各类学校缺编：{'、'.join(parts)}"
    rose = headcount is not None and headcount[1] > headcount[0] + 1e-9
    if rose:
        ranked = "、".join(TIER_LABELS[t].split("（")[0] for t in policy.plan.tiers[:policy.plan.tiers.index(
            "headcount")]) if "headcount" in policy.plan.tiers else ""
        return (head + f"排在总量缺编之前的目标（{ranked or 'plan.tiers'}）所需的调动使加权总量缺编由 "
                f"{headcount[0]:g} 增至 {headcount[1]:g}（如为完成交流轮岗比例从已达标准的学校调出）；" + tail)
    return (head + "总量缺编一层按学校权重计整人缺编（plan.headcount_weight，薄弱学校另加 "
            "plan.weak_school_extra），方案把教师从权重低的缺编学校调往权重高的学校（含交流轮岗、支教），"
            + tail + "；各校按标准需的人数取整后计，不足一人的零头不计")


def indicator_drop_note(before: pd.DataFrame, after: pd.DataFrame, policy: Policy) -> str | None:
    """The county indicators (each stage's per-100-students figure) that met their standard before the
    plan and miss it after, with whether the balance tier weighs them: a plan that takes a stage's 高于
    规定学历 teachers from 5.33 to 5.19 per 100 against 5.3 said nothing (that indicator is in no tier).
    `before`, `after`: the norms' county tables. None when no indicator falls below its standard."""
    from teacheralloc.norms import INDICATOR_LABELS, INDICATOR_SHORT, INDICATORS

    weighed = {key for key, weight in policy.plan.balance_weight.items() if weight > 0}
    old, new = before.set_index("stage"), after.set_index("stage")
    parts, weighed_dropped = [], False
    for stage in old.index.intersection(new.index):
        for key in INDICATORS:
            limit = getattr(policy.indicators.per_100_students, key)[Stage(stage)]
            b, a = float(old.at[stage, f"per100_{key}"]), float(new.at[stage, f"per100_{key}"])
            column = f"cv_{key}"  # the 校际差异系数 is judged too: a junior 骨干 CV 0.254 → 0.465 (≤ 0.45) went unsaid
            if column in old.columns and column in new.columns and "cv_max" in new.columns:
                cap, cv_b, cv_a = float(new.at[stage, "cv_max"]), float(old.at[stage, column]), float(
                    new.at[stage, column])
                if cv_b <= cap + 1e-9 and cv_a > cap + 1e-9:
                    parts.append(f"{Stage(stage).label}{INDICATOR_SHORT[key]}校际差异系数由 {cv_b:.3f} 升至 "
                                 f"{cv_a:.3f}，超过上限 {cap:g}（差异系数不在目标层内）")
            if b >= limit - 1e-9 and a < limit - 1e-9:
                weighed_dropped |= key in weighed
                tier = "" if key in weighed else "（不在优质均衡目标层内：plan.balance_weight 只计骨干与体育艺术教师）"
                shown = math.floor(a * 100 + 1e-9) / 100  # rounded down: 0.8985 read 降至 0.90，低于标准 0.9
                parts.append(f"{Stage(stage).label}{INDICATOR_LABELS[key]}由 {b:.2f} 降至 {shown:.2f}，"
                             f"低于标准 {limit:g}{tier}")
    if not parts:
        return None
    return (INDICATOR_DROP_NOTE + "；".join(parts) + "。可用 pins.csv 留任相关教师"
            + ("，或加大 plan.balance_weight" if weighed_dropped else ""))
