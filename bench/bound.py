"""Baseline d, the bound: the LP relaxation of the aggregated allocation problem (HiGHS through MathOpt).

Teachers are grouped by school, stage, main subject, qualifications, eligibility (movable, rotation-
eligible, support candidate), duty and, for volunteers with a wish list, the list. A group sends
teachers (a fraction of them: the LP relaxation) into arrival pools — redeploy by stage and subject,
rotation by stage, subject and origin level (a cascade: a level's pool passes teachers down to the next
lower level's pool, so the direction rule needs no arc per origin), support by stage and subject — or
directly to a wished school; pools deliver to schools. The hard rules that bind the headcount and the
subjects are kept exactly (who may move, direction, support areas, stage and junior → primary with the
mapped subject, 核定编制 caps, at most ⌊20 %⌋ leaving a school, involuntary redeployment only from surplus,
wish lists); distances, the quota and the indicators are not needed for a bound on the shortages.

Two LPs, lexicographic like the optimizer's tiers:
1. least headcount shortage Σ weight × max(0, target − on duty) (the optimizer's headcount tier);
2. with it held at its optimum, least subject shortage given who is where (every teacher split over the
   subjects they may teach), in the optimizer's measure (weighted whole teachers against demand rounded
   to the nearest; the evaluator's `subject`) and, separately, in FTE (`subject_fte`).
Every plan that obeys the rules is a feasible point of these LPs, so their optima bound every method.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import numpy as np
from ortools.math_opt.python import mathopt

from common import Facts, subject_terms

TRANSFER_KINDS = ("redeploy", "rotation", "direct")


def lp_bound(facts: Facts, time_limit_s: float = 600.0) -> dict[str, Any]:
    started = time.perf_counter()
    policy = facts.policy
    t = facts.teachers
    schools = facts.schools
    units = facts.units
    generalist = tuple(s.value for s in policy.curriculum.small_school_generalist_subjects)
    mapped = {str(k): str(v) for k, v in policy.plan.junior_to_primary_subjects.items()}
    special_closed = not policy.plan.special_schools_take_part
    demand = {(u, s): float(d) for u, s, d in zip(facts.demand["unit"], facts.demand["subject"],
                                                  facts.demand["demand"], strict=True)}
    subjects_at = {}
    for u, s in demand:
        subjects_at.setdefault(u, set()).add(s)

    # Groups of interchangeable teachers.
    t = t.assign(unit=t["school_id"] + "|" + t["stage"],
                 quals=[tuple(sorted({m, *o})) for m, o in zip(t["subject"], t["other_subjects"], strict=True)],
                 wish_key=[tuple(w) if v and len(w) else () for v, w in zip(t["volunteer"], t["wishes"],
                                                                            strict=True)])
    keys = ["unit", "school_id", "stage", "subject", "quals", "movable", "rotation_eligible", "support_candidate",
            "on_duty", "wish_key"]
    groups = t.groupby(keys, sort=True).size().rename("size").reset_index()

    model = mathopt.Model(name="bound")
    unit_in: dict[str, list[tuple[mathopt.Variable, bool]]] = {u: [] for u in units.index}  # (var, on duty)
    unit_out_duty: dict[str, list[mathopt.Variable]] = {u: [] for u in units.index}
    transfers_in_unit: dict[str, list[mathopt.Variable]] = {u: [] for u in units.index}
    redeploy_out: dict[str, list[mathopt.Variable]] = {u: [] for u in units.index}
    school_out: dict[str, list[mathopt.Variable]] = {}
    school_transfer_out: dict[str, list[mathopt.Variable]] = {}
    school_transfer_in: dict[str, list[mathopt.Variable]] = {}
    arrivals: dict[tuple[str, str], list[mathopt.Variable]] = {}  # (unit, subject taught or "*") -> vars
    pool_in: dict[tuple, list[mathopt.Variable]] = {}
    stays: list[tuple[str, tuple[str, ...], mathopt.Variable | float, bool]] = []
    rotations: list[mathopt.Variable] = []  # rotation flows (for the quota variant)
    wished_downward: list[mathopt.Variable] = []  # wish moves an eligible teacher may make as a rotation

    def open_for_transfer(school: str) -> bool:
        est, posts = schools.at[school, "est"], schools.at[school, "posts"]
        return bool(np.isnan(est) or posts < est)

    def closed_special(school: str) -> bool:
        return special_closed and schools.at[school, "type"] == "special"

    levels = sorted(set(schools["level"]), reverse=True)
    for g in groups.itertuples(index=False):
        size = float(g.size)
        if not g.movable:
            stays.append((g.unit, g.quals, size, bool(g.on_duty)))
            continue
        outs: list[mathopt.Variable] = []

        def leave(pool: tuple, kind: str, g: Any = g, outs: list = outs) -> None:
            var = model.add_variable(lb=0.0)
            outs.append(var)
            pool_in.setdefault(pool, []).append(var)
            if kind == "redeploy":
                redeploy_out[g.unit].append(var)
            if kind == "rotation":
                rotations.append(var)
            if kind != "support":
                school_transfer_out.setdefault(g.school_id, []).append(var)

        if g.wish_key:  # a volunteer with a wish list goes only to a wished school (voluntary, a transfer)
            for dest_school in g.wish_key:
                if dest_school not in schools.index or dest_school == g.school_id:
                    continue
                stages = schools.at[dest_school, "stages"]
                options = []
                if g.stage in stages:
                    options.append((g.stage, g.quals))
                elif g.stage == "junior" and "primary" in stages and policy.plan.junior_to_primary:
                    options.append(("primary", tuple(sorted({mapped.get(g.subject, g.subject), *g.quals}))))
                if not open_for_transfer(dest_school):
                    continue
                for stage, quals in options:
                    dest = f"{dest_school}|{stage}"
                    if dest not in units.index:
                        continue
                    for subject in (*[q for q in quals if (dest, q) in demand], "*"):
                        var = model.add_variable(lb=0.0)
                        outs.append(var)
                        school_transfer_out.setdefault(g.school_id, []).append(var)
                        school_transfer_in.setdefault(dest_school, []).append(var)
                        transfers_in_unit[dest].append(var)
                        unit_in[dest].append((var, bool(g.on_duty)))
                        arrivals.setdefault((dest, subject), []).append(var)
                        if g.rotation_eligible and schools.at[dest_school, "level"] < schools.at[g.school_id, "level"]:
                            wished_downward.append(var)
        else:
            for subject in (*g.quals, "*"):
                leave(("redeploy", g.stage, subject, bool(g.on_duty)), "redeploy")
                if g.rotation_eligible:
                    leave(("rotation", g.stage, subject, bool(g.on_duty), schools.at[g.school_id, "level"]),
                          "rotation")
                if g.support_candidate:
                    leave(("support", g.stage, subject, bool(g.on_duty)), "support")
            if g.stage == "junior" and policy.plan.junior_to_primary:
                for subject in (*sorted({mapped.get(g.subject, g.subject), *g.quals}), "*"):
                    leave(("redeploy", "primary", subject, bool(g.on_duty)), "redeploy")
        if not outs:
            stays.append((g.unit, g.quals, size, bool(g.on_duty)))
            continue
        total_out = mathopt.fast_sum(outs)
        model.add_linear_constraint(total_out <= size)
        school_out.setdefault(g.school_id, []).extend(outs)
        if g.on_duty:
            unit_out_duty[g.unit].extend(outs)
        stay = model.add_variable(lb=0.0)
        model.add_linear_constraint(stay + total_out == size)
        stays.append((g.unit, g.quals, stay, bool(g.on_duty)))

    # Pools deliver to units.
    unit_rows = list(units.itertuples(index=False))
    rotation_pools: dict[tuple, list[float]] = {}
    for pool in pool_in:
        if pool[0] == "rotation":
            rotation_pools.setdefault(pool[1:4], []).append(pool[4])
    # Cascade: add the empty intermediate rotation pools each chain passes through.
    for key, origin_levels in rotation_pools.items():
        top = max(origin_levels)
        for level in levels:
            if level <= top:
                pool_in.setdefault(("rotation", *key, level), [])
    pool_out: dict[tuple, list[mathopt.Variable]] = {pool: [] for pool in pool_in}
    for pool in list(pool_in):
        if pool[0] == "rotation":
            lower = [lv for lv in levels if lv < pool[4]]
            if lower:
                var = model.add_variable(lb=0.0)
                pool_out[pool].append(var)
                pool_in.setdefault(("rotation", *pool[1:4], lower[0]), []).append(var)
    for pool, ins in pool_in.items():
        if not ins:
            continue
        kind, stage, subject, duty = pool[:4]
        lower_levels = [lv for lv in levels if lv < pool[4]] if kind == "rotation" else []
        for u in unit_rows:
            if u.stage != stage or closed_special(u.school_id):
                continue
            if subject != "*" and (u.unit, subject) not in demand:
                continue
            if kind == "rotation" and not (lower_levels and u.level == lower_levels[0]):
                continue
            if kind == "support" and not (u.area == "rural" or bool(u.weak)):
                continue
            if kind != "support" and not open_for_transfer(u.school_id):
                continue
            var = model.add_variable(lb=0.0)
            pool_out[pool].append(var)
            unit_in[u.unit].append((var, duty))
            arrivals.setdefault((u.unit, subject), []).append(var)
            if kind != "support":
                transfers_in_unit[u.unit].append(var)
                school_transfer_in.setdefault(u.school_id, []).append(var)
    for pool, ins in pool_in.items():
        if ins or pool_out[pool]:
            model.add_linear_constraint(mathopt.fast_sum(ins) == mathopt.fast_sum(pool_out[pool]))

    # School rules: leaving cap, 核定编制.
    for school, outs in school_out.items():
        model.add_linear_constraint(mathopt.fast_sum(outs) <= float(schools.at[school, "leave_cap"]))
    for school in schools.index:
        est, posts = schools.at[school, "est"], float(schools.at[school, "posts"])
        ins = school_transfer_in.get(school, [])
        if np.isnan(est) or not ins:
            continue
        outs = school_transfer_out.get(school, [])
        model.add_linear_constraint(posts - mathopt.fast_sum(outs) + mathopt.fast_sum(ins) <= float(est))
    # Involuntary redeployment only from surplus plus transfers received.
    for u, outs in redeploy_out.items():
        if outs:
            model.add_linear_constraint(mathopt.fast_sum(outs) <= float(units.at[u, "surplus"])
                                        + mathopt.fast_sum(transfers_in_unit[u]))

    # Headcount.
    short = {}
    for u in unit_rows:
        duty_in = [v for v, duty in unit_in[u.unit] if duty]
        on_duty = float(u.teachers_before) - mathopt.fast_sum(unit_out_duty[u.unit]) + mathopt.fast_sum(duty_in)
        var = model.add_variable(lb=0.0)
        model.add_linear_constraint(var >= float(u.target) - on_duty)
        short[u.unit] = (var, float(u.weight))
    headcount = mathopt.fast_sum(w * v for v, w in short.values())

    # Subjects: every FTE on duty split over the subjects its teacher may teach at the unit.
    cover: dict[tuple[str, str], list[mathopt.Variable]] = {}
    small_primary = {u.unit for u in unit_rows if u.small and u.stage == "primary"}

    def split(unit: str, quals: tuple[str, ...], amount: Any) -> None:
        can = set(quals) | (set(generalist) if unit in small_primary else set())
        can = sorted(s for s in can if (unit, s) in demand)
        if not can:
            return
        parts = [model.add_variable(lb=0.0) for _ in can]
        model.add_linear_constraint(mathopt.fast_sum(parts) <= amount)
        for subject, var in zip(can, parts, strict=True):
            cover.setdefault((unit, subject), []).append(var)

    for unit, quals, amount, duty in stays:
        if duty:
            split(unit, quals, amount)
    for (unit, subject), parts in arrivals.items():
        if subject != "*":
            duty_parts = [v for v, duty in unit_in[unit] if duty]
            del duty_parts  # arrivals off duty are rare; a relaxation counts them too
            split(unit, (subject,), mathopt.fast_sum(parts))
    subject_tier, subject_fte = subject_terms(model, cover, demand, policy)

    params = mathopt.SolveParameters(time_limit=datetime.timedelta(seconds=time_limit_s),
                                     lp_algorithm=mathopt.LPAlgorithm.BARRIER)
    size = {"variables": model.get_num_variables(), "constraints": model.get_num_linear_constraints(),
            "groups": len(groups)}
    out: dict[str, Any] = {"model": size, "build_s": round(time.perf_counter() - started, 2)}
    out["rules"] = _chain(model, params, headcount, (("subject", subject_tier), ("subject_fte", subject_fte)))
    # Variant: plans that also meet the rotation quota (≥ ⌈10 %⌉ of the eligible rotate; backbone share relaxed).
    required = quota_required(facts)
    out["quota_required"] = required
    if required > 0:
        counted = model.add_variable(lb=0.0)
        model.add_linear_constraint(counted <= mathopt.fast_sum(wished_downward))
        model.add_linear_constraint(mathopt.fast_sum(rotations) + counted >= float(required))
        out["quota"] = _chain(model, params, headcount, (("subject", subject_tier),))
    else:
        out["quota"] = out["rules"]
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out


def quota_required(facts: Facts) -> int:
    import pandas as pd

    from common import quota_figures

    return int(quota_figures(facts, pd.DataFrame({"teacher_id": [], "move_type": []}))["required_rotations"])


def _chain(model: mathopt.Model, params: mathopt.SolveParameters, headcount: Any,
           lower: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """Headcount first; then each lower measure with the headcount held at its optimum."""
    model.minimize(headcount)
    first = mathopt.solve(model, mathopt.SolverType.HIGHS, params=params)
    if first.termination.reason != mathopt.TerminationReason.OPTIMAL:
        return {"status": first.termination.reason.name.lower()}
    h_star = float(first.objective_value())
    hold = model.add_linear_constraint(headcount <= h_star + 1e-6 * max(1.0, h_star))
    out: dict[str, Any] = {"status": "optimal", "headcount": h_star}
    for name, term in lower:
        model.minimize(term)
        result = mathopt.solve(model, mathopt.SolverType.HIGHS, params=params)
        ok = result.termination.reason == mathopt.TerminationReason.OPTIMAL
        out[name] = float(result.objective_value()) if ok else None
        if not ok:
            out["status"] = result.termination.reason.name.lower()
    model.delete_linear_constraint(hold)
    return out
