"""plan.xlsx, made from a plan folder's tables (`PlanData`), so `teacheralloc report` rebuilds it:
总览, 调配方案 (every move with its reason), 学校编制 (before and after), 学科缺口 (school × subject,
before and after), 指标达标 (per school, and the county's coefficients of variation against their
limits), 编制申请 (with 按乡镇 and 说明), 缺口原因, 求解记录."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from teacheralloc.domain import Area, MoveType, SchoolType, Stage, Subject, moves_within_school
from teacheralloc.norms import INDICATOR_SHORT, INDICATORS
from teacheralloc.plan import MOVE_COLUMNS, MOVE_EXTRA_COLUMNS, SCHOOL_COLUMNS, STATUS_LABELS, quota_tier_text
from teacheralloc.report.establishment import (
    TOWNSHIP_COLUMNS,
    EstablishmentRequest,
    establishment_request,
    labelled_requests,
)
from teacheralloc.report.plan_data import PlanData, finite, indicator_warnings

NAME_COLUMN = {"name": "姓名"}
SCHOOL_EXTRA = {
    "name": "学校名称", "township": "乡镇", "type": "学校类型", "area": "城乡类别",
    "establishment_before": "调配前在编", "establishment_after": "调配后在编",
    "subject_shortage_before": "调配前学科缺口(FTE)", "subject_shortage_after": "调配后学科缺口(FTE)",
    "per100_backbone": "调配前每百生骨干", "per100_backbone_after": "调配后每百生骨干",
    "per100_pe_arts": "调配前每百生体艺", "per100_pe_arts_after": "调配后每百生体艺",
    "per100_higher_degree": "调配前每百生高学历", "per100_higher_degree_after": "调配后每百生高学历",
    "weak": "薄弱学校", "posts_held": "现有核定编制",
}
CAUSE_COLUMNS = {"school_id": "学校代码", "stage": "学段", "kind": "缺口类型", "subject": "学科",
                 "gap_after": "调配后缺口", "cause": "原因"}
INDICATOR_SHEET_COLUMNS = ["范围", "学校代码", "学校名称", "学段", "学生数", "指标", "度量", "调配前", "调配后", "标准",
                           "调配前达标", "调配后达标", "参与评估"]
#: The sheets of plan.xlsx, in order.
SHEETS = ("总览", "调配方案", "学校编制", "学科缺口", "指标达标", "编制申请", "编制申请_乡镇", "编制申请_说明",
          "缺口原因", "交流申请", "求解记录")
APPLICANT_SHEET_COLUMNS = {"teacher_id": "教师编号", "name": "姓名", "school_id": "原学校", "stage": "学段",
                           "subject": "学科", "wishes": "志愿学校", "outcome": "结果", "to_school": "调往学校",
                           "reason": "理由或未调动原因"}


def label(frame: pd.DataFrame) -> pd.DataFrame:
    """Codes → Chinese labels (stage, subject, move type, school type, area; booleans 是/否)."""
    out = frame.copy()
    maps = {"move_type": MoveType, "stage": Stage, "from_stage": Stage, "to_stage": Stage, "subject": Subject,
            "type": SchoolType, "area": Area}
    for column, enum in maps.items():
        if column in out:
            out[column] = out[column].map(lambda v, e=enum: e(v).label if isinstance(v, str) and v else v)
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].map({True: "是", False: "否"})
    return out


def moves_sheet(data: PlanData) -> pd.DataFrame:
    """调配方案: the contract columns (姓名 after 教师编号 when known), then the extras, then the two
    schools' names (a clerk reads 城关第一中学, not C001; a new hire's 原学校 is blank)."""
    columns = [*MOVE_COLUMNS, *MOVE_EXTRA_COLUMNS]
    if "name" in data.moves:
        columns.insert(1, "name")
    moves = data.moves[[c for c in columns if c in data.moves]]
    sheet = label(moves).rename(columns={**MOVE_COLUMNS, **MOVE_EXTRA_COLUMNS, **NAME_COLUMN})
    if "name" in data.schools:
        names = data.schools.drop_duplicates("school_id").set_index("school_id")["name"]
        sheet["原学校名称"] = data.moves["from_school"].map(names).fillna("").to_numpy()
        sheet["新学校名称"] = data.moves["to_school"].map(names).fillna("").to_numpy()
    return sheet


def schools_sheet(data: PlanData) -> pd.DataFrame:
    schools = data.schools.drop(columns=[c for c in ("lat", "lon") if c in data.schools])
    return label(schools).rename(columns={**SCHOOL_COLUMNS, **SCHOOL_EXTRA})


def overview(data: PlanData, request: EstablishmentRequest) -> pd.DataFrame:
    """总览: county figures before and after, by stage; moves, quota and posts asked for."""
    labels = {"students": "学生数", "required": "核定编制", "teachers_before": "在岗教师",
              "shortage_before": "缺编人数（分校合计）", "surplus_before": "超编人数（分校合计）",
              "schools_short": "缺编学校数（缺 1 人及以上）", "subject_shortage_fte": "学科缺口(FTE)",
              "per100_backbone": "每百生骨干教师", "cv_backbone": "骨干教师差异系数",
              "per100_pe_arts": "每百生体艺教师", "cv_pe_arts": "体艺教师差异系数",
              "per100_higher_degree": "每百生高学历教师", "cv_higher_degree": "高学历差异系数"}
    indicators = data.summary.get("indicators", {})
    before, after = indicators.get("before", {}), indicators.get("after", {})
    rows = []
    for stage in before:
        for key, text in labels.items():
            rows.append({"学段": Stage(stage).label, "指标": text, "调配前": finite(before[stage].get(key)),
                         "调配后": finite(after.get(stage, {}).get(key))})
    moves = data.summary.get("moves", {})
    for kind in ("rotation", "support", "redeploy", "new_hire"):
        rows.append({"学段": "全县", "指标": f"{MoveType(kind).label}人数", "调配前": None,
                     "调配后": moves.get(kind, 0)})
    rows.append({"学段": "全县", "指标": "其中校内转任小学部人数（调剂）", "调配前": None,
                 "调配后": moves.get("within_school", moves_within_school(data.moves))})
    quota = data.summary.get("quota", {})
    rows.append({"学段": "全县", "指标": "应交流轮岗人数", "调配前": None, "调配后": quota.get("required_rotations")})
    rows.append({"学段": "全县", "指标": "计入比例的交流轮岗人数", "调配前": None, "调配后": quota.get("rotations")})
    rows.append({"学段": "全县", "指标": "交流的骨干教师", "调配前": None, "调配后": quota.get("backbone_rotations")})
    rows.append({"学段": "全县", "指标": "申请编制（个）", "调配前": None, "调配后": int(request.totals["posts"])})
    warnings = indicator_warnings(data.summary)  # an indicator that fell below its standard: said here too
    rows += [{"学段": "全县", "指标": "提示", "调配前": None, "调配后": note} for note in warnings]
    return pd.DataFrame(rows)


def subject_matrix(data: PlanData) -> pd.DataFrame:
    """学科缺口: one row per school and stage, per subject the gap (FTE) before and after."""
    head = ["学校代码", "学校名称", "学段"]
    if data.subjects is None or data.subjects.empty:
        return pd.DataFrame(columns=head)
    subjects = data.subjects
    table = subjects.pivot_table(index=["school_id", "stage"], columns="subject", values=["gap_before", "gap_after"],
                                 aggfunc="sum").fillna(0.0)
    order = [s.value for s in Subject if s.value in set(subjects["subject"])]
    columns = {}
    for subject in order:
        columns[f"{Subject(subject).label}(前)"] = table[("gap_before", subject)]
        columns[f"{Subject(subject).label}(后)"] = table[("gap_after", subject)]
    frame = pd.DataFrame(columns).round(2).reset_index()
    names = data.schools.drop_duplicates("school_id").set_index("school_id")["name"]
    frame.insert(1, "name", frame["school_id"].map(names))
    frame["stage"] = frame["stage"].map(lambda s: Stage(s).label)
    return frame.rename(columns={"school_id": "学校代码", "name": "学校名称", "stage": "学段"})[
        [*head, *columns]]


def _evaluated(schools: pd.DataFrame, data: PlanData) -> pd.Series:
    """Whether a school-stage counts in the evaluation (as norms decides it)."""
    ind = data.policy.indicators
    school_students = schools.groupby("school_id")["students"].transform("sum")
    excluded = schools["students"] <= 0
    excluded |= (schools["type"] == "teaching_point") & (school_students < ind.exclude_teaching_points_below)
    excluded |= (schools["type"] == "special") & ind.exclude_special_schools
    return ~excluded


def indicator_sheet(data: PlanData) -> pd.DataFrame:
    """指标达标: county values and coefficients of variation against their limits, then every school."""
    ind = data.policy.indicators
    indicators = data.summary.get("indicators", {})
    before, after = indicators.get("before", {}), indicators.get("after", {})
    rows = []
    for stage, values in before.items():
        later = after.get(stage, {})
        for key in INDICATORS:
            threshold = getattr(ind.per_100_students, key)[stage]
            rows.append({"范围": "全县", "学校代码": "", "学校名称": "", "学段": Stage(stage).label,
                         "学生数": values.get("students"), "指标": INDICATOR_SHORT[key], "度量": "每百名学生",
                         "调配前": finite(values.get(f"per100_{key}")),
                         "调配后": finite(later.get(f"per100_{key}")), "标准": threshold})
            limit = finite(values.get("cv_max", ind.cv_max[stage]))
            cv_before, cv_after = finite(values.get(f"cv_{key}")), finite(later.get(f"cv_{key}"))
            rows.append({"范围": "全县", "学校代码": "", "学校名称": "", "学段": Stage(stage).label,
                         "学生数": values.get("students"), "指标": INDICATOR_SHORT[key], "度量": "差异系数（上限）",
                         "调配前": cv_before, "调配后": cv_after, "标准": limit,
                         "调配前达标": _yes(cv_before <= limit), "调配后达标": _yes(cv_after <= limit),
                         "参与评估": "是"})
            rows[-2].update({"调配前达标": _yes(rows[-2]["调配前"] >= threshold),
                             "调配后达标": _yes(rows[-2]["调配后"] >= threshold), "参与评估": "是"})
    schools = data.schools
    evaluated = _evaluated(schools, data)
    for index, school in schools.iterrows():
        for key in INDICATORS:
            threshold = getattr(ind.per_100_students, key)[school["stage"]]
            value, later = finite(school.get(f"per100_{key}")), finite(school.get(f"per100_{key}_after"))
            rows.append({"范围": "学校", "学校代码": school["school_id"], "学校名称": school["name"],
                         "学段": Stage(school["stage"]).label, "学生数": int(school["students"]),
                         "指标": INDICATOR_SHORT[key], "度量": "每百名学生", "调配前": value, "调配后": later,
                         "标准": threshold, "调配前达标": _yes(value >= threshold),
                         "调配后达标": _yes(later >= threshold),
                         "参与评估": _yes(bool(evaluated[index]))})
    frame = pd.DataFrame(rows, columns=INDICATOR_SHEET_COLUMNS)
    for column in ("调配前", "调配后", "标准"):
        frame[column] = frame[column].astype(float).round(4)
    return frame


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def solve_record(data: PlanData) -> pd.DataFrame:
    """The tiers as solved; the quota tier in rotations short (its raw value is a weighted code)."""
    base = (data.summary.get("quota") or {}).get("eligible_base")

    def shown(t: dict[str, Any], key: str) -> object:
        if t.get("tier") == "quota" and isinstance(base, int):
            return quota_tier_text(t.get(key), base)
        return t.get(key)

    return pd.DataFrame([{"目标层": t.get("label"), "代码": t.get("tier"), "调配前": shown(t, "before"),
                          "方案值": shown(t, "value"), "证明的界": shown(t, "bound"), "相对差距": t.get("gap"),
                          "状态": STATUS_LABELS.get(str(t.get("status")), str(t.get("status"))),
                          "用时(秒)": t.get("seconds")}
                         for t in data.summary.get("tiers", [])],
                        columns=["目标层", "代码", "调配前", "方案值", "证明的界", "相对差距", "状态", "用时(秒)"])


def applicants_sheet(data: PlanData) -> pd.DataFrame:
    """交流申请: every applicant (applicants.csv), the outcome in words (第1志愿, 未调动), the reason."""
    frame = data.applicants if data.applicants is not None else pd.DataFrame(columns=list(APPLICANT_SHEET_COLUMNS))
    frame = frame[[c for c in APPLICANT_SHEET_COLUMNS if c in frame]]
    outcome = frame["outcome"].astype(str)
    words = outcome.str.replace(r"^wish_(\d+)$", r"第\1志愿", regex=True).replace(
        {"moved": "调动（未填志愿）", "stayed": "未调动"})
    return label(frame.assign(outcome=words)).rename(columns=APPLICANT_SHEET_COLUMNS)


def workbook_sheets(data: PlanData, request: EstablishmentRequest | None = None) -> dict[str, pd.DataFrame]:
    """Every sheet of plan.xlsx as a DataFrame with Chinese headers (in `SHEETS` order)."""
    request = request or establishment_request(data)
    causes = data.causes.assign(kind=data.causes["kind"].map({"headcount": "总量", "subject": "学科"}))
    sheets = {
        "总览": overview(data, request),
        "调配方案": moves_sheet(data),
        "学校编制": schools_sheet(data),
        "学科缺口": subject_matrix(data),
        "指标达标": indicator_sheet(data),
        "编制申请": labelled_requests(request),
        "编制申请_乡镇": request.townships.rename(columns=TOWNSHIP_COLUMNS),
        "编制申请_说明": pd.DataFrame({"说明": list(request.text)}),
        "缺口原因": label(causes).rename(columns=CAUSE_COLUMNS),
        "交流申请": applicants_sheet(data),
        "求解记录": solve_record(data),
    }
    return {name: sheets[name] for name in SHEETS}


def write_plan_workbook(data: PlanData, path: Path, request: EstablishmentRequest | None = None) -> Path:
    """Write plan.xlsx: Chinese headers, frozen header rows, widths, number formats, autofilter."""
    from teacheralloc.report.excel import write_sheets  # openpyxl: not for report.html, which reuses the sheets

    sheets = workbook_sheets(data, request)
    return write_sheets(
        path,
        sheets,
        shortage_columns={"学校编制": ["调配前缺口", "调配后缺口"], "学科缺口": "numeric",
                          "编制申请_乡镇": ["调配后缺编(分校合计)"]},
        wrap_columns={"调配方案": ["理由"], "缺口原因": ["原因"], "编制申请_说明": ["说明"],
                      "编制申请": ["安置学校（个数）", "性质"], "交流申请": ["理由或未调动原因"]},
    )
