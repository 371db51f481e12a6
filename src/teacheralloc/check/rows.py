"""The plan folder read back (方案文件): plan.csv, schools.csv and summary.json, and plan.csv's rows as moves
(rule 1, well formed)."""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from teacheralloc.check.report import STAGE_LABEL, Violation
from teacheralloc.domain import MoveType, Stage, Subject
from teacheralloc.errors import InputError, Problem
from teacheralloc.io.read import decode, normalize_header, sniff_delimiter
from teacheralloc.plan import MOVE_COLUMNS, MOVE_EXTRA_COLUMNS, SCHOOL_COLUMNS

# The output contract's columns (data-contract.md), with their Chinese headers.
PLAN_REQUIRED = MOVE_COLUMNS
PLAN_OPTIONAL = MOVE_EXTRA_COLUMNS
SCHOOLS_REQUIRED = SCHOOL_COLUMNS  # the contract's schools.csv columns (plan.py is a leaf, not the model)
TRANSFERS = ("rotation", "redeploy")
NEW_HIRE_ID = re.compile(r"^NEW-\d+$")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
TRUE_WORDS = {"true", "1", "yes", "y", "是", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "f", ""}


def file_problem(
    path: Path, expected: str, column: str = "", value: str = "", row: int | None = None, label: str = ""
) -> Problem:
    return Problem(str(path), row, column, value, expected, label=label, rule="plan_file")


def read_plan_csv(path: Path, required: dict[str, str], optional: dict[str, str]) -> pd.DataFrame:
    """A plan CSV as text cells, headers mapped to codes (Chinese headers accepted)."""
    if not path.is_file():
        raise InputError([file_problem(path, f"方案文件 {path.name}（由 teacheralloc plan 写出）")])
    try:
        text, _ = decode(path.read_bytes())
    except UnicodeDecodeError:
        raise InputError([file_problem(path, "UTF-8 或 GBK 编码的 CSV 文件")]) from None
    known = {normalize_header(c): c for c in (*required, *required.values())}
    sep = sniff_delimiter(text, known)
    # A row with more cells than the header (a cell typed past the last column) became pandas's index and
    # crashed the checker (a tester): each such row is named instead; empty cells past the header are
    # what a spreadsheet leaves and are dropped.
    lines = list(csv.reader(io.StringIO(text), delimiter=sep))
    width = len(lines[0]) if lines else 0
    longer = [number for number, cells in enumerate(lines[1:], start=2)
              if len(cells) > width and any(cell.strip() for cell in cells[width:])]
    if longer:
        raise InputError([file_problem(path, f"每行不多于表头的 {width} 列", row=number,
                                       value=f"第 {number} 行多出的单元格") for number in longer])
    try:
        with warnings.catch_warnings():  # the empty cells past the header, dropped on purpose
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False, sep=sep,
                                index_col=False)
    except pd.errors.EmptyDataError:
        raise InputError([file_problem(path, f"有表头的 CSV 文件（至少含 {', '.join(required)} 列）")]) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError([file_problem(path, "合法的 CSV 格式", value=str(exc).splitlines()[0])]) from None
    aliases = {}
    for code, label in {**required, **optional}.items():
        aliases[normalize_header(code)] = code
        aliases[normalize_header(label)] = code
    frame = frame.rename(columns={c: aliases.get(normalize_header(c), c) for c in frame.columns})
    missing = [code for code in required if code not in frame.columns]
    if missing:
        unread = "、".join(f"“{c}”" for c in frame.columns if c not in aliases.values())[:200]
        found = f"；表头中未识别的列：{unread}" if unread else ""
        raise InputError(
            [
                file_problem(
                    path, f"必需列“{required[code]}”（{code}）{found}",
                    column=code, row=1, label=required[code]
                )
                for code in missing
            ]
        )
    # A row of empty cells (what Excel leaves of a cleared row) is no move; the others keep their index,
    # so that a row is still named by its place in the file (index + 2).
    blank = frame.apply(lambda column: column.str.strip() == "").all(axis=1) if len(frame.columns) else None
    return frame if blank is None else frame[~blank]


def read_summary(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError([file_problem(path, "方案文件 summary.json（由 teacheralloc plan 写出）")])
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([file_problem(path, "合法的 JSON（UTF-8）", value=str(exc).splitlines()[0])]) from None
    if not isinstance(data, dict):
        raise InputError([file_problem(path, "JSON 对象（键值对）", value=type(data).__name__)])
    if not isinstance(data.get("moves"), dict):
        raise InputError([file_problem(path, "“moves”：各调配类型的人数", column="moves")])
    return data


def _id_range(ids: Iterable[str]) -> str:
    ordered = sorted(ids)
    return "无" if not ordered else ordered[0] if len(ordered) == 1 else f"{ordered[0]}–{ordered[-1]}"


@dataclass
class Move:
    row: int
    teacher_id: str
    move_type: str
    from_school: str  # the teacher's real school ("" for a new hire)
    to_school: str
    subject: str
    from_stage: str
    to_stage: str
    km: float | None
    voluntary: bool | None
    wish_rank: int | None
    on_duty: bool = True


def parse_flag(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError


def parse_rows(
    plan: pd.DataFrame, teachers: pd.DataFrame, schools: pd.DataFrame, out: list[Violation],
    hires: pd.DataFrame | None = None, within_school: bool = True,
) -> list[Move]:
    """Rule 1 (well_formed) row by row; returns the rows the other rules can be checked on (the first
    row of each teacher, with a known teacher, a known destination and a valid move type). With a
    scenario's `hires`, a new_hire row names one of them and a hire moves only as new_hire.
    `within_school` (`plan.within_school_cross_stage`): a redeployment to the own school's other section
    is a move."""
    moves: list[Move] = []
    seen: dict[str, int] = {}

    def bad(
        row: int,
        message: str,
        teacher: str | None = None,
        school: str | None = None,
        rule: str = "well_formed",
    ) -> None:
        out.append(Violation(rule, message, teacher_id=teacher or None, school_id=school, row=row))

    for index, cells in zip(plan.index, plan.to_dict(orient="records"), strict=True):
        row = index + 2  # its place in the file: blank rows are left out, the index kept
        tid = str(cells["teacher_id"]).strip()
        kind_text = str(cells["move_type"]).strip()
        kind_member = MoveType.parse(kind_text) if kind_text else None
        to_school = str(cells["to_school"]).strip()
        from_text = str(cells["from_school"]).strip()
        reason = str(cells["reason"]).strip()
        if not reason:
            bad(row, f"教师 {tid} 的调动没有理由（理由须为一句中文，说明填补的缺口和依据的规则）", tid)
        elif not CHINESE.search(reason):
            bad(row, f"教师 {tid} 的理由“{reason[:30]}”不含中文说明", tid)
        if not tid:
            bad(row, "教师编号为空")
            continue
        if kind_member is None:
            bad(
                row,
                f"教师 {tid} 的调配类型“{kind_text}”无效，应为 交流轮岗 rotation / 支教 support / "
                "调剂 redeploy / 新教师分配 new_hire 之一",
                tid,
            )
            continue
        kind = kind_member.value
        if tid in seen:
            bad(row, f"教师 {tid} 在方案中出现不止一次（另见第 {seen[tid]} 行）：每人至多调动一次", tid)
            continue
        seen[tid] = row
        if to_school not in schools.index:
            bad(row, f"教师 {tid} 的新学校“{to_school}”不在学校表中", tid, to_school or None)
            continue
        subject_member = Subject.parse(str(cells["subject"])) if str(cells["subject"]).strip() else None
        if subject_member is None:
            bad(row, f"教师 {tid} 的任教学科“{cells['subject']}”不是学科代码", tid, rule="subject")
        subject = subject_member.value if subject_member else str(cells["subject"]).strip()
        if kind == "new_hire":
            if not NEW_HIRE_ID.match(tid):
                bad(row, f"新教师分配的编号“{tid}”应为占位编号 NEW-0001 形式", tid)
            if tid in teachers.index:
                bad(row, f"新教师分配使用了在编教师的编号 {tid}", tid)
            if from_text:
                bad(row, f"新教师分配 {tid} 的原学校应为空，而不是“{from_text}”", tid, from_text)
            from_school, from_stage, on_duty = "", "", True
            if hires is not None:
                if tid not in hires.index:
                    bad(row, f"{tid} 不是本情景招聘的新教师（共 {len(hires)} 人："
                             f"{_id_range(hires.index)}）", tid)
                    continue
                from_stage = str(hires.at[tid, "stage"])
        else:
            if hires is not None and tid in hires.index:
                bad(row, f"{tid} 是本情景招聘的新教师，调配类型应为 新教师分配 new_hire，而不是“{kind_text}”", tid)
                continue
            if tid not in teachers.index:
                bad(row, f"教师编号 {tid} 不在教师表中", tid)
                continue
            teacher = teachers.loc[tid]
            from_school, from_stage, on_duty = (
                teacher["school_id"],
                teacher["stage"],
                bool(teacher["on_duty"]),
            )
            if from_text != from_school:
                bad(
                    row,
                    f"教师 {tid} 的原学校写为“{from_text}”，但其当前学校是 {from_school}",
                    tid,
                    from_school,
                )
            stated = str(cells.get("from_stage", "")).strip()
            if stated and (Stage.parse(stated) is None or Stage.parse(stated).value != from_stage):
                bad(row, f"教师 {tid} 的原学段写为“{stated}”，但其任教学段是{STAGE_LABEL[from_stage]}", tid)
        to_stage_text = str(cells.get("to_stage", "")).strip()
        if to_stage_text:
            member = Stage.parse(to_stage_text)
            if member is None:
                bad(row, f"教师 {tid} 的新学段“{to_stage_text}”无效，应为 小学 primary 或 初中 junior", tid)
                continue
            to_stage = member.value
        else:  # not written: the teacher's stage where the school teaches it, else the school's first stage
            stages = schools.at[to_school, "stages"]
            others = [s for s in stages if s != from_stage]
            if to_school == from_school and kind == "redeploy" and others:  # 校内跨学段: the other section
                to_stage = others[0]
            else:
                to_stage = from_stage if from_stage in stages else stages[0]
        # The same school only as a redeployment to its other section (校内跨学段调剂, a nine-year school's).
        if kind != "new_hire" and to_school == from_school and (
                not within_school or kind != "redeploy" or to_stage == from_stage
                or to_stage not in schools.at[to_school, "stages"]):
            bad(row, f"教师 {tid} 的新学校与原学校相同（{to_school}）" + (
                "：本县政策不允许校内跨学段调剂（plan.within_school_cross_stage）" if not within_school
                else "：同一学校内只能作为调剂到另一学段" if to_stage == from_stage
                else "：校内跨学段只能是调剂" if kind != "redeploy" else f"，而该校没有{STAGE_LABEL[to_stage]}学段"),
                tid, to_school)
            continue
        km = voluntary = rank = None
        text = str(cells.get("km", "")).strip()
        if text:
            try:
                km = float(text)
            except ValueError:
                bad(row, f"教师 {tid} 的距离“{text}”不是数字", tid)
        text = str(cells.get("voluntary", "")).strip()
        if "voluntary" in cells:
            try:
                voluntary = parse_flag(text)
            except ValueError:
                bad(row, f"教师 {tid} 的“本人申请”值“{text}”应为 True 或 False", tid)
        text = str(cells.get("wish_rank", "")).strip()
        if text:
            try:
                rank = int(float(text))
            except ValueError:
                bad(row, f"教师 {tid} 的志愿序号“{text}”不是整数", tid)
        moves.append(
            Move(
                row=row,
                teacher_id=tid,
                move_type=kind,
                from_school=from_school,
                to_school=to_school,
                subject=subject,
                from_stage=from_stage,
                to_stage=to_stage,
                km=km,
                voluntary=voluntary,
                wish_rank=rank,
                on_duty=on_duty,
            )
        )
    return moves
