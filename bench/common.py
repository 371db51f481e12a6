"""What every benchmark method shares: the county's facts (who may move, school levels, distances) and
ONE evaluator that turns a method's moves into the figures of the results table.

The facts come from `teacheralloc.check` (the independent checker, which shares no code with the
optimizer), so the baselines are held to the same reading of the rules as the checker applies to
teacheralloc. Every method's plan is evaluated here the same way: the movers are put at their new school
and stage (as `teacheralloc plan` does), norms are recomputed, and the plan is written as a plan folder
and run through `teacheralloc.check.check_plan`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ortools.math_opt.python import mathopt

from teacheralloc.check import check_plan
from teacheralloc.check.facts import school_facts, teacher_facts
from teacheralloc.domain import County, SchoolType
from teacheralloc.norms import compute_norms
from teacheralloc.plan import SCHOOL_COLUMNS, county_after
from teacheralloc.policy import Policy

#: check_plan rules that are hard rules (the others: `figures` is our own bookkeeping, `quota` is a tier
#: reported as "quota met", `context` only warns).
HARD_RULES = ("well_formed", "movable", "rotation", "support", "stage", "subject", "wishes", "pins",
              "establishment", "max_leaving", "redeploy_surplus", "max_km")
MOVE_FIELDS = ["teacher_id", "to_school", "to_stage", "move_type", "subject"]


# --------------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------------


@dataclass
class Facts:
    """The county seen by the rules: teachers with their flags, schools, units (school × stage), km."""

    county: County
    policy: Policy
    teachers: pd.DataFrame  # indexed by teacher_id
    schools: pd.DataFrame  # indexed by school_id
    units: pd.DataFrame  # one row per school and stage (norms before), with target, weight, surplus
    demand: pd.DataFrame  # unit subject demand (FTE) before
    km: np.ndarray  # school × school road km
    school_index: dict[str, int]

    def distance(self, a: str, b: str) -> float:
        return float(self.km[self.school_index[a], self.school_index[b]])


def unit_weights(units: pd.DataFrame, policy: Policy) -> np.ndarray:
    """The headcount tier's weight per unit: teaching point 3, rural 2, town 1.5, urban 1, weak +0.5."""
    plan = policy.plan
    is_tp = units["type"].astype(str) == SchoolType.teaching_point.value
    area = units["area"].astype(str).map(lambda a: plan.headcount_weight.get(a, 1.0)).to_numpy(float)
    weight = np.where(is_tp, plan.headcount_weight.get("teaching_point", 1.0), area)
    return weight + np.where(units["weak"].astype(bool), plan.weak_school_extra, 0.0)


def distance_matrix(county: County, schools: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Road km between schools: the distances table where given, else great-circle × plan.road_factor
    (the formula of the check's `facts.Distances`)."""
    lat = np.radians(schools["lat"].astype(float).to_numpy())
    lon = np.radians(schools["lon"].astype(float).to_numpy())
    dp = lat[None, :] - lat[:, None]
    dl = lon[None, :] - lon[:, None]
    a = np.sin(dp / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dl / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1))) * policy.plan.road_factor
    km = np.nan_to_num(km, nan=0.0)
    if county.distances is not None and not county.distances.empty:
        index = {sid: i for i, sid in enumerate(schools.index)}
        for a_id, b_id, value in zip(county.distances["from_id"], county.distances["to_id"], county.distances["km"],
                                     strict=True):
            if a_id in index and b_id in index:
                km[index[a_id], index[b_id]] = km[index[b_id], index[a_id]] = float(value)
    return km


def build_facts(county: County, policy: Policy) -> Facts:
    empty_pins = pd.DataFrame({"teacher_id": [], "kind": [], "school_id": []})
    teachers = teacher_facts(county, policy, empty_pins)
    teachers.index.name = None  # indexed by teacher_id, which stays a column too
    schools = school_facts(county, policy)
    teachers["movable"] = (teachers["exempt"] == "") | teachers["volunteer"]
    teachers["has_wishes"] = teachers["wishes"].map(len) > 0
    area = teachers["school_id"].map(schools["area"])
    weak = teachers["school_id"].map(schools["weak"]).astype(bool)
    from_area = area.isin(list(policy.support.from_areas)) & ~weak
    teachers["support_need"] = (from_area & teachers["movable"] & (teachers["exempt"] == "")
                                & (teachers["title"] == "first")
                                & (teachers["rural_years"] < policy.support.senior_title_rural_years))
    teachers["support_candidate"] = teachers["support_need"] | (
        from_area & teachers["movable"] & teachers["volunteer"] & ~teachers["has_wishes"])
    share = policy.rotation.max_share_leaving_school
    schools["leave_cap"] = np.maximum(1, np.floor(share * schools["posts"] + 1e-9)).astype(int)
    schools["est"] = schools["establishment"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    norms = compute_norms(county, policy)
    units = norms.schools[["school_id", "stage", "type", "area", "weak", "students", "school_students", "required",
                           "teachers_before"]].copy()
    units["unit"] = units["school_id"] + "|" + units["stage"]
    units["target"] = policy.plan.headcount_target(units["required"])
    units["weight"] = unit_weights(units, policy)
    units["level"] = units["school_id"].map(schools["level"])
    units["surplus"] = np.floor(np.maximum(0.0, units["teachers_before"] - units["target"]) + 1e-9).astype(int)
    units["small"] = (units["school_students"] < policy.staffing.small_school.threshold_students)
    units = units.set_index("unit", drop=False)
    demand = norms.subjects[norms.subjects["demand"] > 1e-9][["school_id", "stage", "subject", "demand"]].copy()
    demand["unit"] = demand["school_id"] + "|" + demand["stage"]
    km = distance_matrix(county, schools, policy)
    return Facts(county, policy, teachers, schools, units, demand.reset_index(drop=True), km,
                 {sid: i for i, sid in enumerate(schools.index)})


# --------------------------------------------------------------------------------------------------
# The shared evaluator
# --------------------------------------------------------------------------------------------------


after_county = county_after  # the county as a plan leaves it, exactly as `teacheralloc plan` computes it


def subject_shortages(county: County, policy: Policy, norms: Any) -> tuple[float, float]:
    """Least subject shortage given who is on duty where, in two measures: (tier, fte).

    Each teacher is split over the subjects they may teach (main, qualified others, and in small schools
    the generalist primary subjects) by one transportation LP (HiGHS via MathOpt):
    - tier: Σ subject weight × max(0, ⌊demand + ½⌋ − teachers assigned), whole teachers — the optimizer's
      subject tier (the LP is integral: integer supplies and demands);
    - fte: Σ max(0, demand − FTE assigned) — the least FTE shortage (norms.py reports a greedy version).
    """
    demand = norms.subjects[norms.subjects["demand"] > 1e-9]
    if demand.empty:
        return 0.0, 0.0
    duty = county.teachers[county.teachers["status"].astype(str) == "active"] if not policy.staffing.count_on_leave \
        else county.teachers
    small = set(norms.schools.loc[norms.schools["school_students"] < policy.staffing.small_school.threshold_students,
                                  "school_id"])
    generalist = tuple(s.value for s in policy.curriculum.small_school_generalist_subjects)
    need = {(a, b, c): float(d) for a, b, c, d in zip(demand["school_id"], demand["stage"], demand["subject"],
                                                        demand["demand"], strict=True)}
    classes: dict[tuple[str, str, tuple[str, ...]], int] = {}
    for school, stage, main, others in zip(duty["school_id"], duty["stage"].astype(str), duty["subject"].astype(str),
                                           duty["other_subjects"], strict=True):
        quals = {main, *others}
        if school in small and stage == "primary":
            quals.update(generalist)
        key = (school, stage, tuple(sorted(s for s in quals if (school, stage, s) in need)))
        if key[2]:
            classes[key] = classes.get(key, 0) + 1
    model = mathopt.Model(name="subject_assignment")
    cover: dict[tuple[str, str, str], list[mathopt.Variable]] = {}
    for (school, stage, quals), count in classes.items():
        parts = [model.add_variable(lb=0.0) for _ in quals]
        model.add_linear_constraint(mathopt.fast_sum(parts) <= count)
        for subject, var in zip(quals, parts, strict=True):
            cover.setdefault((school, stage, subject), []).append(var)
    tier, fte = subject_terms(model, cover, need, policy)
    model.minimize(tier)
    tier_value = float(mathopt.solve(model, mathopt.SolverType.HIGHS).objective_value())
    model.minimize(fte)
    return tier_value, float(mathopt.solve(model, mathopt.SolverType.HIGHS).objective_value())


def subject_terms(model: mathopt.Model, cover: dict[Any, list[mathopt.Variable]], need: dict[Any, float],
                  policy: Policy) -> tuple[mathopt.LinearExpression, mathopt.LinearExpression]:
    """Shortage variables for both subject measures over the same assignment (`cover`): (tier, fte)."""
    tier, fte = [], []
    for key, value in need.items():
        supplied = mathopt.fast_sum(cover.get(key, []))
        gap = model.add_variable(lb=0.0)
        model.add_linear_constraint(gap + supplied >= value)
        fte.append(gap)
        whole = float(np.floor(value + 0.5))
        if whole > 0:
            gap = model.add_variable(lb=0.0)
            model.add_linear_constraint(gap + supplied >= whole)
            tier.append(policy.plan.subject_weight_of(key[-1]) * gap)
    return mathopt.fast_sum(tier), mathopt.fast_sum(fte)


def complete_moves(facts: Facts, moves: pd.DataFrame) -> pd.DataFrame:
    """A method's moves (teacher_id, to_school, to_stage, move_type, subject) as plan.csv rows."""
    moves = moves[MOVE_FIELDS].copy().reset_index(drop=True)
    t = facts.teachers
    moves["from_school"] = moves["teacher_id"].map(t["school_id"])
    moves["from_stage"] = moves["teacher_id"].map(t["stage"])
    moves["km"] = [round(facts.distance(a, b), 1) for a, b in zip(moves["from_school"], moves["to_school"],
                                                                      strict=True)]
    ranks = []
    for tid, dest in zip(moves["teacher_id"], moves["to_school"], strict=True):
        wishes = list(t.at[tid, "wishes"])
        ranks.append(wishes.index(dest) + 1 if t.at[tid, "volunteer"] and dest in wishes else 0)
    moves["wish_rank"] = ranks
    moves["voluntary"] = moves["wish_rank"] > 0
    moves["reason"] = "基线方案（bench）"
    order = ["teacher_id", "from_school", "to_school", "move_type", "subject", "reason", "from_stage", "to_stage",
             "km", "voluntary", "wish_rank"]
    return moves[order]


def quota_figures(facts: Facts, moves: pd.DataFrame) -> dict[str, Any]:
    """Rotation quota (as the check computes it): required rotations, rotations, backbone share."""
    policy, t, s = facts.policy, facts.teachers, facts.schools
    eligible = t[t["rotation_eligible"]]
    rotations = moves[moves["move_type"] == "rotation"]
    if policy.rotation.quota_base == "sending":  # only rotations out of the base's schools count
        sending = s.index[((s["area"] != "rural") & ~s["weak"]).to_numpy()]
        eligible = eligible[eligible["school_id"].isin(sending).to_numpy()]
        rotations = rotations[rotations.get("from_school", pd.Series(index=rotations.index, dtype=object))
                              .isin(sending).to_numpy()]
    required = math.ceil(policy.rotation.min_share_of_eligible * len(eligible) - 1e-9)
    rotated = rotations["teacher_id"]
    backbone = int(t.loc[rotated, "backbone_flag"].sum()) if len(rotated) else 0
    share = policy.rotation.min_backbone_share_of_rotators
    return {"eligible_base": len(eligible), "required_rotations": required, "rotations": len(rotated),
            "backbone_rotations": backbone, "backbone_required": math.ceil(share * len(rotated) - 1e-9),
            "rotation_quota_met": len(rotated) >= required,
            "backbone_quota_met": backbone >= share * len(rotated) - 1e-9}


def write_plan_folder(facts: Facts, moves: pd.DataFrame, folder: Path, before: Any, after: Any,
                      quota: dict[str, Any]) -> None:
    """plan.csv, schools.csv and summary.json in the output contract, so `check_plan` can read them."""
    folder.mkdir(parents=True, exist_ok=True)
    moves.to_csv(folder / "plan.csv", index=False)
    keys = ["school_id", "stage"]
    table = before.schools[[*keys, "students", "classes", "required", "teachers_before", "gap_before"]].merge(
        after.schools[[*keys, "teachers_before", "gap_before"]].rename(
            columns={"teachers_before": "teachers_after", "gap_before": "gap_after"}), on=keys, how="outer")
    table["teachers_after"] = table["teachers_after"].fillna(0).astype(int)
    table["gap_after"] = table["gap_after"].fillna(table["required"] - table["teachers_after"])
    table[list(SCHOOL_COLUMNS)].to_csv(folder / "schools.csv", index=False)
    counts = moves["move_type"].value_counts()
    summary = {"status": "baseline",
               "moves": {k: int(counts.get(k, 0)) for k in ("rotation", "support", "redeploy", "new_hire")}
               | {"total": len(moves)},
               "quota": {**quota, "shortfall": [] if quota["rotation_quota_met"] and quota["backbone_quota_met"]
                         else ["基线方法不追求交流比例（bench）"]},
               "parameters": {"as_of": facts.county.as_of.isoformat()}}
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")


def evaluate(facts: Facts, moves: pd.DataFrame, folder: Path | None = None, run_check: bool = True) -> dict[str, Any]:
    """The figures of one plan, the same way for every method.

    headcount   Σ weight × max(0, target − on duty) per school and stage, target = required posts rounded to
                whole teachers (the optimizer's headcount tier, `plan.headcount_weight`);
    posts_short Σ max(0, target − on duty) (unweighted, whole teachers);
    fte_short   Σ max(0, required − on duty) (norms' gap, FTE);
    subject     Σ subject weight × whole teachers short per subject, given who is where (the optimizer's
                subject tier; `subject_shortages`);
    subject_fte the least subject shortage in FTE given who is where;
    subject_norms  norms.py's (greedy) subject shortage in FTE, as reports show it;
    moves, km, by move type; quota met; hard-rule violations found by `check_plan`.
    """
    policy, county = facts.policy, facts.county
    rows = complete_moves(facts, moves) if len(moves) else complete_moves(facts, pd.DataFrame(
        {c: pd.Series(dtype=object) for c in MOVE_FIELDS}))
    before = compute_norms(county, policy)
    later = after_county(county, rows)
    after = compute_norms(later, policy)
    units = after.schools
    target = policy.plan.headcount_target(units["required"])
    gap = np.maximum(0.0, target - units["teachers_before"].to_numpy(float))
    weights = unit_weights(units, policy)
    quota = quota_figures(facts, rows)
    subject_tier, subject_fte = subject_shortages(later, policy, after)
    out: dict[str, Any] = {
        "headcount": float((weights * gap).sum()),
        "posts_short": float(gap.sum()),
        "fte_short": float(units["gap_before"].clip(lower=0).sum()),
        "subject": subject_tier,
        "subject_fte": subject_fte,
        "subject_norms": float(after.subjects["gap"].clip(lower=0).sum()),
        "moves": len(rows),
        "moves_by_type": {k: int((rows["move_type"] == k).sum()) for k in ("rotation", "support", "redeploy")},
        "km": float(rows["km"].sum()),
        "quota": quota,
        "quota_met": bool(quota["rotation_quota_met"] and quota["backbone_quota_met"]),
    }
    if run_check and folder is not None:
        write_plan_folder(facts, rows, folder, before, after, quota)
        report = check_plan(county, policy, folder)
        counts: dict[str, int] = {}
        for violation in report.violations:
            if violation.rule in HARD_RULES:
                counts[violation.rule] = counts.get(violation.rule, 0) + 1
        out["violations"] = counts
        out["violation_examples"] = [v.message for v in report.violations if v.rule in HARD_RULES][:5]
    return out
