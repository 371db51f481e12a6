"""Figures (rule 13): schools.csv, summary.json's counts, tiers and indicators, and plan.csv's derived
columns, recomputed from the moves."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from teacheralloc.check.facts import Distances
from teacheralloc.check.moves import rank_in_wishes
from teacheralloc.check.report import STAGE_LABEL, Violation
from teacheralloc.check.rows import SCHOOLS_REQUIRED, TRANSFERS, Move, parse_flag, read_plan_csv
from teacheralloc.domain import County, SchoolType, Stage, Subject
from teacheralloc.norms import Norms, compute_norms
from teacheralloc.policy import Policy

TOLERANCE = 0.01
TIER_NAMES = {"quota": "轮岗比例缺口", "disruption": "调动扰动（人次与距离）", "wishes": "意愿满足"}


def unit_figures(before: Norms, policy: Policy, teachers: pd.DataFrame, moves: list[Move]) -> pd.DataFrame:
    """Per school and stage: students, classes, required, on duty before and after, gaps, surplus."""
    norms = before.schools
    units = norms[["school_id", "stage", "students", "classes", "required"]].copy()
    duty = teachers[teachers["on_duty"]]
    before = duty.groupby(["school_id", "stage"]).size()
    delta: dict[tuple[str, str], int] = {}
    for m in moves:
        if not m.on_duty:
            continue
        if m.move_type != "new_hire":
            delta[(m.from_school, m.from_stage)] = delta.get((m.from_school, m.from_stage), 0) - 1
        delta[(m.to_school, m.to_stage)] = delta.get((m.to_school, m.to_stage), 0) + 1
    known = set(zip(units["school_id"], units["stage"], strict=True))
    extra = sorted(
        {key for key in delta if key not in known} | {key for key in before.index if key not in known}
    )
    if extra:
        units = pd.concat(
            [
                units,
                pd.DataFrame(
                    {
                        "school_id": [k[0] for k in extra],
                        "stage": [k[1] for k in extra],
                        "students": 0,
                        "classes": 0,
                        "required": 0.0,
                    }
                ),
            ],
            ignore_index=True,
        )
    keys = list(zip(units["school_id"], units["stage"], strict=True))
    units["teachers_before"] = [int(before.get(k, 0)) for k in keys]
    units["teachers_after"] = units["teachers_before"] + [delta.get(k, 0) for k in keys]
    units["gap_before"] = units["required"] - units["teachers_before"]
    units["gap_after"] = units["required"] - units["teachers_after"]
    units["target"] = policy.plan.headcount_target(units["required"])
    units["surplus"] = np.floor(np.maximum(0.0, units["teachers_before"] - units["target"]) + 1e-9).astype(
        int
    )
    return units.sort_values(["school_id", "stage"]).reset_index(drop=True)


def check_headcount_tier(units: pd.DataFrame, schools: pd.DataFrame, policy: Policy, summary: dict[str, Any],
                          out: list[Violation]) -> None:
    """summary.json's headcount tier (总量缺编，加权) against the plan's: Σ weight × whole teachers short of
    the rounded required posts after the moves, the weight by area (a teaching point its own, a weak
    school more), as `plan.headcount_weight` and `plan.weak_school_extra` say."""
    tiers = summary.get("tiers") if isinstance(summary.get("tiers"), list) else []
    written = next((t.get("value") for t in tiers if isinstance(t, dict) and t.get("tier") == "headcount"), None)
    if not isinstance(written, int | float):
        return
    plan = policy.plan
    facts = schools.reindex(units["school_id"])
    weight = np.where(facts["type"].to_numpy() == SchoolType.teaching_point.value,
                      plan.headcount_weight.get("teaching_point", 1.0),
                      [plan.headcount_weight.get(a, 1.0) for a in facts["area"]])
    weight = weight + np.where(facts["weak"].fillna(False).to_numpy(bool), plan.weak_school_extra, 0.0)
    short = np.maximum(0.0, units["target"].to_numpy(float) - units["teachers_after"].to_numpy(float))
    value = float((weight * short).sum())
    if abs(value - float(written)) > 1e-4 * max(1.0, abs(value)):
        out.append(Violation("figures", f"summary.json 的总量缺编层（加权）为 {written:g}，按方案重新计算为 {value:g}"))


def check_figures(units: pd.DataFrame, written: pd.DataFrame, path: Path, out: list[Violation]) -> None:
    """schools.csv against the recomputed figures (tolerance 0.01)."""
    written = written.copy()
    written["school_id"] = written["school_id"].str.strip()
    written["stage"] = [Stage.parse(s).value if Stage.parse(s) else s.strip() for s in written["stage"]]
    duplicated = written.duplicated(["school_id", "stage"], keep="first")
    for row in written[duplicated].itertuples():
        out.append(
            Violation(
                "figures",
                f"{path.name} 第 {row.Index + 2} 行：{row.school_id} {row.stage} 重复出现",
                school_id=row.school_id,
            )
        )
    written = written[~duplicated]
    mine = units.set_index(["school_id", "stage"])
    theirs = written.set_index(["school_id", "stage"])
    for key in mine.index.difference(theirs.index):
        out.append(
            Violation(
                "figures",
                f"{path.name} 缺少 {key[0]} {STAGE_LABEL.get(key[1], key[1])}一行",
                school_id=key[0],
            )
        )
    for key in theirs.index.difference(mine.index):
        out.append(
            Violation(
                "figures",
                f"{path.name} 有多余的一行 {key[0]} {key[1]}（学校表中无此学校或学段）",
                school_id=key[0],
            )
        )
    columns = (
        "students",
        "classes",
        "required",
        "teachers_before",
        "teachers_after",
        "gap_before",
        "gap_after",
    )
    for key in mine.index.intersection(theirs.index):
        for col in columns:
            text = str(theirs.at[key, col]).strip()
            expected = float(mine.at[key, col])
            try:
                value = float(text) if text else (0.0 if col == "required" else float("nan"))
            except ValueError:
                value = float("nan")
            if not abs(value - expected) <= TOLERANCE:
                label = SCHOOLS_REQUIRED[col]
                out.append(
                    Violation(
                        "figures",
                        f"{path.name} {key[0]} {STAGE_LABEL.get(key[1], key[1])} {label}({col}) 为 "
                        f"“{text}”，重新计算为 {expected:g}",
                        school_id=key[0],
                    )
                )


def check_summary_shape(summary: dict[str, Any], policy: Policy, out: list[Violation]) -> bool:
    """summary.json's sections the checker recomputes must be there in their form: a quota object, a
    tiers list holding every policy tier, indicators before and after. A malformed one is a violation
    (not skipped); returns whether the tiers can be compared."""
    if "quota" in summary and not isinstance(summary["quota"], dict):
        out.append(Violation("figures", f"summary.json 的 quota 应为对象（各项轮岗数字），而不是 "
                                        f"{type(summary['quota']).__name__}"))
    tiers = summary.get("tiers")
    ok = isinstance(tiers, list) and all(isinstance(t, dict) for t in tiers)
    if not ok:
        out.append(Violation("figures", "summary.json 的 tiers 应为列表（每层目标一项：tier、value、bound…），"
                                        f"而不是 {type(tiers).__name__}"))
    else:
        named = {t.get("tier") for t in tiers}
        for name in policy.plan.tiers:
            if name not in named:
                ok = False
                out.append(Violation("figures", f"summary.json 的 tiers 缺少“{name}”一层（政策的分层目标为 "
                                                f"{'、'.join(policy.plan.tiers)}）"))
    indicators = summary.get("indicators")
    if not (isinstance(indicators, dict) and all(isinstance(indicators.get(k), dict) for k in ("before", "after"))):
        out.append(Violation("figures", "summary.json 的 indicators 应含 before 与 after 两部分（各学段的县域指标）"))
    return ok


def lower_tier_values(moves: list[Move], teachers: pd.DataFrame, policy: Policy, distances: Distances,
                       quota: dict[str, Any], hires: pd.DataFrame | None = None) -> dict[str, float]:
    """The quota, disruption and wishes tiers of the plan as written (objective.py's definitions, from
    the rules in docs/plan.md, not from the model): quota = (base + 1) × rotations short + backbone
    rotators short; disruption = Σ over moves not on the teacher's wish list of move cost + km cost ×
    km + cross-stage cost; wishes = −Σ wish scores, plus the support score of a posting that gives a
    teacher the rural service 高级职称 needs. A scenario's new hire (`hires`) is placed from nowhere: its
    move costs the move and any change of stage, no kilometres. Disruption is left out when a distance
    is unknown, or the plan places new hires and the scenario is not known (a county's own data)."""
    plan, rotation = policy.plan, policy.rotation
    short = max(0, quota["required_rotations"] - quota["rotations"])
    backbone_short = max(0.0, rotation.min_backbone_share_of_rotators * quota["rotations"]
                         - quota["backbone_rotations"])
    values = {"quota": (quota["eligible_base"] + 1) * short + backbone_short}
    scores = list(plan.wish_score)
    disruption, wishes, known = 0.0, 0.0, True
    for m in moves:
        if m.move_type == "new_hire":
            if hires is None:
                known = False
            else:
                disruption += plan.move_cost + plan.cross_stage_cost * (m.to_stage != m.from_stage)
            continue
        teacher = teachers.loc[m.teacher_id]
        rank = rank_in_wishes(teacher, m.to_school)
        if rank:
            wishes -= scores[min(rank, len(scores)) - 1]
        else:
            km = distances.km(m.from_school, m.to_school)
            if km is None:
                known = False
            else:
                disruption += plan.move_cost + plan.km_cost * km + plan.cross_stage_cost * (m.to_stage != m.from_stage)
        needs = (teacher["title"] == "first" and teacher["exempt"] == ""
                 and float(teacher["rural_years"]) < policy.support.senior_title_rural_years)
        if m.move_type == "support" and needs:
            wishes -= plan.support_need_score
    values["wishes"] = wishes
    if known:
        values["disruption"] = disruption
    return values


def check_tier_bounds(summary: dict[str, Any], policy: Policy, out: list[Violation]) -> None:
    """Each tier's proven bound is at most its value (every tier is minimised), a tier marked optimal is
    at its bound, and `best_bound` repeats the tiers' bounds. The checker cannot re-prove a bound, but a
    bound of 999 against a value of 4.2, or `optimal` 3 above the bound, passed unnoticed."""
    best = summary.get("best_bound") if isinstance(summary.get("best_bound"), dict) else {}
    for tier in summary.get("tiers", []):
        name, value, bound = tier.get("tier"), tier.get("value"), tier.get("bound")
        label = TIER_NAMES.get(name, name)
        if not isinstance(value, int | float) or not isinstance(bound, int | float):
            continue
        slack = 1e-6 * max(1.0, abs(float(value))) + 1e-6
        if float(bound) > float(value) + slack:
            out.append(Violation("figures", f"summary.json 的{label}层证明的界 {bound:g} 大于方案值 {value:g}"
                                            "（各层都求最小：界不能高于任何方案的值）"))
        # optimal: within ten times plan.tier_tolerance of the bound (the earlier tiers are held with that
        # relative slack, which the bound may use), as the plan marks a tier optimal
        elif tier.get("status") == "optimal" and float(value) > float(bound) + 10 * policy.plan.tier_tolerance * max(
                1.0, abs(float(bound))) + 1e-6:
            out.append(Violation("figures", f"summary.json 的{label}层标为最优（optimal），但方案值 {value:g} "
                                            f"高于证明的界 {bound:g}"))
        written = best.get(name)
        if isinstance(written, int | float) and abs(float(written) - float(bound)) > slack:
            out.append(Violation("figures", f"summary.json 的 best_bound.{name} 为 {written:g}，"
                                            f"而 tiers 中该层的界为 {bound:g}"))


def check_lower_tiers(values: dict[str, float], summary: dict[str, Any], out: list[Violation]) -> None:
    """summary.json's quota, disruption and wishes tiers against the plan's (tier values and `objective`)."""
    for tier in summary.get("tiers", []):
        name, written = tier.get("tier"), tier.get("value")
        if name not in values or not isinstance(written, int | float):
            continue
        value = values[name]
        if abs(value - float(written)) > 1e-3 + 1e-6 * abs(value):
            out.append(Violation("derived", f"summary.json 的{TIER_NAMES.get(name, name)}层为 {written:g}，"
                                            f"按方案重新计算为 {value:g}"))
    objective = summary.get("objective") if isinstance(summary.get("objective"), dict) else {}
    for name, value in values.items():
        written = objective.get(name)
        if isinstance(written, int | float) and abs(value - float(written)) > 1e-3 + 1e-6 * abs(value):
            out.append(Violation("derived",
                                 f"summary.json 的 objective.{name} 为 {written:g}，按方案重新计算为 {value:g}"))


def _county_after(county: County, moves: list[Move], hires: pd.DataFrame | None = None,
                  keep_subjects: bool = False) -> County | None:
    """The county as the plan leaves it: each mover at the new school and stage, teaching the subject
    moved for, the old main subject kept as one also taught; a scenario's placed hires (`hires`) join
    it. None when the plan places new hires and the scenario is not known, or names a subject that is
    not a code (rule 6 says so). `keep_subjects`: each mover keeps their own main subject (as the balance
    tier counts PE/arts teachers)."""
    subjects = {s.value for s in Subject}
    if any((m.move_type == "new_hire" and hires is None) or m.subject not in subjects for m in moves):
        return None
    teachers = county.teachers
    placed = [m.teacher_id for m in moves if m.move_type == "new_hire"]
    if placed:
        teachers = pd.concat([teachers, hires.loc[placed, list(teachers.columns)]], ignore_index=True)
    teachers = teachers.copy()
    teachers["school_id"] = teachers["school_id"].astype(object)
    teachers["stage"] = teachers["stage"].astype(str)
    teachers["subject"] = teachers["subject"].astype(str)
    position = {tid: i for i, tid in enumerate(teachers["teacher_id"])}
    others = list(teachers["other_subjects"])
    for m in moves:
        i = position[m.teacher_id]
        old = teachers.iat[i, teachers.columns.get_loc("subject")]
        teachers.iat[i, teachers.columns.get_loc("school_id")] = m.to_school
        teachers.iat[i, teachers.columns.get_loc("stage")] = m.to_stage
        if keep_subjects:
            continue
        teachers.iat[i, teachers.columns.get_loc("subject")] = m.subject
        if old != m.subject:
            others[i] = tuple(dict.fromkeys([*others[i], old]))
    teachers["other_subjects"] = others
    return county.replace(teachers=teachers)


def balance_tier(norms: Norms, policy: Policy) -> float:
    """The quality-balance tier (优质均衡指标差额) of a county, from the rules in docs/plan.md: over the schools
    and stages in evaluation, the teachers short of ⌈students / 100 × threshold⌉ backbone and PE/arts
    teachers (by their own main subject), weighted by `plan.balance_weight`."""
    schools = norms.schools[norms.schools["in_evaluation"].astype(bool)]
    stage = schools["stage"].astype(str)
    per100, weight = policy.indicators.per_100_students, policy.plan.balance_weight
    value = 0.0
    for kind, counted in (("backbone", "n_backbone"), ("pe_arts", "n_pe_arts")):
        threshold = stage.map(lambda s, kind=kind: getattr(per100, kind)[s]).astype(float)
        wanted = np.ceil(schools["students"].astype(float) / 100 * threshold - 1e-9)
        value += weight[kind] * float(np.maximum(0.0, wanted - schools[counted].astype(float)).sum())
    return value


def check_balance_tier(after: Norms, policy: Policy, summary: dict[str, Any], out: list[Violation]) -> None:
    """summary.json's balance tier (and `objective.balance`) against the county the plan leaves."""
    value = balance_tier(after, policy)
    tiers = summary.get("tiers") if isinstance(summary.get("tiers"), list) else []
    written = next((t.get("value") for t in tiers if isinstance(t, dict) and t.get("tier") == "balance"), None)
    objective = summary.get("objective") if isinstance(summary.get("objective"), dict) else {}
    for where, stated in (("优质均衡指标差额层", written), ("objective.balance ", objective.get("balance"))):
        if isinstance(stated, int | float) and abs(value - float(stated)) > 1e-3 + 1e-6 * abs(value):
            out.append(Violation("derived", f"summary.json 的{where}为 {stated:g}，按方案重新计算为 {value:g}"))


#: summary.json's indicators per stage compared with the recomputed county table (after: the same names).
INDICATOR_KEYS = ("students", "required", "teachers_before", "shortage_before", "surplus_before", "schools_short",
                  "subject_shortage_fte", "per100_higher_degree", "per100_backbone", "per100_pe_arts",
                  "cv_higher_degree", "cv_backbone", "cv_pe_arts")

#: schools.csv's columns beyond the contract, recomputed when present: column -> (norms, norms column).
SCHOOL_EXTRAS = {
    "establishment_before": ("before", "teachers_establishment"),
    "subject_shortage_before": ("before", "subject_shortage_fte"),
    "subject_shortage_after": ("after", "subject_shortage_fte"),
    "per100_backbone": ("before", "per100_backbone"), "per100_backbone_after": ("after", "per100_backbone"),
    "per100_pe_arts": ("before", "per100_pe_arts"), "per100_pe_arts_after": ("after", "per100_pe_arts"),
    "per100_higher_degree": ("before", "per100_higher_degree"),
    "per100_higher_degree_after": ("after", "per100_higher_degree"),
}


def check_indicators(county: County, before: Norms, policy: Policy, moves: list[Move], summary: dict[str, Any],
                      written: pd.DataFrame, path: Path, out: list[Violation], hires: pd.DataFrame | None = None
                      ) -> None:
    """summary.json's county indicators before and after, and schools.csv's posts, subject shortage and
    per-100 columns, against the norms of the county before and after the plan."""
    after_county = _county_after(county, moves, hires)
    norms = {"before": before}
    if after_county is not None:
        norms["after"] = compute_norms(after_county, policy)
        # The balance tier counts a mover by their own main subject (a PE/arts teacher wherever they teach);
        # the per-100 figures by the subject taught where they arrive: the same county unless a mover
        # changes between PE/arts and another subject.
        own = _county_after(county, moves, hires, keep_subjects=True)
        switched = own is not None and not own.teachers["subject"].astype(str).equals(
            after_county.teachers["subject"].astype(str))
        check_balance_tier(compute_norms(own, policy) if switched else norms["after"], policy, summary, out)
    indicators = summary.get("indicators") if isinstance(summary.get("indicators"), dict) else {}
    aliases = {"teachers": "teachers_before", "shortage": "shortage_before", "surplus": "surplus_before"}
    for side, found in norms.items():
        stated = indicators.get(side) if isinstance(indicators.get(side), dict) else {}
        table = found.county.assign(stage=found.county["stage"].astype(str)).set_index("stage")
        for stage, figures in stated.items():
            if stage not in table.index or not isinstance(figures, dict):
                continue
            for key, value in figures.items():
                column = aliases.get(key, key)
                if column not in INDICATOR_KEYS or not isinstance(value, int | float):
                    continue
                expected = float(table.at[stage, column])
                if not abs(float(value) - expected) <= TOLERANCE + 1e-4 * abs(expected):
                    out.append(Violation("derived", f"summary.json 的 indicators.{side}.{stage}.{key} 为 {value:g}，"
                                                    f"按方案重新计算为 {expected:g}"))
    if written.empty:
        return
    frame = written.assign(school_id=written["school_id"].str.strip(),
                           stage=[Stage.parse(s).value if Stage.parse(s) else s.strip() for s in written["stage"]])
    frame = frame.drop_duplicates(["school_id", "stage"]).set_index(["school_id", "stage"])
    schools = {side: found.schools.assign(stage=found.schools["stage"].astype(str)).set_index(["school_id", "stage"])
               for side, found in norms.items()}
    expected_columns = {column: schools[side][source] for column, (side, source) in SCHOOL_EXTRAS.items()
                        if side in schools}
    posts = schools["before"]["teachers_establishment"].copy()
    for m in moves:
        if m.move_type in TRANSFERS:
            posts[(m.from_school, m.from_stage)] = posts.get((m.from_school, m.from_stage), 0) - 1
        if m.move_type in TRANSFERS or m.move_type == "new_hire":  # a hire takes a post where it goes
            posts[(m.to_school, m.to_stage)] = posts.get((m.to_school, m.to_stage), 0) + 1
    if hires is not None or all(m.move_type != "new_hire" for m in moves):
        expected_columns["establishment_after"] = posts
    for column, expected in expected_columns.items():
        if column not in frame.columns:
            continue
        for key, text in frame[column].items():
            if key not in expected.index or not str(text).strip():
                continue
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            want = float(expected.at[key]) if pd.notna(expected.at[key]) else math.nan
            if math.isnan(want) and math.isnan(value):
                continue
            if not abs(value - want) <= TOLERANCE:
                out.append(Violation("derived", f"{path.name} {key[0]} {STAGE_LABEL.get(key[1], key[1])} {column} 为 "
                                                f"“{text}”，重新计算为 {want:g}", school_id=key[0]))


def check_move_columns(plan: pd.DataFrame, teachers: pd.DataFrame, out: list[Violation]) -> None:
    """plan.csv's 骨干教师 and 本校任教年限 columns, where written, against the teacher table."""
    for index, cells in zip(plan.index, plan.to_dict(orient="records"), strict=True):
        tid = str(cells["teacher_id"]).strip()
        if tid not in teachers.index:
            continue
        teacher = teachers.loc[tid]
        text = str(cells.get("backbone", "")).strip()
        if text:
            try:
                stated = parse_flag(text)
            except ValueError:
                stated = None
            if stated != bool(teacher["backbone_flag"]):
                out.append(Violation("derived", f"教师 {tid} 的“骨干教师”写为 {text}，按教师表应为 "
                                                f"{bool(teacher['backbone_flag'])}", teacher_id=tid, row=index + 2))
        text = str(cells.get("years_at_school", "")).strip()
        if text:
            try:
                years = float(text)
            except ValueError:
                years = math.nan
            if not abs(years - float(teacher["years_at_school"])) <= 0.051:
                out.append(Violation("derived", f"教师 {tid} 的本校任教年限写为 {text}，按教师表为 "
                                                f"{float(teacher['years_at_school']):.1f}",
                                     teacher_id=tid, row=index + 2))


def stage_figures(units: pd.DataFrame) -> dict[str, dict[str, float]]:
    out = {}
    for stage, part in units.groupby("stage", sort=False):
        out[str(stage)] = {
            "required": round(float(part["required"].sum()), 2),
            "teachers_before": int(part["teachers_before"].sum()),
            "teachers_after": int(part["teachers_after"].sum()),
            "shortage_before": round(float(part["gap_before"].clip(lower=0).sum()), 2),
            "shortage_after": round(float(part["gap_after"].clip(lower=0).sum()), 2),
            "schools_short_before": int((part["gap_before"] >= 1).sum()),
            "schools_short_after": int((part["gap_after"] >= 1).sum()),
        }
    return dict(
        sorted(
            out.items(), key=lambda kv: [s.value for s in Stage].index(kv[0]) if kv[0] in STAGE_LABEL else 9
        )
    )


def check_applicants(moves: list[Move], teachers: pd.DataFrame, summary: dict[str, Any], applicants_csv: Path,
                     out: list[Violation]) -> None:
    """summary.json `applicants` and applicants.csv against the data and plan.csv: who asked to move (申请交流),
    who went to which wish and school, who stayed. A plan written before applicants.csv has neither (and a
    county where no one applied has no file); one without the other, or a malformed part, is a violation.
    An unreadable applicants.csv is an input error naming it, as plan.csv's is."""
    written = summary.get("applicants")
    present = applicants_csv.exists()
    if "applicants" not in summary and not present:
        return  # written before applicants.csv
    moved = {m.teacher_id: m.to_school for m in moves if m.move_type != "new_hire"}
    outcome: dict[str, str] = {}
    for tid, teacher in teachers[teachers["volunteer"]].iterrows():
        if tid not in moved:
            outcome[str(tid)] = "stayed"
            continue
        rank = rank_in_wishes(teacher, moved[tid])
        own = [w for w in teacher["wishes"] if w != teacher["school_id"]]
        outcome[str(tid)] = f"wish_{rank}" if rank else "moved" if not own else "not_a_wish"
    values = list(outcome.values())
    if "not_a_wish" in values:  # a volunteer sent outside their wishes: rule 7's violation, not a second one here
        return
    counts = {"total": len(values), "moved_to_wish": sum(v.startswith("wish_") for v in values),
              "first_wish": values.count("wish_1"), "moved_without_wishes": values.count("moved"),
              "stayed": values.count("stayed")}
    if not isinstance(written, dict):
        out.append(Violation("figures", f"summary.json 的 applicants 应为各项人数（{', '.join(counts)}），"
                                        f"实为 {json.dumps(written, ensure_ascii=False)[:60]}"))
    else:
        for key, value in counts.items():
            if not isinstance(written.get(key), int) or isinstance(written.get(key), bool) or written[key] != value:
                out.append(Violation("figures", f"summary.json 的 applicants.{key} 为 "
                                                f"{json.dumps(written.get(key), ensure_ascii=False)}，"
                                                f"按数据与 plan.csv 应为 {value}"))
    if not present:
        if values:
            out.append(Violation("figures", f"缺少 applicants.csv：数据中有 {len(values)} 名申请交流的教师"))
        return
    table = read_plan_csv(applicants_csv, {"teacher_id": "教师编号", "outcome": "结果"},
                          {"school_id": "原学校", "stage": "学段", "subject": "学科", "wishes": "志愿学校",
                           "to_school": "调往学校", "reason": "理由或未调动原因", "name": "姓名"})
    facts = teachers["school_id"].astype(str).to_dict()
    stages, subjects = teachers["stage"].astype(str).to_dict(), teachers["subject"].astype(str).to_dict()
    wishes = teachers["wishes"].map(lambda w: ";".join(map(str, w))).to_dict()
    seen: set[str] = set()
    for index, row in table.iterrows():
        tid, number = str(row["teacher_id"]).strip(), int(str(index)) + 2
        expected = outcome.get(tid)
        problems = []
        if tid in seen:
            problems.append("重复列出")
        elif expected is None:
            problems.append("不是申请交流的教师（或不在数据中）")
        else:
            if str(row["outcome"]).strip() != expected:
                problems.append(f"结果为 {row['outcome'] or '（空）'}，应为 {expected}")
            going = moved.get(tid, "")
            if "to_school" in row and str(row["to_school"]).strip() != going:
                problems.append(f"调往学校为 {row['to_school'] or '（空）'}，plan.csv 中为 {going or '（未调动）'}")
            if "school_id" in row and str(row["school_id"]).strip() != facts.get(tid):
                problems.append(f"原学校为 {row['school_id']}，数据中为 {facts.get(tid)}")
            for column, known, label in (("stage", stages, "学段"), ("subject", subjects, "学科")):
                if column in row and str(row[column]).strip() != known.get(tid):
                    problems.append(f"{label}为 {row[column] or '（空）'}，数据中为 {known.get(tid)}")
            if "wishes" in row and str(row["wishes"]).strip() != wishes.get(tid, ""):
                problems.append(f"志愿学校为 {row['wishes'] or '（空）'}，数据中为 {wishes.get(tid) or '（空）'}")
        seen.add(tid)
        if problems:
            # the row is applicants.csv's, named in the message (a Violation's row is plan.csv's)
            out.append(Violation("figures", f"applicants.csv 第 {number} 行 {tid}：{'；'.join(problems)}",
                                 teacher_id=tid))
    for tid in sorted(set(outcome) - seen):
        out.append(Violation("figures", f"applicants.csv 未列出申请交流的教师 {tid}（按数据与 plan.csv 结果为 "
                                        f"{outcome[tid]}）", teacher_id=tid))
