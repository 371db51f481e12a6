"""County overview tables (县域概况) for `teacheralloc validate`: pure functions County -> DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from teacheralloc.domain import Area, CodedEnum, County, SchoolType, Stage, Status, Subject, full_years, stage_codes


def _counts(rows: pd.Series, columns: pd.Series, row_enum: type[CodedEnum], column_enum: type[CodedEnum]
            ) -> pd.DataFrame:
    """A crosstab in enumeration order with Chinese labels, empty rows dropped, and totals."""
    table = pd.crosstab(rows, columns, dropna=False)
    table = table.reindex(index=[m.value for m in row_enum], columns=[m.value for m in column_enum], fill_value=0)
    table = table[table.sum(axis=1) > 0]
    table.index = [row_enum(v).label for v in table.index]
    table.columns = [column_enum(v).label for v in table.columns]
    table["合计"] = table.sum(axis=1)
    table.loc["合计"] = table.sum(axis=0)
    return table


def schools_by_type_and_area(county: County) -> pd.DataFrame:
    """Number of schools by type (rows) and area (columns), with totals."""
    return _counts(county.schools["type"], county.schools["area"], SchoolType, Area)


def students_and_classes_by_stage(county: County) -> pd.DataFrame:
    """Students, classes and average class size by stage."""
    classes = county.classes.assign(stage=stage_codes(county.classes["grade"]))
    table = classes.groupby("stage")[["students", "classes"]].sum()
    table = table.reindex([s.value for s in Stage], fill_value=0)
    table["平均班额"] = (table["students"] / table["classes"].replace(0, np.nan)).round(1)
    table.index = [Stage(s).label for s in table.index]
    table.columns = ["学生数", "班数", "平均班额"]
    table.loc["合计"] = [
        table["学生数"].sum(), table["班数"].sum(), round(table["学生数"].sum() / max(table["班数"].sum(), 1), 1)
    ]
    # One decimal as computed: a float column printed 41.60 for 41.57 and 37 for 37.0 beside it.
    table["平均班额"] = table["平均班额"].map(lambda v: "—" if v != v else f"{v:.1f}")
    return table


def teachers_by_stage_and_subject(county: County) -> pd.DataFrame:
    """Teachers by main subject (rows) and stage (columns)."""
    return _counts(county.teachers["subject"], county.teachers["stage"], Subject, Stage)


def teachers_by_status(county: County) -> pd.DataFrame:
    """Teachers by status (rows) and stage (columns)."""
    table = pd.crosstab(county.teachers["status"], county.teachers["stage"], dropna=False)
    table = table.reindex(index=[s.value for s in Status], columns=[s.value for s in Stage], fill_value=0)
    table.index = [Status(s).label for s in table.index]
    table.columns = [Stage(s).label for s in table.columns]
    table["合计"] = table.sum(axis=1)
    return table


def headline(county: County, eligible_years: float = 6) -> dict[str, object]:
    """The one-line figures: schools, townships, students, classes, teachers; those at one school for at
    least `eligible_years` (the policy's `rotation.eligible_years_at_school`)."""
    teachers = county.teachers
    years = full_years(teachers["school_since"], pd.Timestamp(county.as_of))
    return {
        "学校（含教学点）": len(county.schools),
        "乡镇": county.schools["township"].nunique(),
        "学生": int(county.classes["students"].sum()),
        "班级": int(county.classes["classes"].sum()),
        "教师": len(teachers),
        "骨干教师": int((teachers["backbone"] != "none").sum()),
        f"同校任教满 {eligible_years:g} 年": int((years >= eligible_years).sum()),
        "申请交流": int(teachers["volunteer"].sum()),
        "基准日期": county.as_of.isoformat(),
    }
