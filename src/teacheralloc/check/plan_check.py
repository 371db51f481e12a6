"""The check's entry point (方案复核): read the plan folder, re-derive the facts, run every rule, recompute
the figures. The rules themselves: the package's docstring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from teacheralloc.check.context import context_warnings, reference_warning
from teacheralloc.check.facts import Distances, new_hires, school_facts, teacher_facts
from teacheralloc.check.figures import (
    check_applicants,
    check_figures,
    check_headcount_tier,
    check_indicators,
    check_lower_tiers,
    check_move_columns,
    check_summary_shape,
    check_tier_bounds,
    lower_tier_values,
    stage_figures,
    unit_figures,
)
from teacheralloc.check.moves import check_move, check_pins
from teacheralloc.check.report import MOVE_TYPES, RULES, TYPE_LABEL, CheckReport, Violation
from teacheralloc.check.rows import (
    PLAN_OPTIONAL,
    PLAN_REQUIRED,
    SCHOOLS_REQUIRED,
    file_problem,
    parse_rows,
    read_plan_csv,
    read_summary,
)
from teacheralloc.check.schools import check_quota, check_schools, quota_figures
from teacheralloc.domain import County, MoveType
from teacheralloc.errors import InputError
from teacheralloc.norms import compute_norms
from teacheralloc.policy import Policy


def check_plan(
    county: County,
    policy: Policy,
    plan_dir: Path | str,
    pins: pd.DataFrame | None = None,
    reference: Policy | None = None,
    holding: frozenset[str] = frozenset(),
) -> CheckReport:
    """Re-verify every hard rule on the plan written in `plan_dir` and recompute its figures.

    Parameters
    ----------
    county, policy
        The county the plan was made for and the policy to check it against.
    plan_dir
        A plan folder written by `teacheralloc plan` (plan.csv, schools.csv, summary.json).
    pins
        The user's pins (`io.pins.read_pins`), if any.
    reference
        When `policy` is the plan's own (its policy_used.yaml): the county's policy (defaults and the
        dataset's policy.yaml); each rule setting the plan's policy changes is named in a warning.
    holding
        A scenario's holding schools (待分配学校, `scenario.pool_schools`): the teachers there are the
        scenario's new hires, checked as such (`new_hire` rows: their stage, subject and pins; the
        figures after with them at their new schools). The schools and whoever is still there take
        no part in the figures, as in the plan's. Empty for a county's own data.

    Raises
    ------
    InputError
        When the folder or one of its files is missing or cannot be read (naming the file).
    """
    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        raise InputError([file_problem(plan_dir, "方案文件夹（含 plan.csv、schools.csv、summary.json）")])
    plan = read_plan_csv(plan_dir / "plan.csv", PLAN_REQUIRED, PLAN_OPTIONAL)
    schools_written = read_plan_csv(plan_dir / "schools.csv", SCHOOLS_REQUIRED, {})
    summary = read_summary(plan_dir / "summary.json")
    if pins is None:
        pins = pd.DataFrame({"teacher_id": [], "kind": [], "school_id": []})

    report = CheckReport(plan_dir=plan_dir)
    out, warn = report.violations, report.warnings
    hires = new_hires(county, policy, pins, holding)
    county = county.replace(schools=county.schools[~county.schools["school_id"].isin(holding)],
                            teachers=county.teachers[~county.teachers["school_id"].isin(holding)])
    teachers = teacher_facts(county, policy, pins)
    schools = school_facts(county, policy)
    distances = Distances(county, schools, policy)

    moves = parse_rows(plan, teachers, schools, out, hires, policy.plan.within_school_cross_stage)
    for move in moves:
        check_move(move, teachers, schools, policy, distances, out, hires)
    check_pins(moves, pins, out)
    before = compute_norms(county, policy)  # the county's norms, for the units and the indicators
    units = unit_figures(before, policy, teachers, moves)
    pinned_to = set() if pins is None or pins.empty else \
        set(pins.loc[pins["kind"].isin(["must_move", "to_school"]), "teacher_id"])
    check_schools(moves, teachers, schools, units, policy, out, pinned_to)
    quota = quota_figures(moves, teachers, schools, policy)
    check_quota(quota, summary, policy, out, warn)
    check_figures(units, schools_written, plan_dir / "schools.csv", out)
    if check_summary_shape(summary, policy, out):
        check_headcount_tier(units, schools, policy, summary, out)
        check_lower_tiers(lower_tier_values(moves, teachers, policy, distances, quota, hires), summary, out)
    check_indicators(county, before, policy, moves, summary, schools_written, plan_dir / "schools.csv", out, hires)
    check_move_columns(plan, teachers, out)

    # Move counts as plan.csv states them (every row, whatever else is wrong with it).
    kinds = [MoveType.parse(str(k)) if str(k).strip() else None for k in plan["move_type"]]
    counts = {kind: sum(1 for k in kinds if k is not None and k.value == kind) for kind in MOVE_TYPES}
    counts["total"] = len(plan)
    if "within_school" in summary["moves"]:  # written since moves within a school (older plans lack it)
        same = plan["from_school"].astype(str).str.strip() == plan["to_school"].astype(str).str.strip()
        hire = np.array([k is not None and k.value == "new_hire" for k in kinds], dtype=bool)
        counts["within_school"] = int((same.to_numpy() & ~hire).sum())
    for key, value in counts.items():
        written = summary["moves"].get(key)
        if written != value:
            label = {"total": "合计", "within_school": "校内转任"}.get(key) or TYPE_LABEL[key]
            out.append(
                Violation(
                    "figures", f"summary.json 的 moves.{key}（{label}）为 {written}，plan.csv 中为 {value}"
                )
            )
    check_applicants(moves, teachers, summary, plan_dir / "applicants.csv", out)
    if not out and isinstance(summary.get("tiers"), list):
        # Bounds only hold for a plan within every rule: one that breaks a rule may beat them, which says
        # nothing more than the rule's own violation.
        check_tier_bounds(summary, policy, out)
    context_warnings(county, policy, plan_dir, summary, warn)
    placed = sum(m.move_type == "new_hire" for m in moves)
    if placed and hires is None:
        warn.append(Violation("context", f"方案含 {placed} 名新教师分配，按县数据复核时无法复核其学段、学科、"
                                         "扰动与调配后指标：用情景文件复核（teacheralloc check 情景.yaml 方案目录）",
                              severity="warning"))
    if reference is not None:
        reference_warning(policy, reference, warn)

    order = {code: i for i, code in enumerate(RULES)}
    out.sort(
        key=lambda v: (
            order.get(v.rule, 99),
            v.row if v.row is not None else 10**9,
            v.school_id or "",
            v.teacher_id or "",
        )
    )
    report.units = units
    report.figures = {
        "moves": counts,
        "quota": quota,
        "stages": stage_figures(units),
        "status": summary.get("status"),
    }
    return report
