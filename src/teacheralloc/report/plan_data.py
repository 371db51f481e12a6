"""What the reports need from a plan, read back from its folder (so `teacheralloc report PLANDIR`
rebuilds exactly what `plan` wrote), and the extra tables `plan` writes for them.

A plan folder holds plan.csv, schools.csv, causes.csv, summary.json and policy_used.yaml (the
contract), and, for the reports, `subjects.csv` (subject demand and gaps before and after the plan)
and four extra columns of schools.csv (`weak`, `lat`, `lon`, `posts_held`). A folder written without the county
(older plans, or `write_plan` without it) still reports: what needs the county is re-derived from
the dataset when one is given, and otherwise left out with a note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from teacheralloc.domain import INDICATOR_DROP_NOTE, SHORTAGE_SHIFT_NOTE, County
from teacheralloc.norms import Norms, compute_norms
from teacheralloc.plan import county_after
from teacheralloc.policy import Policy

#: subjects.csv of a plan folder: one row per school, stage and subject.
SUBJECT_COLUMNS = {
    "school_id": "学校代码",
    "stage": "学段",
    "subject": "学科",
    "demand": "需求(FTE)",
    "main_before": "调配前主教教师",
    "main_after": "调配后主教教师",
    "gap_before": "调配前缺口(FTE)",
    "gap_after": "调配后缺口(FTE)",
}
#: Columns the reports add to schools.csv, after the plan's own: weak school (for the weights),
#: coordinates (for the map) and the posts the establishment office has approved (现有核定编制).
SITE_COLUMNS = ("weak", "lat", "lon", "posts_held")


@dataclass(frozen=True)
class PlanData:
    """A plan folder's tables: what every report is made from.

    moves    : plan.csv (with `name` when the plan was written with the county).
    schools  : schools.csv (per school and stage, before and after).
    subjects : subjects.csv, or None when neither the folder nor a dataset gives it.
    causes   : causes.csv.
    summary  : summary.json.
    policy   : the policy the plan was made with (policy_used.yaml, else the defaults).
    applicants : applicants.csv (申请交流教师), or None for a folder without one.
    """

    moves: pd.DataFrame
    schools: pd.DataFrame
    subjects: pd.DataFrame | None
    causes: pd.DataFrame
    summary: dict[str, Any]
    policy: Policy
    applicants: pd.DataFrame | None = None

    @property
    def anonymized(self) -> bool:
        return bool(self.summary.get("parameters", {}).get("anonymized", False))

    @property
    def has_sites(self) -> bool:
        """Whether the schools carry coordinates (for the map)."""
        return {"lat", "lon"} <= set(self.schools.columns) and bool(self.schools["lat"].notna().any())


def subject_table(county: County, policy: Policy, moves: pd.DataFrame, before: Norms | None = None,
                  after: Norms | None = None) -> pd.DataFrame:
    """subjects.csv: per school, stage and subject, demand and gap (FTE) before and after the plan
    (`before`/`after`: the norms when already computed)."""
    keys = ["school_id", "stage", "subject"]
    before = (before or compute_norms(county, policy)).subjects[[*keys, "demand", "main", "gap"]]
    after = (after or compute_norms(county_after(county, moves), policy)).subjects[[*keys, "demand", "main", "gap"]]
    table = before.merge(after, on=keys, how="outer", suffixes=("_before", "_after"))
    table["demand"] = table["demand_before"].fillna(table["demand_after"]).fillna(0.0)
    for column in ("main_before", "main_after", "gap_before", "gap_after"):
        table[column] = table[column].fillna(0.0)
    return table[list(SUBJECT_COLUMNS)].sort_values(keys).round(4).reset_index(drop=True)


def school_sites(county: County, policy: Policy, norms: Norms | None = None) -> pd.DataFrame:
    """Per school and stage: weak flag, coordinates and approved posts (for weights, map, request)."""
    posts = (norms or compute_norms(county, policy)).schools[["school_id", "stage", "posts_held"]]
    return posts.merge(county.schools[["school_id", "weak", "lat", "lon"]], on="school_id", how="left")[
        ["school_id", "stage", *SITE_COLUMNS]]


def with_names(moves: pd.DataFrame, county: County | None, anonymize: bool) -> pd.DataFrame:
    """plan.csv with the teachers' names (姓名) last, or their ids in their place when `anonymize`."""
    out = moves.copy()
    if anonymize:
        out["name"] = out["teacher_id"]
    elif county is not None and "name" in county.teachers:
        names = county.teachers.set_index("teacher_id")["name"]
        out["name"] = out["teacher_id"].map(names).fillna("")
    return out


def anonymized(data: PlanData) -> PlanData:
    """The same plan with every teacher's name replaced by the id."""
    moves = data.moves.assign(name=data.moves["teacher_id"])
    parameters = {**data.summary.get("parameters", {}), "anonymized": True}
    applicants = None if data.applicants is None else data.applicants.assign(name=data.applicants["teacher_id"])
    return replace(data, moves=moves, summary={**data.summary, "parameters": parameters}, applicants=applicants)


def indicator_warnings(summary: dict[str, Any]) -> list[str]:
    """The plan's notes an HR reader must see in every report: county indicators that met their standard
    before the plan and miss it after (a county preparing for its 优质均衡 review saw it only on the
    console and in summary.json), and why a summed shortage grew (the request listed 缺编 163.7 → 165.2
    among the plan's results with no word why)."""
    return [str(n) for n in summary.get("notes", [])
            if str(n).startswith(INDICATOR_DROP_NOTE) or str(n).startswith(SHORTAGE_SHIFT_NOTE)]


def missing_plan_files(folder: Path) -> list[str]:
    """The files of a plan folder the reports need that `folder` lacks (none: it is a plan's)."""
    return [name for name in ("plan.csv", "schools.csv", "summary.json") if not (Path(folder) / name).is_file()]


def read_plan_folder(folder: Path, county: County | None = None) -> PlanData:
    """Read a plan folder for the reports; `county` (the plan's dataset) fills in what the folder lacks.

    Raises
    ------
    FileNotFoundError
        When plan.csv, schools.csv or summary.json is missing.
    """
    folder = Path(folder)
    for name in missing_plan_files(folder):
        raise FileNotFoundError(f"{folder / name} 不存在：请给出 teacheralloc plan 的输出目录")
    moves = pd.read_csv(folder / "plan.csv", encoding="utf-8-sig", dtype={"teacher_id": str, "from_school": str,
                                                                          "to_school": str, "name": str})
    moves["reason"] = moves["reason"].fillna("")
    if "name" in moves:
        moves["name"] = moves["name"].fillna("")
    schools = pd.read_csv(folder / "schools.csv", encoding="utf-8-sig", dtype={"school_id": str})
    causes_path = folder / "causes.csv"
    causes = (pd.read_csv(causes_path, encoding="utf-8-sig", dtype={"school_id": str, "subject": str})
              if causes_path.exists() and causes_path.stat().st_size > 3 else
              pd.DataFrame(columns=["school_id", "stage", "kind", "subject", "gap_after", "cause"]))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    policy_path = folder / "policy_used.yaml"
    policy = _read_policy(policy_path) if policy_path.exists() else Policy.default()
    subjects_path = folder / "subjects.csv"
    subjects = None
    if subjects_path.exists():
        subjects = pd.read_csv(subjects_path, encoding="utf-8-sig", dtype={"school_id": str})
    elif county is not None:
        subjects = subject_table(county, policy, moves)
    if county is not None and not set(SITE_COLUMNS) <= set(schools.columns):
        schools = schools.drop(columns=[c for c in SITE_COLUMNS if c in schools]).merge(
            school_sites(county, policy), on=["school_id", "stage"], how="left")
    if "weak" in schools:
        schools["weak"] = schools["weak"].map(_as_bool)
    applicants_path = folder / "applicants.csv"
    applicants = (pd.read_csv(applicants_path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
                  if applicants_path.exists() else None)
    return PlanData(moves=moves, schools=schools, subjects=subjects, causes=causes, summary=summary, policy=policy,
                    applicants=applicants)


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "是")
    return bool(value) if value == value else False  # NaN → False


def _read_policy(path: Path) -> Policy:
    """policy_used.yaml over the defaults: a plan written before a setting existed still reads."""
    from teacheralloc.policy import load_policy

    return load_policy(path)


def school_level(schools: pd.DataFrame) -> pd.DataFrame:
    """Per school (stages summed): students, required, teachers and gap before and after."""
    columns = ["students", "required", "teachers_before", "teachers_after", "gap_before", "gap_after"]
    grouped = schools.groupby("school_id", sort=True)
    table = grouped[columns].sum()
    for column in ("name", "township", "type", "area", *[c for c in SITE_COLUMNS if c in schools]):
        table[column] = grouped[column].first()
    for when in ("before", "after"):
        table[f"shortage_{when}"] = schools[f"gap_{when}"].clip(lower=0).groupby(schools["school_id"], sort=True).sum()
    return table.reset_index()


def finite(value: object) -> float:
    """A number from summary.json (None → NaN)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float(np.nan)


def needs_county(folder: Path) -> bool:
    """Whether the reports need the plan's dataset: the folder lacks subjects.csv (the subject gaps of
    establishment.md and the report) or schools.csv lacks the schools' coordinates (the map)."""
    folder = Path(folder)
    header = (folder / "schools.csv").read_text(encoding="utf-8-sig").split("\n", 1)[0].split(",")
    return not ((folder / "subjects.csv").exists() and set(SITE_COLUMNS) <= set(header))


def report_county(folder: Path, dataset: Path | None = None) -> County | None:
    """The plan's county, when the folder lacks what the reports need from it (`needs_county`) and the
    dataset can be found: `dataset`, else the source in summary.json."""
    folder = Path(folder)
    if dataset is None and not needs_county(folder):
        return None
    from datetime import date

    from teacheralloc.errors import InputError
    from teacheralloc.io.read import load_county

    parameters = json.loads((folder / "summary.json").read_text(encoding="utf-8")).get("parameters", {})
    path = Path(dataset) if dataset is not None else Path(str(parameters.get("source", "")))
    if dataset is None and not (path.exists() and str(path) not in ("", ".")):
        return None
    as_of = date.fromisoformat(parameters["as_of"]) if parameters.get("as_of") else None
    try:
        return load_county(path, as_of=as_of)
    except (InputError, OSError):
        if dataset is not None:
            raise
        return None


def anonymize_folder(folder: Path) -> None:
    """Replace the teachers' names in plan.csv and applicants.csv by their ids, and record it in
    summary.json."""
    folder = Path(folder)
    for name in ("plan.csv", "applicants.csv"):
        if name == "plan.csv" or (folder / name).exists():
            table = pd.read_csv(folder / name, encoding="utf-8-sig", dtype=str, keep_default_na=False)
            table["name"] = table["teacher_id"]
            table.to_csv(folder / name, index=False, encoding="utf-8-sig")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["parameters"] = {**summary.get("parameters", {}), "anonymized": True}
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
