"""Domain model: the county dataset of the data contract (shared/spec/data-contract.md).

The pydantic records (`School`, `ClassGroup`, `Teacher`, `Distance`) are the single source of truth
for the input columns: their field names are the English codes, their `title` the Chinese header
(中文表头), their types, bounds and defaults what the loader checks. `County` holds a validated
dataset as pandas tables, the form every computation uses.

Every enumeration value carries its English code (the value) and its Chinese label (`.label`).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from teacheralloc.errors import Problem

# --------------------------------------------------------------------------------------------------
# Enumerations: code + 中文 label
# --------------------------------------------------------------------------------------------------


class CodedEnum(StrEnum):
    """An enumeration whose value is its English code and which carries its Chinese label."""

    label: str

    def __new__(cls, code: str, label: str) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    @classmethod
    def lookup(cls) -> dict[str, Self]:
        """Map every accepted spelling (code, case-insensitive, Chinese label, and the other names HR
        rosters use: `LABEL_ALIASES`) to its member."""
        table = _LOOKUPS.get(cls)
        if table is None:
            table = {alias: cls(code) for alias, code in LABEL_ALIASES.get(cls.__name__, {}).items()}
            for member in cls:
                table[member.value.lower()] = member
                table[member.label] = member
            _LOOKUPS[cls] = table
        return table

    @classmethod
    def parse(cls, text: str) -> Self | None:
        """The member written as `text` (code or label), or None; spaces inside do not count (语　文,
        spaced to line up in a roster)."""
        table = cls.lookup()
        found = table.get(text.strip().lower()) or table.get(text.strip())
        if found is None and any(c.isspace() for c in text.strip()):
            compact = re.sub(r"\s+", "", text)
            found = table.get(compact.lower()) or table.get(compact)
        return found

    @classmethod
    def choices(cls) -> str:
        """Human-readable list of accepted values, e.g. `primary 小学 / junior 初中`."""
        return " / ".join(f"{m.value} {m.label}" for m in cls)


class Stage(CodedEnum):
    """学段: the compulsory-education stage."""

    primary = ("primary", "小学")
    junior = ("junior", "初中")


class SchoolType(CodedEnum):
    """学校类型. `special` (特殊教育学校) extends the contract: special schools are staffed differently."""

    primary = ("primary", "小学")
    junior = ("junior", "初中")
    nine_year = ("nine_year", "九年一贯制")
    teaching_point = ("teaching_point", "教学点")
    special = ("special", "特殊教育学校")

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages a school of this type teaches (a nine-year school has a primary and a junior part)."""
        return _TYPE_STAGES[self]

    @property
    def grades(self) -> range:
        """The grades a school of this type may have (1–6 primary, 7–9 junior)."""
        return _TYPE_GRADES[self]


_TYPE_STAGES = {
    SchoolType.primary: (Stage.primary,),
    SchoolType.junior: (Stage.junior,),
    SchoolType.nine_year: (Stage.primary, Stage.junior),
    SchoolType.teaching_point: (Stage.primary,),
    SchoolType.special: (Stage.primary, Stage.junior),
}
_TYPE_GRADES = {
    SchoolType.primary: range(1, 7),
    SchoolType.junior: range(7, 10),
    SchoolType.nine_year: range(1, 10),
    SchoolType.teaching_point: range(1, 7),
    SchoolType.special: range(1, 10),
}


def moves_within_school(moves: pd.DataFrame) -> int:
    """How many moves of a plan stay in their school (校内跨学段调剂: a nine-year school's surplus junior
    teacher to its primary section): a redeployment that leaves no school, said apart in what HR reads."""
    return int((moves["from_school"] == moves["to_school"]).sum()) if len(moves) else 0


def stage_of_grade(grade: int) -> Stage:
    """Grades 1–6 are primary (小学), 7–9 junior (初中)."""
    return Stage.primary if grade <= 6 else Stage.junior


def stage_codes(grades: pd.Series) -> pd.Series:
    """`stage_of_grade` for a column of grades: the stage codes ("primary" / "junior")."""
    return pd.Series(np.where(grades <= 6, Stage.primary.value, Stage.junior.value), index=grades.index)


def full_years(start: pd.Series | pd.Timestamp, end: pd.Series | pd.Timestamp) -> pd.Series:
    """Whole calendar months from `start` to `end`, in years (服务年限按月计); one of them a column.

    Policy years are calendar years: a teacher at the school since 2020-09-01 has served 6 years on
    2026-09-01 (days ÷ 365.25 would give 5.9986 and leave them out of the rotation). A month is
    complete on the same day of a later month, or on its last day when it has no such day (the civil
    code's rule for periods, 民法典第二百零二条). A span backwards in time is negative.
    """

    def forward(a: pd.Series | pd.Timestamp, b: pd.Series | pd.Timestamp) -> Any:
        a_on = a.dt if isinstance(a, pd.Series) else pd.Timestamp(a)
        b_on = b.dt if isinstance(b, pd.Series) else pd.Timestamp(b)
        months = (b_on.year - a_on.year) * 12 + (b_on.month - a_on.month)
        due_day = np.minimum(a_on.day, b_on.days_in_month)  # the corresponding day in b's month
        return months - (b_on.day < due_day).astype(int)

    later = pd.Series(end >= start)
    return pd.Series(forward(start, end)).where(later, -forward(end, start)) / 12.0


class Area(CodedEnum):
    """城乡类别: urban district, town, or rural (the statistical urban–rural classification)."""

    urban = ("urban", "城区")
    town = ("town", "镇区")
    rural = ("rural", "乡村")


class Gender(CodedEnum):
    """性别."""

    M = ("M", "男")
    F = ("F", "女")


class Subject(CodedEnum):
    """学科: the subjects of the 2022 compulsory-education curriculum."""

    chinese = ("chinese", "语文")
    math = ("math", "数学")
    english = ("english", "英语")
    morality = ("morality", "道德与法治")
    science = ("science", "科学")
    physics = ("physics", "物理")
    chemistry = ("chemistry", "化学")
    biology = ("biology", "生物")
    history = ("history", "历史")
    geography = ("geography", "地理")
    it = ("it", "信息科技")
    pe = ("pe", "体育与健康")
    music = ("music", "音乐")
    art = ("art", "美术")
    labor = ("labor", "劳动")
    practice = ("practice", "综合实践")
    psychology = ("psychology", "心理健康")


class Title(CodedEnum):
    """职称 (unified titles of the 2015 reform)."""

    none = ("none", "未定级")
    third = ("third", "三级")
    second = ("second", "二级")
    first = ("first", "一级")
    senior = ("senior", "高级")
    full_senior = ("full_senior", "正高级")


class Backbone(CodedEnum):
    """骨干级别: backbone-teacher designation; county level and above counts for the indicators."""

    none = ("none", "无")
    county = ("county", "县级")
    city = ("city", "市级")
    province = ("province", "省级")
    national = ("national", "国家级")


class Education(CodedEnum):
    """最高学历."""

    secondary = ("secondary", "中专")
    associate = ("associate", "大专")
    bachelor = ("bachelor", "本科")
    master = ("master", "硕士")
    doctor = ("doctor", "博士")


class Status(CodedEnum):
    """在岗状态."""

    active = ("active", "在岗")
    maternity = ("maternity", "产假")
    sick = ("sick", "病休")
    seconded = ("seconded", "借调")
    study = ("study", "脱产进修")


#: How the plan's note on county indicators that fell below their standard begins (summary.json `notes`):
#: the reports show that note to HR staff, who read no solver notes.
INDICATOR_DROP_NOTE = "调配后全县指标由达标变为未达标："
#: How the note on a summed shortage that grew begins (the weights or the tiers ranked first moved
#: teachers from one kind of school to another): shown in the reports beside the figure it explains.
SHORTAGE_SHIFT_NOTE = "分校合计缺编由 "

#: Other names for enumeration values that county rosters commonly use (alias -> code), by enumeration.
#: Titles of the system before the 2015 reform map as the reform did (人社部发〔2015〕79号):
#: 中学高级 → 高级; 中学一级 and 小学高级 → 一级; 中学二级 and 小学一级 → 二级; 中学三级, 小学二级
#: and 小学三级 → 三级.
LABEL_ALIASES: dict[str, dict[str, str]] = {
    "Subject": {
        "信息技术": "it", "信息": "it", "计算机": "it", "信息技术与科技": "it",
        "体育": "pe", "体育与健康教育": "pe",
        "道德与法制": "morality", "思想品德": "morality", "品德与社会": "morality", "品德与生活": "morality",
        "品德": "morality", "思品": "morality", "政治": "morality", "思想政治": "morality",
        "道法": "morality", "思政": "morality", "品社": "morality", "品生": "morality",
        "外语": "english", "英文": "english",
        "生物学": "biology", "心理": "psychology", "心理健康教育": "psychology",
        "劳动技术": "labor", "劳技": "labor", "劳动教育": "labor",
        "综合实践活动": "practice", "综合": "practice",
    },
    "Title": {
        "无": "none", "未评": "none", "未评级": "none", "未定": "none", "见习": "none", "试用期": "none",
        "三级教师": "third", "二级教师": "second", "一级教师": "first", "高级教师": "senior",
        "正高级教师": "full_senior", "正高": "full_senior",
        "中学高级教师": "senior", "中学高级": "senior", "中学一级教师": "first", "中学一级": "first",
        "小学高级教师": "first", "小学高级": "first", "中学二级教师": "second", "中学二级": "second",
        "小学一级教师": "second", "小学一级": "second", "中学三级教师": "third", "中学三级": "third",
        "小学二级教师": "third", "小学二级": "third", "小学三级教师": "third", "小学三级": "third",
        "中小学正高级教师": "full_senior", "中小学正高级": "full_senior", "中小学高级教师": "senior",
        "中小学高级": "senior", "中小学一级教师": "first", "中小学一级": "first", "中小学二级教师": "second",
        "中小学二级": "second", "中小学三级教师": "third", "中小学三级": "third",
    },
    "Gender": {"男性": "M", "女性": "F", "1": "M", "2": "F"},  # 1 / 2: the national code (GB/T 2261.1)
    # Spellings common in county rosters (an HR tester's workbook: 九年一贯制学校, 农村, 初中部, 在编在岗)
    "SchoolType": {
        "九年一贯制学校": "nine_year", "九年制学校": "nine_year", "九年一贯": "nine_year",
        "小学校": "primary", "完全小学": "primary", "完小": "primary", "村小": "primary",
        "初级中学": "junior", "独立初中": "junior", "特殊教育": "special", "特教学校": "special",
    },
    "Area": {"农村": "rural", "城市": "urban"},
    "Stage": {"小学部": "primary", "初中部": "junior"},
    "Education": {
        "中师": "secondary", "中等师范": "secondary", "高中": "secondary", "中专及以下": "secondary",
        "专科": "associate", "大学专科": "associate", "大专学历": "associate",
        "大学本科": "bachelor", "本科学历": "bachelor", "学士": "bachelor", "全日制本科": "bachelor",
        "全日制大专": "associate", "全日制专科": "associate",
        "研究生": "master", "硕士研究生": "master", "研究生学历": "master", "博士研究生": "doctor",
    },
    "Backbone": {
        "否": "none", "非骨干": "none", "县级骨干": "county", "县骨干": "county", "县级骨干教师": "county",
        "市级骨干": "city", "市骨干": "city", "市级骨干教师": "city", "省级骨干": "province",
        "省骨干": "province", "省级骨干教师": "province", "国家级骨干": "national", "国家级骨干教师": "national",
    },
    "Status": {
        "在职": "active", "正常": "active", "正常在岗": "active", "在编在岗": "active", "在岗在编": "active",
        "休产假": "maternity", "产假中": "maternity",
        "病假": "sick", "休病假": "sick", "借用": "seconded", "借出": "seconded", "进修": "study",
        "脱产学习": "study",
    },
}
_LOOKUPS: dict[type, dict[str, Any]] = {}


class MoveType(CodedEnum):
    """调配类型 of a plan row."""

    rotation = ("rotation", "交流轮岗")
    support = ("support", "支教")
    redeploy = ("redeploy", "调剂")
    new_hire = ("new_hire", "新教师分配")


# --------------------------------------------------------------------------------------------------
# Records: one row of each input table. Field title = Chinese header; description = help text.
# --------------------------------------------------------------------------------------------------

_RECORD = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class School(BaseModel):
    """学校: one school or teaching point."""

    model_config = _RECORD
    table: ClassVar[str] = "schools"

    school_id: str = Field(title="学校代码", min_length=1, description="唯一代码，如 X001")
    name: str = Field(title="学校名称", min_length=1, description="学校全称")
    township: str = Field(title="乡镇", min_length=1, description="所在乡镇或街道")
    type: SchoolType = Field(title="学校类型", description="小学 / 初中 / 九年一贯制 / 教学点 / 特殊教育学校")
    area: Area = Field(title="城乡类别", description="城区 / 镇区 / 乡村")
    lat: float | None = Field(None, title="纬度", ge=-90, le=90, description="WGS84 纬度，用于计算距离")
    lon: float | None = Field(None, title="经度", ge=-180, le=180, description="WGS84 经度")
    boarding_students: int = Field(0, title="寄宿生数", ge=0, description="寄宿学生人数，无则填 0")
    establishment: int | None = Field(None, title="核定编制", ge=0, description="编办核定的编制数（已知时填写）")
    group: str | None = Field(None, title="教育集团", description="所属教育集团、联盟或学区")
    weak: bool = Field(False, title="薄弱学校", description="是否为认定的薄弱学校：是 / 否")


class ClassGroup(BaseModel):
    """班级: the classes and students of one grade of one school."""

    model_config = _RECORD
    table: ClassVar[str] = "classes"

    school_id: str = Field(title="学校代码", min_length=1, description="须在学校表中存在")
    grade: int = Field(title="年级", ge=1, le=9, description="1–6 为小学，7–9 为初中")
    classes: int = Field(title="班数", ge=0, description="该年级班级数")
    students: int = Field(title="学生数", ge=0, description="该年级在校生数")

    @property
    def stage(self) -> Stage:
        return stage_of_grade(self.grade)


class Teacher(BaseModel):
    """教师: one teacher on the county's establishment (在编教师)."""

    model_config = _RECORD
    table: ClassVar[str] = "teachers"

    teacher_id: str = Field(title="教师编号", min_length=1, description="唯一编号")
    name: str | None = Field(None, title="姓名", description="个人信息，求解不使用")
    gender: Gender = Field(title="性别", description="男 / 女")
    birth_date: date = Field(title="出生日期", description="日期，如 1985-03-01")
    school_id: str = Field(title="任教学校", min_length=1, description="当前学校代码，须在学校表中存在")
    school_since: date = Field(title="到校时间", description="到当前学校任教的日期")
    stage: Stage = Field(title="任教学段", description="小学 / 初中")
    subject: Subject = Field(title="主教学科", description="主教学科")
    other_subjects: tuple[Subject, ...] = Field((), title="兼教学科", description="可兼教学科，用 ; 或 、 分隔")
    title: Title = Field(Title.none, title="职称", description="未定级 / 三级 / 二级 / 一级 / 高级 / 正高级")
    backbone: Backbone = Field(Backbone.none, title="骨干级别", description="无 / 县级 / 市级 / 省级 / 国家级")
    education: Education | None = Field(None, title="最高学历", description="中专 / 大专 / 本科 / 硕士 / 博士")
    status: Status = Field(Status.active, title="在岗状态", description="在岗 / 产假 / 病休 / 借调 / 脱产进修")
    rural_years: float = Field(0.0, title="农村任教年限", ge=0, le=50, description="已在农村或薄弱学校任教的年数")
    service_until: date | None = Field(None, title="服务期截止", description="特岗、新招聘或定向培养服务期的截止日期")
    volunteer: bool = Field(False, title="申请交流", description="本年是否申请交流：是 / 否")
    wishes: tuple[str, ...] = Field((), title="志愿学校", description="志愿学校代码，按志愿顺序，用 ; 分隔")


class Distance(BaseModel):
    """距离: road distance between two schools."""

    model_config = _RECORD
    table: ClassVar[str] = "distances"

    from_id: str = Field(title="起点学校", min_length=1, description="学校代码")
    to_id: str = Field(title="终点学校", min_length=1, description="学校代码")
    km: float = Field(title="公里", ge=0, description="道路距离（公里）")


RECORDS: dict[str, type[BaseModel]] = {
    "schools": School,
    "classes": ClassGroup,
    "teachers": Teacher,
    "distances": Distance,
}
TABLE_LABELS: dict[str, str] = {"schools": "学校", "classes": "班级", "teachers": "教师", "distances": "距离"}
REQUIRED_TABLES: tuple[str, ...] = ("schools", "classes", "teachers")
ID_COLUMN: dict[str, str] = {"schools": "school_id", "teachers": "teacher_id"}

# --------------------------------------------------------------------------------------------------
# Column specs, derived from the records (one source of truth for loader, writer and template)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One input column: its code, Chinese header, kind and bounds, as the loader checks them."""

    code: str
    label: str
    kind: str  # text | int | number | bool | date | enum | list_text | list_enum
    required: bool
    default: Any
    description: str
    enum: type[CodedEnum] | None = None
    ge: float | None = None
    le: float | None = None


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0], True
    return annotation, False


def _kind(annotation: Any) -> tuple[str, type[CodedEnum] | None]:
    if typing.get_origin(annotation) is tuple:
        inner = typing.get_args(annotation)[0]
        if isinstance(inner, type) and issubclass(inner, CodedEnum):
            return "list_enum", inner
        return "list_text", None
    if isinstance(annotation, type) and issubclass(annotation, CodedEnum):
        return "enum", annotation
    simple = {str: "text", int: "int", float: "number", bool: "bool", date: "date"}
    return simple[annotation], None


def columns(table: str) -> tuple[Column, ...]:
    """The column specs of an input table, in contract order."""
    return _COLUMNS[table]


def _derive_columns(record: type[BaseModel]) -> tuple[Column, ...]:
    specs = []
    for code, field in record.model_fields.items():
        annotation, _optional = _unwrap_optional(field.annotation)
        kind, enum = _kind(annotation)
        ge = le = None
        for meta in field.metadata:
            ge = getattr(meta, "ge", ge)
            le = getattr(meta, "le", le)
        specs.append(
            Column(
                code=code,
                label=field.title or code,
                kind=kind,
                required=field.is_required(),
                default=None if field.is_required() else field.default,
                description=field.description or "",
                enum=enum,
                ge=ge,
                le=le,
            )
        )
    return tuple(specs)


_COLUMNS: dict[str, tuple[Column, ...]] = {name: _derive_columns(rec) for name, rec in RECORDS.items()}

# --------------------------------------------------------------------------------------------------
# County: a validated dataset as pandas tables
# --------------------------------------------------------------------------------------------------


def empty_table(table: str) -> pd.DataFrame:
    """An empty table with the canonical columns and dtypes of `table`."""
    return typed_table(table, pd.DataFrame({c.code: [] for c in columns(table)}))


def typed_table(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Give the contract columns of `frame` their canonical dtypes (parsed values expected).

    Text -> `object` str, ints -> int64 (nullable Int64 if optional), numbers -> float64,
    bools -> bool, dates -> datetime64[s], enums -> ordered categoricals of codes, lists -> tuples.
    """
    out = frame.copy()
    for col in columns(table):
        if col.code not in out.columns:
            out[col.code] = col.default if not isinstance(col.default, tuple) else [col.default] * len(out)
        values = out[col.code]
        if col.kind == "int":
            out[col.code] = values.astype("Int64" if not col.required and col.default is None else "int64")
        elif col.kind == "number":
            out[col.code] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif col.kind == "bool":
            out[col.code] = values.astype(bool)
        elif col.kind == "date":
            out[col.code] = pd.to_datetime(values).astype("datetime64[s]")
        elif col.kind == "enum":
            assert col.enum is not None
            codes = [m.value for m in col.enum]
            out[col.code] = pd.Categorical(
                [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v) for v in values],
                categories=codes,
            )
        elif col.kind in ("list_text", "list_enum"):
            out[col.code] = [tuple(str(x) for x in v) if isinstance(v, tuple | list) else () for v in values]
        else:
            out[col.code] = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]
            out[col.code] = out[col.code].astype(object)
    ordered = [c.code for c in columns(table)]
    extra = [c for c in out.columns if c not in ordered]
    return out[ordered + extra].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class County:
    """A validated county dataset (县域数据): the contract tables with canonical columns and dtypes.

    Build one with `teacheralloc.io.read.load_county` (from files) or `County.from_records` (from
    pydantic records); both go through the same validation. Change one with `.replace(...)`.
    `source` names where the data came from; `as_of` is the reference date for ages and years at school.
    """

    schools: pd.DataFrame
    classes: pd.DataFrame
    teachers: pd.DataFrame
    distances: pd.DataFrame | None
    as_of: date
    source: str = ""
    warnings: tuple[Problem, ...] = ()
    #: A scenario's holding schools (待分配学校) of new hires: a hire is recruited for a post of its
    #: stage, so the teachers waiting there are placed within their stage.
    holding_schools: frozenset[str] = frozenset()

    def replace(self, **changes: Any) -> County:
        """A copy with some fields changed; replaced tables get the canonical dtypes again."""
        for name in RECORDS:
            if changes.get(name) is not None:
                changes[name] = typed_table(name, changes[name])
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_records(
        cls,
        schools: list[School],
        classes: list[ClassGroup],
        teachers: list[Teacher],
        distances: list[Distance] | None = None,
        as_of: date | None = None,
        source: str = "records",
    ) -> County:
        """Build a county from records, checking the same cross-table rules as the file loader."""
        from teacheralloc.io.validate import validate_frames

        def frame(records: list[Any]) -> pd.DataFrame:
            return pd.DataFrame([r.model_dump() for r in records])

        raw = {"schools": frame(schools), "classes": frame(classes), "teachers": frame(teachers)}
        if distances:
            raw["distances"] = frame(distances)
        return validate_frames(raw, as_of=as_of, source=source)

    def table(self, name: str) -> pd.DataFrame | None:
        return getattr(self, name)

    def contract_table(self, name: str) -> pd.DataFrame | None:
        """The table with the contract columns only (extra user columns dropped)."""
        frame = self.table(name)
        if frame is None:
            return None
        return frame[[c.code for c in columns(name)]]

    def fingerprint(self) -> str:
        """A digest of the contract data (数据指纹), the same from CSV, GBK or xlsx and in any row order:
        summary.json records it, so `check` can tell a plan folder's data was changed in place since."""
        import hashlib

        digest = hashlib.sha256()
        for name in RECORDS:
            frame = self.contract_table(name)
            rows = np.zeros(0, dtype=np.uint64) if frame is None or frame.empty else \
                np.sort(pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy())
            digest.update(name.encode())
            digest.update(rows.tobytes())
        return digest.hexdigest()[:16]

    def in_key_order(self) -> County:
        """The same county with every table's rows sorted by their keys (school, grade, teacher, the
        pair of schools): the plan depends on the data, not on how a bureau sorted its lists (the same
        schools listed in reverse named about 12 other teachers in a 300-teacher county's plan, with the
        same tier values)."""
        def ordered(frame: pd.DataFrame | None, keys: list[str]) -> pd.DataFrame | None:
            if frame is None or frame.empty or not set(keys) <= set(frame.columns):
                return frame
            return frame.sort_values(keys, kind="stable").reset_index(drop=True)

        return self.replace(schools=ordered(self.schools, ["school_id"]),
                            classes=ordered(self.classes, ["school_id", "grade"]),
                            teachers=ordered(self.teachers, ["teacher_id"]),
                            distances=ordered(self.distances, ["from_id", "to_id"]))

    def equals(self, other: County) -> bool:
        """Same contract data (ignores source, extra columns and the reference date)."""
        for name in RECORDS:
            mine, theirs = self.contract_table(name), other.contract_table(name)
            if (mine is None or mine.empty) and (theirs is None or theirs.empty):
                continue
            if mine is None or theirs is None or not mine.equals(theirs):
                return False
        return True

    # Records, for code that prefers objects to rows (tests, small counties, the API).
    def school_records(self) -> list[School]:
        return _records(School, self.contract_table("schools"))

    def class_records(self) -> list[ClassGroup]:
        return _records(ClassGroup, self.contract_table("classes"))

    def teacher_records(self) -> list[Teacher]:
        return _records(Teacher, self.contract_table("teachers"))

    @property
    def school_ids(self) -> list[str]:
        return self.schools["school_id"].tolist()

    @property
    def num_teachers(self) -> int:
        return len(self.teachers)


def _records(record: type[Any], frame: pd.DataFrame | None) -> list[Any]:
    if frame is None:
        return []
    rows = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
                continue
            if value is pd.NA:
                continue
            if isinstance(value, pd.Timestamp):
                value = value.date()
            clean[key] = value
        rows.append(record.model_validate(clean))
    return rows
