"""Independent plan check (方案复核): re-verify every hard rule on a written plan, recompute its figures.

`check_plan(county, policy, plan_dir)` reads `plan.csv`, `schools.csv` and `summary.json` of a plan
folder (the output contract, shared/spec/data-contract.md) and checks them against the county data and
the policy alone. It imports nothing from `teacheralloc.model`: every rule is re-derived here from the
data and the policy numbers, so a bug in the optimizer cannot hide in the check.

Rules (code, number in the brief, what is checked):

1  `well_formed`      every teacher exists and moves at most once, from their current school to another
                      existing school; move_type is rotation / support / redeploy / new_hire (new_hire:
                      placeholder id NEW-0001…, empty from_school; with a scenario's holding schools,
                      one of its hires); every row has a Chinese reason.
2  `movable`          exempt teachers (leave statuses, service obligation, near retirement) move only if
                      they volunteered; a teacher pinned must_stay never moves.
3  `rotation`         a rotated teacher is rotation-eligible (years at school, active, not exempt) and
                      goes to a school of lower level (urban → town → rural, weak half a level lower).
4  `support`          support postings from non-weak schools of `support.from_areas` to rural or weak
                      schools, of teachers who need rural service for 高级职称 or volunteered without wishes.
5  `stage`            same stage, or junior → primary for redeploy when `plan.junior_to_primary`
                      (a new hire stays in the stage it was recruited for); the destination school
                      teaches that stage.
6  `subject`          the subject taught is the main or another qualified subject (the mapped subject
                      for junior → primary).
7  `wishes`, `pins`   volunteers with wishes go only to a wished school (wish_rank = its position);
                      must_move / to_school / not_to_school pins are honoured.
8  `establishment`    no transfer (rotation, redeploy; new hires too) into a school at or above its
                      核定编制, none that takes a school above it.
9  `max_leaving`      no school loses more than max(1, ⌊share × its teachers⌋) teachers.
10 `redeploy_surplus` involuntary redeployment out of a school and stage ≤ its surplus + transfers in
                      on duty, new hires included (a teacher on leave fills no post); to another stage
                      (junior → primary), a volunteer's move included, ≤ its surplus alone.
11 `quota`            the rotation and backbone quotas, or a shortfall reason in summary.json (a warning);
                      summary.json's quota figures equal the recomputed ones.
12 `max_km`           with `plan.max_km`, every involuntary move is within it.
13 `figures`          schools.csv (students, classes, required, teachers and gaps before and after),
                      summary.json's move counts and headcount tier, and plan.csv's distances equal the
                      recomputed ones.

The stage of rotation and support rows is checked once, under rule 5. Rows that cannot be read (unknown
teacher or school, bad move type, a teacher's second row) are reported under rule 1 and left out of the
other rules and of the recomputed figures. Warnings, not violations: a quota shortfall that summary.json
explains, and a plan made for another reference date or under other rule settings (`context`).
A missing or unreadable plan folder or file raises `InputError` naming the file.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

from teacheralloc.domain import County, MoveType, SchoolType, Stage, Status, Subject
from teacheralloc.errors import InputError, Problem
from teacheralloc.io.read import decode, normalize_header
from teacheralloc.norms import Norms, compute_norms
from teacheralloc.plan import MOVE_COLUMNS, SCHOOL_COLUMNS
from teacheralloc.policy import Policy, load_policy

#: Rule code -> (number, Chinese name).
RULES: dict[str, tuple[int, str]] = {
    "well_formed": (1, "方案格式"),
    "movable": (2, "可否调动"),
    "rotation": (3, "交流轮岗条件与方向"),
    "support": (4, "支教条件"),
    "stage": (5, "任教学段"),
    "subject": (6, "任教学科"),
    "wishes": (7, "本人志愿"),
    "pins": (7, "指定"),
    "establishment": (8, "核定编制"),
    "max_leaving": (9, "单校调出上限"),
    "redeploy_surplus": (10, "调剂限于富余"),
    "quota": (11, "交流轮岗比例"),
    "max_km": (12, "调动距离上限"),
    "figures": (13, "数字复核"),
    # figures derived from the moves beyond the contract's (tier values, county indicators, schools.csv's
    # extra columns, plan.csv's 骨干教师 and 本校任教年限): any hand edit of plan.csv changes them, so they
    # are told apart from the contract's figures
    "derived": (13, "派生数字复核"),
    "context": (0, "复核依据"),
}

# The output contract's columns (data-contract.md), with their Chinese headers.
PLAN_REQUIRED = MOVE_COLUMNS
PLAN_OPTIONAL = {
    "from_stage": "原学段",
    "to_stage": "新学段",
    "km": "距离(公里)",
    "voluntary": "本人申请",
    "wish_rank": "志愿序号",
    "backbone": "骨干教师",
    "years_at_school": "本校任教年限",
}
SCHOOLS_REQUIRED = SCHOOL_COLUMNS  # the contract's schools.csv columns (plan.py is a leaf, not the model)
MOVE_TYPES = tuple(m.value for m in MoveType)
TRANSFERS = ("rotation", "redeploy")
NEW_HIRE_ID = re.compile(r"^NEW-\d+$")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
TOLERANCE = 0.01
TIER_NAMES = {"quota": "轮岗比例缺口", "disruption": "调动扰动（人次与距离）", "wishes": "意愿满足"}
KM_TOLERANCE = 0.11  # plan.csv rounds distances to 0.1 km
STAGE_LABEL = {s.value: s.label for s in Stage}
TYPE_LABEL = {m.value: m.label for m in MoveType}
TRUE_WORDS = {"true", "1", "yes", "y", "是", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "f", ""}


@dataclass(frozen=True)
class Violation:
    """One broken rule (or, with severity "warning", something to look at)."""

    rule: str
    message: str
    teacher_id: str | None = None
    school_id: str | None = None
    row: int | None = None  # plan.csv row as a spreadsheet shows it (header = row 1)
    severity: str = "error"

    @property
    def number(self) -> int:
        return RULES.get(self.rule, (0, ""))[0]

    @property
    def rule_label(self) -> str:
        return RULES.get(self.rule, (0, self.rule))[1]

    def line(self) -> str:
        tag = "警告" if self.severity == "warning" else "违规"
        where = f"plan.csv 第 {self.row} 行 " if self.row is not None else ""
        rule = f"规则 {self.number} {self.rule_label}" if self.number else self.rule_label
        return f"[{tag}][{rule}] {where}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "number": self.number,
            "teacher_id": self.teacher_id,
            "school_id": self.school_id,
            "row": self.row,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass
class CheckReport:
    """The result of `check_plan`: violations, warnings and the recomputed figures."""

    plan_dir: Path
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    units: pd.DataFrame | None = None  # recomputed school × stage figures

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def rules_violated(self) -> set[str]:
        return {v.rule for v in self.violations}

    def by_rule(self, rule: str) -> list[Violation]:
        return [v for v in self.violations if v.rule == rule]

    def summary_lines(self, limit: int = 10) -> list[str]:
        """Lines for the command line: the verdict, violations per rule (at most `limit` each),
        warnings, then the recomputed headline figures."""
        lines = []
        if self.ok:
            lines.append(f"复核通过：{self.plan_dir} 满足全部 13 项硬性规则，数字与重新计算一致。")
        else:
            rules = sorted(self.rules_violated, key=lambda r: (RULES.get(r, (0,))[0], r))
            lines.append(
                f"复核未通过：{self.plan_dir} 有 {len(self.violations)} 处违规，涉及 {len(rules)} 项规则。"
            )
            for rule in rules:
                found = self.by_rule(rule)
                number, label = RULES.get(rule, (0, rule))
                lines.append(f"规则 {number} {label}（{rule}）：{len(found)} 处")
                lines.extend(f"  {v.line()}" for v in found[:limit])
                if len(found) > limit:
                    lines.append(f"  …另有 {len(found) - limit} 处")
        for warning in self.warnings[: limit * 3]:
            lines.append(warning.line())
        figures = self.figures
        moves = figures.get("moves")
        if moves:
            lines.append(
                "调动（重新计算）："
                + "，".join(f"{TYPE_LABEL[k]} {moves[k]}" for k in MOVE_TYPES)
                + f"，合计 {moves['total']} 人"
            )
        quota = figures.get("quota")
        if quota:
            others = quota["rotations_all"] - quota["rotations"]
            lines.append(
                f"交流轮岗：计入比例 {quota['rotations']} 人（应交流 {quota['required_rotations']} 人，基数 "
                f"{quota['eligible_base']} 人），其中骨干教师 {quota['backbone_rotations']} 人"
                f"（应至少 {quota['backbone_required']} 人）"
                + (f"；另有基数以外学校的交流 {others} 人" if others else "")
            )
        for stage, row in (figures.get("stages") or {}).items():
            lines.append(
                f"{STAGE_LABEL.get(stage, stage)}：按标准需 {row['required']:.1f}，"
                f"在岗 {row['teachers_before']} → {row['teachers_after']}，"
                f"缺编 {row['shortage_before']:.1f} → {row['shortage_after']:.1f} 人"
            )
        return lines


# --------------------------------------------------------------------------------------------------
# Reading the plan folder
# --------------------------------------------------------------------------------------------------


def _problem(
    path: Path, expected: str, column: str = "", value: str = "", row: int | None = None, label: str = ""
) -> Problem:
    return Problem(str(path), row, column, value, expected, label=label, rule="plan_file")


def _read_csv(path: Path, required: dict[str, str], optional: dict[str, str]) -> pd.DataFrame:
    """A plan CSV as text cells, headers mapped to codes (Chinese headers accepted)."""
    if not path.is_file():
        raise InputError([_problem(path, f"方案文件 {path.name}（由 teacheralloc plan 写出）")])
    try:
        text, _ = decode(path.read_bytes())
    except UnicodeDecodeError:
        raise InputError([_problem(path, "UTF-8 或 GBK 编码的 CSV 文件")]) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        raise InputError([_problem(path, f"有表头的 CSV 文件（至少含 {', '.join(required)} 列）")]) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError([_problem(path, "合法的 CSV 格式", value=str(exc).splitlines()[0])]) from None
    aliases = {}
    for code, label in {**required, **optional}.items():
        aliases[normalize_header(code)] = code
        aliases[normalize_header(label)] = code
    frame = frame.rename(columns={c: aliases.get(normalize_header(c), c) for c in frame.columns})
    missing = [code for code in required if code not in frame.columns]
    if missing:
        raise InputError(
            [
                _problem(
                    path, f"必需列“{required[code]}”（{code}）", column=code, row=1, label=required[code]
                )
                for code in missing
            ]
        )
    return frame.reset_index(drop=True)


def _read_summary(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError([_problem(path, "方案文件 summary.json（由 teacheralloc plan 写出）")])
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([_problem(path, "合法的 JSON（UTF-8）", value=str(exc).splitlines()[0])]) from None
    if not isinstance(data, dict):
        raise InputError([_problem(path, "JSON 对象（键值对）", value=type(data).__name__)])
    if not isinstance(data.get("moves"), dict):
        raise InputError([_problem(path, "“moves”：各调配类型的人数", column="moves")])
    return data


# --------------------------------------------------------------------------------------------------
# Facts re-derived from the county and the policy
# --------------------------------------------------------------------------------------------------


def _calendar_years(start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Completed calendar years and months from start to end (six years from 2020-09-01 on 2026-09-01)."""
    if pd.isna(start) or pd.isna(end):
        return math.nan
    span = relativedelta(pd.Timestamp(end).date(), pd.Timestamp(start).date())
    return span.years + span.months / 12


def _teacher_facts(county: County, policy: Policy, pins: pd.DataFrame) -> pd.DataFrame:
    """Per teacher: years at school, exemption (the first reason found), eligibility and flags."""
    rotation = policy.rotation
    t = county.teachers.copy()
    as_of = pd.Timestamp(county.as_of)
    t["stage"] = t["stage"].astype(str)
    t["subject"] = t["subject"].astype(str)
    t["status"] = t["status"].astype(str)
    t["title"] = t["title"].astype(str)
    t["volunteer"] = t["volunteer"].astype(bool)
    t["years_at_school"] = [_calendar_years(since, as_of) for since in t["school_since"]]
    t["retirement_date"] = [
        policy.retirement.retirement_date(str(g), pd.Timestamp(b).date())
        for g, b in zip(t["gender"], t["birth_date"], strict=True)
    ]
    t["years_to_retirement"] = [_calendar_years(as_of, pd.Timestamp(d)) for d in t["retirement_date"]]
    exempt_statuses = {s.value for s in rotation.exempt_statuses}
    service = t["service_until"].notna() & (t["service_until"] > as_of)
    types = county.schools.set_index("school_id")["type"].astype(str)
    special = t["school_id"].map(types).eq("special") & (not policy.plan.special_schools_take_part)
    reasons = []
    for status, bound, until, retire, left, in_special in zip(
        t["status"], service, t["service_until"], t["retirement_date"], t["years_to_retirement"], special,
        strict=True,
    ):
        if status in exempt_statuses:
            reasons.append(f"在岗状态为“{Status(status).label}”")
        elif rotation.exempt_service_obligation and bound:
            reasons.append(f"服务期未满（至 {pd.Timestamp(until).date().isoformat()}）")
        elif left < rotation.exempt_years_to_retirement:
            reasons.append(
                f"距法定退休不足 {rotation.exempt_years_to_retirement:g} 年（{retire.isoformat()} 退休）"
            )
        elif in_special:
            reasons.append("特殊教育学校教师（plan.special_schools_take_part 为 false）")
        else:
            reasons.append("")
    t["exempt"] = reasons
    stay = set(pins.loc[pins["kind"] == "must_stay", "teacher_id"]) if len(pins) else set()
    t["pinned_stay"] = t["teacher_id"].isin(stay)
    t["on_duty"] = True if policy.staffing.count_on_leave else t["status"] == Status.active.value
    t["backbone_flag"] = t["backbone"].astype(str).isin([b.value for b in policy.indicators.backbone_levels])
    t["rotation_eligible"] = (
        (t["exempt"] == "")
        & ~t["pinned_stay"]
        & (t["status"] == Status.active.value)
        & (t["years_at_school"] >= rotation.eligible_years_at_school)
    )
    return t.set_index("teacher_id", drop=False)


def _school_facts(county: County, policy: Policy) -> pd.DataFrame:
    s = county.schools.copy()
    s["type"] = s["type"].astype(str)
    s["area"] = s["area"].astype(str)
    s["weak"] = s["weak"].astype(bool)
    s["level"] = [policy.rotation.level(a, w) for a, w in zip(s["area"], s["weak"], strict=True)]
    s["stages"] = [tuple(st.value for st in SchoolType(t).stages) for t in s["type"]]
    s["posts"] = s["school_id"].map(county.teachers.groupby("school_id").size()).fillna(0).astype(int)
    return s.set_index("school_id", drop=False)


def _new_hires(county: County, policy: Policy, pins: pd.DataFrame, holding: frozenset[str]) -> pd.DataFrame | None:
    """A scenario's new hires: the teachers at its holding schools, with the facts `_teacher_facts`
    gives every teacher; None for a county's own data (no holding schools)."""
    if not holding:
        return None
    waiting = county.teachers[county.teachers["school_id"].isin(holding)]
    return _teacher_facts(county.replace(teachers=waiting), policy, pins)


def _id_range(ids: Iterable[str]) -> str:
    ordered = sorted(ids)
    return "无" if not ordered else ordered[0] if len(ordered) == 1 else f"{ordered[0]}–{ordered[-1]}"


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


class _Distances:
    """Road distance: the distances table (either direction, the given one first), else straight-line
    distance from lat/lon × `plan.road_factor`, else unknown (None)."""

    def __init__(self, county: County, schools: pd.DataFrame, policy: Policy) -> None:
        self.table: dict[tuple[str, str], float] = {}
        if county.distances is not None and not county.distances.empty:
            given = list(
                zip(
                    county.distances["from_id"],
                    county.distances["to_id"],
                    county.distances["km"],
                    strict=True,
                )
            )
            for a, b, km in given:
                self.table[(b, a)] = float(km)
            for a, b, km in given:
                self.table[(a, b)] = float(km)
        self.coords = {
            sid: (lat, lon)
            for sid, lat, lon in zip(schools["school_id"], schools["lat"], schools["lon"], strict=True)
        }
        self.factor = policy.plan.road_factor

    def km(self, a: str, b: str) -> float | None:
        if (a, b) in self.table:
            return self.table[(a, b)]
        (lat1, lon1), (lat2, lon2) = self.coords[a], self.coords[b]
        if any(v is None or pd.isna(v) for v in (lat1, lon1, lat2, lon2)):
            return None
        return _haversine(float(lat1), float(lon1), float(lat2), float(lon2)) * self.factor


# --------------------------------------------------------------------------------------------------
# Plan rows
# --------------------------------------------------------------------------------------------------


@dataclass
class _Move:
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


def _bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError


def _parse_rows(
    plan: pd.DataFrame, teachers: pd.DataFrame, schools: pd.DataFrame, out: list[Violation],
    hires: pd.DataFrame | None = None,
) -> list[_Move]:
    """Rule 1 (well_formed) row by row; returns the rows the other rules can be checked on (the first
    row of each teacher, with a known teacher, a known destination and a valid move type). With a
    scenario's `hires`, a new_hire row names one of them and a hire moves only as new_hire."""
    moves: list[_Move] = []
    seen: dict[str, int] = {}

    def bad(
        row: int,
        message: str,
        teacher: str | None = None,
        school: str | None = None,
        rule: str = "well_formed",
    ) -> None:
        out.append(Violation(rule, message, teacher_id=teacher or None, school_id=school, row=row))

    for index, cells in enumerate(plan.to_dict(orient="records")):
        row = index + 2
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
            if to_school == from_school:
                bad(row, f"教师 {tid} 的新学校与原学校相同（{to_school}）", tid, to_school)
                continue
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
            to_stage = from_stage if from_stage in stages else stages[0]
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
                voluntary = _bool(text)
            except ValueError:
                bad(row, f"教师 {tid} 的“本人申请”值“{text}”应为 True 或 False", tid)
        text = str(cells.get("wish_rank", "")).strip()
        if text:
            try:
                rank = int(float(text))
            except ValueError:
                bad(row, f"教师 {tid} 的志愿序号“{text}”不是整数", tid)
        moves.append(
            _Move(
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


# --------------------------------------------------------------------------------------------------
# Rules on single moves (2–7, 12)
# --------------------------------------------------------------------------------------------------


def _wish_rank(teacher: pd.Series, to_school: str) -> int:
    """1-based position of `to_school` on a volunteer's wish list; 0 otherwise."""
    wishes = list(teacher["wishes"])
    if teacher["volunteer"] and to_school in wishes:
        return wishes.index(to_school) + 1
    return 0


def _check_move(
    move: _Move,
    teachers: pd.DataFrame,
    schools: pd.DataFrame,
    policy: Policy,
    distances: _Distances,
    out: list[Violation],
    hires: pd.DataFrame | None = None,
) -> None:
    def bad(rule: str, message: str, school: str | None = None) -> None:
        out.append(Violation(rule, message, teacher_id=move.teacher_id, school_id=school, row=move.row))

    tid, kind = move.teacher_id, move.move_type
    dest = schools.loc[move.to_school]
    dest_stages = dest["stages"]
    stage_label = STAGE_LABEL
    if move.to_stage not in dest_stages:
        bad(
            "stage",
            f"{move.to_school}（{SchoolType(dest['type']).label}）没有{stage_label[move.to_stage]}学段，"
            f"教师 {tid} 不能到该校任{stage_label[move.to_stage]}教学",
            move.to_school,
        )
    if dest["type"] == "special" and not policy.plan.special_schools_take_part:
        bad("movable", f"{move.to_school} 是特殊教育学校，不参与调配（plan.special_schools_take_part 为 false），"
                       f"不能调入教师 {tid}", move.to_school)
    if kind == "new_hire":  # a scenario's hire: its stage and subject (it has no school, wishes or distance)
        if hires is not None:
            _check_stage_subject(move, hires.loc[tid], policy, bad)
        return
    teacher = teachers.loc[tid]
    origin = schools.loc[move.from_school]
    volunteer = bool(teacher["volunteer"])
    exempt = teacher["exempt"]

    # Rule 2: who may move.
    if exempt and not volunteer:
        bad("movable", f"教师 {tid} {exempt}，不在交流调动范围内，且本人未申请交流，不得调动")
    if teacher["pinned_stay"]:
        bad("movable", f"教师 {tid} 被指定“必须留任”，方案却将其调往 {move.to_school}")

    # Rule 3: rotation eligibility and direction.
    if kind == "rotation":
        why = []
        years = float(teacher["years_at_school"])
        if years < policy.rotation.eligible_years_at_school:
            why.append(f"在本校任教 {years:.1f} 年，不满 {policy.rotation.eligible_years_at_school:g} 年")
        if teacher["status"] != Status.active.value:
            why.append(f"在岗状态为“{Status(teacher['status']).label}”")
        if exempt:
            why.append(exempt)
        if teacher["pinned_stay"]:
            why.append("被指定必须留任")
        if why:
            bad("rotation", f"教师 {tid} 不符合交流轮岗条件：{'；'.join(why)}")
        if not origin["level"] > dest["level"]:
            bad(
                "rotation",
                f"交流方向错误：教师 {tid} 从{_school_kind(origin)} {move.from_school}（层级 "
                f"{origin['level']:g}）到{_school_kind(dest)} {move.to_school}（层级 {dest['level']:g}），"
                "交流轮岗只能由城镇向乡村、由优质学校向薄弱学校",
                move.to_school,
            )

    # Rule 4: support postings.
    if kind == "support":
        if origin["area"] not in policy.support.from_areas or origin["weak"]:
            bad(
                "support",
                f"支教须从{'、'.join(_area_label(a) for a in policy.support.from_areas)}的非薄弱学校派出，"
                f"而 {move.from_school} 是{_school_kind(origin)}",
                move.from_school,
            )
        if not (dest["area"] == "rural" or dest["weak"]):
            bad(
                "support",
                f"支教只能去乡村学校或薄弱学校，而 {move.to_school} 是{_school_kind(dest)}",
                move.to_school,
            )
        rural_short = float(teacher["rural_years"]) < policy.support.senior_title_rural_years
        needs = teacher["title"] == "first" and rural_short
        asked = volunteer and len(teacher["wishes"]) == 0
        if not (needs or asked):
            bad(
                "support",
                f"教师 {tid} 既无晋升高级职称所需的农村任教经历缺口（一级职称且农村任教不足 "
                f"{policy.support.senior_title_rural_years:g} 年），也未申请交流（且未填志愿），不应安排支教",
            )

    _check_stage_subject(move, teacher, policy, bad)

    # Rule 7: wishes.
    expected_rank = _wish_rank(teacher, move.to_school)
    if volunteer and len(teacher["wishes"]) and expected_rank == 0:
        bad(
            "wishes",
            f"教师 {tid} 申请交流并填报志愿 {'、'.join(teacher['wishes'])}，方案却调往志愿以外的 "
            f"{move.to_school}",
            move.to_school,
        )
    if move.wish_rank is not None and move.wish_rank != expected_rank:
        bad(
            "wishes",
            f"教师 {tid} 调往 {move.to_school} 的志愿序号写为 {move.wish_rank}，按其志愿应为 {expected_rank}",
            move.to_school,
        )
    if move.voluntary is not None and move.voluntary != (expected_rank > 0):
        bad("wishes", f"教师 {tid} 的“本人申请”写为 {move.voluntary}，按其志愿应为 {expected_rank > 0}")

    # Rule 12: distance (and the km figure of plan.csv, rule 13).
    km = distances.km(move.from_school, move.to_school)
    if km is not None:
        limit = policy.plan.max_km
        if limit is not None and expected_rank == 0 and km > limit + 1e-6:
            bad(
                "max_km",
                f"教师 {tid} 从 {move.from_school} 到 {move.to_school} 约 {km:.1f} 公里，超过调动距离上限 "
                f"{limit:g} 公里（非本人志愿）",
                move.to_school,
            )
        if move.km is not None and abs(move.km - km) > KM_TOLERANCE:
            bad(
                "figures", f"教师 {tid} 的距离写为 {move.km:g} 公里，重新计算为 {km:.1f} 公里", move.to_school
            )


def _check_stage_subject(move: _Move, teacher: pd.Series, policy: Policy, bad: Callable[..., None]) -> None:
    """Rules 5 and 6: the stage taught (junior → primary only as a redeployment where the policy allows
    it; a new hire in the stage it was recruited for) and the subject (the main or another qualified
    one, the mapped one for junior → primary)."""
    # Rule 5: stage.
    cross = move.to_stage != move.from_stage
    junior_to_primary = move.from_stage == Stage.junior.value and move.to_stage == Stage.primary.value
    if cross and not (junior_to_primary and move.move_type == "redeploy" and policy.plan.junior_to_primary):
        if move.move_type == "new_hire":
            allowed = "新教师按招聘的学段分配"
        else:
            allowed = "仅调剂可由初中到小学" + (
                "" if policy.plan.junior_to_primary else "，且本县政策未允许（plan.junior_to_primary）"
            )
        bad(
            "stage",
            f"教师 {move.teacher_id} 由{STAGE_LABEL[move.from_stage]}改任{STAGE_LABEL[move.to_stage]}"
            f"（{TYPE_LABEL[move.move_type]}）：{allowed}",
        )

    # Rule 6: subject.
    if Subject.parse(move.subject) is not None:
        main = teacher["subject"]
        if cross and junior_to_primary:
            mapped = {str(k): str(v) for k, v in policy.plan.junior_to_primary_subjects.items()}
            expected = mapped.get(main, main)
            if move.subject != expected:
                bad(
                    "subject",
                    f"初中{_subject_label(main)}教师 {move.teacher_id} 到小学应任教{_subject_label(expected)}，"
                    f"方案却为{_subject_label(move.subject)}",
                )
        else:
            qualified = {main, *teacher["other_subjects"]}
            if move.subject not in qualified:
                bad(
                    "subject",
                    f"教师 {move.teacher_id} 主教{_subject_label(main)}、兼教"
                    f"{'、'.join(_subject_label(s) for s in teacher['other_subjects']) or '无'}，"
                    f"不能任教{_subject_label(move.subject)}",
                )


def _area_label(area: str) -> str:
    return {"urban": "城区", "town": "镇区", "rural": "乡村"}.get(area, area)


def _school_kind(school: pd.Series) -> str:
    return f"{_area_label(school['area'])}{'薄弱' if school['weak'] else ''}学校"


def _subject_label(code: str) -> str:
    member = Subject.parse(str(code))
    return member.label if member else str(code)


def _check_pins(moves: list[_Move], pins: pd.DataFrame, out: list[Violation]) -> None:
    """Rule 7 (pins): must_move and to_school teachers move (there); not_to_school is respected."""
    if pins is None or pins.empty:
        return
    where = {m.teacher_id: m for m in moves}  # a scenario's hires are pinned too (must_move, to_school)
    for pin in pins.itertuples(index=False):
        move = where.get(pin.teacher_id)
        if pin.kind == "must_move" and move is None:
            out.append(
                Violation(
                    "pins",
                    f"教师 {pin.teacher_id} 被指定“必须调出”，方案中却没有其调动",
                    teacher_id=pin.teacher_id,
                )
            )
        elif pin.kind == "to_school":
            if move is None:
                out.append(
                    Violation(
                        "pins",
                        f"教师 {pin.teacher_id} 被指定调往 {pin.school_id}，方案中却没有其调动",
                        teacher_id=pin.teacher_id,
                        school_id=pin.school_id,
                    )
                )
            elif move.to_school != pin.school_id:
                out.append(
                    Violation(
                        "pins",
                        f"教师 {pin.teacher_id} 被指定调往 {pin.school_id}，方案却调往 {move.to_school}",
                        teacher_id=pin.teacher_id,
                        school_id=move.to_school,
                        row=move.row,
                    )
                )
        elif pin.kind == "not_to_school" and move is not None and move.to_school == pin.school_id:
            out.append(
                Violation(
                    "pins",
                    f"教师 {pin.teacher_id} 被指定不得调往 {pin.school_id}，方案却调往该校",
                    teacher_id=pin.teacher_id,
                    school_id=pin.school_id,
                    row=move.row,
                )
            )


# --------------------------------------------------------------------------------------------------
# Rules on schools (8–10) and the county (11)
# --------------------------------------------------------------------------------------------------


def _check_schools(
    moves: list[_Move],
    teachers: pd.DataFrame,
    schools: pd.DataFrame,
    units: pd.DataFrame,
    policy: Policy,
    out: list[Violation],
) -> None:
    transfers_out: dict[str, int] = {}
    transfers_in: dict[str, int] = {}
    leaving: dict[str, int] = {}
    unit_in: dict[tuple[str, str], int] = {}
    redeploy_out: dict[tuple[str, str], int] = {}
    across_out: dict[tuple[str, str], int] = {}  # redeployed to another stage
    for m in moves:
        if m.move_type in TRANSFERS or m.move_type == "new_hire":
            transfers_in[m.to_school] = transfers_in.get(m.to_school, 0) + 1
            # An arrival on duty (a new hire too) fills a post: credit for an exchange; a teacher on leave
            # fills none.
            if m.on_duty:
                unit_in[(m.to_school, m.to_stage)] = unit_in.get((m.to_school, m.to_stage), 0) + 1
        if m.move_type in TRANSFERS:
            transfers_out[m.from_school] = transfers_out.get(m.from_school, 0) + 1
        if m.move_type != "new_hire":
            leaving[m.from_school] = leaving.get(m.from_school, 0) + 1
            voluntary = _wish_rank(teachers.loc[m.teacher_id], m.to_school) > 0
            key = (m.from_school, m.from_stage)
            if m.move_type == "redeploy" and not voluntary:
                redeploy_out[key] = redeploy_out.get(key, 0) + 1
            if m.move_type == "redeploy" and m.to_stage != m.from_stage:  # a volunteer's too
                across_out[key] = across_out.get(key, 0) + 1

    # Rule 8: establishment (核定编制, school level; posts = every teacher of the school).
    for sid, school in schools.iterrows():
        est = school["establishment"]
        if est is None or pd.isna(est):
            continue
        est, posts = int(est), int(school["posts"])
        arriving, departing = transfers_in.get(sid, 0), transfers_out.get(sid, 0)
        if posts >= est and arriving:
            out.append(
                Violation(
                    "establishment",
                    f"{sid} 在编 {posts} 人，已达核定编制 {est} 人，不得再调入，方案却调入 {arriving} 人",
                    school_id=sid,
                )
            )
        elif posts < est and posts - departing + arriving > est:
            out.append(
                Violation(
                    "establishment",
                    f"{sid} 核定编制 {est} 人，在编 {posts} 人，调出 {departing}、调入 "
                    f"{arriving} 后为 {posts - departing + arriving} 人，超出核定编制",
                    school_id=sid,
                )
            )

    # Rule 9: no school loses more than its share.
    share = policy.rotation.max_share_leaving_school
    for sid, count in sorted(leaving.items()):
        posts = int(schools.at[sid, "posts"])
        cap = max(1, math.floor(share * posts + 1e-9))
        if count > cap:
            out.append(
                Violation(
                    "max_leaving",
                    f"{sid} 有教师 {posts} 人，一年调出 {count} 人，超过上限 {cap} 人"
                    f"（{share:.0%}，至少 1 人）",
                    school_id=sid,
                )
            )

    # Rule 10: involuntary redeployment only from surplus (plus what the unit receives).
    table = units.set_index(["school_id", "stage"])
    for (sid, stage), count in sorted(redeploy_out.items()):
        surplus = int(table.at[(sid, stage), "surplus"]) if (sid, stage) in table.index else 0
        received = unit_in.get((sid, stage), 0)
        if count > surplus + received:
            before = int(table.at[(sid, stage), "teachers_before"]) if (sid, stage) in table.index else 0
            target = float(table.at[(sid, stage), "target"]) if (sid, stage) in table.index else 0.0
            out.append(
                Violation(
                    "redeploy_surplus",
                    f"{sid}{STAGE_LABEL[stage]}在岗 {before} 人、按编制应有 {target:g} 人，"
                    f"富余 {surplus} 人、调入在岗教师 {received} 人，却调剂出 {count} 人"
                    "（非本人志愿）",
                    school_id=sid,
                )
            )
    # ... and to another stage only from its own surplus (初中富余教师转任小学; no credit for transfers in).
    for (sid, stage), count in sorted(across_out.items()):
        surplus = int(table.at[(sid, stage), "surplus"]) if (sid, stage) in table.index else 0
        if count > surplus:
            out.append(
                Violation(
                    "redeploy_surplus",
                    f"{sid}{STAGE_LABEL[stage]}富余 {surplus} 人，却跨学段调剂出 {count} 人：跨学段调剂只能调出本校"
                    "该学段的富余教师（调入的教师不抵）",
                    school_id=sid,
                )
            )


def _quota(
    moves: list[_Move], teachers: pd.DataFrame, schools: pd.DataFrame, policy: Policy
) -> dict[str, Any]:
    rotation = policy.rotation
    eligible = teachers[teachers["rotation_eligible"]]
    every = [m for m in moves if m.move_type == "rotation"]
    if rotation.quota_base == "sending":  # the base: urban and town schools, not weak; only their rotations count
        sending = set(schools.index[(schools["area"] != "rural") & ~schools["weak"]])
        eligible = eligible[eligible["school_id"].isin(sending)]
        counted = [m for m in every if m.from_school in sending]
    else:
        counted = every
    base = len(eligible)
    required = math.ceil(rotation.min_share_of_eligible * base - 1e-9)
    rotated = [m.teacher_id for m in counted]
    backbone = int(teachers.loc[rotated, "backbone_flag"].sum()) if rotated else 0
    share = rotation.min_backbone_share_of_rotators
    return {
        "eligible_base": base,
        "required_rotations": required,
        "rotations": len(rotated),
        "rotations_all": len(every),
        "backbone_rotations": backbone,
        "backbone_required": math.ceil(share * len(rotated) - 1e-9),
        "rotation_quota_met": len(rotated) >= required,
        "backbone_quota_met": backbone >= share * len(rotated) - 1e-9,
    }


def _check_quota(
    quota: dict[str, Any],
    summary: dict[str, Any],
    policy: Policy,
    out: list[Violation],
    warn: list[Violation],
) -> None:
    written = summary.get("quota") if isinstance(summary.get("quota"), dict) else {}
    shortfall = [str(s) for s in (written.get("shortfall") or []) if str(s).strip()]
    short = []
    if not quota["rotation_quota_met"]:
        short.append(
            f"交流轮岗 {quota['rotations']} 人，少于应交流 {quota['required_rotations']} 人"
            f"（符合条件教师 {quota['eligible_base']} 人的 {policy.rotation.min_share_of_eligible:.0%}）"
        )
    if not quota["backbone_quota_met"]:
        short.append(
            f"交流的骨干教师 {quota['backbone_rotations']} 人，少于交流人数的 "
            f"{policy.rotation.min_backbone_share_of_rotators:.0%}（{quota['backbone_required']} 人）"
        )
    for text in short:
        if shortfall:
            warn.append(Violation("quota", f"{text}（summary.json 已说明原因，见下）", severity="warning"))
        else:
            out.append(Violation("quota", f"{text}，且 summary.json 未说明原因（quota.shortfall 为空）"))
    if short and shortfall:
        warn.extend(
            Violation("quota", f"summary.json 说明：{reason}", severity="warning") for reason in shortfall
        )
    for key, value in quota.items():
        if key in written and written[key] != value:
            out.append(
                Violation("quota", f"summary.json 的 quota.{key} 为 {written[key]}，重新计算为 {value}")
            )


# --------------------------------------------------------------------------------------------------
# Figures (13)
# --------------------------------------------------------------------------------------------------


def _units(before: Norms, policy: Policy, teachers: pd.DataFrame, moves: list[_Move]) -> pd.DataFrame:
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


def _check_headcount_tier(units: pd.DataFrame, schools: pd.DataFrame, policy: Policy, summary: dict[str, Any],
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


def _check_figures(units: pd.DataFrame, written: pd.DataFrame, path: Path, out: list[Violation]) -> None:
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


def _check_summary_shape(summary: dict[str, Any], policy: Policy, out: list[Violation]) -> bool:
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


def _lower_tier_values(moves: list[_Move], teachers: pd.DataFrame, policy: Policy, distances: _Distances,
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
        rank = _wish_rank(teacher, m.to_school)
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


def _check_lower_tiers(values: dict[str, float], summary: dict[str, Any], out: list[Violation]) -> None:
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


def _county_after(county: County, moves: list[_Move], hires: pd.DataFrame | None = None) -> County | None:
    """The county as the plan leaves it: each mover at the new school and stage, teaching the subject
    moved for, the old main subject kept as one also taught; a scenario's placed hires (`hires`) join
    it. None when the plan places new hires and the scenario is not known, or names a subject that is
    not a code (rule 6 says so)."""
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
        teachers.iat[i, teachers.columns.get_loc("subject")] = m.subject
        if old != m.subject:
            others[i] = tuple(dict.fromkeys([*others[i], old]))
    teachers["other_subjects"] = others
    return county.replace(teachers=teachers)


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


def _check_indicators(county: County, before: Norms, policy: Policy, moves: list[_Move], summary: dict[str, Any],
                      written: pd.DataFrame, path: Path, out: list[Violation], hires: pd.DataFrame | None = None
                      ) -> None:
    """summary.json's county indicators before and after, and schools.csv's posts, subject shortage and
    per-100 columns, against the norms of the county before and after the plan."""
    after_county = _county_after(county, moves, hires)
    norms = {"before": before}
    if after_county is not None:
        norms["after"] = compute_norms(after_county, policy)
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


def _check_move_columns(plan: pd.DataFrame, teachers: pd.DataFrame, out: list[Violation]) -> None:
    """plan.csv's 骨干教师 and 本校任教年限 columns, where written, against the teacher table."""
    for index, cells in enumerate(plan.to_dict(orient="records")):
        tid = str(cells["teacher_id"]).strip()
        if tid not in teachers.index:
            continue
        teacher = teachers.loc[tid]
        text = str(cells.get("backbone", "")).strip()
        if text:
            try:
                stated = _bool(text)
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


def _stage_figures(units: pd.DataFrame) -> dict[str, dict[str, float]]:
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


def _context_warnings(
    county: County, policy: Policy, plan_dir: Path, summary: dict[str, Any], warn: list[Violation]
) -> None:
    """Warn when the plan was made for another reference date or under another policy."""
    as_of = (
        (summary.get("parameters") or {}).get("as_of")
        if isinstance(summary.get("parameters"), dict)
        else None
    )
    if as_of and str(as_of) != county.as_of.isoformat():
        warn.append(
            Violation(
                "context",
                f"方案的基准日期为 {as_of}，复核按 {county.as_of.isoformat()} 计算任教年限与退休日期",
                severity="warning",
            )
        )
    used = plan_dir / "policy_used.yaml"
    if not used.is_file():
        return
    try:
        data = load_policy(used).model_dump(mode="json")  # over the defaults: older plans lack newer settings
    except Exception:  # any unreadable policy file is only worth a warning here
        warn.append(
            Violation("context", "policy_used.yaml 无法读取，无法确认方案所用政策", severity="warning")
        )
        return
    differ = _rule_differences(_flatten(policy.model_dump(mode="json")), _flatten(data))
    if differ:
        shown = "、".join(differ[:8]) + ("…" if len(differ) > 8 else "")
        warn.append(
            Violation(
                "context",
                f"方案所用政策（policy_used.yaml）与复核所用政策在规则设置上不同：{shown}",
                severity="warning",
            )
        )


def _reference_warning(policy: Policy, reference: Policy, warn: list[Violation]) -> None:
    """Checked against the plan's own policy: say which rule settings it changes from the county's."""
    mine, theirs = _flatten(policy.model_dump(mode="json")), _flatten(reference.model_dump(mode="json"))
    differ = _rule_differences(mine, theirs)
    if differ:
        shown = "、".join(f"{k} = {mine.get(k)}（默认与数据集 policy.yaml：{theirs.get(k)}）" for k in differ[:8])
        warn.append(
            Violation(
                "context",
                f"按方案所用政策（policy_used.yaml）复核；它在规则设置上不同于默认与数据集政策：{shown}"
                + ("…" if len(differ) > 8 else "")
                + "。按其他政策复核请用 --policy",
                severity="warning",
            )
        )


#: Policy settings the hard rules and the recomputed figures depend on.
RULE_SETTINGS = (
    "staffing.",
    "rotation.",
    "support.",
    "retirement.",
    "indicators.backbone_levels",
    "plan.headcount_rounding",
    "plan.junior_to_primary",
    "plan.max_km",
    "plan.road_factor",
)


def _rule_differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The rule settings (`RULE_SETTINGS`) two flattened policies set differently, sorted."""
    return sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k) and k.startswith(RULE_SETTINGS))


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------


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
        raise InputError([_problem(plan_dir, "方案文件夹（含 plan.csv、schools.csv、summary.json）")])
    plan = _read_csv(plan_dir / "plan.csv", PLAN_REQUIRED, PLAN_OPTIONAL)
    schools_written = _read_csv(plan_dir / "schools.csv", SCHOOLS_REQUIRED, {})
    summary = _read_summary(plan_dir / "summary.json")
    if pins is None:
        pins = pd.DataFrame({"teacher_id": [], "kind": [], "school_id": []})

    report = CheckReport(plan_dir=plan_dir)
    out, warn = report.violations, report.warnings
    hires = _new_hires(county, policy, pins, holding)
    county = county.replace(schools=county.schools[~county.schools["school_id"].isin(holding)],
                            teachers=county.teachers[~county.teachers["school_id"].isin(holding)])
    teachers = _teacher_facts(county, policy, pins)
    schools = _school_facts(county, policy)
    distances = _Distances(county, schools, policy)

    moves = _parse_rows(plan, teachers, schools, out, hires)
    for move in moves:
        _check_move(move, teachers, schools, policy, distances, out, hires)
    _check_pins(moves, pins, out)
    before = compute_norms(county, policy)  # the county's norms, for the units and the indicators
    units = _units(before, policy, teachers, moves)
    _check_schools(moves, teachers, schools, units, policy, out)
    quota = _quota(moves, teachers, schools, policy)
    _check_quota(quota, summary, policy, out, warn)
    _check_figures(units, schools_written, plan_dir / "schools.csv", out)
    if _check_summary_shape(summary, policy, out):
        _check_headcount_tier(units, schools, policy, summary, out)
        _check_lower_tiers(_lower_tier_values(moves, teachers, policy, distances, quota, hires), summary, out)
    _check_indicators(county, before, policy, moves, summary, schools_written, plan_dir / "schools.csv", out, hires)
    _check_move_columns(plan, teachers, out)

    # Move counts as plan.csv states them (every row, whatever else is wrong with it).
    kinds = [MoveType.parse(str(k)) if str(k).strip() else None for k in plan["move_type"]]
    counts = {kind: sum(1 for k in kinds if k is not None and k.value == kind) for kind in MOVE_TYPES}
    counts["total"] = len(plan)
    for key, value in counts.items():
        written = summary["moves"].get(key)
        if written != value:
            label = "合计" if key == "total" else TYPE_LABEL[key]
            out.append(
                Violation(
                    "figures", f"summary.json 的 moves.{key}（{label}）为 {written}，plan.csv 中为 {value}"
                )
            )
    _context_warnings(county, policy, plan_dir, summary, warn)
    placed = sum(m.move_type == "new_hire" for m in moves)
    if placed and hires is None:
        warn.append(Violation("context", f"方案含 {placed} 名新教师分配，按县数据复核时无法复核其学段、学科、"
                                         "扰动与调配后指标：用情景文件复核（teacheralloc check 情景.yaml 方案目录）",
                              severity="warning"))
    if reference is not None:
        _reference_warning(policy, reference, warn)

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
        "stages": _stage_figures(units),
        "status": summary.get("status"),
    }
    return report
