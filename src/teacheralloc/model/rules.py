"""Hard rules: one function per rule, each adding named constraints to the model (硬性规则).

Each docstring states the rule as a sentence with its Chinese term and where its number comes from.
Rules that depend only on who may go where (stage, wishes, pins, direction, establishment closed,
distance limit) are already in the candidate arcs (`candidates.build_arcs`); the rules here bind
counts across arcs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ortools.math_opt.python import mathopt

from teacheralloc.model.builder import AllocationModel


def at_most_one_move(m: AllocationModel) -> None:
    """A teacher moves at most once (每人至多调动一次); a teacher pinned to move (must_move or
    to_school) moves. Σ flow leaving a group ≤ its number of teachers (= 1 for such a pin)."""
    must = set(m.candidates.teachers.loc[m.candidates.teachers["pin_must_move"], "teacher_id"])
    for group in m.candidates.groups.itertuples(index=False):
        moved = m.flow_sum("group", group.group)
        if group.singleton and group.first_teacher in must:
            m.add("at_most_one_move", moved == 1, f"must_move[{group.first_teacher}]")
        elif not isinstance(moved, float):
            m.add("at_most_one_move", moved <= group.size, f"once[{group.group}]")


def pool_balance(m: AllocationModel) -> None:
    """Hub mode: every teacher who leaves into an arrival pool arrives somewhere (流量守恒)."""
    for pool in m.candidates.pools["pool"]:
        m.add("pool_balance", m.flow_sum("pool_in", pool) == m.flow_sum("pool_out", pool), f"pool[{pool}]")


def headcount_shortage(m: AllocationModel) -> None:
    """Headcount shortage after the plan (总量缺编): short[u] ≥ target − (before − out + in), ≥ 0, with the
    target the required posts in whole teachers (`plan.headcount_rounding`, default to the nearest)."""
    short = {}
    for unit in m.candidates.units.itertuples(index=False):
        var = m.model.add_variable(lb=0, name=f"short[{unit.unit}]")
        short[unit.unit] = var
        after = unit.before - m.flow_sum("out_duty", unit.unit) + m.flow_sum("in_duty", unit.unit)
        m.add("headcount_shortage", var + after >= unit.target, f"short[{unit.unit}]")
    m.shortage["headcount"] = short


def subject_cover(m: AllocationModel) -> None:
    """Who teaches what at each school (任教安排): each teacher on duty who stays is assigned to their main
    subject or one they are qualified for (in small schools, a primary teacher may also take the
    generalist subjects, `curriculum.small_school_generalist_subjects`): Σ assigned ≤ those who stay."""
    policy = m.policy
    units = m.candidates.units.set_index("unit")
    demand = set(zip(m.candidates.subjects["unit"], m.candidates.subjects["subject"], strict=True))
    generalist = tuple(str(s) for s in policy.curriculum.small_school_generalist_subjects)
    threshold = policy.staffing.small_school.threshold_students
    supply: dict[object, list[mathopt.Variable]] = {}
    for group in m.candidates.groups[m.candidates.groups["on_duty"].astype(bool)].itertuples(index=False):
        unit = group.origin
        small = units.at[unit, "school_students"] < threshold and units.at[unit, "stage"] == "primary"
        subjects = [group.subject, *group.others, *(generalist if small else ())]
        parts = []
        for subject in dict.fromkeys(subjects):
            if (unit, subject) not in demand:
                continue
            var = m.model.add_variable(lb=0, ub=group.size, is_integer=True, name=f"teach[{group.group},{subject}]")
            supply.setdefault((unit, subject), []).append(var)
            parts.append(var)
        if parts:
            stay = group.size - m.flow_sum("group", group.group)
            m.add("subject_cover", mathopt.fast_sum(parts) <= stay, f"teach[{group.group}]")
    m.cover["supply"] = {key: mathopt.fast_sum(vars_) for key, vars_ in supply.items()}


def subject_shortage(m: AllocationModel) -> None:
    """Subject shortage after the plan (学科结构性缺编), in whole teachers: short[u, s] ≥ target −
    (staying teachers assigned to s + teachers arriving to teach s), ≥ 0, where the target is the
    subject's demand rounded to whole teachers (⌊FTE + ½⌋)."""
    short = {}
    for row in m.candidates.subjects.itertuples(index=False):
        key = (row.unit, row.subject)
        var = m.model.add_variable(lb=0, name=f"subject_short[{row.unit},{row.subject}]")
        short[key] = var
        supplied = m.cover["supply"].get(key, 0.0) + m.flow_sum("in_taught", key)
        m.add("subject_shortage", var + supplied >= row.target, f"subject_short[{row.unit},{row.subject}]")
    m.shortage["subject"] = short


def indicator_deficit(m: AllocationModel) -> None:
    """Quality-balance deficits (优质均衡): teachers short of the per-100-student thresholds for
    backbone (≥ 1) and PE/arts (≥ 0.9) teachers, at every evaluated school and stage."""
    for kind in ("backbone", "pe_arts"):
        deficit = {}
        for unit in m.candidates.units.itertuples(index=False):
            target = getattr(unit, f"{kind}_target")
            if target <= 0:
                continue
            var = m.model.add_variable(lb=0, name=f"{kind}_deficit[{unit.unit}]")
            deficit[unit.unit] = var
            after = getattr(unit, f"{kind}_before") - m.flow_sum(f"out_{kind}", unit.unit) + m.flow_sum(
                f"in_{kind}", unit.unit)
            m.add("indicator_deficit", var + after >= target, f"{kind}_deficit[{unit.unit}]")
        m.shortage[kind] = deficit


def establishment_cap(m: AllocationModel) -> None:
    """A transfer never takes a school above its approved establishment (核定编制): posts − transfers
    out + transfers in ≤ establishment. A school at or above it receives no transfer at all (its
    arcs were never created); a support posting keeps the post at home and does not count."""
    schools = m.candidates.units.drop_duplicates("school_id")
    for school in schools.itertuples(index=False):
        if math.isnan(school.establishment):  # not given
            continue
        est = float(school.establishment)
        if school.school_posts >= est:
            continue
        inflow = m.flow_sum("school_in_transfer", school.school_id)
        if isinstance(inflow, float):
            continue
        after = school.school_posts - m.flow_sum("school_out_transfer", school.school_id) + inflow
        m.add("establishment_cap", after <= est, f"establishment[{school.school_id}]")


def max_leaving(m: AllocationModel) -> None:
    """No school loses more than `rotation.max_share_leaving_school` of its teachers in one year
    (every move counts): moves out ≤ max(1, ⌊share × teachers⌋)."""
    share = m.policy.rotation.max_share_leaving_school
    schools = m.candidates.units.drop_duplicates("school_id")
    for school in schools.itertuples(index=False):
        out = m.flow_sum("school_out", school.school_id)
        if isinstance(out, float):
            continue
        cap = max(1, math.floor(share * school.school_posts + 1e-9))
        m.add("max_leaving", out <= cap, f"max_leaving[{school.school_id}]")


def redeploy_from_surplus(m: AllocationModel) -> None:
    """Redeployment (调剂) moves surplus teachers: a school and stage gives by redeployment at most its
    surplus over the norm (⌊on duty − target⌋) plus the transfers it receives, so an exchange is
    allowed but redeployment never leaves a school short of its norm on balance. A volunteer moving to
    a wished school is not a redeployment and does not count here (the headcount tier still weighs the
    gap it leaves)."""
    for unit in m.candidates.units.itertuples(index=False):
        out = m.flow_sum("unit_out_redeploy", unit.unit)
        if isinstance(out, float):
            continue
        m.add("redeploy_from_surplus", out <= unit.surplus + m.flow_sum("unit_in_transfer", unit.unit),
              f"redeploy_surplus[{unit.unit}]")


def rotation_quota(m: AllocationModel) -> None:
    """Rotation quotas (交流轮岗比例), met as far as possible: rotations + slack ≥ ⌈10 % × eligible⌉,
    and backbone rotations + slack ≥ 20 % × rotations. The slacks are the first tier's objective."""
    policy = m.policy.rotation
    rotations = m.flow_sum("rotation", "all")
    backbone = m.flow_sum("rotation_backbone", "all")
    quota_slack = m.model.add_variable(lb=0, name="quota_slack")
    backbone_slack = m.model.add_variable(lb=0, name="backbone_quota_slack")
    m.slack = {"quota": quota_slack, "backbone_quota": backbone_slack}
    m.add("rotation_quota", rotations + quota_slack >= m.candidates.quota_target, "rotation_quota")
    m.add("rotation_quota", backbone + backbone_slack >= policy.min_backbone_share_of_rotators * rotations,
          "backbone_quota")


# Hard rules, in the order they are added.
RULES: list[Callable[[AllocationModel], None]] = [
    at_most_one_move,
    pool_balance,
    headcount_shortage,
    subject_cover,
    subject_shortage,
    indicator_deficit,
    establishment_cap,
    max_leaving,
    redeploy_from_surplus,
    rotation_quota,
]
