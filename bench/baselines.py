"""Baselines a–c: the ways counties allocate teachers without an optimizer, and a naive CP-SAT model.

Each returns moves (teacher_id, to_school, to_stage, move_type, subject); `common.evaluate` scores them
like teacheralloc's plan. Rules each honours (checked afterwards by `teacheralloc.check`):

manual   movable teachers only (exempt ones only if they volunteered without a wish list), same stage,
         main subject, 核定编制 caps, ⌊20 %⌋ leaving cap, redeploy only from surplus, rotation only for the
         eligible and downward (otherwise the move is a redeployment); no support postings, no quota pursuit.
points   the same rules, plus wish lists (a volunteer goes only to a wished school), and the rotation quota
         as the number of non-volunteers placed.
naive    every hard rule the optimizer has except support postings and junior → primary redeployment, as
         constraints on one Boolean per (teacher, school) pair; objective: the optimizer's tiers 1–3 and
         disruption, weighted 10⁹ / 10⁶ / 10³ / 1 (near-lexicographic).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

from common import Facts

BACKBONE_POINTS = {"county": 3.0, "city": 5.0, "province": 8.0, "national": 10.0}


class _State:
    """Current on-duty counts per unit, posts and leavers per school, as moves are made one by one."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        units = facts.units
        self.n = dict(zip(units.index, units["teachers_before"].astype(int), strict=True))
        self.target = dict(zip(units.index, units["target"].astype(float), strict=True))
        self.posts = facts.schools["posts"].astype(int).to_dict()
        self.est = facts.schools["est"].to_dict()
        self.cap = facts.schools["leave_cap"].to_dict()
        self.left = {s: 0 for s in facts.schools.index}
        self.before_surplus = units["surplus"].to_dict()
        self.redeployed_out = {u: 0 for u in units.index}
        self.transfers_in = {u: 0 for u in units.index}
        self.moved: set[str] = set()
        self.moves: list[tuple[str, str, str, str, str]] = []

    def shortage(self, unit: str) -> float:
        return self.target[unit] - self.n[unit]

    def can_receive(self, school: str) -> bool:
        est = self.est[school]
        return bool(np.isnan(est) or self.posts[school] + 1 <= est) and self._open_before[school]

    def can_leave(self, school: str) -> bool:
        return self.left[school] < self.cap[school]

    def can_redeploy_from(self, unit: str) -> bool:
        return self.redeployed_out[unit] + 1 <= self.before_surplus[unit] + self.transfers_in[unit]

    def move(self, tid: str, unit_from: str, unit_to: str, kind: str, subject: str, voluntary: bool) -> None:
        school_from, school_to = unit_from.split("|")[0], unit_to.split("|")[0]
        self.n[unit_from] -= 1
        self.n[unit_to] += 1
        self.posts[school_from] -= 1
        self.posts[school_to] += 1
        self.left[school_from] += 1
        self.transfers_in[unit_to] += 1
        if kind == "redeploy" and not voluntary:
            self.redeployed_out[unit_from] += 1
        self.moved.add(tid)
        self.moves.append((tid, school_to, unit_to.split("|")[1], kind, subject))

    @property
    def _open_before(self) -> dict[str, bool]:
        # A school at or above its 核定编制 before the plan receives no transfer (the check's rule 8).
        if not hasattr(self, "_open"):
            schools = self.facts.schools
            self._open = {s: bool(np.isnan(e) or p < e) for s, e, p in zip(schools.index, schools["est"],
                                                                           schools["posts"], strict=True)}
        return self._open

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.moves, columns=["teacher_id", "to_school", "to_stage", "move_type", "subject"])


def _kind(facts: Facts, tid: str, school_from: str, school_to: str) -> str:
    t, s = facts.teachers, facts.schools
    if t.at[tid, "rotation_eligible"] and s.at[school_to, "level"] < s.at[school_from, "level"]:
        return "rotation"
    return "redeploy"


def _special(facts: Facts, school: str) -> bool:
    return (not facts.policy.plan.special_schools_take_part) and facts.schools.at[school, "type"] == "special"


# --------------------------------------------------------------------------------------------------
# a. The manual method (人事股手工调配)
# --------------------------------------------------------------------------------------------------


def manual(facts: Facts) -> pd.DataFrame:
    """Repeatedly give the longest-serving eligible teacher of the school with the largest surplus to the
    nearest school of the same stage with the largest shortage, until no move reduces the shortage.

    "Eligible": movable, on duty, not yet moved, and not a volunteer whose wish list excludes the
    destination; rotation-eligible teachers first (they are the ones due to move), then by years at the
    school. Largest surplus and shortage are in whole teachers against the rounded required posts; ties go
    to the nearer school, then the school code.
    """
    state = _State(facts)
    t = facts.teachers
    units = facts.units
    pool = t[t["movable"] & t["on_duty"].astype(bool) & ~t["has_wishes"]]
    pool = pool.assign(order_key=-(pool["rotation_eligible"].astype(int) * 1000 + pool["years_at_school"]))
    by_unit = {u: list(part.sort_values(["order_key", "teacher_id"])["teacher_id"])
               for u, part in pool.groupby(pool["school_id"] + "|" + pool["stage"])}
    unit_school = units["school_id"].to_dict()
    unit_stage = units["stage"].to_dict()
    closed = {u for u in units.index if _special(facts, unit_school[u])}
    exhausted: set[str] = set(closed)
    while True:
        donors = [u for u in units.index if u not in exhausted and state.shortage(u) <= -1]
        if not donors:
            break
        donor = min(donors, key=lambda u: (state.shortage(u), u))
        school_from, stage = unit_school[donor], unit_stage[donor]
        receivers = [] if not state.can_leave(school_from) else [
            u for u in units.index if unit_stage[u] == stage and u not in closed and state.shortage(u) >= 1
            and unit_school[u] != school_from and state.can_receive(unit_school[u])]
        if not receivers:
            exhausted.add(donor)
            continue
        receiver = min(receivers, key=lambda u: (-state.shortage(u), facts.distance(school_from, unit_school[u]), u))
        school_to = unit_school[receiver]
        placed = False
        for tid in by_unit.get(donor, []):
            if tid in state.moved:
                continue
            kind = _kind(facts, tid, school_from, school_to)
            if kind == "redeploy" and not state.can_redeploy_from(donor):
                continue
            state.move(tid, donor, receiver, kind, t.at[tid, "subject"], voluntary=False)
            placed = True
            break
        if not placed:
            exhausted.add(donor)
    return state.frame()


# --------------------------------------------------------------------------------------------------
# b. Points-ordered allotment (积分排序，网上调动系统)
# --------------------------------------------------------------------------------------------------


def points(facts: Facts) -> pd.DataFrame:
    """Volunteers and rotation-eligible teachers ranked by points, each in turn placed at the shortage
    school they prefer (their wish list, in order) or else the nearest one, under the same quotas.

    Points = years at the school + 2 × years of rural service + backbone level (county 3, city 5,
    province 8, national 10); ties by teacher id. Non-volunteers are placed only as rotations (eligible,
    downward) and only until the rotation quota (⌈10 %⌉ of the eligible) is met; volunteers without a
    wish list move as rotations when eligible and downward, otherwise as redeployments from surplus. A
    shortage school is a school of the teacher's stage whose on-duty teachers are below the rounded
    required posts, that may receive a transfer (核定编制), when the teacher's school may still lose one.
    """
    from common import quota_figures

    state = _State(facts)
    t, units, schools = facts.teachers, facts.units, facts.schools
    quota = quota_figures(facts, pd.DataFrame({"teacher_id": [], "move_type": []}))["required_rotations"]
    candidates = t[t["movable"] & (t["volunteer"] | t["rotation_eligible"])]
    score = (candidates["years_at_school"] + 2.0 * candidates["rural_years"].astype(float)
             + candidates["backbone"].astype(str).map(BACKBONE_POINTS).fillna(0.0))
    order = candidates.assign(points=score).sort_values(["points", "teacher_id"], ascending=[False, True]).index
    rotated = 0
    by_stage = {st: list(part.index) for st, part in units.groupby("stage")}
    for tid in order:
        school_from, stage = t.at[tid, "school_id"], t.at[tid, "stage"]
        unit_from = f"{school_from}|{stage}"
        volunteer = bool(t.at[tid, "volunteer"])
        if not volunteer and rotated >= quota:
            continue
        if not state.can_leave(school_from) or (_special(facts, school_from) and not volunteer):
            continue
        short = [u for u in by_stage.get(stage, [])
                 if state.shortage(u) >= 1 and units.at[u, "school_id"] != school_from
                 and state.can_receive(units.at[u, "school_id"]) and not _special(facts, units.at[u, "school_id"])]
        choice = None
        if volunteer and t.at[tid, "has_wishes"]:
            for wish in t.at[tid, "wishes"]:
                unit = f"{wish}|{stage}"
                if unit in short:
                    choice = (unit, _kind(facts, tid, school_from, wish), True)
                    break
        else:
            ranked = sorted(short, key=lambda u: (facts.distance(school_from, units.at[u, "school_id"]), u))
            for unit in ranked:
                kind = _kind(facts, tid, school_from, units.at[unit, "school_id"])
                if kind == "rotation" or (volunteer and state.can_redeploy_from(unit_from)):
                    choice = (unit, kind, False)
                    break
        if choice is None:
            continue
        unit, kind, voluntary = choice
        state.move(tid, unit_from, unit, kind, t.at[tid, "subject"], voluntary=voluntary)
        rotated += kind == "rotation" and not volunteer
    del schools
    return state.frame()


# --------------------------------------------------------------------------------------------------
# c. Naive CP-SAT: one Boolean per (teacher, school), no pruning
# --------------------------------------------------------------------------------------------------


def naive_cpsat(facts: Facts, time_limit_s: float = 60.0, workers: int = 2, seed: int = 0) -> tuple[pd.DataFrame,
                                                                                                      dict[str, Any]]:
    """The per-teacher model a first attempt writes: x[t, s] for every teacher and school, every rule a
    constraint (forbidden pairs fixed to 0 rather than never created), the optimizer's objective tiers as
    one weighted sum. Returns the moves and solver figures (status, objective, bound, pairs)."""
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    policy = facts.policy
    t, schools, units = facts.teachers, facts.schools, facts.units
    school_ids = list(schools.index)
    school_stages = {s: set(schools.at[s, "stages"]) for s in school_ids}
    open_before = {s: bool(np.isnan(schools.at[s, "est"]) or schools.at[s, "posts"] < schools.at[s, "est"])
                   for s in school_ids}
    model = cp_model.CpModel()
    x: dict[tuple[str, str], Any] = {}
    teacher_ids = list(t.index)
    for tid in teacher_ids:
        for sid in school_ids:
            x[tid, sid] = model.new_bool_var("")
    level = schools["level"].to_dict()
    rotation_terms, backbone_terms, redeploy_out = [], [], {u: [] for u in units.index}
    duty_in = {u: [] for u in units.index}
    transfers_in = {u: [] for u in units.index}
    school_in = {s: [] for s in school_ids}
    school_out = {s: [] for s in school_ids}
    subject_in: dict[tuple[str, str], list[Any]] = {}
    disruption = []
    for tid in teacher_ids:
        home, stage, subject = t.at[tid, "school_id"], t.at[tid, "stage"], t.at[tid, "subject"]
        movable, duty = bool(t.at[tid, "movable"]), bool(t.at[tid, "on_duty"])
        wishes = set(t.at[tid, "wishes"]) if t.at[tid, "has_wishes"] else None
        model.add_exactly_one(x[tid, s] for s in school_ids)
        if not movable or (_special(facts, home) and wishes is None):
            model.add(x[tid, home] == 1)
        for sid in school_ids:
            var = x[tid, sid]
            unit = f"{sid}|{stage}"
            if sid == home:
                if duty and unit in duty_in:
                    duty_in[unit].append(var)
                    subject_in.setdefault((unit, subject), []).append(var)
                continue
            allowed = movable and stage in school_stages[sid] and unit in units.index and open_before[sid]
            allowed &= wishes is None or sid in wishes
            allowed &= not _special(facts, sid) or (wishes is not None and sid in wishes)
            if not allowed:
                model.add(var == 0)
                continue
            school_in[sid].append(var)
            school_out[home].append(var)
            transfers_in[unit].append(var)
            if duty:
                duty_in[unit].append(var)
                subject_in.setdefault((unit, subject), []).append(var)
            rotation = bool(t.at[tid, "rotation_eligible"]) and level[sid] < level[home]
            if rotation:
                rotation_terms.append(var)
                if t.at[tid, "backbone_flag"]:
                    backbone_terms.append(var)
            elif wishes is None:
                redeploy_out[f"{home}|{stage}"].append(var)
            if wishes is None:
                disruption.append((var, int(np.rint(100 * policy.plan.move_cost
                                                   + 100 * policy.plan.km_cost * facts.distance(home, sid)))))
    for sid in school_ids:
        if school_out[sid]:
            model.add(sum(school_out[sid]) <= int(schools.at[sid, "leave_cap"]))
        est = schools.at[sid, "est"]
        if not np.isnan(est) and school_in[sid]:
            model.add(int(schools.at[sid, "posts"]) - sum(school_out[sid]) + sum(school_in[sid]) <= int(est))
    for unit, outs in redeploy_out.items():
        if outs:
            model.add(sum(outs) <= int(units.at[unit, "surplus"]) + sum(transfers_in[unit]))
    # Tier terms.
    hc_terms = []
    for unit in units.index:
        target = int(units.at[unit, "target"])
        short = model.new_int_var(0, max(target, 0), "")
        model.add(short >= target - sum(duty_in[unit]))
        hc_terms.append((short, int(np.rint(2 * units.at[unit, "weight"]))))
    subject_terms = []
    for unit, subject, demand in zip(facts.demand["unit"], facts.demand["subject"], facts.demand["demand"],
                                     strict=True):
        whole = math.floor(demand + 0.5)
        if whole <= 0 or unit not in units.index:
            continue
        short = model.new_int_var(0, whole, "")
        model.add(short >= whole - sum(subject_in.get((unit, subject), [])))
        subject_terms.append((short, int(np.rint(2 * policy.plan.subject_weight_of(subject)))))
    from common import quota_figures

    required = quota_figures(facts, pd.DataFrame({"teacher_id": [], "move_type": []}))["required_rotations"]
    quota_short = model.new_int_var(0, max(required, 0), "")
    model.add(quota_short >= required - sum(rotation_terms))
    backbone_short = model.new_int_var(0, len(teacher_ids), "")
    share = policy.rotation.min_backbone_share_of_rotators
    model.add(100 * sum(backbone_terms) + 100 * backbone_short >= int(np.rint(100 * share)) * sum(rotation_terms))
    objective = (10**9 * (10 * quota_short + backbone_short) + 10**6 * sum(v * w for v, w in hc_terms)
                 + 10**3 * sum(v * w for v, w in subject_terms) + sum(v * c for v, c in disruption))
    model.minimize(objective)
    for tid in teacher_ids:  # start from "nobody moves"
        for sid in school_ids:
            model.add_hint(x[tid, sid], sid == t.at[tid, "school_id"])
    built = time.perf_counter() - started
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    info = {"status": solver.status_name(status), "pairs": len(x), "build_s": round(built, 2),
            "objective": solver.objective_value if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None,
            "best_bound": solver.best_objective_bound}
    rows = []
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for tid in teacher_ids:
            home, stage = t.at[tid, "school_id"], t.at[tid, "stage"]
            for sid in school_ids:
                if sid != home and solver.boolean_value(x[tid, sid]):
                    kind = "rotation" if (t.at[tid, "rotation_eligible"] and level[sid] < level[home]) else "redeploy"
                    rows.append((tid, sid, stage, kind, t.at[tid, "subject"]))
    return pd.DataFrame(rows, columns=["teacher_id", "to_school", "to_stage", "move_type", "subject"]), info
