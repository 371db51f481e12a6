"""plan.xlsx: 总览, 调配方案 (every move with its reason), 学校编制 (before and after), 缺口原因, 求解记录."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from teacheralloc.domain import Area, MoveType, SchoolType, Stage, Subject
from teacheralloc.plan import MOVE_COLUMNS, MOVE_EXTRA_COLUMNS, SCHOOL_COLUMNS, Plan
from teacheralloc.report.excel import write_sheets

SCHOOL_EXTRA = {
    "name": "学校名称", "township": "乡镇", "type": "学校类型", "area": "城乡类别",
    "establishment_before": "调配前在编", "establishment_after": "调配后在编",
    "subject_shortage_before": "调配前学科缺口(FTE)", "subject_shortage_after": "调配后学科缺口(FTE)",
    "per100_backbone": "调配前每百生骨干", "per100_backbone_after": "调配后每百生骨干",
    "per100_pe_arts": "调配前每百生体艺", "per100_pe_arts_after": "调配后每百生体艺",
    "per100_higher_degree": "调配前每百生高学历", "per100_higher_degree_after": "调配后每百生高学历",
}
CAUSE_COLUMNS = {"school_id": "学校代码", "stage": "学段", "kind": "缺口类型", "subject": "学科", "gap_after": "调配后缺口",
                 "cause": "原因"}


def _label(frame: pd.DataFrame) -> pd.DataFrame:
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


def overview(plan: Plan) -> pd.DataFrame:
    """County figures before and after, by stage."""
    rows = []
    labels = {"students": "学生数", "required": "核定编制", "teachers_before": "在岗教师", "shortage_before": "缺编人数（分校合计）",
              "surplus_before": "超编人数（分校合计）", "schools_short": "缺编学校数", "subject_shortage_fte": "学科缺口(FTE)",
              "per100_backbone": "每百生骨干教师", "cv_backbone": "骨干教师差异系数", "per100_pe_arts": "每百生体艺教师",
              "cv_pe_arts": "体艺教师差异系数", "per100_higher_degree": "每百生高学历教师", "cv_higher_degree": "高学历差异系数"}
    before, after = plan.indicators["before"], plan.indicators["after"]
    for stage in before:
        for key, label in labels.items():
            rows.append({"学段": Stage(stage).label, "指标": label, "调配前": before[stage].get(key),
                         "调配后": after.get(stage, {}).get(key)})
    moves = plan.moves_by_type()
    for kind, count in moves.items():
        rows.append({"学段": "全县", "指标": f"{MoveType(kind).label}人数", "调配前": None, "调配后": count})
    quota = plan.quota
    rows.append({"学段": "全县", "指标": "应交流轮岗人数", "调配前": None, "调配后": quota["required_rotations"]})
    rows.append({"学段": "全县", "指标": "交流的骨干教师", "调配前": None, "调配后": quota["backbone_rotations"]})
    return pd.DataFrame(rows)


def solve_record(plan: Plan) -> pd.DataFrame:
    return pd.DataFrame([{"目标层": t.label, "代码": t.name, "调配前": t.before, "方案值": t.value, "证明的界": t.bound,
                          "相对差距": t.gap, "状态": "最优" if t.status == "optimal" else "可行", "用时(秒)": t.seconds}
                         for t in plan.tiers])


def write_plan_workbook(plan: Plan, path: Path) -> Path:
    moves = _label(plan.moves[[*MOVE_COLUMNS, *MOVE_EXTRA_COLUMNS]]).rename(columns={**MOVE_COLUMNS,
                                                                                     **MOVE_EXTRA_COLUMNS})
    schools = _label(plan.schools).rename(columns={**SCHOOL_COLUMNS, **SCHOOL_EXTRA})
    causes = _label(plan.causes.assign(kind=plan.causes["kind"].map({"headcount": "总量", "subject": "学科"})))
    return write_sheets(
        path,
        {"总览": overview(plan), "调配方案": moves, "学校编制": schools,
         "缺口原因": causes.rename(columns=CAUSE_COLUMNS), "求解记录": solve_record(plan)},
        shortage_columns={"学校编制": ["调配前缺口", "调配后缺口"]},
        wrap_columns={"调配方案": ["理由"], "缺口原因": ["原因"]},
    )
