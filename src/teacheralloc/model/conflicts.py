"""Pins and rules that leave no plan (规则冲突), as input problems that say what to relax.

Before the solve, each pin is checked on its own and the pins together against the leaving cap
(`check_pins`); when the model still finds no plan, its LP is solved again with the pinned moves and
each rule's rows relaxed in turn to name what conflicts (`rule_conflicts`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from ortools.math_opt.python import mathopt

from teacheralloc.domain import Stage
from teacheralloc.errors import InputError, Problem
from teacheralloc.io.pins import PIN_COLUMNS, pin_contradictions
from teacheralloc.model.builder import AllocationModel
from teacheralloc.model.candidates import EXEMPT_LABELS, Candidates, capped_sections, leaving_cap, unit_id
from teacheralloc.model.engine import SolveParams, Solver, solver_parameters
from teacheralloc.policy import Policy


def check_pins(candidates: Candidates, pins: pd.DataFrame, policy: Policy) -> None:
    """Pins that no plan can honour: an explanation naming the conflicting rules and what to relax, as an
    InputError (every such pin at once). Each pin on its own: a teacher pinned to stay and to move, an
    exempt teacher, two schools for one teacher, a school both pinned and barred, a school the teacher
    cannot go to (and why); and together: more pinned departures from one school than it may lose."""
    if pins.empty:
        return
    file = pins.attrs.get("file", "pins.csv")
    problems = pin_contradictions(pins, file)
    contradicted = {problem.row for problem in problems}
    flagged = set(pins.loc[pins["row"].isin(contradicted), "teacher_id"])
    teachers = candidates.teachers.set_index("teacher_id")
    moving = pins[pins["kind"].isin(["must_move", "to_school"])]
    has_arc = set(candidates.groups.loc[candidates.groups["group"].isin(candidates.arcs["group"]), "first_teacher"])
    for pin in moving[~moving["row"].isin(contradicted)].itertuples(index=False):
        teacher = teachers.loc[pin.teacher_id]
        expected = ""
        if not teacher["movable"]:
            reason = EXEMPT_LABELS.get(teacher["exempt"], teacher["exempt"])
            setting = "plan.special_schools_take_part" if teacher["exempt"] == "special" else "rotation.exempt_*"
            expected = f"该教师因“{reason}”不得调动（{setting}）：删去此项，或由本人申请交流"
            if teacher["volunteer"] and teacher["exempt"] != "pinned":  # applied already: a special school's,
                # kept by its missing wishes (whatever exemption is named first: leave, service …)
                expected = ("特殊教育学校教师只可调往本人志愿学校（plan.special_schools_take_part）：该教师已申请交流"
                            "但未填志愿，请补填志愿学校，或删去此项")
        elif pin.teacher_id not in has_arc:
            expected = _no_arc_reason(candidates, policy, teacher, pin.school_id if pin.kind == "to_school" else None)
        if expected:
            school = pin.school_id if isinstance(pin.school_id, str) and pin.school_id else "是"
            problems.append(Problem(file, pin.row, pin.kind, school, expected,
                                    label=PIN_COLUMNS.get(pin.kind, ""), rule="pin_conflict"))
            flagged.add(pin.teacher_id)
    # The leaving cap counts the pins that are otherwise sound (one already wrong is not a second time),
    # and not a pin to the teacher's own school: a move within it (校内跨学段) loses the school no one.
    home = moving["teacher_id"].map(teachers["school_id"])
    sound = moving[~moving["teacher_id"].isin(flagged) & (moving["school_id"] != home)].drop_duplicates("teacher_id")
    problems += _leaving_cap_conflicts(candidates, policy, sound, file)
    if problems:
        raise InputError(problems)


def _no_arc_reason(candidates: Candidates, policy: Policy, teacher: pd.Series, school: str | None) -> str:
    """Why a teacher pinned to move (to `school`, if given) has nowhere to go: the first rule that
    closes the school (its own school, a volunteer's wish list, the stage, the 核定编制, special
    education, the distance limit), else the general list."""
    units = candidates.units[candidates.units["school_id"] == school] if school else candidates.units.iloc[0:0]
    wishes = tuple(teacher["wishes"]) if teacher["volunteer"] else ()
    max_km = policy.plan.max_km
    if school and school == teacher["school_id"]:
        # Only a surplus junior teacher may take the own school's primary post (校内跨学段调剂): say why not.
        home = units[units["stage"].astype(str) == Stage.junior.value]
        could = (str(teacher["stage"]) == Stage.junior.value and len(home)
                 and Stage.primary.value in set(units["stage"].astype(str)))
        off = [key for key, on in (("plan.junior_to_primary", policy.plan.junior_to_primary),
                                   ("plan.within_school_cross_stage", policy.plan.within_school_cross_stage)) if not on]
        why = ("（同校只能由设有小学、初中两个学段的学校（九年一贯制等）初中部的富余教师转任本校小学部）"
               if not could else
               f"；本县设置不允许初中教师转任本校小学部（{'、'.join(off)}: false）" if off else
               "；其初中部没有富余教师，不能转任本校小学部（rules.cross_stage_from_surplus）"
               if int(home["surplus"].iloc[0]) < 1 else
               "；该教师本人申请交流并填报了志愿，只调往志愿学校（志愿中的本校不计）" if wishes else "")
        return f"该教师已在此校{why}：改选其他学校，或改为“必须调出”"
    if school and wishes and school not in wishes:
        return f"该教师本人申请交流并填报了志愿（{'、'.join(wishes)}），只能调往志愿学校：改选志愿学校，或删去此项"
    if school and not len(units):
        return "该校不参加调配：改选学校"
    if school and not policy.plan.special_schools_take_part and (units["type"].astype(str) == "special").any():
        return "该校是特殊教育学校，不接收调入（plan.special_schools_take_part 默认关闭）：改选学校，或修改该设置"
    if school and str(teacher["stage"]) not in set(units["stage"].astype(str)):
        if str(teacher["stage"]) == Stage.junior.value and not policy.plan.junior_to_primary \
                and Stage.primary.value in set(units["stage"].astype(str)):
            return "本县政策不允许初中教师到小学任教（plan.junior_to_primary: false）：改选学校，或修改该设置"
        home = candidates.units[(candidates.units["school_id"] == teacher["school_id"])
                                & (candidates.units["stage"].astype(str) == str(teacher["stage"]))]
        across = (policy.plan.junior_to_primary and str(teacher["stage"]) == Stage.junior.value
                  and Stage.primary.value in set(units["stage"].astype(str)))
        if across and len(home) and int(home["surplus"].iloc[0]) < 1:
            return ("该教师所在学校的初中学段没有富余教师，初中教师只能作为富余教师跨学段到小学"
                    "（rules.cross_stage_from_surplus）：改选有初中学段的学校")
        if not across:
            return f"该校没有该教师所在学段（{Stage(str(teacher['stage'])).label}）：改选学校"
        # A surplus junior teacher may go to primary: what closes the school is one of the rules below.
    if school and bool((units["school_posts"] >= units["establishment"].fillna(np.inf)).any()):
        return "该校已达核定编制，不能再调入：改选学校，或核增该校编制"
    if school and max_km is not None:
        index = candidates.school_index
        km = float(candidates.distance[index[teacher["school_id"]], index[school]])
        if km > max_km:
            return (f"两校相距约 {km:.0f} 公里，超过调动距离上限 plan.max_km（{max_km:g} 公里）："
                    "改选学校，或放宽 plan.max_km")
    if school is None:  # must_move: the rule that closes every school, where one does
        others = candidates.units[candidates.units["school_id"] != teacher["school_id"]]
        stage = str(teacher["stage"])
        same = others[others["stage"].astype(str) == stage]
        open_same = same[~(same["school_posts"] >= same["establishment"].fillna(np.inf))]
        if not len(open_same) and stage == Stage.junior.value \
                and Stage.primary.value in set(others["stage"].astype(str)):
            if not policy.plan.junior_to_primary:
                return ("没有其他有初中学段且未满编的学校，本县政策不允许初中教师到小学任教"
                        "（plan.junior_to_primary: false）：删去此项，或修改该设置")
            home = candidates.units[(candidates.units["school_id"] == teacher["school_id"])
                                    & (candidates.units["stage"].astype(str) == stage)]
            if len(home) and int(home["surplus"].iloc[0]) < 1:
                return ("没有其他有初中学段且未满编的学校；该教师所在学校的初中学段没有富余教师，初中教师只能作为富余"
                        "教师跨学段到小学（rules.cross_stage_from_surplus）：删去此项")
        if len(same) and not len(open_same):
            return f"其他有{Stage(stage).label}学段的学校均已达核定编制，不能再调入：删去此项，或核增编制"
    limits = "学段、编制已满、志愿" + ("或距离上限" if max_km is not None else "")
    return f"没有可调往的学校（{limits}）：改选学校" + ("，或放宽 plan.max_km" if max_km is not None else "")


def _leaving_cap_conflicts(candidates: Candidates, policy: Policy, moving: pd.DataFrame, file: str) -> list[Problem]:
    """Schools that more pinned teachers must leave than `rotation.max_share_leaving_school` lets go
    in one year (max(1, ⌊share × teachers⌋)), and sections of a school with several stages
    (`rotation.leaving_cap_by_stage`): one problem at the first pin over the cap."""
    if moving.empty:
        return []
    share = policy.rotation.max_share_leaving_school
    teachers = candidates.teachers.set_index("teacher_id")
    home = moving["teacher_id"].map(teachers["school_id"])
    posts = candidates.teachers.groupby("school_id").size()
    problems, over = [], set()
    for school, rows in moving.groupby(home, sort=True):
        cap = int(leaving_cap([posts.get(school, 0)], share)[0])
        if len(rows) > cap:
            over.add(school)
            problems.append(_over_cap(rows, cap, file, f"{school} 有 {len(rows)} 名教师被指定调出（本行起超出），"
                                      f"超过单校一年调出上限 {cap} 人（rotation.max_share_leaving_school {share:.0%} × "
                                      f"在编 {int(posts.get(school, 0))} 人）：减少该校的指定，或提高该比例"))
    sections = capped_sections(candidates.units, policy).set_index("unit")
    section = unit_id(home, moving["teacher_id"].map(teachers["stage"]).astype(str))
    for unit, rows in moving[section.isin(sections.index)].groupby(section, sort=True):
        cap, held = int(sections.at[unit, "cap"]), int(sections.at[unit, "unit_posts"])
        school, stage = unit.split("|")
        if len(rows) > cap and school not in over:  # the school's own cap named already
            text = (f"{school}{Stage(stage).label}部有 {len(rows)} 名教师被指定调出（本行起超出），超过该学段一年"
                    f"调出上限 {cap} 人（rotation.max_share_leaving_school {share:.0%} × 该学段在编 {held} 人，"
                    "rotation.leaving_cap_by_stage）：减少该学段的指定，或提高该比例、关闭分学段上限")
            problems.append(_over_cap(rows, cap, file, text))
    return problems


def _over_cap(rows: pd.DataFrame, cap: int, file: str, text: str) -> Problem:
    """The problem at the first pin over a leaving cap of `cap`."""
    pin = rows.sort_values("row").iloc[cap]
    value = pin["school_id"] if isinstance(pin["school_id"], str) and pin["school_id"] else "是"
    return Problem(file, int(pin["row"]), pin["kind"], value, text, label=PIN_COLUMNS.get(pin["kind"], ""),
                   rule="pin_conflict")


#: The hard rules a plan can fail (the others have shortage or slack variables), with what would relax each.
CONFLICT_RULES = {
    "arrival_cap": ("未填核定编制的学校，调入后各学段在岗不超过按标准应有的人数（plan.arrivals_within_shortage）",
                    "为这些学校填写核定编制（schools.establishment），或关闭该设置"),
    "redeploy_from_surplus": ("调剂限于富余（一所学校调剂出的教师不超过其富余加调入的在岗教师）",
                              "减少同一学校必须调出的教师，或为其安排调入"),
    "cross_stage_from_surplus": ("初中教师只作为富余教师跨学段到小学（rules.cross_stage_from_surplus）",
                                 "减少同一初中学段必须调出的教师"),
    "max_leaving": ("单校（及其各学段）一年调出不超过其教师的 rotation.max_share_leaving_school",
                    "放宽该比例（或关闭 rotation.leaving_cap_by_stage），或减少必须调出的教师"),
    "establishment_cap": ("调入后不超过接收学校的核定编制", "改选调往学校，或核增其编制"),
    "no_return_to_own_school": ("不调回本校的另一学段", "改选调往学校"),
    "pool_balance": ("调出的教师须有可去的学校", "改选调往学校，或删去必须调出"),
}


def _relaxed_lp(solver: Solver, free: np.ndarray, seconds: float, seed: int) -> float:
    """The whole model's LP (current objective) with the rows `free` relaxed: its optimum, or NaN when
    it has none (infeasible, or cut short by the time limit: that proves nothing either way)."""
    proto = solver.export()
    proto.variables.integers[:] = [False] * len(proto.variables.integers)  # the LP, as the tiers found it
    lower = np.asarray(proto.linear_constraints.lower_bounds)
    upper = np.asarray(proto.linear_constraints.upper_bounds)
    lower[free], upper[free] = -math.inf, math.inf
    proto.linear_constraints.lower_bounds[:] = lower.tolist()
    proto.linear_constraints.upper_bounds[:] = upper.tolist()
    result = solver._call(proto, mathopt.SolverType.GLOP, solver_parameters(seconds, seed))
    return result.objective if result.optimal else math.nan


#: The rules keeping the rotation quota short, and whether only together (`quota_binding`).
QuotaBinding = tuple[tuple[str, ...], bool]


def quota_binding(built: AllocationModel, params: SolveParams, seconds: float) -> QuotaBinding | None:
    """Which hard rules keep the rotation quota short (交流轮岗比例未达到的原因): the quota tier's LP
    again with each rule's rows relaxed in turn; a rule binds when the LP then rotates more. Returns the
    rules that alone do (and False); else the fewest that together do (a deletion filter, as
    `rule_conflicts`; and True); else none: nothing the rows hold binds, the direction, distance, stage
    and full-school rules leave the eligible teachers nowhere else to go. None when an LP found no
    optimum within `seconds`."""
    present = [rule for rule in CONFLICT_RULES if rule in built.rows and rule != "pool_balance"]
    solver = Solver(built, params.seed)
    solver.objective, solver.tier = built.tiers["quota"], "quota"
    start = time.perf_counter()

    def lp(rules: list[str]) -> float:
        free = np.concatenate([built.rows[r] for r in rules]) if rules else np.zeros(0, dtype=np.int64)
        return _relaxed_lp(solver, free, seconds - (time.perf_counter() - start), params.seed)

    base = lp([])
    if math.isnan(base):
        return None
    margin = 1e-6 * max(1.0, abs(base))

    def more(rules: list[str]) -> bool:  # the quota LP rotates more with these relaxed
        return lp(rules) < base - margin

    alone = [rule for rule in present if more([rule])]
    if alone or not present or not more(present):
        return tuple(alone), False
    return tuple(_fewest(present, more)), True


def _fewest(rules: list[str], helps: Callable[[list[str]], bool]) -> list[str]:
    """The fewest of `rules` that relaxed together still help, where all of them do (a deletion filter:
    a rule stays only if the others relaxed without it do not help)."""
    kept = list(rules)
    for rule in rules:
        others = [r for r in kept if r != rule]
        if others and helps(others):
            kept = others
    return kept


def rule_conflicts(built: AllocationModel, pins: pd.DataFrame, params: SolveParams) -> list[Problem]:
    """Why no plan exists (规则冲突), as input problems: the model's LP, no objective, with the pinned
    moves (必须调出, 调往学校: `pinned_rows`) relaxed, and with each rule's rows relaxed in turn. Pins
    are named when relaxing them restores a plan: each one that alone does, else all of them, with
    each rule whose relaxation also does; otherwise the rules alone. Only when the solve found no plan."""
    solver = Solver(built, params.seed)  # no objective: feasibility only

    def feasible(free: np.ndarray) -> bool:
        return not math.isnan(_relaxed_lp(solver, free, params.time_limit_s, params.seed))

    general = [Problem("policy", None, "", "", "规则之间相互矛盾，无可行方案：检查 pins.csv 与 plan、rotation 设置",
                       rule="infeasible")]
    if feasible(np.zeros(0, dtype=np.int64)):  # the pooled LP has a plan: nothing here to name (never seen)
        return general
    present = [rule for rule in CONFLICT_RULES if rule in built.rows]
    rules = [rule for rule in present if feasible(built.rows[rule])]
    joint = False
    if not rules and present and feasible(np.concatenate([built.rows[r] for r in present])):
        # No one rule alone: the fewest that together do, e.g. 跨学段只调富余 with 调剂限于富余.
        rules = _fewest(present, lambda some: feasible(np.concatenate([built.rows[r] for r in some])))
        joint = len(rules) > 1
    labels = ("与" if joint else "、").join(f"“{CONFLICT_RULES[rule][0]}”" for rule in rules)
    labels += "共同" if joint else ""
    relax = "；".join(CONFLICT_RULES[rule][1] for rule in rules)
    pinned = built.pinned_rows
    if len(pinned) and feasible(pinned):
        alone = [i for i in range(len(pinned)) if feasible(pinned[i:i + 1])]
        culprits = set(built.pinned_teachers[alone] if alone else built.pinned_teachers)
        file = pins.attrs.get("file", "pins.csv")
        moving = pins[pins["kind"].isin(["must_move", "to_school"]) & pins["teacher_id"].isin(culprits)]
        # The other pins named by their rows: "这 2 项" alone read as 2 pins or 2 rules (a tester).
        rows = "、".join(str(int(r)) for r in sorted(moving["row"].unique()))
        remedy = ("删去此项指定即可" if alone and len(culprits) == 1
                  else f"删去这 {len(culprits)} 项指定（{file} 第 {rows} 行）中任一项即可" if alone
                  else f"这 {len(culprits)} 项指定（{file} 第 {rows} 行）合起来无法同时满足：删去其中一些")
        expected = f"与{labels or '其他规则'}冲突，{remedy}" + (f"；或{relax}" if relax else "")
        return [Problem(file, pin.row, pin.kind, pin.school_id if isinstance(pin.school_id, str) and pin.school_id
                        else "是", expected, label=PIN_COLUMNS.get(pin.kind, ""), rule="pin_conflict")
                for pin in moving.itertuples(index=False)]
    if not rules:
        return general
    return [Problem("policy", None, "", "", f"规则之间相互矛盾，无可行方案：{labels}；{relax}", rule="infeasible")]
