"""Write the norms: `schools.csv` (contract codes) and `norms.xlsx` (学校编制, 学科缺口, 指标达标, 编制测算)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from teacheralloc.domain import Area, SchoolType, Stage, Subject
from teacheralloc.norms import INDICATOR_LABELS, INDICATOR_SHORT, INDICATORS, RULE_LABELS, Norms
from teacheralloc.plan import SCHOOL_COLUMNS as PLAN_SCHOOL_COLUMNS
from teacheralloc.report.excel import write_sheets

#: schools.csv: the contract's columns first, then the rest.
SCHOOL_COLUMNS = {
    **{code: label for code, label in PLAN_SCHOOL_COLUMNS.items() if not code.endswith("_after")},
    "name": "学校名称",
    "township": "乡镇",
    "type": "学校类型",
    "area": "城乡类别",
    "school_students": "全校学生数",
    "required_ratio": "按生师比测算",
    "required_class": "按班师比测算",
    "boarding_extra": "寄宿附加编制",
    "rule": "核定规则",
    "rule_source": "依据",
    "posts_held": "现有核定编制",
    "teachers_establishment": "在编教师",
    "subject_shortage_fte": "学科缺口合计(FTE)",
}
INDICATOR_COLUMNS = {
    **{f"per100_{k}": INDICATOR_LABELS[k] for k in INDICATORS},
    **{f"meets_{k}": f"{INDICATOR_LABELS[k][5:]}达标" for k in INDICATORS},
    "teacher_indicators_met": "教师指标达标项数",
    "six_of_seven": "7项中6项规则",
    "in_evaluation": "参与评估",
    "max_avg_class_size": "最大年级平均班额",
    "grades_over_class_limit": "超班额年级数",
    "grades_large_class": "大班额年级数(≥56)",
    "over_school_size": "超规模",
}
SUBJECT_COLUMNS = {
    "school_id": "学校代码",
    "stage": "学段",
    "subject": "学科",
    "demand": "需求(FTE)",
    "main": "主教教师数",
    "supply_main": "主教供给(FTE)",
    "supply_other": "兼教供给(FTE)",
    "spare": "富余(FTE)",
    "gap": "缺口(FTE)",
}


def schools_csv_frame(norms: Norms) -> pd.DataFrame:
    """The schools table with contract codes as headers (schools.csv)."""
    columns = list(SCHOOL_COLUMNS) + list(INDICATOR_COLUMNS)
    return norms.schools[columns]


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "stage" in out:
        out["stage"] = out["stage"].map(lambda s: Stage(s).label)
    if "type" in out:
        out["type"] = out["type"].map(lambda s: SchoolType(s).label)
    if "area" in out:
        out["area"] = out["area"].map(lambda s: Area(s).label)
    if "subject" in out:
        out["subject"] = out["subject"].map(lambda s: Subject(s).label)
    if "rule" in out:
        out["rule"] = out["rule"].map(RULE_LABELS)
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map({True: "是", False: "否"})
    return out


def subject_matrix(norms: Norms, value: str = "gap") -> pd.DataFrame:
    """School × subject matrix of subject gaps (FTE, positive = shortage), one row per school and stage."""
    table = norms.subjects.pivot_table(index=["school_id", "stage"], columns="subject", values=value, aggfunc="sum")
    order = [s.value for s in Subject if s.value in table.columns]
    table = table[order].fillna(0).round(2)
    names = norms.schools.set_index(["school_id", "stage"])["name"]
    table.insert(0, "name", names.reindex(table.index).to_numpy())
    table = table.reset_index()
    table["stage"] = table["stage"].map(lambda s: Stage(s).label)
    table.columns = ["学校代码", "学段", "学校名称", *[Subject(s).label for s in order]]
    return table


def posts_held_text(part: pd.DataFrame) -> str:
    """现有核定编制 of one stage's school rows, where schools.csv gives it: of every school, or of the
    schools that give one, said as such (`establishment` is optional: a county giving it for 11 of 41
    schools read as 414 posts held for 1,200 teachers on the books, 786 over)."""
    known = part[part["posts_held"].notna()]
    if known.empty:
        return ""
    if len(known) == len(part):
        return f"现有核定编制 {known['posts_held'].sum():.0f} 个；"
    teachers = int(known["teachers_establishment"].sum())
    return (f"提供了现有核定编制的 {known['school_id'].nunique()} 所学校（共 {part['school_id'].nunique()} 所）"
            f"核定编制 {known['posts_held'].sum():.0f} 个、在编教师 {teachers:,} 人；")


def establishment_table(norms: Norms) -> pd.DataFrame:
    """编制测算: per stage, required posts against posts held and teachers on duty, with the argument."""
    rows = []
    policy = norms.policy
    for row in norms.county.itertuples(index=False):
        stage = Stage(row.stage)
        part = norms.schools[norms.schools["stage"] == stage.value]
        short = part[part["gap_before"] >= 1]
        surplus = part[part["gap_before"] <= -1]
        subjects = norms.subjects[norms.subjects["stage"] == stage.value]
        by_subject = subjects.assign(short=subjects["gap"].clip(lower=0)).groupby("subject")["short"].sum()
        top = by_subject[by_subject >= 0.5].sort_values(ascending=False).head(5)
        top_text = "、".join(f"{Subject(s).label} {v:.1f}" for s, v in top.items()) or "无明显缺口"
        rural_short = short[short["area"] == "rural"]["gap_before"].sum()
        ratio = policy.staffing.students_per_staff[stage.value]
        net = row.teachers_before - row.required
        balance = f"总量超编 {net:.1f} 人" if net >= 0 else f"总量缺编 {-net:.1f} 人"
        held = posts_held_text(part)
        text = (
            f"{stage.label}：全县在校生 {row.students:,} 人、{row.classes:,} 个班。按 1:{ratio:g} 的生师比"
            f"（不足 {policy.staffing.small_school.threshold_students} 人的村小和教学点按生师比与班师比结合）测算，"
            f"需编制 {row.required:,.1f} 个；{held}现有在编教师 {row.teachers_establishment:,} 人，其中在岗 "
            f"{row.teachers_before:,} 人，{balance}。分校看，{_split_text(short, surplus, rural_short)}"
            f"学科结构性缺口（折合专任教师）：{top_text}。总量有余的部分应先经县域内交流轮岗和调剂解决；"
            f"调剂后仍存在的缺口，方为申请增加编制的依据。"
        )
        rows.append(
            {
                "学段": stage.label,
                "学生数": row.students,
                "班数": row.classes,
                "核定编制（按标准测算）": row.required,
                "现有核定编制": row.posts_held,
                # given for some schools only, the figure beside all teachers on the books read as a gap
                "现有核定编制覆盖学校": (f"{part['posts_held'].notna().sum()} / {len(part)} 个学校学段"
                                   if part["posts_held"].notna().any() else ""),
                "在编教师": row.teachers_establishment,
                "在岗教师": row.teachers_before,
                "缺口（测算−在岗）": round(row.required - row.teachers_before, 2),
                "缺编学校数（缺 1 人及以上）": len(short),
                # every school's shortfall, as plan.xlsx and summary.json count it (not only the 1+ schools)
                "缺编人数（分校合计）": round(float(row.shortage_before), 2),
                "超编人数（分校合计）": round(float(row.surplus_before), 2),
                "依据": policy.source("staffing.students_per_staff"),
                "说明": text,
            }
        )
    return pd.DataFrame(rows)


def _split_text(short: pd.DataFrame, surplus: pd.DataFrame, rural_short: float) -> str:
    parts = []
    if len(short):
        parts.append(f"{len(short)} 所学校缺编 1 人及以上，这些学校共缺 {short['gap_before'].sum():.1f} 人"
                     f"（其中乡村学校 {rural_short:.1f} 人；不足 1 人的零头不在此数，计入上表的缺编人数）")
    if len(surplus):
        parts.append(f"{len(surplus)} 所学校超编 1 人及以上，共 {-surplus['gap_before'].sum():.1f} 人")
    return ("，".join(parts) or "各校编制与在岗人数基本相符") + "。"


def indicator_table(norms: Norms) -> pd.DataFrame:
    """指标达标: per school and stage, the per-100 indicators and whether they are met."""
    columns = ["school_id", "name", "stage", "students", *INDICATOR_COLUMNS]
    frame = _labelled(norms.schools[columns])
    return frame.rename(columns={"school_id": "学校代码", "name": "学校名称", "stage": "学段", "students": "学生数",
                                 **INDICATOR_COLUMNS})


def county_indicator_table(norms: Norms) -> pd.DataFrame:
    """The county's per-100 values and coefficients of variation against their limits, by stage."""
    rows = []
    for row in norms.county.to_dict(orient="records"):
        for key in INDICATORS:
            cv = row[f"cv_{key}"]
            rows.append(
                {
                    "学段": Stage(row["stage"]).label,
                    "指标（每百名学生）": INDICATOR_SHORT[key],
                    "县域值": row[f"per100_{key}"],
                    "标准": row[f"threshold_{key}"],
                    "达标学校数": row[f"schools_meeting_{key}"],
                    "参评学校数": row["evaluated_schools"],
                    "差异系数": cv,
                    "差异系数上限": row["cv_max"],
                    "差异系数达标": "是" if cv == cv and cv <= row["cv_max"] else "否",
                }
            )
    return pd.DataFrame(rows)


def write_norms(norms: Norms, out: Path) -> list[Path]:
    """Write schools.csv, subjects.csv and norms.xlsx into `out` (which the caller made new)."""
    schools_csv = out / "schools.csv"
    schools_csv_frame(norms).to_csv(schools_csv, index=False, encoding="utf-8-sig")
    subjects_csv = out / "subjects.csv"
    norms.subjects.to_csv(subjects_csv, index=False, encoding="utf-8-sig")
    school_sheet = _labelled(norms.schools[list(SCHOOL_COLUMNS)]).rename(columns=SCHOOL_COLUMNS)
    workbook = out / "norms.xlsx"
    write_sheets(
        workbook,
        {
            "学校编制": school_sheet,
            "学科缺口": subject_matrix(norms),
            "指标达标": indicator_table(norms),
            "县域指标": county_indicator_table(norms),
            "编制测算": establishment_table(norms),
        },
        shortage_columns={"学校编制": ["调配前缺口"], "学科缺口": "numeric"},
        wrap_columns={"编制测算": ["说明", "依据"], "学校编制": ["依据"]},
    )
    return [schools_csv, subjects_csv, workbook]
