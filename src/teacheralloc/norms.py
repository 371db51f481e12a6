"""Staffing norms and quality indicators (编制核定、学科需求、优质均衡指标): pure functions (county, policy) -> tables.

One row per school and stage: a nine-year school has a primary and a junior row. Every required
figure names the rule that produced it (`rule`) so it can be traced to a policy number and its source.
The optimizer uses exactly these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from teacheralloc.domain import County, Education, SchoolType, Stage, Status, Subject, stage_codes
from teacheralloc.policy import Policy

EDUCATION_RANK = {member.value: rank for rank, member in enumerate(Education)}
INDICATORS = ("higher_degree", "backbone", "pe_arts")
INDICATOR_LABELS = {
    "higher_degree": "每百名学生高于规定学历教师数",
    "backbone": "每百名学生县级以上骨干教师数",
    "pe_arts": "每百名学生体育、艺术专任教师数",
}
INDICATOR_SHORT = {"higher_degree": "高于规定学历教师", "backbone": "县级以上骨干教师", "pe_arts": "体育艺术专任教师"}
RULE_LABELS = {
    "ratio": "按生师比",
    "small_mean": "小规模学校：生师比与班师比平均",
    "small_max": "小规模学校：生师比与班师比取大",
    "teaching_point_min": "教学点最低配备",
    "special": "特殊教育学校生师比",
    "none": "无学生",
}


@dataclass(frozen=True)
class Norms:
    """The norms of one county under one policy.

    schools  : one row per school and stage (学校编制): required posts, teachers, gaps, indicators.
    subjects : one row per school, stage and subject (学科缺口): demand and supply in FTE.
    county   : one row per stage (县域汇总): totals, county indicators, their CVs and limits.
    """

    schools: pd.DataFrame
    subjects: pd.DataFrame
    county: pd.DataFrame
    policy: Policy


# --------------------------------------------------------------------------------------------------
# Required establishment (编制核定)
# --------------------------------------------------------------------------------------------------


def school_stages(county: County) -> pd.DataFrame:
    """School × stage rows with students and classes: every stage the school's type teaches that has
    class rows or teachers (a nine-year school gives two rows)."""
    classes = county.classes.assign(stage=stage_codes(county.classes["grade"]))
    by_stage = classes.groupby(["school_id", "stage"], sort=False)[["classes", "students"]].sum()
    teacher_keys = county.teachers.groupby(["school_id", "stage"], observed=True, sort=False).size()
    schools = county.schools[["school_id", "name", "township", "type", "area", "weak", "boarding_students",
                              "establishment"]]
    rows = []
    for school in schools.itertuples(index=False):
        stages = SchoolType(school.type).stages
        for stage in stages:
            key = (school.school_id, stage.value)
            if len(stages) == 1 or key in by_stage.index or key in teacher_keys.index:
                rows.append(key)
    base = pd.DataFrame(rows, columns=["school_id", "stage"])
    base = base.merge(schools, on="school_id", how="left")
    base = base.merge(by_stage.reset_index(), on=["school_id", "stage"], how="left")
    base[["classes", "students"]] = base[["classes", "students"]].fillna(0).astype("int64")
    base["school_students"] = base.groupby("school_id")["students"].transform("sum")
    base["type"] = base["type"].astype(str)
    base["area"] = base["area"].astype(str)
    return base


def required_establishment(base: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Add required posts (核定编制) per school and stage, by ratio and by the class rule, and the rule applied.

    Columns added: required_ratio, required_class, boarding_extra, required, rule.
    """
    staffing = policy.staffing
    out = base.copy()
    per_staff = out["stage"].map({s.value: staffing.students_per_staff[s.value] for s in Stage})
    special = out["type"] == SchoolType.special.value
    per_staff = per_staff.where(~special, staffing.special_students_per_staff)
    out["required_ratio"] = out["students"] / per_staff
    k = out["stage"].map({s.value: staffing.small_school.staff_per_class[s.value] for s in Stage})
    out["required_class"] = out["classes"] * k
    small = (out["school_students"] < staffing.small_school.threshold_students) & ~special
    if staffing.small_school.method == "mean":
        combined = (out["required_ratio"] + out["required_class"]) / 2
    else:
        combined = np.maximum(out["required_ratio"], out["required_class"])
    required = out["required_ratio"].where(~small, combined)
    rule = pd.Series(np.where(small, f"small_{staffing.small_school.method}", "ratio"), index=out.index)
    teaching_point = out["type"] == SchoolType.teaching_point.value
    floor = staffing.small_school.min_per_teaching_point
    lifted = teaching_point & (required < floor) & (out["students"] > 0)
    required = required.where(~lifted, floor)
    rule = rule.where(~lifted, "teaching_point_min")
    rule = rule.where(~special, "special")
    share = (out["students"] / out["school_students"].replace(0, np.nan)).fillna(0)
    boarders = out["boarding_students"].fillna(0) * share
    out["boarding_extra"] = (
        boarders / 100 * staffing.boarding.staff_per_100_boarders if staffing.boarding.enabled else 0.0
    )
    out["required"] = (required + out["boarding_extra"]).where(out["students"] > 0, 0.0).round(4)
    out["rule"] = rule.where(out["students"] > 0, "none")
    out["rule_source"] = out["rule"].map(lambda r: rule_source(r, policy))
    return out


#: The policy settings behind each establishment rule, for tracing a figure to its source.
RULE_KEYS = {
    "ratio": ("staffing.students_per_staff",),
    "small_mean": ("staffing.small_school.method", "staffing.small_school.staff_per_class"),
    "small_max": ("staffing.small_school.method", "staffing.small_school.staff_per_class"),
    "teaching_point_min": ("staffing.small_school.min_per_teaching_point",),
    "special": ("staffing.special_students_per_staff",),
    "none": (),
}


def rule_source(rule: str, policy: Policy) -> str:
    """The sources of the policy numbers a required-establishment figure was computed from."""
    return "；".join(f"{key}: {policy.source(key)}" for key in RULE_KEYS.get(rule, ()))


def _duty_mask(teachers: pd.DataFrame, policy: Policy) -> pd.Series:
    if policy.staffing.count_on_leave:
        return pd.Series(True, index=teachers.index)
    return teachers["status"] == Status.active.value


def teacher_counts(base: pd.DataFrame, county: County, policy: Policy) -> pd.DataFrame:
    """Add teachers on the establishment (在编) and on duty (在岗 = teachers_before), the gap, and posts held."""
    teachers = county.teachers
    keys = ["school_id", "stage"]
    counts = pd.DataFrame(
        {
            "teachers_establishment": teachers.groupby(keys, observed=True).size(),
            "teachers_before": teachers[_duty_mask(teachers, policy)].groupby(keys, observed=True).size(),
        }
    ).reset_index()
    counts["stage"] = counts["stage"].astype(str)
    out = base.merge(counts, on=keys, how="left")
    out[["teachers_establishment", "teachers_before"]] = (
        out[["teachers_establishment", "teachers_before"]].fillna(0).astype("int64")
    )
    out["gap_before"] = (out["required"] - out["teachers_before"]).round(4)
    school_required = out.groupby("school_id")["required"].transform("sum")
    stage_share = (out["required"] / school_required.replace(0, np.nan)).fillna(1 / out.groupby("school_id")[
        "stage"].transform("size"))
    out["posts_held"] = (out["establishment"].astype("Float64") * stage_share).round(2)
    return out


def required_total(county: County, policy: Policy | None = None) -> float:
    """The county's total required establishment (核定编制总数) under `policy` (default policy)."""
    policy = policy or Policy.default()
    return float(required_establishment(school_stages(county), policy)["required"].sum())


# --------------------------------------------------------------------------------------------------
# Subject demand and supply (学科需求与结构性缺编)
# --------------------------------------------------------------------------------------------------


def subject_demand(county: County, policy: Policy) -> pd.DataFrame:
    """Demand in full-time equivalents: Σ over grades of classes × weekly periods ÷ standard load."""
    curriculum = policy.curriculum
    periods = pd.DataFrame(
        [(s.value, g, curriculum.periods(s, g)) for s in Subject for g in range(1, 10)],
        columns=["subject", "grade", "periods"],
    )
    periods = periods[periods["periods"] > 0]
    classes = county.classes[county.classes["classes"] > 0][["school_id", "grade", "classes"]]
    if not curriculum.special_schools:  # their own curriculum standards (培智、盲、聋): no general-subject demand
        special = county.schools.loc[county.schools["type"].astype(str) == SchoolType.special.value, "school_id"]
        classes = classes[~classes["school_id"].isin(special)]
    demand = classes.merge(periods, on="grade")
    demand["stage"] = stage_codes(demand["grade"])
    demand["class_periods"] = demand["classes"] * demand["periods"]
    demand = demand.groupby(["school_id", "stage", "subject"], as_index=False)["class_periods"].sum()
    loads = {(s.value, sub.value): curriculum.load(s, sub) for s in Stage for sub in Subject}
    demand["load"] = [loads[key] for key in zip(demand["stage"], demand["subject"], strict=True)]
    demand["demand"] = demand["class_periods"] / demand["load"]
    return demand


def subject_supply(
    county: County, policy: Policy, demand: pd.DataFrame, small_schools: set[str]
) -> pd.DataFrame:
    """Supply per school, stage and subject: main subjects first, then qualified other subjects fill
    what demand is left (in small schools, any primary teacher may also take the generalist subjects).

    Returns demand with columns supply_main (FTE used in the main subject), supply_other, spare
    (unused FTE of main-subject teachers), gap (demand − supply, positive = shortage).
    """
    teachers = county.teachers[_duty_mask(county.teachers, policy)]
    keys = ["school_id", "stage", "subject"]
    main = teachers.groupby(keys, observed=True).size().rename("main").reset_index()
    main["stage"] = main["stage"].astype(str)
    main["subject"] = main["subject"].astype(str)
    table = demand[[*keys, "demand"]].merge(main, on=keys, how="outer")
    table[["demand", "main"]] = table[["demand", "main"]].fillna(0.0)
    table["supply_main"] = np.minimum(table["main"], table["demand"])
    table["spare_fraction"] = ((table["main"] - table["supply_main"]) / table["main"].replace(0, np.nan)).fillna(0)

    remaining = {
        key: value
        for key, value in zip(zip(table["school_id"], table["stage"], table["subject"], strict=True),
                              table["demand"] - table["supply_main"], strict=True)
        if value > 1e-9
    }
    spare = dict(zip(zip(table["school_id"], table["stage"], table["subject"], strict=True), table["spare_fraction"],
                     strict=True))
    generalist = tuple(s.value for s in policy.curriculum.small_school_generalist_subjects)
    filled: dict[tuple[str, str, str], float] = {}
    used: dict[tuple[str, str, str], float] = {}
    # Greedy in teacher-id order: deterministic; the optimizer solves the exact assignment later.
    candidates = teachers.sort_values("teacher_id")
    for school_id, stage, subject, others in zip(candidates["school_id"], candidates["stage"].astype(str),
                                                 candidates["subject"].astype(str), candidates["other_subjects"],
                                                 strict=True):
        capacity = spare.get((school_id, stage, subject), 0.0)
        if capacity <= 1e-9:
            continue
        extra = generalist if (school_id in small_schools and stage == "primary") else ()
        for other in (*others, *extra):
            key = (school_id, stage, other)
            need = remaining.get(key, 0.0)
            if need <= 1e-9 or other == subject:
                continue
            take = min(capacity, need)
            remaining[key] = need - take
            filled[key] = filled.get(key, 0.0) + take
            used[(school_id, stage, subject)] = used.get((school_id, stage, subject), 0.0) + take
            capacity -= take
            if capacity <= 1e-9:
                break
    index = list(zip(table["school_id"], table["stage"], table["subject"], strict=True))
    table["supply_other"] = [filled.get(key, 0.0) for key in index]
    table["spare"] = table["main"] - table["supply_main"] - [used.get(key, 0.0) for key in index]
    table["gap"] = table["demand"] - table["supply_main"] - table["supply_other"]
    order = {s.value: i for i, s in enumerate(Subject)}
    table = table.sort_values(
        ["school_id", "stage", "subject"], key=lambda c: c.map(order) if c.name == "subject" else c
    )
    columns = ["school_id", "stage", "subject", "demand", "main", "supply_main", "supply_other", "spare", "gap"]
    return table[columns].round(4).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Quality indicators (优质均衡资源配置指标)
# --------------------------------------------------------------------------------------------------


def indicator_counts(county: County, policy: Policy) -> pd.DataFrame:
    """Per school and stage: teachers counted for the indicators, higher-degree, backbone, PE/arts."""
    ind = policy.indicators
    teachers = county.teachers[county.teachers["status"].isin([s.value for s in ind.count_statuses])]
    stage = teachers["stage"].astype(str)
    minimum = stage.map({s.value: EDUCATION_RANK[ind.higher_degree_min_education[s].value] for s in Stage})
    rank = teachers["education"].astype(str).map(EDUCATION_RANK)
    flags = pd.DataFrame(
        {
            "school_id": teachers["school_id"],
            "stage": stage,
            "higher_degree": (rank >= minimum).fillna(False).astype(int),
            "backbone": teachers["backbone"].isin([b.value for b in ind.backbone_levels]).astype(int),
            "pe_arts": teachers["subject"].isin([s.value for s in ind.pe_arts_subjects]).astype(int),
        }
    )
    return flags.groupby(["school_id", "stage"], as_index=False)[list(INDICATORS)].sum()


def add_indicators(table: pd.DataFrame, counts: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Per-100-student values, whether each meets its threshold, and the 6-of-7 school rule."""
    ind = policy.indicators
    out = table.merge(counts.rename(columns={k: f"n_{k}" for k in INDICATORS}), on=["school_id", "stage"], how="left")
    for key in INDICATORS:
        out[f"n_{key}"] = out[f"n_{key}"].fillna(0).astype("int64")
        students = out["students"].replace(0, np.nan)
        out[f"per100_{key}"] = (out[f"n_{key}"] / students * 100).round(4)
        threshold = out["stage"].map({s.value: getattr(ind.per_100_students, key)[s.value] for s in Stage})
        out[f"meets_{key}"] = out[f"per100_{key}"] >= threshold
    excluded = (out["type"] == SchoolType.special.value) & ind.exclude_special_schools
    excluded |= (out["type"] == SchoolType.teaching_point.value) & (
        out["school_students"] < ind.exclude_teaching_points_below
    )
    excluded |= out["students"] <= 0
    out["in_evaluation"] = ~excluded
    met = sum(out[f"meets_{k}"].astype(int) for k in INDICATORS)
    out["teacher_indicators_met"] = met
    allowed_misses = ind.school_total_indicators - ind.school_min_indicators_met
    near = pd.Series(False, index=out.index)
    for key in INDICATORS:
        threshold = out["stage"].map({s.value: getattr(ind.per_100_students, key)[s.value] for s in Stage})
        near |= ~out[f"meets_{key}"] & (out[f"per100_{key}"] >= ind.remaining_indicator_min_ratio * threshold)
    misses = len(INDICATORS) - met
    out["six_of_seven"] = np.select(
        [~out["in_evaluation"], misses == 0, (misses <= allowed_misses) & near],
        ["不参评", "教师指标全部达标", "仅一项未达标且达标准85%以上，其余4项达标即合格"],
        default="教师指标不达标",
    )
    return out


def add_size_checks(table: pd.DataFrame, county: County, policy: Policy) -> pd.DataFrame:
    """Average class size per grade against the limits, and school size against its limit."""
    ind = policy.indicators
    classes = county.classes[county.classes["classes"] > 0].copy()
    classes["stage"] = stage_codes(classes["grade"])
    classes["avg"] = classes["students"] / classes["classes"]
    limit = classes["stage"].map({s.value: ind.class_size_max[s.value] for s in Stage})
    classes["over"] = classes["avg"] > limit
    classes["large"] = classes["avg"] >= ind.large_class
    classes["super_large"] = classes["avg"] >= ind.super_large_class
    sizes = classes.groupby(["school_id", "stage"], as_index=False).agg(
        grades_over_class_limit=("over", "sum"),
        grades_large_class=("large", "sum"),
        grades_super_large_class=("super_large", "sum"),
        max_avg_class_size=("avg", "max"),
    )
    out = table.merge(sizes, on=["school_id", "stage"], how="left")
    for col in ("grades_over_class_limit", "grades_large_class", "grades_super_large_class"):
        out[col] = out[col].fillna(0).astype("int64")
    out["max_avg_class_size"] = out["max_avg_class_size"].round(1)
    size_limit = out["type"].map(
        {t.value: ind.school_size_max.get(t, ind.school_size_max.get(SchoolType.primary, 10**9)) for t in SchoolType}
    )
    size_limit = size_limit.where(out["type"] != SchoolType.special.value, np.inf)
    out["over_school_size"] = out["school_students"] > size_limit
    return out


def weighted_cv(values: pd.Series, students: pd.Series) -> float:
    """Student-weighted coefficient of variation (校际差异系数), as the national evaluation computes it.

    X̄ = Σ PᵢXᵢ / P;  S = sqrt(Σ (Pᵢ/P)(Xᵢ − X̄)²);  CV = S / X̄, with Pᵢ the enrolment of school i
    (义务教育均衡发展差异系数计算方法; policy.md §3.3). NaN when there are no schools or X̄ is 0.
    """
    weights = students.astype(float)
    total = weights.sum()
    if total <= 0:
        return float("nan")
    mean = float((weights * values).sum() / total)
    if mean == 0:
        return float("nan")
    spread = float(np.sqrt((weights / total * (values - mean) ** 2).sum()))
    return spread / mean


def county_summary(schools: pd.DataFrame, subjects: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """One row per stage: totals, shortage and surplus, county indicators, their CVs and limits."""
    ind = policy.indicators
    rows = []
    for stage in Stage:
        part = schools[schools["stage"] == stage.value]
        if part.empty:
            continue
        evaluated = part[part["in_evaluation"]]
        row: dict[str, object] = {
            "stage": stage.value,
            "schools": int(part["school_id"].nunique()),
            "students": int(part["students"].sum()),
            "classes": int(part["classes"].sum()),
            "required": round(float(part["required"].sum()), 2),
            "teachers_establishment": int(part["teachers_establishment"].sum()),
            "teachers_before": int(part["teachers_before"].sum()),
            "gap_before": round(float(part["gap_before"].sum()), 2),
            "shortage_before": round(float(part["gap_before"].clip(lower=0).sum()), 2),
            "surplus_before": round(float((-part["gap_before"]).clip(lower=0).sum()), 2),
            "schools_short": int((part["gap_before"] >= 1).sum()),
            "posts_held": (
                round(float(part["posts_held"].sum()), 2) if part["posts_held"].notna().any() else float("nan")
            ),
        }
        sub = subjects[subjects["stage"] == stage.value]
        row["subject_shortage_fte"] = round(float(sub["gap"].clip(lower=0).sum()), 2)
        row["evaluated_schools"] = len(evaluated)
        for key in INDICATORS:
            total_students = evaluated["students"].sum()
            row[f"per100_{key}"] = (
                round(float(evaluated[f"n_{key}"].sum() / total_students * 100), 4) if total_students else float("nan")
            )
            row[f"threshold_{key}"] = getattr(ind.per_100_students, key)[stage.value]
            row[f"cv_{key}"] = round(weighted_cv(evaluated[f"per100_{key}"], evaluated["students"]), 4)
            row[f"schools_meeting_{key}"] = int(evaluated[f"meets_{key}"].sum())
        row["cv_max"] = ind.cv_max[stage.value]
        row["schools_all_teacher_indicators"] = int((evaluated["teacher_indicators_met"] == len(INDICATORS)).sum())
        row["schools_failing_six_of_seven"] = int((evaluated["six_of_seven"] == "教师指标不达标").sum())
        row["grades_over_class_limit"] = int(part["grades_over_class_limit"].sum())
        row["schools_over_size"] = int(part.drop_duplicates("school_id")["over_school_size"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def compute_norms(county: County, policy: Policy | None = None) -> Norms:
    """All norms of a county: required posts, teachers and gaps, subject gaps, indicators, CVs.

    Parameters
    ----------
    county
        A validated county.
    policy
        The policy; default `Policy.default()`.
    """
    policy = policy or Policy.default()
    base = required_establishment(school_stages(county), policy)
    table = teacher_counts(base, county, policy)
    small = set(table.loc[table["school_students"] < policy.staffing.small_school.threshold_students, "school_id"])
    subjects = subject_supply(county, policy, subject_demand(county, policy), small)
    gaps = subjects.assign(short=subjects["gap"].clip(lower=0)).groupby(["school_id", "stage"], as_index=False)[
        "short"].sum().rename(columns={"short": "subject_shortage_fte"})
    table = table.merge(gaps, on=["school_id", "stage"], how="left")
    table["subject_shortage_fte"] = table["subject_shortage_fte"].fillna(0.0).round(4)
    table = add_indicators(table, indicator_counts(county, policy), policy)
    table = add_size_checks(table, county, policy)
    summary = county_summary(table, subjects, policy)
    return Norms(schools=table, subjects=subjects, county=summary, policy=policy)
