"""What-if scenarios (情景): a YAML file naming a base dataset, policy overrides and changes applied in order.

A scenario file answers one question ("what if rural primary enrolment falls 15 %?"). It names the base
dataset (a CSV folder or .xlsx, relative to the file), overrides policy numbers like a `policy.yaml`,
and lists changes, each a pure function County → County applied in the order written:

- `scale_enrollment`: multiply pupils by a factor, for schools selected by id, township, area or type,
  and by stage or grade; classes follow at the same average class size (or are kept);
- `close`: close schools (by id or selection, optionally only those under a number of pupils); pupils
  and teachers go to a named school or to the nearest open school of the right stage;
- `merge`: one school absorbs another: classes and teachers take the surviving school's id, teacher
  ids stay;
- `hire`: new teachers by stage and subject, placed by the optimizer where they serve best (each
  waits at a virtual holding school `POOL-…` with a must-move pin; see `docs/scenarios.md`);
- `retire`: teachers who reach the statutory retirement age by a date leave;
- `pins`: pins as in `pins.csv`, from a file or written inline.

`load_scenario` validates the whole file with pydantic and reports every problem at once, naming the
file, the YAML line and the dotted key (`changes[2].close.into`). It returns a `Scenario`: the county
after the changes, the policy, the pins, and one line per change saying what it did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from teacheralloc.domain import (
    Area,
    CodedEnum,
    County,
    Education,
    Gender,
    SchoolType,
    Stage,
    Subject,
    stage_codes,
)
from teacheralloc.errors import InputError, Problem
from teacheralloc.io.pins import HIRE_PREFIX, PIN_COLUMNS
from teacheralloc.policy import Policy, YamlLines, yaml_load, yaml_problem

SCENARIO_SUFFIXES = (".yaml", ".yml")
#: Ids of what `hire` creates: the new teacher (the contract's placeholder form, `io.pins.HIRE_PREFIX`)
#: and its holding school.
POOL_PREFIX = "POOL-"
#: Pins made by the scenario (hires, inline pins) get rows from here, to tell them from pins.csv rows.
SCENARIO_PIN_ROW = 1_000_000

_STRICT = ConfigDict(frozen=True, extra="forbid")

# --------------------------------------------------------------------------------------------------
# The file (pydantic): every key checked, unknown keys refused
# --------------------------------------------------------------------------------------------------


def _as_tuple(value: Any) -> Any:
    """A single value or a list, as a tuple (YAML lets users write either)."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


def _coded(enum: type[CodedEnum], value: Any) -> Any:
    """Accept a code or a Chinese label (`rural` or `乡村`)."""
    if isinstance(value, str):
        member = enum.parse(value)
        return member.value if member is not None else value
    return value


def _one(enum: type[CodedEnum]) -> BeforeValidator:
    return BeforeValidator(lambda value: _coded(enum, value))


def _many(enum: type[CodedEnum]) -> BeforeValidator:
    return BeforeValidator(lambda value: tuple(_coded(enum, v) for v in _as_tuple(value)))


#: Fields that take a code or its Chinese label, one or a list (YAML lets users write either).
AreaList = Annotated[tuple[Area, ...], _many(Area)]
SchoolTypeList = Annotated[tuple[SchoolType, ...], _many(SchoolType)]
StageList = Annotated[tuple[Stage, ...], _many(Stage)]
SubjectList = Annotated[tuple[Subject, ...], _many(Subject)]
SchoolTypeCode = Annotated[SchoolType, _one(SchoolType)]
StageCode = Annotated[Stage, _one(Stage)]
SubjectCode = Annotated[Subject, _one(Subject)]
EducationCode = Annotated[Education, _one(Education)]


class Selection(BaseModel):
    """Which schools a change applies to: every key given must match (and), each value may be a list."""

    model_config = _STRICT
    school: tuple[str, ...] = Field((), description="学校代码")
    township: tuple[str, ...] = Field((), description="乡镇")
    area: AreaList = Field((), description="城乡类别")
    type: SchoolTypeList = Field((), description="学校类型")

    @field_validator("school", "township", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return tuple(str(v) for v in _as_tuple(value))

    def is_empty(self) -> bool:
        return not (self.school or self.township or self.area or self.type)

    def mask(self, schools: pd.DataFrame) -> pd.Series:
        """Which rows of the schools table are selected."""
        keep = pd.Series(True, index=schools.index)
        if self.school:
            keep &= schools["school_id"].isin(self.school)
        if self.township:
            keep &= schools["township"].isin(self.township)
        if self.area:
            keep &= schools["area"].astype(str).isin([a.value for a in self.area])
        if self.type:
            keep &= schools["type"].astype(str).isin([t.value for t in self.type])
        return keep

    def check(self, schools: pd.DataFrame, report: Any) -> bool:
        """Report every school code or township the county does not have (a typo selects nothing);
        True when there was none."""
        known_schools, known_townships = set(schools["school_id"]), set(schools["township"].astype(str))
        unknown = 0
        for school_id in self.school:
            if school_id not in known_schools:
                unknown += 1
                report("school", school_id, "学校表中已有的学校代码")
        for township in self.township:
            if township not in known_townships:
                unknown += 1
                report("township", township, "学校表中已有的乡镇名称：" + "、".join(sorted(known_townships)))
        return unknown == 0

    def describe(self) -> str:
        parts = []
        if self.school:
            parts.append("学校 " + "、".join(self.school))
        if self.township:
            parts.append("、".join(self.township))
        if self.area:
            parts.append("、".join(a.label for a in self.area))
        if self.type:
            parts.append("、".join(t.label for t in self.type))
        return "".join(parts) or "全县"


class ScaleEnrollment(Selection):
    """scale_enrollment: pupils × factor in the selected schools, stages and grades."""

    factor: float = Field(gt=0, le=5, description="学生数乘以此系数，如 0.85 为减少 15%")
    stage: StageList = Field((), description="学段")
    grade: tuple[int, ...] = Field((), description="年级 1–9")
    classes: Literal["resize", "keep"] = Field(
        "resize", description="resize：按原平均班额重算班数（默认）；keep：班数不变")

    @field_validator("grade", mode="before")
    @classmethod
    def _grades(cls, value: Any) -> Any:
        return _as_tuple(value)

    @field_validator("grade")
    @classmethod
    def _grade_range(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(g < 1 or g > 9 for g in value):
            raise ValueError("年级为 1–9")
        return value


class Close(Selection):
    """close: close the selected schools; pupils and teachers go to `into` or the nearest school."""

    students_below: int | None = Field(None, ge=1, description="只撤并全校在校生少于此数的学校")
    into: str | None = Field(None, min_length=1, description="接收学校代码；不填则为最近的同学段学校")

    @model_validator(mode="after")
    def _selects(self) -> Close:
        if self.is_empty() and self.students_below is None:
            raise ValueError("至少给出 school、township、area、type 或 students_below 之一")
        return self


class Merge(BaseModel):
    """merge: `into` absorbs `school`; teacher ids stay."""

    model_config = _STRICT
    school: str = Field(min_length=1, description="被合并的学校代码")
    into: str = Field(min_length=1, description="保留的学校代码")
    type: SchoolTypeCode | None = Field(None, description="合并后学校类型；不填则自动（含两学段时为九年一贯制）")


class Hire(BaseModel):
    """hire: `count` new teachers of a stage and subject, placed by the optimizer."""

    model_config = _STRICT
    count: int = Field(ge=1, le=2000, description="招聘人数")
    stage: StageCode = Field(description="学段")
    subject: SubjectCode = Field(description="主教学科")
    other_subjects: SubjectList = Field((), description="可兼教学科")
    education: EducationCode = Field(Education.bachelor, description="学历（默认本科）")
    school: str | None = Field(None, min_length=1, description="指定学校；不填则由方案分配")


class Retire(BaseModel):
    """retire: teachers reaching the statutory retirement age by `until` leave."""

    model_config = _STRICT
    until: date = Field(description="日期：此日前（含）达到法定退休年龄的教师退休")


class Pin(BaseModel):
    """One pin, with the columns of pins.csv: a teacher and exactly one of the four kinds."""

    model_config = _STRICT
    teacher_id: str = Field(min_length=1)
    must_stay: bool = False
    must_move: bool = False
    to_school: str | None = None
    not_to_school: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Pin:
        given = [self.must_stay, self.must_move, self.to_school is not None, self.not_to_school is not None]
        if sum(given) != 1:
            raise ValueError("恰好一项：must_stay、must_move、to_school 或 not_to_school")
        return self

    @property
    def kind(self) -> str:
        for kind in ("must_stay", "must_move", "to_school", "not_to_school"):
            value = getattr(self, kind)
            if value is True or isinstance(value, str):
                return kind
        raise AssertionError("validated")

    @property
    def school_id(self) -> str | None:
        return self.to_school or self.not_to_school


CHANGE_KINDS = ("scale_enrollment", "close", "merge", "hire", "retire", "pins")
CHANGE_LABELS = {"scale_enrollment": "调整学生数", "close": "撤并学校", "merge": "合并学校", "hire": "招聘教师",
                 "retire": "教师退休", "pins": "指定"}


class Change(BaseModel):
    """One change: a mapping with exactly one of the change kinds as its key."""

    model_config = _STRICT
    scale_enrollment: ScaleEnrollment | None = None
    close: Close | None = None
    merge: Merge | None = None
    hire: Hire | None = None
    retire: Retire | None = None
    pins: str | list[Pin] | None = None

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("一项变化写成“类型: 内容”，类型为 " + "、".join(CHANGE_KINDS))
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Change:
        if len(self.kinds()) != 1:
            raise ValueError("每项恰好一种变化：" + "、".join(CHANGE_KINDS))
        return self

    def kinds(self) -> list[str]:
        return [k for k in CHANGE_KINDS if getattr(self, k) is not None]

    @property
    def kind(self) -> str:
        return self.kinds()[0]


class SolveSection(BaseModel):
    model_config = _STRICT
    time_limit: float | None = Field(None, gt=0, description="求解时间上限（秒）")
    seed: int | None = Field(None, ge=0, description="求解器随机种子")


DIRECTIONS = {"up": "up", "down": "down", "same": "same", "增加": "up", "上升": "up", "减少": "down", "下降": "down",
              "不变": "same"}


class ScenarioFile(BaseModel):
    """The scenario file (情景文件)."""

    model_config = _STRICT
    name: str | None = Field(None, min_length=1, description="情景名称（默认文件名）")
    question: str = Field("", description="本情景回答的问题，一句话")
    base: str = Field(min_length=1, description="基础数据：CSV 文件夹或 .xlsx，相对于本文件")
    as_of: date | None = Field(None, description="基准日期")
    policy_file: str | None = Field(None, min_length=1, description="policy.yaml，相对于本文件")
    policy: dict[str, Any] = Field(default_factory=dict, description="政策参数覆盖，键同 policy.yaml")
    solve: SolveSection = Field(default_factory=SolveSection)
    base_pins: bool = Field(True, description="沿用基础数据自带的指定（文件夹中的 pins.csv 或工作簿的“指定”表）")
    changes: list[Change] = Field(default_factory=list)
    expect: dict[str, Literal["up", "down", "same"]] = Field(
        default_factory=dict, description="与第一个情景相比，指标应当变化的方向（compare 核验）")

    @field_validator("expect", mode="before")
    @classmethod
    def _directions(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: DIRECTIONS.get(str(v).strip(), v) if isinstance(v, str) else v for k, v in value.items()}
        return value


# --------------------------------------------------------------------------------------------------
# Figures a comparison reports (and a scenario may `expect` to move)
# --------------------------------------------------------------------------------------------------

STAGES = tuple(s.value for s in Stage)
MOVE_TYPES = ("rotation", "support", "redeploy", "new_hire")
INDICATOR_KEYS = ("higher_degree", "backbone", "pe_arts")
_PER_STAGE = {
    "students": ("规模", "学生数"),
    "classes": ("规模", "班数"),
    "required": ("编制", "核定编制（按标准测算）"),
    "teachers_before": ("编制", "在岗教师（调配前）"),
    "teachers_after": ("编制", "在岗教师（调配后，含新招聘）"),
    "net_gap": ("编制", "总量缺口（核定编制−调配后在岗，正为缺）"),
    "shortage_before": ("缺编", "缺编人数（调配前，分校合计）"),
    "shortage_after": ("缺编", "缺编人数（调配后，分校合计）"),
    "surplus_after": ("缺编", "超编人数（调配后，分校合计）"),
    "schools_short_after": ("缺编", "缺编学校数（调配后，缺 1 人及以上）"),
    "subject_shortage": ("学科缺口", "学科缺口合计（折合专任教师，调配后）"),
    "request": ("编制申请", "需申请补充编制（调配后各校仍缺，整人）"),
}
#: The plan's objective tiers (docs/plan.md), as the comparison names them.
TIER_LABELS = {"quota": "轮岗比例缺口", "headcount": "总量缺编（加权，整人）", "subject": "学科缺口（加权，整人）",
               "balance": "优质均衡指标差额（人）", "disruption": "调动扰动（人次与距离）",
               "wishes": "意愿满足（负值）"}
_INDICATOR_LABELS = {"higher_degree": "高于规定学历教师", "backbone": "县级以上骨干教师", "pe_arts": "体育艺术专任教师"}


def figure_catalogue() -> dict[str, tuple[str, str, str]]:
    """Every figure code a comparison can report: code → (group, label, stage label).

    Codes: `<figure>.<stage>` and `<figure>.total` for the per-stage figures (`required.primary`),
    `subject_shortage.<stage>.<subject>`, `moves.<type>`, `moves.total`, `moves.within_school`, `quota.required`,
    `quota.rotations`, `schools`, `tier.<tier>` (the plan's objective values), `per100_<indicator>.<stage>`,
    `cv_<indicator>.<stage>`,
    `meeting_<indicator>.<stage>` (indicators after the plan).
    """
    stage_label = {s.value: s.label for s in Stage}
    out: dict[str, tuple[str, str, str]] = {"schools": ("规模", "学校数（含教学点）", "全县")}
    for key, (group, label) in _PER_STAGE.items():
        for stage in STAGES:
            out[f"{key}.{stage}"] = (group, label, stage_label[stage])
        out[f"{key}.total"] = (group, label, "合计")
    for stage in STAGES:
        for subject in Subject:
            out[f"subject_shortage.{stage}.{subject.value}"] = ("学科缺口", f"{subject.label}缺口（FTE，调配后）",
                                                               stage_label[stage])
    from teacheralloc.domain import MoveType

    for kind in MOVE_TYPES:
        out[f"moves.{kind}"] = ("调动", f"{MoveType(kind).label}（人）", "全县")
    out["moves.total"] = ("调动", "调动合计（人）", "全县")
    out["moves.within_school"] = ("调动", "其中校内转任小学部（人）", "全县")
    out["quota.required"] = ("调动", "应交流轮岗人数", "全县")
    out["quota.rotations"] = ("调动", "计入比例的交流轮岗人数", "全县")
    for tier, label in TIER_LABELS.items():
        out[f"tier.{tier}"] = ("方案目标（分层目标值，越小越好）", label, "全县")
    for key in INDICATOR_KEYS:
        for stage in STAGES:
            name = _INDICATOR_LABELS[key]
            out[f"per100_{key}.{stage}"] = ("优质均衡指标", f"每百名学生{name}数（调配后）", stage_label[stage])
            out[f"cv_{key}.{stage}"] = ("优质均衡指标", f"{name}校际差异系数（调配后）", stage_label[stage])
            out[f"meeting_{key}.{stage}"] = ("优质均衡指标", f"{name}达标学校数（调配后）", stage_label[stage])
    return out


# --------------------------------------------------------------------------------------------------
# The loaded scenario
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A scenario ready to plan: the county after its changes, the policy, the pins.

    `changes` holds one Chinese line per change saying what it did; `hire_ids` and `pool_schools` the
    new teachers and their holding schools; `pin_sources` maps the rows of pins the scenario made to
    (line, dotted key) so that a pin no plan can honour is reported against the scenario file.
    """

    name: str
    question: str
    path: Path
    base: Path
    county: County
    policy: Policy
    pins: pd.DataFrame
    time_limit_s: float | None = None
    seed: int | None = None
    changes: tuple[str, ...] = ()
    expect: dict[str, str] = field(default_factory=dict)
    hire_ids: tuple[str, ...] = ()
    pool_schools: tuple[str, ...] = ()
    pin_sources: dict[int, tuple[int | None, str]] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return self.path.name


def is_scenario_file(path: Path | str) -> bool:
    return Path(path).suffix.lower() in SCENARIO_SUFFIXES


def dotted(loc: tuple[Any, ...]) -> str:
    """`("changes", 1, "close", "into")` → `changes[2].close.into` (list items counted from 1)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _expected(error: dict[str, Any]) -> str:
    from teacheralloc.policy import _expected as policy_expected

    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "enum" or error["type"] == "literal_error":
        return policy_expected(error)
    return policy_expected(error)


def _loc_parts(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-branch names (`str`, `list[Pin]`) from an error location."""
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("str", "function-after"))))


class _Problems:
    """Collects the problems of one scenario file."""

    def __init__(self, file: str, lines: YamlLines) -> None:
        self.file, self.lines, self.items = file, lines, []

    def add(self, loc: tuple[Any, ...], value: Any, expected: str, rule: str = "scenario") -> None:
        if isinstance(value, dict | list):
            shown = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()[:80]
        else:
            shown = "" if value is None else str(value)
        loc = self.lines.normalize(loc)
        self.items.append(Problem(self.file, self.lines.line(loc), dotted(loc), shown, expected, rule=rule))


def read_scenario_file(path: Path | str) -> tuple[ScenarioFile, YamlLines]:
    """Parse and validate the YAML file (no data read yet).

    Raises
    ------
    InputError
        Every problem of the file: YAML syntax, unknown keys, bad values, naming line and key.
    """
    spec, lines, problems, _numbers = _read_scenario(Path(path))
    if problems or spec is None:
        raise InputError(problems)
    return spec, lines


def _read_scenario(path: Path) -> tuple[ScenarioFile | None, YamlLines, list[Problem], tuple[int, ...]]:
    """The file's problems and, beside them, its sound part: the file without the keys and changes that
    have a problem (None when `base` has one), and the original number of each change kept. So
    `load_scenario` reports the policy's and the changes' problems in the same round as the file's."""
    if not path.exists():
        raise InputError([Problem(str(path), None, "", "", "存在的情景文件（.yaml）", rule="not_found")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Problem(path.name, None, "", "", "UTF-8 编码的文本文件（另存为 UTF-8）",
                                  rule="yaml")]) from None
    try:
        data = yaml_load(text)
    except yaml.YAMLError as exc:
        line, written, expected = yaml_problem(exc, text)
        raise InputError([Problem(path.name, line, "", written, expected, rule="yaml")]) from None
    lines = YamlLines(text)
    if not isinstance(data, dict):
        raise InputError([Problem(path.name, None, "", str(data)[:40], "键值对形式的 YAML（base、changes …）",
                                  rule="yaml")])
    changes = data.get("changes")
    everything = tuple(range(len(changes))) if isinstance(changes, list) else ()
    try:
        return ScenarioFile.model_validate(data), lines, [], everything
    except ValidationError as exc:
        errors = exc.errors()
    problems = _Problems(path.name, lines)
    for error in errors:
        # `pins` is a file name or a list: a list with a bad item also failed the text branch (期望：文本)
        if error["type"] == "string_type" and error["loc"][-1:] == ("str",) and isinstance(error.get("input"), list):
            continue
        loc = _loc_parts(tuple(error["loc"]))
        value = loc[-1] if error["type"] == "extra_forbidden" else error.get("input")
        expected = "已知的键（此键不存在，检查拼写）" if error["type"] == "extra_forbidden" else _expected(error)
        if loc[-1:] == ("pins",) and error["type"] in ("string_type", "list_type"):  # either branch: said once
            expected = "pins 文件名（如 pins.csv，相对于情景文件），或指定的列表"
        problems.add(loc, value, expected)
    found = _unique(problems.items)
    bad_keys = {str(e["loc"][0]) for e in errors if e["loc"] and e["loc"][0] != "changes"}
    bad_changes = {e["loc"][1] for e in errors if len(e["loc"]) > 1 and e["loc"][0] == "changes"}
    if "base" in bad_keys:
        return None, lines, found, ()
    kept = tuple(i for i in everything if i not in bad_changes)
    sound = {k: v for k, v in data.items() if k not in bad_keys}
    if any(e["loc"] == ("changes",) for e in errors):  # not a list: no change is read, the rest still is
        sound["changes"], kept, changes = [], (), None
    # An expectation with a bad direction drops only itself: the others' codes are still checked.
    bad_expect = {str(e["loc"][1]) for e in errors if len(e["loc"]) > 1 and e["loc"][0] == "expect"}
    if "expect" in bad_keys and isinstance(data.get("expect"), dict) and bad_expect:
        sound["expect"] = {k: v for k, v in data["expect"].items() if str(k) not in bad_expect}
    if isinstance(changes, list):
        sound["changes"] = [changes[i] for i in kept]
    try:
        return ScenarioFile.model_validate(sound), lines, found, kept
    except ValidationError:
        return None, lines, found, ()


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for problem in problems:
        key = (problem.row, problem.column, problem.expected)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def load_scenario(
    path: Path | str,
    as_of: date | None = None,
    policy_file: Path | None = None,
) -> Scenario:
    """Read a scenario file, load its base dataset and apply its changes in order.

    Parameters
    ----------
    path
        The scenario .yaml; `base`, `policy_file` and pin files are relative to it.
    as_of
        Reference date (a CLI flag): overrides the file's `as_of`.
    policy_file
        A policy.yaml (a CLI flag): merged over the file's `policy` overrides.

    Raises
    ------
    InputError
        Every problem at once: the file's keys and values, the base dataset, the policy overrides,
        and changes that name unknown schools or teachers.
    """
    from teacheralloc.io.pins import find_pins, read_pins
    from teacheralloc.io.read import load_county
    from teacheralloc.policy import load_policy

    path = Path(path)
    spec, lines, found, numbers = _read_scenario(path)
    if spec is None:
        raise InputError(found)
    problems = _Problems(path.name, lines)
    problems.items.extend(found)
    folder = path.parent
    base = (folder / spec.base).resolve() if not Path(spec.base).is_absolute() else Path(spec.base)
    if base.is_dir() or (base.suffix.lower() in (".xlsx", ".xlsm") and base.is_file()):
        unusable = ""
    elif not base.exists():
        unusable = "存在的数据文件夹或 .xlsx（相对于情景文件）"
    elif is_scenario_file(base):
        unusable = ("数据文件夹或 .xlsx 工作簿：情景不能以另一个情景文件为基础（把那个情景的 changes 抄进本文件，"
                    "base 写它的 base）")
    else:
        unusable = "数据文件夹或 .xlsx 工作簿"
    if unusable:  # the changes need the data; the policy's problems are said all the same
        problems.add(("base",), spec.base, unusable)
        _load_policy(spec, None, folder, policy_file, problems, load_policy)
        raise InputError(_unique(problems.items))
    policy = _load_policy(spec, base, folder, policy_file, problems, load_policy)
    county = load_county(base, as_of=as_of or spec.as_of)
    # Invalid overrides are reported with everything else: the changes are still checked (with the
    # default policy, for the class limits and retirement ages they read).
    rules = policy if policy is not None else load_policy()
    descriptions: list[str] = []
    pin_frames: list[pd.DataFrame] = []
    pin_sources: dict[int, tuple[int | None, str]] = {}
    hire_ids: list[str] = []
    pools: list[str] = []
    # The base dataset's own pins are the office's decisions for that county: a scenario of it keeps them
    # (as it keeps the folder's policy.yaml) unless `base_pins: false`. Read against the county before
    # the changes; those a change then takes away (a teacher retired, a school closed) are left out and
    # said so, since the user did not write them in this file.
    base_pin_path = find_pins(base) if spec.base_pins else None
    base_frame = _empty_pins()
    if base_pin_path is not None:
        try:
            base_frame = read_pins(base_pin_path, county)
        except InputError as error:
            problems.items.extend(error.problems)
    for number, change in zip(numbers, spec.changes, strict=True):
        loc = ("changes", number, change.kind)
        before = len(problems.items)
        try:
            if change.scale_enrollment is not None:
                county, text = scale_enrollment(county, change.scale_enrollment, rules, _Reporter(problems, loc))
            elif change.close is not None:
                county, text = close_schools(county, change.close, rules, _Reporter(problems, loc))
            elif change.merge is not None:
                county, text = merge_schools(county, change.merge, _Reporter(problems, loc))
            elif change.hire is not None:
                county, pins, text = add_hires(county, change.hire, _Reporter(problems, loc),
                                               first_row=SCENARIO_PIN_ROW + len(pin_sources))
                for row in pins["row"]:
                    pin_sources[int(row)] = (lines.line(loc), dotted(loc))
                hire_ids.extend(pins["teacher_id"])
                pools.extend(county.teachers.set_index("teacher_id").loc[pins["teacher_id"], "school_id"])
                pin_frames.append(pins)
            elif change.retire is not None:
                if change.retire.until < county.as_of:  # a typo for a year to come: it retires (almost) no one
                    _Reporter(problems, loc)("until", change.retire.until.isoformat(),
                                             f"不早于基准日期 {county.as_of.isoformat()} 的日期"
                                             "（此日前达到退休年龄的教师退休）")
                county, text = retire_until(county, change.retire, rules)
            else:
                pins, text = _scenario_pins(change.pins, folder, county, problems, loc, lines, pin_sources, read_pins)
                pin_frames.append(pins)
        except InputError as error:  # a pins file's own problems
            problems.items.extend(error.problems)
            continue
        if len(problems.items) == before:
            descriptions.append(f"{number + 1}. {CHANGE_LABELS[change.kind]}：{text}")
    if spec.policy:
        descriptions.insert(0, "政策参数：" + "；".join(f"{k} = {v}" for k, v in _flatten(spec.policy)))
    if base_pin_path is not None and not base_frame.empty:
        own = set().union(*(set(frame["teacher_id"]) for frame in pin_frames))  # this file's pins win
        base_frame, text = _base_pins_kept(base_frame, county, base_pin_path, own)
        descriptions.insert(1 if spec.policy else 0, text)  # after the policy line, before the changes
        pin_frames.insert(0, base_frame)
    problems.items.extend(_pins_left_behind(pin_frames, county, path.name, pin_sources))
    problems.items.extend(_check_expect(spec, lines, path.name))
    if problems.items:
        raise InputError(_unique(problems.items))
    pins = _concat_pins(pin_frames)
    return Scenario(
        name=spec.name or path.stem,
        question=spec.question,
        path=path,
        base=base,
        county=county,
        policy=policy,
        pins=pins,
        time_limit_s=spec.solve.time_limit,
        seed=spec.solve.seed,
        changes=tuple(descriptions),
        expect=dict(spec.expect),
        hire_ids=tuple(hire_ids),
        pool_schools=tuple(pools),
        pin_sources=pin_sources,
    )


def _load_policy(spec: ScenarioFile, base: Path | None, folder: Path, policy_file: Path | None, problems: _Problems,
                 load_policy: Any) -> Policy | None:
    """The dataset's policy.yaml, then the scenario's policy_file, then its `policy:` overrides, then
    the CLI's --policy file. Problems in the overrides name the scenario file and `policy.<key>`."""
    overrides: dict[str, Any] = dict(spec.policy)
    if policy_file is not None:
        from teacheralloc.policy import _merge, _read_yaml

        _name, cli = _read_yaml(Path(policy_file))
        overrides = _merge(overrides, cli, "", [])
    own = None
    if spec.policy_file is not None:
        own = folder / spec.policy_file
        if not own.exists():
            problems.add(("policy_file",), spec.policy_file, "存在的 policy.yaml（相对于情景文件）")
            return None
    try:
        return load_policy(own, dataset=base, overrides=overrides)
    except InputError as error:
        for problem in error.problems:
            if problem.file == "overrides":
                key = ("policy", *problem.column.split(".")) if problem.column else ("policy",)
                problems.items.append(Problem(problems.file, problems.lines.line(key), "policy." + problem.column,
                                              problem.value, problem.expected, rule="policy"))
            else:
                problems.items.append(problem)
        return None


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.extend(_flatten(value, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _check_expect(spec: ScenarioFile, lines: YamlLines, file: str) -> list[Problem]:
    known = figure_catalogue()
    out = []
    for key in spec.expect:
        if key not in known:
            out.append(Problem(file, lines.line(("expect", key)), f"expect.{key}", key,
                               "对比表中的指标代码，如 required.primary、shortage_after.total、moves.new_hire、"
                               "subject_shortage.primary.music（见 docs/scenarios.md）", rule="scenario"))
    return out


class _Reporter:
    """Lets a transformation report a problem against its change's key."""

    def __init__(self, problems: _Problems, loc: tuple[Any, ...]) -> None:
        self.problems, self.loc = problems, loc

    def __call__(self, key: str | None, value: Any, expected: str) -> None:
        self.problems.add((*self.loc, key) if key else self.loc, value, expected)


def _noop(key: str | None, value: Any, expected: str) -> None:
    raise InputError([Problem("scenario", None, key or "", str(value), expected, rule="scenario")])


# --------------------------------------------------------------------------------------------------
# Transformations: County → County
# --------------------------------------------------------------------------------------------------


def _round_half_up(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(values, dtype=float) + 0.5).astype("int64")


def scale_enrollment(county: County, change: ScaleEnrollment, policy: Policy | None = None,
                     report: Any = _noop) -> tuple[County, str]:
    """Pupils × `factor` in the selected schools, stages and grades (rounded to whole pupils).

    With `classes: resize` (default) a grade that loses pupils keeps its average class size: classes =
    ⌈new pupils ÷ old average⌉ (at least one while there are pupils); one that gains keeps its classes
    and adds one only beyond the class-size limit (or its own average, where that is larger): ⌈new ÷
    max(limit, average)⌉ at least. Kept at the average, a village class of 8 that gained a pupil became
    two (rural primary ×1.1: 383 → 719 classes, the required posts +20 % for +3 % pupils). With `keep`
    classes stay, but never more than pupils.
    """
    change.check(county.schools, report)
    classes = county.classes.copy()
    selected = county.schools.loc[change.mask(county.schools), "school_id"]
    rows = classes["school_id"].isin(selected)
    if change.stage:
        rows &= stage_codes(classes["grade"]).isin([s.value for s in change.stage])
    if change.grade:
        rows &= classes["grade"].isin(change.grade)
    if len(selected) and not rows.any():  # e.g. grade 8 of primary schools: a change that changes nothing
        key = "grade" if change.grade else "stage" if change.stage else None
        value = list(change.grade) if change.grade else [s.value for s in change.stage] if change.stage else ""
        report(key, value, "所选学校有的学段或年级（此项变化没有选中任何班级，不会改变任何数字）")
    old = classes.loc[rows, "students"].astype(float)
    new = _round_half_up(old * change.factor)
    count = classes.loc[rows, "classes"].to_numpy(dtype=float)
    if change.classes == "resize":
        average = np.where(count > 0, old.to_numpy() / np.where(count > 0, count, 1), 1.0)
        resized = np.ceil(new / np.where(average > 0, average, 1.0) - 1e-9)
        limit = np.array([_class_limit(policy, str(stage)) for stage in stage_codes(classes.loc[rows, "grade"])],
                         dtype=float)
        grown = np.maximum(count, np.ceil(new / np.maximum(limit, average) - 1e-9))
        count = np.where(new > 0, np.maximum(np.where(new > old.to_numpy(), grown, resized), 1), 0)
    else:
        count = np.where(new > 0, np.minimum(np.maximum(count, 1), new), 0)
    classes.loc[rows, "students"] = new
    classes.loc[rows, "classes"] = count.astype("int64")
    before, after = int(old.sum()), int(new.sum())
    where = change.describe() + ("".join(s.label for s in change.stage) if change.stage else "")
    where += (f" {'、'.join(str(g) for g in change.grade)} 年级" if change.grade else "")  # 北底乡 1 年级
    text = (f"{where}学生数 ×{change.factor:g}：{len(set(selected) & set(classes.loc[rows, 'school_id']))} 所学校，"
            f"学生 {before:,} → {after:,} 人，班数 {int(county.classes.loc[rows, 'classes'].sum()):,} → "
            f"{int(classes.loc[rows, 'classes'].sum()):,}")
    # Classes kept while pupils grow can exceed any class a county may run (a factor 1.5 kept: 68 a class):
    # said, since the norms count classes for small schools and the plan reads them as they are.
    scaled = classes.loc[rows]
    stages = stage_codes(scaled["grade"])
    limits = np.array([_class_limit(policy, str(stage)) for stage in stages], dtype=float)
    size = scaled["students"] / scaled["classes"].where(scaled["classes"] > 0, 1)
    was = county.classes.loc[rows, "students"] / county.classes.loc[rows, "classes"].where(
        county.classes.loc[rows, "classes"] > 0, 1)
    crowded = (scaled["classes"] > 0) & (size > limits) & (size > was + 0.5)  # made so by this change
    if crowded.any():
        worst = float(size[crowded].max())
        text += (f"；其中 {int(crowded.sum())} 个年级平均班额超过上限（小学 {_class_limit(policy, 'primary')}、"
                 f"初中 {_class_limit(policy, 'junior')} 人，最大 {worst:.0f} 人），"
                 "要按班额上限增班请用 classes: resize")
    return county.replace(classes=classes), text


def _stages_present(county: County, school_id: str) -> list[str]:
    """The stages a school has pupils, classes or teachers in."""
    grades = county.classes[(county.classes["school_id"] == school_id)
                            & ((county.classes["students"] > 0) | (county.classes["classes"] > 0))]["grade"]
    stages = set(stage_codes(grades)) | set(county.teachers.loc[county.teachers["school_id"] == school_id,
                                                                   "stage"].astype(str))
    return [s for s in STAGES if s in stages]


def _km(county: County, origin: str, targets: list[str]) -> np.ndarray:
    """Distance from `origin` to each target: distances.csv where given (either direction), else the
    straight-line distance from lat/lon, else infinite."""
    schools = county.schools.set_index("school_id")
    lat, lon = float(schools.at[origin, "lat"]), float(schools.at[origin, "lon"])
    tlat = schools.loc[targets, "lat"].to_numpy(dtype=float)
    tlon = schools.loc[targets, "lon"].to_numpy(dtype=float)
    p1, p2 = np.radians(lat), np.radians(tlat)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(tlon - lon) / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(a))
    km = np.where(np.isnan(km), np.inf, km)
    if county.distances is not None and len(county.distances):
        given = county.distances
        forward = given[given["from_id"] == origin].set_index("to_id")["km"]
        backward = given[given["to_id"] == origin].set_index("from_id")["km"]
        for i, target in enumerate(targets):
            if target in forward.index:
                km[i] = float(forward[target])
            elif target in backward.index:
                km[i] = float(backward[target])
    return km


#: Receiving schools for a closure, in order of preference: ordinary schools before teaching points.
_RECEIVERS = ((SchoolType.primary, SchoolType.junior, SchoolType.nine_year), (SchoolType.teaching_point,))


def nearest_school(county: County, origin: str, stage: str, exclude: set[str]) -> str | None:
    """The nearest school teaching `stage` (a primary, junior or nine-year school; a teaching point
    only if there is none), other than `origin` and `exclude`; ties by school id."""
    schools = county.schools
    for types in _RECEIVERS:
        candidates = schools[schools["type"].astype(str).isin([t.value for t in types if Stage(stage) in t.stages])
                             & ~schools["school_id"].isin(exclude | {origin})]
        if candidates.empty:
            continue
        ids = sorted(candidates["school_id"])
        km = _km(county, origin, ids)
        if not np.isfinite(km).any():
            return None
        return ids[int(np.argmin(km))]
    return None


def _class_limit(policy: Policy | None, stage: str) -> int:
    return int(policy.indicators.class_size_max[stage]) if policy is not None else (45 if stage == "primary" else 50)


def _absorb_classes(classes: pd.DataFrame, moving: pd.DataFrame, receiver: str, policy: Policy | None,
                    merge_classes: bool) -> pd.DataFrame:
    """Add `moving` grade rows to `receiver`. A merger keeps every class (the two schools become one);
    a closure's pupils join the receiving grade, which gains classes only beyond the class-size limit."""
    classes = classes.copy()
    for row in moving.itertuples(index=False):
        at = classes.index[(classes["school_id"] == receiver) & (classes["grade"] == row.grade)]
        limit = _class_limit(policy, "primary" if row.grade <= 6 else "junior")
        if len(at):
            i = at[0]
            total = int(classes.at[i, "students"]) + int(row.students)
            if merge_classes:
                count = int(classes.at[i, "classes"]) + int(row.classes)
            else:
                count = max(int(classes.at[i, "classes"]), math.ceil(total / limit)) if total else 0
            classes.at[i, "students"], classes.at[i, "classes"] = total, max(count, 1 if total else 0)
        else:
            count = int(row.classes) if merge_classes else math.ceil(int(row.students) / limit)
            new = {"school_id": receiver, "grade": int(row.grade), "students": int(row.students),
                   "classes": max(count, 1 if row.students else 0)}
            classes = pd.concat([classes, pd.DataFrame([new])], ignore_index=True)
    return classes.sort_values(["school_id", "grade"], kind="stable").reset_index(drop=True)


def _drop_school_refs(county: County, gone: dict[str, str | dict[str, str] | None], teachers: pd.DataFrame
                      ) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Distances without the schools gone; wishes naming them point to their successor (or drop): one
    school, or one per stage (a closed nine-year school's pupils go to a primary and a junior school),
    the successor of the wishing teacher's stage."""
    distances = county.distances
    if distances is not None:
        distances = distances[~distances["from_id"].isin(gone) & ~distances["to_id"].isin(gone)]
    teachers = teachers.copy()

    def successor(school: str, stage: str) -> str | None:
        after = gone[school]
        if not isinstance(after, dict):
            return after
        # the receiver of the wisher's stage; else (a junior teacher wishing a closed primary school,
        # as a junior teacher may go to primary) the one receiver, or the primary one
        return after.get(stage) or (next(iter(after.values())) if len(set(after.values())) == 1
                                    else after.get(Stage.primary.value))

    def rewrite(wishes: tuple[str, ...], own: str, stage: str) -> tuple[str, ...]:
        kept = [successor(w, stage) if w in gone else w for w in wishes]
        return tuple(dict.fromkeys(w for w in kept if w is not None and w != own))

    teachers["wishes"] = [rewrite(w, s, str(g)) for w, s, g in
                          zip(teachers["wishes"], teachers["school_id"], teachers["stage"], strict=True)]
    return distances, teachers


def _split(total: float, weights: list[int]) -> list[int]:
    """`total` whole posts split by weights, largest remainders first (the sum is kept)."""
    if not weights or sum(weights) == 0:
        weights = [1] * len(weights)
    exact = [total * w / sum(weights) for w in weights]
    parts = [math.floor(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: (parts[i] - exact[i], i))[: round(total) - sum(parts)]:
        parts[i] += 1
    return parts


def close_schools(county: County, change: Close, policy: Policy | None = None,
                  report: Any = _noop) -> tuple[County, str]:
    """Close the selected schools. Pupils join the named school (`into`) or the nearest open school
    of each stage (an ordinary school before a teaching point); classes are added there only beyond
    the class-size limit. Teachers follow their pupils (same stage) and start at the new school on
    the reference date, so the optimizer sees them as that school's most recent arrivals and
    redeploys them first where it has a surplus. The closed school's approved establishment
    (核定编制) goes with its teachers. Every pupil and every teacher stays in the county."""
    schools = county.schools
    chosen = change.mask(schools)
    if change.students_below is not None:
        pupils = county.classes.groupby("school_id")["students"].sum()
        chosen &= schools["school_id"].map(pupils).fillna(0) < change.students_below
    known = change.check(schools, report)
    closed = sorted(schools.loc[chosen, "school_id"])
    if change.into is not None:
        if change.into not in set(schools["school_id"]):
            report("into", change.into, "学校表中已有的学校代码")
            return county, ""
        if change.into in closed:
            report("into", change.into, "不在撤并之列的学校")
            return county, ""
    if not closed:
        if known:  # an unknown code is reported already: that is why nothing is selected
            report(None, change.describe(), "至少一所符合条件的学校（没有学校被选中）")
        return county, ""
    classes, teachers = county.classes.copy(), county.teachers.copy()
    schools = schools.copy()
    types = schools.set_index("school_id")["type"].astype(str)
    receivers_of: dict[str, dict[str, str]] = {}  # closed school → its receiver for each stage
    unknown: list[str] = []  # receivers whose 核定编制 became unknown
    for school_id in closed:
        moved: dict[str, int] = {}
        for stage in _stages_present(county, school_id):
            if change.into is not None:
                receiver: str | None = change.into
                if Stage(stage) not in SchoolType(types[change.into]).stages:
                    label = Stage(stage).label
                    report("into", change.into, f"开设{label}的学校（{school_id} 有{label}学生或教师）")
                    continue
            else:
                receiver = nearest_school(county, school_id, stage, set(closed))
                if receiver is None:
                    # named in the text too: problems are told apart by what they expect, and a second
                    # school with no place to go was dropped as the first one's duplicate
                    report(None, school_id, f"可接收 {school_id} 的{Stage(stage).label}学生的学校"
                                            "（或用 into 指定；无经纬度与距离表时须指定）")
                    continue
            grades = classes[(classes["school_id"] == school_id) & (stage_codes(classes["grade"]) == stage)]
            classes = _absorb_classes(classes[~classes.index.isin(grades.index)], grades, receiver, policy,
                                      merge_classes=False)
            movers = (teachers["school_id"] == school_id) & (teachers["stage"].astype(str) == stage)
            teachers.loc[movers, "school_id"] = receiver
            teachers.loc[movers, "school_since"] = pd.Timestamp(county.as_of)
            moved[receiver] = moved.get(receiver, 0) + int(movers.sum())
            receivers_of.setdefault(school_id, {})[stage] = receiver
        unknown += _hand_over(schools, school_id, moved)
    schools = schools[~schools["school_id"].isin(closed)]
    distances, teachers = _drop_school_refs(county, {s: receivers_of.get(s) for s in closed}, teachers)
    pupils = int(county.classes[county.classes["school_id"].isin(closed)]["students"].sum())
    staff = int(county.teachers["school_id"].isin(closed).sum())
    names = county.schools.set_index("school_id")["name"]
    # Each receiver with the stages it takes where a closed school's stages went apart (a nine-year
    # school's primary pupils to a primary school, its junior pupils to a junior school).
    stages_of: dict[str, set[str]] = {}
    for by_stage in receivers_of.values():
        for stage, receiver in by_stage.items():
            stages_of.setdefault(receiver, set()).add(stage)
    split = any(len(set(by_stage.values())) > 1 for by_stage in receivers_of.values())
    targets = sorted(stages_of)
    order = [member.value for member in Stage]
    named = [f"{s} {names[s]}" + ("（" + "、".join(Stage(x).label for x in sorted(stages_of[s], key=order.index))
                                  + "）" if split else "") for s in targets[:8]]
    text = (f"撤并 {len(closed)} 所学校（{'、'.join(f'{s} {names[s]}' for s in closed[:8])}"
            f"{' 等' if len(closed) > 8 else ''}），学生 {pupils:,} 人、教师 {staff:,} 人并入 "
            f"{'、'.join(named)}{' 等' if len(targets) > 8 else ''}")
    if unknown:
        text += f"；{'、'.join(sorted(set(unknown)))} {ESTABLISHMENT_UNKNOWN}"
    return county.replace(schools=schools, classes=classes, teachers=teachers, distances=distances), text


#: Said of a school whose 核定编制 became unknown: it took in a school that had none given. Kept as the
#: receiver's number, the school read as full with the newcomers (a tester: 38 approved, 71 on the books)
#: and received no one; unknown, the plan takes its norm for one (`plan.arrivals_within_shortage`).
ESTABLISHMENT_UNKNOWN = "核定编制按未填处理（并入的学校未填核定编制；方案以按标准应有的人数代替）"


def _hand_over(schools: pd.DataFrame, school_id: str, moved: dict[str, int]) -> list[str]:
    """The closed school's establishment and boarders go to its receivers (by teachers moved). Returns
    the receivers whose establishment became unknown: the closed school had none given (`ESTABLISHMENT_UNKNOWN`)."""
    if not moved:
        return []
    index = schools.set_index("school_id").index
    row = index.get_loc(school_id)
    receivers = sorted(moved)
    weights = [moved[r] for r in receivers]
    establishment = schools["establishment"].iloc[row]
    unknown = []
    column = schools.columns.get_loc("establishment")
    for receiver, part in zip(receivers, _split(float(establishment) if pd.notna(establishment) else 0.0, weights),
                              strict=True):
        at = index.get_loc(receiver)
        if pd.isna(schools["establishment"].iloc[at]):
            continue
        if pd.isna(establishment):
            schools.iloc[at, column] = np.nan
            unknown.append(receiver)
        else:
            schools.iloc[at, column] = int(schools["establishment"].iloc[at]) + part
    boarders = int(schools["boarding_students"].iloc[row])
    if boarders:
        for receiver, part in zip(receivers, _split(float(boarders), weights), strict=True):
            at = index.get_loc(receiver)
            schools.iloc[at, schools.columns.get_loc("boarding_students")] = int(
                schools["boarding_students"].iloc[at]) + part
    return unknown


def merge_schools(county: County, change: Merge, report: Any = _noop) -> tuple[County, str]:
    """`into` absorbs `school`: its grade rows are added (classes kept), its teachers take the
    surviving school's id (teacher ids and dates at school stay), its establishment and boarders are
    added. The surviving school becomes a nine-year school when it gains a stage it did not teach
    (or takes `type` when given)."""
    ids = set(county.schools["school_id"])
    for key, value in (("school", change.school), ("into", change.into)):
        if value not in ids:
            report(key, value, "学校表中已有的学校代码")
    if change.school == change.into:
        report("into", change.into, "与 school 不同的学校")
    if change.school not in ids or change.into not in ids or change.school == change.into:
        return county, ""
    schools = county.schools.copy()
    info = schools.set_index("school_id")
    survivor_type = SchoolType(str(info.at[change.into, "type"]))
    needed = set(_stages_present(county, change.school)) | set(_stages_present(county, change.into))
    new_type = change.type or (survivor_type if needed <= {s.value for s in survivor_type.stages}
                               else SchoolType.nine_year)
    if not needed <= {s.value for s in new_type.stages}:
        report("type", new_type.value, "开设两校全部学段的学校类型（如 nine_year 九年一贯制）")
        return county, ""
    at = schools.index[schools["school_id"] == change.into][0]
    gone = schools.index[schools["school_id"] == change.school][0]
    schools.at[at, "type"] = new_type.value
    unknown = pd.notna(schools.at[at, "establishment"]) and pd.isna(schools.at[gone, "establishment"])
    if pd.notna(schools.at[at, "establishment"]) and pd.notna(schools.at[gone, "establishment"]):
        schools.at[at, "establishment"] = int(schools.at[at, "establishment"]) + int(schools.at[gone, "establishment"])
    elif unknown:
        schools.at[at, "establishment"] = np.nan
    schools.at[at, "boarding_students"] = int(schools.at[at, "boarding_students"]) + int(
        schools.at[gone, "boarding_students"])
    schools = schools.drop(index=gone)
    absorbed = county.classes[county.classes["school_id"] == change.school]
    classes = _absorb_classes(county.classes[county.classes["school_id"] != change.school], absorbed, change.into,
                              None, merge_classes=True)
    teachers = county.teachers.copy()
    teachers.loc[teachers["school_id"] == change.school, "school_id"] = change.into
    distances, teachers = _drop_school_refs(county, {change.school: change.into}, teachers)
    staff = int((county.teachers["school_id"] == change.school).sum())
    text = (f"{change.school} {info.at[change.school, 'name']} 并入 {change.into} {info.at[change.into, 'name']}"
            f"（{new_type.label}）：学生 {int(absorbed['students'].sum()):,} 人、教师 {staff} 人，教师编号不变"
            + (f"；{ESTABLISHMENT_UNKNOWN}" if unknown else ""))
    return county.replace(schools=schools, classes=classes, teachers=teachers, distances=distances), text


def add_hires(county: County, change: Hire, report: Any = _noop, first_row: int = SCENARIO_PIN_ROW
              ) -> tuple[County, pd.DataFrame, str]:
    """`count` new teachers (ids NEW-0001, … continuing after any already used), each at a virtual
    holding school POOL-… of their stage with no pupils (so it requires no posts and takes part in no
    indicator) and an approved establishment of one post, which the hire holds (so no transfer can
    arrive there), pinned to move: the optimizer places each where it serves best (or at `school`),
    within the stage recruited for (`County.holding_schools`).
    New hires are active, 24 years old, with no title and no service obligation here (one would
    exempt them from moving)."""
    schools_ids = set(county.schools["school_id"])
    if change.school is not None:
        if change.school not in schools_ids:
            report("school", change.school, "学校表中已有的学校代码")
            return county, _empty_pins(), ""
        school_type = SchoolType(str(county.schools.set_index("school_id").at[change.school, "type"]))
        if change.stage not in school_type.stages:
            report("school", change.school, f"开设{change.stage.label}的学校")
            return county, _empty_pins(), ""
    teacher_ids = set(county.teachers["teacher_id"])
    as_of = county.as_of
    schools, teachers, pins = [], [], []
    number = 0
    for i in range(change.count):
        number += 1
        while f"{HIRE_PREFIX}{number:04d}" in teacher_ids or f"{POOL_PREFIX}{number:04d}" in schools_ids:
            number += 1
        teacher_id, pool = f"{HIRE_PREFIX}{number:04d}", f"{POOL_PREFIX}{number:04d}"
        schools.append({"school_id": pool, "name": f"新招聘{change.stage.label}{change.subject.label}教师（待分配）",
                        "township": "新招聘待分配", "type": change.stage.value, "area": Area.rural.value,
                        "boarding_students": 0, "establishment": 1, "weak": False})
        gender = Gender.F.value if i % 2 == 0 else Gender.M.value
        teachers.append({"teacher_id": teacher_id, "name": None, "gender": gender,
                         "birth_date": pd.Timestamp(as_of.year - 24, 1, 1), "school_id": pool,
                         "school_since": pd.Timestamp(as_of), "stage": change.stage.value,
                         "subject": change.subject.value,
                         "other_subjects": tuple(s.value for s in change.other_subjects),
                         "title": "none", "backbone": "none", "education": change.education.value,
                         "status": "active", "rural_years": 0.0, "service_until": None, "volunteer": False,
                         "wishes": ()})
        kind = "to_school" if change.school else "must_move"
        pins.append({"teacher_id": teacher_id, "kind": kind, "school_id": change.school, "row": first_row + i})
    new_schools = pd.concat([county.schools, pd.DataFrame(schools)], ignore_index=True)
    new_teachers = pd.concat([county.teachers, pd.DataFrame(teachers)], ignore_index=True)
    where = f"，指定到 {change.school}" if change.school else "，由方案分配到最需要的学校"
    text = (f"招聘{change.stage.label}{change.subject.label}教师 {change.count} 人"
            f"（{teachers[0]['teacher_id']}{'–' + teachers[-1]['teacher_id'] if len(teachers) > 1 else ''}）{where}")
    holding = county.holding_schools | {school["school_id"] for school in schools}
    return (county.replace(schools=new_schools, teachers=new_teachers, holding_schools=frozenset(holding)),
            pd.DataFrame(pins), text)


def retire_until(county: County, change: Retire, policy: Policy) -> tuple[County, str]:
    """Teachers whose statutory retirement date (`policy.retirement`, with the gradual reform) falls
    on or before `until` leave the county's teachers."""
    teachers = county.teachers
    dates = [policy.retirement.retirement_date(g, b.date()) for g, b in
             zip(teachers["gender"].astype(str), teachers["birth_date"], strict=True)]
    leaving = pd.Series([d <= change.until for d in dates], index=teachers.index)
    by_stage = teachers[leaving].groupby(teachers["stage"].astype(str)).size()
    parts = "，".join(f"{Stage(s).label} {int(n)} 人" for s, n in by_stage.items())
    text = f"{change.until.isoformat()} 前达到法定退休年龄的教师退休：{int(leaving.sum())} 人（{parts or '无'}）"
    return county.replace(teachers=teachers[~leaving]), text


# --------------------------------------------------------------------------------------------------
# Pins
# --------------------------------------------------------------------------------------------------


def _empty_pins() -> pd.DataFrame:
    from teacheralloc.io.pins import empty_pins

    return empty_pins()


def _concat_pins(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty_pins()
    pins = pd.concat(frames, ignore_index=True)
    pins["row"] = pins["row"].astype("int64")
    return pins


def _base_pins_kept(pins: pd.DataFrame, county: County, path: Path, own: set[str]
                    ) -> tuple[pd.DataFrame, str]:
    """The base dataset's pins whose teacher and school are still in the county after the changes and
    whose teacher this scenario does not pin itself (`own`: its pins replace the base's for that
    teacher), and the line that says how many were kept and why any were left out."""
    teachers, schools = set(county.teachers["teacher_id"]), set(county.schools["school_id"])
    named = pins["school_id"].where(pins["school_id"].map(lambda v: isinstance(v, str) and v != ""))
    present = pins["teacher_id"].isin(teachers) & (named.isna() | named.isin(schools))
    replaced = pins["teacher_id"].isin(own)
    kept = present & ~replaced
    source = path.name + (" / 指定" if path.suffix.lower() in (".xlsx", ".xlsm") else "")
    text = f"基础数据自带的指定（{source}）：沿用 {int(kept.sum())} 项"
    for mask, why in ((~present, "因教师退休或学校撤并不再适用"), (present & replaced, "由本情景对同一教师的指定代替")):
        if mask.any():
            left = "、".join(pins.loc[mask, "teacher_id"].astype(str).head(5))
            text += f"；{int(mask.sum())} 项{why}，已略去（{left}{' 等' if mask.sum() > 5 else ''}）"
    frame = pins[kept].reset_index(drop=True)
    frame.attrs.update(pins.attrs)
    return frame, text + "（不沿用：base_pins: false）"


def _pins_left_behind(frames: list[pd.DataFrame], county: County, file: str,
                      sources: dict[int, tuple[int | None, str]]) -> list[Problem]:
    """Pins naming a teacher or school that a later change took away (a teacher who retires, a school
    closed or merged): each pin is checked against the county as the changes before it left it, so
    without this a pin before `retire` reached the model with no such teacher (a KeyError)."""
    teachers, schools = set(county.teachers["teacher_id"]), set(county.schools["school_id"])
    found = []
    for frame in frames:
        for pin in frame.itertuples(index=False):
            school = pin.school_id if isinstance(pin.school_id, str) and pin.school_id else None
            gone = [] if pin.teacher_id in teachers else [("teacher_id", pin.teacher_id, "教师")]
            gone += [] if school is None or school in schools else [(pin.kind, school, "学校")]
            for column, value, what in gone:
                expected = (f"变化后仍在的{what}（此{what}在其后的变化中离开：退休，或学校撤销、合并；"
                            "删去此项指定）")
                if int(pin.row) in sources:  # written in the scenario: its line and key
                    line, key = sources[int(pin.row)]
                    found.append(Problem(file, line, f"{key}.{column}", str(value), expected, rule="scenario"))
                else:  # from a pins file: its row and column
                    found.append(Problem(frame.attrs.get("file", "pins.csv"), int(pin.row), column, str(value),
                                         expected, label=PIN_COLUMNS.get(column, ""), rule="scenario"))
    return found


def _scenario_pins(value: str | list[Pin] | None, folder: Path, county: County, problems: _Problems,
                   loc: tuple[Any, ...], lines: YamlLines, sources: dict[int, tuple[int | None, str]],
                   read_pins: Any) -> tuple[pd.DataFrame, str]:
    """Pins from a file (relative to the scenario) or written inline, checked against the county as
    the changes before them left it."""
    if isinstance(value, str):
        if not (folder / value).is_file():  # said against the scenario's key, where the user wrote the name
            problems.add(loc, value, f"存在的 pins.csv 文件（相对于情景文件所在文件夹：{folder.resolve()}）")
            return _empty_pins(), ""
        pins = read_pins(folder / value, county)
        return pins, f"读取 {value}：{len(pins)} 项"
    teachers, schools = set(county.teachers["teacher_id"]), set(county.schools["school_id"])
    rows = []
    for i, pin in enumerate(value or []):
        where = (*loc, i)
        known = pin.teacher_id in teachers and (pin.school_id is None or pin.school_id in schools)
        if pin.teacher_id not in teachers:
            problems.add((*where, "teacher_id"), pin.teacher_id, "教师表中已有的教师编号（退休或撤并后仍在的）")
        if pin.school_id is not None and pin.school_id not in schools:
            problems.add((*where, pin.kind), pin.school_id, "学校表中已有的学校代码")
        row = SCENARIO_PIN_ROW + len(sources)
        sources[row] = (lines.line(where), dotted(where))
        if known:  # said once: not again as left behind by a later change (`_pins_left_behind`)
            rows.append({"teacher_id": pin.teacher_id, "kind": pin.kind, "school_id": pin.school_id, "row": row})
    frame = pd.DataFrame(rows) if rows else _empty_pins()
    return frame, f"{len(rows)} 项"


__all__ = [
    "CHANGE_KINDS",
    "Change",
    "Close",
    "Hire",
    "Merge",
    "Retire",
    "ScaleEnrollment",
    "Scenario",
    "ScenarioFile",
    "add_hires",
    "close_schools",
    "figure_catalogue",
    "is_scenario_file",
    "load_scenario",
    "merge_schools",
    "nearest_school",
    "retire_until",
    "scale_enrollment",
]
