"""Policy: every number the norms and the optimizer use, with its source (政策参数).

The defaults live in `policy_defaults.yaml` inside the package, each with its source in `sources`.
A user `policy.yaml` (in the dataset folder, or `--policy FILE`) overrides any part: it is merged
key by key over the defaults, and a bad key or value is reported by its dotted path.
Order of precedence: CLI flag > scenario > user policy.yaml > defaults.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import types
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from teacheralloc.domain import Area, Backbone, Education, Gender, SchoolType, Stage, Status, Subject
from teacheralloc.errors import InputError, Problem

_FROZEN = ConfigDict(frozen=True, extra="forbid")
#: A weight or score: a negative one would reward what the tier penalises (a shortage, a missed wish).
NonNegative = Annotated[float, Field(ge=0)]
DEFAULTS_FILE = "policy_defaults.yaml"
USER_FILE = "policy.yaml"
#: The areas (城区、镇区、乡村) a setting keyed or listed by area may name.
AreaCode = Literal["urban", "town", "rural"]
#: The keys of `plan.subject_weight`: a subject code, or `default` for the rest.
SubjectWeightKey = Literal[("default", *(subject.value for subject in Subject))]  # type: ignore[valid-type]


def _scalar_mismatch(annotation: Any, value: Any) -> str | None:
    """What a setting expected when YAML gave a yes/no for a number (pydantic reads `true` as 1.0) or a
    number or text for a yes/no (it reads 1 as true); looks inside lists and the values of maps."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _scalar_mismatch(get_args(annotation)[0], value)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return None if value is None or len(options) != 1 else _scalar_mismatch(options[0], value)
    if annotation in (int, float):
        return "数字" if isinstance(value, bool) else None
    if annotation is bool:
        return None if isinstance(value, bool) else "true 或 false"
    if origin is tuple and isinstance(value, list | tuple):
        inner = get_args(annotation)[0]
        return next((found for item in value if (found := _scalar_mismatch(inner, item))), None)
    if origin is dict and isinstance(value, dict):
        inner = get_args(annotation)[1]
        return next((found for item in value.values() if (found := _scalar_mismatch(inner, item))), None)
    return None


class _Settings(BaseModel):
    """A block of policy.yaml: no unknown keys, and no yes/no taken for a number or the other way round."""

    model_config = _FROZEN

    @field_validator("*", mode="before")
    @classmethod
    def _no_type_confusion(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        wrong = _scalar_mismatch(field.annotation, value) if field is not None else None
        if wrong:
            raise PydanticCustomError("scalar_type", wrong)
        return value


class ByStage(_Settings):
    """A number per stage (小学 / 初中)."""

    model_config = _FROZEN
    primary: float = Field(gt=0)
    junior: float = Field(gt=0)

    def __getitem__(self, stage: str) -> float:
        return float(getattr(self, str(stage)))


class SmallSchool(_Settings):
    model_config = _FROZEN
    threshold_students: int = Field(ge=0)
    method: Literal["mean", "max"]
    staff_per_class: ByStage
    min_per_teaching_point: float = Field(ge=0)


class Boarding(_Settings):
    model_config = _FROZEN
    enabled: bool
    staff_per_100_boarders: float = Field(ge=0)


class Staffing(_Settings):
    """编制标准."""

    model_config = _FROZEN
    students_per_staff: ByStage
    special_students_per_staff: float = Field(gt=0)
    small_school: SmallSchool
    boarding: Boarding
    count_on_leave: bool


class Curriculum(_Settings):
    """课程方案与教师工作量."""

    model_config = _FROZEN
    weekly_periods: dict[Subject, tuple[float, ...]]
    standard_load: dict[Stage, dict[str, float]]
    small_school_generalist_subjects: tuple[Subject, ...]
    special_schools: bool = False

    @field_validator("weekly_periods")
    @classmethod
    def _nine_grades(cls, value: dict[Subject, tuple[float, ...]]) -> dict[Subject, tuple[float, ...]]:
        for subject, periods in value.items():
            if len(periods) != 9 or any(p < 0 for p in periods):
                raise ValueError(f"{subject}: 需要 9 个非负数（1–9 年级）")
        return value

    @field_validator("standard_load")
    @classmethod
    def _loads(cls, value: dict[Stage, dict[str, float]]) -> dict[Stage, dict[str, float]]:
        for stage, loads in value.items():
            if "default" not in loads:
                raise ValueError(f"{stage}: 需要 default（其余学科的标准课时）")
            for key, load in loads.items():
                if key != "default" and Subject.parse(key) is None:
                    raise ValueError(f"{stage}.{key}: 未知学科")
                if load <= 0:
                    raise ValueError(f"{stage}.{key}: 标准课时须大于 0")
        return value

    def periods(self, subject: Subject | str, grade: int) -> float:
        return float(self.weekly_periods.get(Subject(subject), (0.0,) * 9)[grade - 1])

    def load(self, stage: Stage | str, subject: Subject | str) -> float:
        loads = self.standard_load[Stage(stage)]
        return float(loads.get(str(subject), loads["default"]))


class Per100(_Settings):
    model_config = _FROZEN
    higher_degree: ByStage
    backbone: ByStage
    pe_arts: ByStage


class Indicators(_Settings):
    """优质均衡督导评估指标."""

    model_config = _FROZEN
    per_100_students: Per100
    higher_degree_min_education: dict[Stage, Education]
    backbone_levels: tuple[Backbone, ...]
    pe_arts_subjects: tuple[Subject, ...]
    count_statuses: tuple[Status, ...]
    cv_max: ByStage
    school_min_indicators_met: int = Field(ge=0)
    school_total_indicators: int = Field(ge=1)
    remaining_indicator_min_ratio: float = Field(ge=0, le=1)
    exclude_teaching_points_below: int = Field(ge=0)
    exclude_special_schools: bool
    class_size_max: ByStage
    large_class: int = Field(gt=0)
    super_large_class: int = Field(gt=0)
    school_size_max: dict[SchoolType, int]


class Rotation(_Settings):
    """交流轮岗."""

    model_config = _FROZEN
    eligible_years_at_school: float = Field(ge=0)
    min_share_of_eligible: float = Field(ge=0, le=1)
    min_backbone_share_of_rotators: float = Field(ge=0, le=1)
    max_share_leaving_school: float = Field(ge=0, le=1)
    #: The cap holds for each stage of a school with several (九年一贯制: 小学部、初中部) as well.
    leaving_cap_by_stage: bool = True
    exempt_years_to_retirement: float = Field(ge=0)
    exempt_statuses: tuple[Status, ...]
    exempt_service_obligation: bool
    area_level: dict[AreaCode, float]
    weak_level_drop: float = Field(ge=0)
    quota_base: Literal["sending", "all"]

    def level(self, area: str, weak: bool) -> float:
        """The school's place in the rotation direction (higher sends to lower)."""
        return float(self.area_level[str(area)]) - (self.weak_level_drop if weak else 0.0)


class Support(_Settings):
    """支教."""

    model_config = _FROZEN
    term_years: float = Field(gt=0)
    senior_title_rural_years: float = Field(ge=0)
    from_areas: tuple[AreaCode, ...]
    max_above_norm: int | None = Field(None, ge=0)


class Retirement(_Settings):
    """法定退休年龄，含 2025 年起的渐进式延迟."""

    model_config = _FROZEN
    base_age: dict[Gender, int]
    reform_start: str = Field(pattern=r"^\d{4}-\d{2}$")
    months_per_step: dict[Gender, int]
    max_delay_months: dict[Gender, int]

    def retirement_date(self, gender: Gender | str, birth: date) -> date:
        """The statutory retirement date (the month after the birthday at the delayed age)."""
        gender = Gender(gender)
        base_total = (birth.year + self.base_age[gender]) * 12 + (birth.month - 1)
        start_year, start_month = (int(x) for x in self.reform_start.split("-"))
        since = base_total - (start_year * 12 + start_month - 1)
        delay = 0 if since < 0 else min(self.max_delay_months[gender], since // self.months_per_step[gender] + 1)
        total = base_total + delay
        return date(total // 12, total % 12 + 1, 1)


class Plan(_Settings):
    """调配方案的分层目标、权重与选项."""

    model_config = _FROZEN
    tiers: tuple[Literal["quota", "headcount", "subject", "balance", "disruption", "wishes"], ...]
    headcount_weight: dict[Literal["teaching_point", "rural", "town", "urban"], NonNegative]
    weak_school_extra: float = Field(ge=0)
    headcount_rounding: Literal["nearest", "up", "none"]
    subject_weight: dict[SubjectWeightKey, NonNegative]
    balance_weight: dict[Literal["backbone", "pe_arts"], NonNegative]
    move_cost: float = Field(ge=0)
    km_cost: float = Field(ge=0)
    cross_stage_cost: float = Field(ge=0)
    wish_score: tuple[NonNegative, ...]
    support_need_score: float = Field(ge=0)
    junior_to_primary: bool
    special_schools_take_part: bool
    #: A school with no 核定编制 takes its norm for one: transfers never take a section above ⌈target⌉.
    arrivals_within_shortage: bool = True
    #: A nine-year school's surplus junior teachers may take its own primary posts (校内跨学段调剂).
    within_school_cross_stage: bool = True
    junior_to_primary_subjects: dict[Subject, Subject]
    max_km: float | None = Field(default=None, gt=0)
    road_factor: float = Field(ge=1)
    distance_zones: Literal["auto", "township", "none"]
    prune_destinations: bool = False  # withdrawn (it lost optima); kept so old policy files still load

    tier_tolerance: float = Field(ge=0, le=0.01)
    lower_tier_gap: float = Field(ge=0, le=0.05)
    lower_tier_slack: float = Field(0.99, ge=0)
    lower_tier_seconds: float = Field(ge=0)
    lower_tier_nodes: int | None = Field(ge=0)
    fixing_free_variables: int = Field(10_000, ge=0)
    exact_distance_arcs: int = Field(ge=0)
    priced_paths: int = Field(5_000_000, ge=0)

    @field_validator("prune_destinations")
    @classmethod
    def _no_pruning(cls, value: bool) -> bool:
        if value:
            raise ValueError("已取消：只调往调配前就有需要的学校会丢失最优方案（调出后留下的需要无人补），"
                             "删去此项或设为 false")
        return value

    @field_validator("tiers")
    @classmethod
    def _all_tiers_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if sorted(value) != sorted({"quota", "headcount", "subject", "balance", "disruption", "wishes"}):
            raise ValueError("须恰好包含 quota, headcount, subject, balance, disruption, wishes 各一次")
        return value

    def headcount_target(self, required: Any) -> Any:
        """Required posts in whole teachers, per `headcount_rounding` (works on numbers and arrays)."""
        import numpy as np

        values = np.asarray(required, dtype=float)
        if self.headcount_rounding == "nearest":
            return np.floor(values + 0.5)
        if self.headcount_rounding == "up":
            return np.ceil(values - 1e-9)
        return values

    def subject_weight_of(self, subject: str) -> float:
        return float(self.subject_weight.get(str(subject), self.subject_weight.get("default", 1.0)))


class Policy(_Settings):
    """All policy numbers. Load with `Policy.default()` or `load_policy(...)`."""

    model_config = _FROZEN
    staffing: Staffing
    curriculum: Curriculum
    indicators: Indicators
    rotation: Rotation
    support: Support
    retirement: Retirement
    plan: Plan
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sources_name_real_keys(self) -> Policy:
        data = self.model_dump(exclude={"sources"})
        for key in self.sources:
            node: Any = data
            for part in key.split("."):
                if not isinstance(node, dict) or part not in node:
                    raise ValueError(f"sources.{key}: 没有这个设置项")
                node = node[part]
        return self

    @classmethod
    def default(cls) -> Policy:
        return cls.model_validate(default_data())

    def source(self, key: str) -> str:
        """The source of a setting (or of its nearest parent that has one)."""
        parts = key.split(".")
        while parts:
            text = self.sources.get(".".join(parts))
            if text:
                return text
            parts.pop()
        return "未注明来源"

    def value(self, key: str) -> Any:
        node: Any = self
        for part in key.split("."):
            node = node[part] if isinstance(node, dict) else getattr(node, part)
        return node


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's where PyYAML has it), dates left as text: the models parse them and
    name the key of a bad one (`as_of: 2027-13-01`), where PyYAML's own date parsing raised a bare
    ValueError that reached the user as an internal error."""


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}


class YamlLines:
    """YAML line numbers of keys, for error messages (the composed node tree of the file)."""

    def __init__(self, text: str) -> None:
        try:
            self.root = yaml.compose(text)
        except yaml.YAMLError:
            self.root = None

    def normalize(self, loc: tuple[Any, ...]) -> tuple[Any, ...]:
        """Drop list positions pydantic adds where the file has a single value (`area: rural`)."""
        node, out = self.root, []
        for part in loc:
            if isinstance(part, int) and not isinstance(node, yaml.SequenceNode):
                continue
            out.append(part)
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if str(k.value) == str(part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                node = None
        return tuple(out)

    def line(self, loc: tuple[Any, ...]) -> int | None:
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
                if match is None:
                    continue  # a pydantic-internal location part: skip it
                line, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
        return line


def yaml_load(text: str) -> Any:
    """`yaml.safe_load` with libyaml's parser where PyYAML has it (ten times faster: the plan folder's
    policy_used.yaml is read back for the reports and by `check`), dates as text (`_Loader`)."""
    return yaml.load(text, Loader=_Loader)


#: What YAML's parser errors mean, in Chinese, by words of its English `problem` (PyYAML's or libyaml's).
_YAML_PROBLEMS = (
    ("found character '\\t'", "行中有 Tab 字符：YAML 的缩进只能用空格"),
    ("mapping values are not allowed", "冒号的位置不对：键后的冒号要跟一个空格，值里有冒号时请给值加引号"),
    ("expected ',' or '}'", "花括号 { } 没有闭合，或其中的项没有用逗号分开"),
    ("expected ',' or ']'", "方括号 [ ] 没有闭合，或其中的项没有用逗号分开"),
    ("could not find expected ':'", "缺少冒号：每行应为“键: 值”"),
    ("expected <block end>", "缩进不一致：同一层的键须对齐"),
    ("expected key", "缩进不一致：同一层的键须对齐"),
    ("found unexpected end of stream", "引号没有闭合"),
    ("found undefined alias", "以 * 开头的值须加引号"),
)


def yaml_problem(exc: Exception, text: str) -> tuple[int | None, str, str]:
    """A YAML syntax error as HR reads it: (line, the line as written, what is wrong there in Chinese).
    The parser's own English (“while parsing a flow mapping”) said nothing to them, and for policy.yaml
    no line at all."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    lines = text.splitlines()
    written = lines[line - 1].strip() if line is not None and 0 < line <= len(lines) else ""
    problem = str(getattr(exc, "problem", "") or exc)
    meaning = next((chinese for english, chinese in _YAML_PROBLEMS if english in problem), "")
    if not meaning and "\t" in text:
        meaning = "文件中有 Tab 字符：YAML 的缩进只能用空格"
    return line, written, "合法的 YAML（UTF-8）" + (f"：{meaning}" if meaning else "")


def default_data() -> dict[str, Any]:
    text = resources.files("teacheralloc").joinpath(DEFAULTS_FILE).read_text(encoding="utf-8")
    return yaml_load(text)


def _merge(base: dict[str, Any], override: dict[str, Any], path: str, overridden: list[str]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        key = str(key)
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "sources":
            merged[key] = _merge(merged[key], value, where, overridden)
        else:
            merged[key] = value
            overridden.append(where)
    return merged


def _problem(file: str, key: str, value: Any, expected: str) -> Problem:
    return Problem(file=file, row=None, column=key, value="" if value is None else str(value), expected=expected,
                   rule="policy")


def load_policy(
    path: Path | str | None = None, dataset: Path | str | None = None, overrides: dict[str, Any] | None = None
) -> Policy:
    """The defaults, overridden by the dataset's `policy.yaml`, then by `path`, then by `overrides`.

    Raises
    ------
    InputError
        Naming every bad key (dotted path) and what was expected.
    """
    data = default_data()
    layers: list[tuple[str, dict[str, Any]]] = []
    files: list[Path] = []  # the YAML layers, for the line of a bad key
    if dataset is not None and Path(dataset).is_dir() and (Path(dataset) / USER_FILE).exists():
        files.append(Path(dataset) / USER_FILE)
    if path is not None:
        files.append(Path(path))
    for file in files:
        layers.append(_read_yaml(file))
    if overrides:
        layers.append(("overrides", overrides))
    user_sources: dict[str, str] = {}
    for name, layer in layers:
        overridden: list[str] = []
        data = _merge(data, {k: v for k, v in layer.items() if k != "sources"}, "", overridden)
        for key in overridden:
            data["sources"] = {k: v for k, v in data["sources"].items() if not (k == key or k.startswith(key + "."))}
            user_sources[key] = f"用户设置（{name}）"
        user_sources.update({str(k): str(v) for k, v in (layer.get("sources") or {}).items()})
    data["sources"] = {**data["sources"], **user_sources}
    label = layers[-1][0] if layers else DEFAULTS_FILE
    # A source for no setting is named by its key, with the other problems (the model's own check runs
    # only once every setting is valid, and would show the whole policy as the value).
    unknown = [key for key in data["sources"] if not _has_setting(data, key)]
    problems = [_problem(label, f"sources.{key}", key, "没有这个设置项") for key in unknown]
    data["sources"] = {k: v for k, v in data["sources"].items() if k not in unknown}
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"]).removesuffix(".[key]")  # a bad key of a map: the key
            problems.append(_problem(label, key, error.get("input") if error["type"] != "extra_forbidden" else key,
                                     _expected(error)))
    if problems:
        raise InputError([problem if overrides and _has_setting(overrides, problem.column) else
                          _located(problem, files) for problem in problems])
    return policy


def _located(problem: Problem, files: list[Path]) -> Problem:
    """A policy problem at its key's line in the last file that writes the key (and named after that
    file): policy.yaml's problems gave a dotted key and no line, scenario files' a line."""
    if not problem.column:
        return problem
    parts = problem.column.split(".")
    if parts[0] == "sources" and len(parts) > 1:  # sources are keyed by dotted setting names
        parts = ["sources", ".".join(parts[1:])]
    for file in reversed(files):
        node = YamlLines(file.read_text(encoding="utf-8-sig")).root
        line = None
        for part in parts:
            if not isinstance(node, yaml.MappingNode):
                break
            match = next(((k, v) for k, v in node.value if str(k.value) == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        if line is not None:
            return dataclasses.replace(problem, file=file.name, row=line)
    return problem


def _has_setting(data: dict[str, Any], key: str) -> bool:
    """Whether the dotted `key` names a setting of the (merged) policy data."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


_EXPECTED = {
    "extra_forbidden": "已知的设置项（此键不存在，检查拼写）",
    "missing": "必填的设置项",
    "float_parsing": "数字",
    "float_type": "数字",
    "int_parsing": "整数",
    "int_type": "整数",
    "int_from_float": "整数",
    "bool_parsing": "true 或 false",
    "bool_type": "true 或 false",
    "string_type": "文本",
    "dict_type": "键值对",
    "model_type": "键值对（下一级的设置项，如 key: value）",
    "model_attributes_type": "键值对（下一级的设置项，如 key: value）",
    "date_from_datetime_inexact": "日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期 YYYY-MM-DD",
    "date_parsing": "日期 YYYY-MM-DD",
    "date_type": "日期 YYYY-MM-DD",
    "datetime_type": "日期 YYYY-MM-DD",
    "float_finite_number": "有限的数字",
    "string_too_short": "非空文本",
    "too_short": "非空列表",
    "tuple_type": "列表",
    "list_type": "列表",
    "string_pattern_mismatch": "格式 YYYY-MM",
}


def _expected(error: Any) -> str:
    """A Chinese statement of what a pydantic error expected; pydantic's English only where there is none."""
    kind, ctx = error["type"], error.get("ctx") or {}
    bounds = {"greater_than": "大于 {gt}", "greater_than_equal": "不小于 {ge}", "less_than": "小于 {lt}",
              "less_than_equal": "不大于 {le}"}
    if kind in bounds:
        return bounds[kind].format(**ctx)
    if kind in ("literal_error", "enum"):
        return f"以下之一：{_choices(str(ctx.get('expected', '')))}"
    return _EXPECTED.get(kind) or str(error["msg"]).removeprefix("Value error, ")


def _choices(expected: str) -> str:
    """pydantic's "'mean' or 'max'" as HR reads it: mean、max; a code of the data's vocabulary with its
    Chinese label, which is accepted too (urban（城区）)."""
    parts = [part.strip().strip("'\"") for part in re.split(r",| or ", expected) if part.strip()]
    labels = _code_labels()
    return "、".join(f"{part}（{labels[part]}）" if part in labels else part for part in parts)


def _code_labels() -> dict[str, str]:
    """Each code of the data's enumerations with its Chinese label (codes two of them label differently:
    none)."""
    seen: dict[str, set[str]] = {}
    for enum in (Stage, SchoolType, Area, Subject, Status, Education, Backbone, Gender):
        for member in enum:
            seen.setdefault(member.value, set()).add(member.label)
    return {code: next(iter(labels)) for code, labels in seen.items() if len(labels) == 1}


def _read_yaml(path: Path) -> tuple[str, dict[str, Any]]:
    if not path.exists():
        raise InputError([_problem(str(path), "", "", "存在的 policy.yaml 文件")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([_problem(path.name, "", "", "UTF-8 编码的文本文件（另存为 UTF-8）")]) from None
    try:
        data = yaml_load(text) or {}
    except yaml.YAMLError as exc:
        line, written, expected = yaml_problem(exc, text)
        raise InputError([Problem(file=path.name, row=line, column="", value=written, expected=expected,
                                  rule="policy")]) from None
    if not isinstance(data, dict):
        raise InputError([_problem(path.name, "", str(data)[:40], "键值对形式的 YAML")])
    return path.name, data
