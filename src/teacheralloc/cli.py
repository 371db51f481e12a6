"""The `teacheralloc` command line: thin commands that call one library function each and render results.

User mistakes (bad input files, bad policy, an output folder that exists) are printed as a list of
problems with exit code 2, never as a traceback.
"""

from __future__ import annotations

import gc
import math
import os
import sys
import traceback
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from teacheralloc.errors import InputError, Problem, problem_lines
from teacheralloc.io.write import OutputExistsError

if TYPE_CHECKING:
    from collections.abc import Callable

    from teacheralloc.domain import County
    from teacheralloc.policy import Policy
    from teacheralloc.scenario import Scenario

app = typer.Typer(
    name="teacheralloc",
    help="县域义务教育教师调配：编制核定、交流轮岗与调剂方案 (county teacher allocation).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_WIDTH = None if sys.stdout.isatty() else 120  # piped output: wide enough for the tables
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH, soft_wrap=True)  # a problem a line, greppable

DataArg = Annotated[Path, typer.Argument(
    help="数据：含 schools/classes/teachers CSV 的文件夹、一个 .xlsx 工作簿，或情景文件 scenarios/X.yaml")]
PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="政策参数覆盖文件 policy.yaml（默认读取数据文件夹中的 policy.yaml）")
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="基准日期 YYYY-MM-DD（年龄、任教年限按此计算）；默认即将到来的 9 月 1 日")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="输出目录已存在且非空时仍写入")]


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    from teacheralloc.io.validate import parse_date

    try:  # the forms the data accept (2027-09-01, 2027/9/1, 2027年9月1日)
        return parse_date(text)
    except ValueError:
        raise InputError(
            [Problem("命令行", None, "--as-of", text, "日期，如 2027-09-01 或 2027/9/1", rule="cli")]
        ) from None


def _table(frame: pd.DataFrame, title: str, index: bool = True) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    # Folded, not cut: a narrow terminal showed compare's labels as “核 …” and figures as “1,2…”.
    if index:
        table.add_column("", style="bold", overflow="fold", min_width=8)
    for column in frame.columns:
        table.add_column(str(column), justify="right", overflow="fold")
    for label, row in frame.iterrows():
        cells = [_fmt(v) for v in row.tolist()]
        table.add_row(*([str(label)] if index else []), *cells)
    return table


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:
            return "—"
        return f"{value:,.2f}" if not value.is_integer() else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _print_problems(error: InputError) -> None:
    for line in error.lines():
        err_console.print(line, markup=False)
    # Commands that write (plan, norms, report, compare) wrote nothing; validate and check never write.
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    writes = command not in ("validate", "check")
    err_console.print(f"共 {len(error.errors)} 个错误、{len(error.warnings)} 个警告"
                      + ("；未写出任何文件。" if writes else "。") + "请改正后重新运行。", markup=False)


@app.command()
def validate(data: DataArg, as_of: AsOfOpt = None, policy: PolicyOpt = None, pins: PinsOpt = None) -> None:
    """检查数据并汇总县域概况 (validate a dataset and summarise the county)."""
    from teacheralloc import describe
    from teacheralloc.scenario import is_scenario_file

    if is_scenario_file(data):  # the county after the scenario's changes (hires not yet placed)
        county, rules, _ = _scenario_county(data, as_of, policy, announce=True, pins=pins, check_pins=True)
    else:
        rules, county = _policy_and_county(data, policy, as_of)
        _validate_pins(data, pins, county, rules)
    for line in problem_lines(list(county.warnings)):
        console.print(line, markup=False, soft_wrap=True)  # a problem a line, as on stderr
    head = describe.headline(county, rules.rotation.eligible_years_at_school)
    console.print(f"数据有效：{data}", markup=False)
    console.print("  ".join(f"{k} {_fmt(v)}" for k, v in head.items()), markup=False)
    console.print(_table(describe.schools_by_type_and_area(county), "学校（按类型与城乡）"))
    console.print(_table(describe.students_and_classes_by_stage(county), "学生与班级（按学段）"))
    console.print(_table(describe.teachers_by_stage_and_subject(county), "教师（按主教学科与学段）"))
    console.print(_table(describe.teachers_by_status(county), "教师（按在岗状态）"))


def _policy_and_county(data: Path, policy: Path | None, as_of: str | None) -> tuple[Policy, County]:
    """The policy (the dataset's policy.yaml, or --policy) and the county, with the problems of both
    reported together: a mistake in policy.yaml no longer hides those in the data until it is fixed."""
    from teacheralloc.io.read import load_county
    from teacheralloc.policy import load_policy

    problems: list[Problem] = []
    try:
        rules = load_policy(policy, dataset=data)
    except InputError as error:
        problems += error.problems
    try:
        county = load_county(data, as_of=_as_of(as_of))
    except InputError as error:
        problems += error.problems
    if problems:
        raise InputError(problems)
    retired = _past_retirement(county, rules)
    return rules, (county.replace(warnings=(*county.warnings, retired)) if retired else county)


def _past_retirement(county: County, rules: Policy) -> Problem | None:
    """A warning for teachers still on the roster at the reference date though past their statutory
    retirement (the gradual reform included): they count as on duty in the norms and the plan. A
    generated county planned a year after it was made had 26; a real roster not yet updated, any."""
    teachers = county.teachers
    if teachers.empty:
        return None
    dates = [rules.retirement.retirement_date(str(g), b.date())
             for g, b in zip(teachers["gender"], teachers["birth_date"], strict=True)]
    past = [(tid, d) for tid, d in zip(teachers["teacher_id"], dates, strict=True) if d <= county.as_of]
    if not past:
        return None
    shown = "、".join(f"{tid}（{d.isoformat()}）" for tid, d in past[:3])
    expected = (f"在岗教师未到法定退休年龄：有 {len(past)} 名教师在基准日期 {county.as_of.isoformat()} "
                f"当日或之前已到退休时间（如 {shown}），仍按在岗计入编制和调配；"
                "已退休的请从教师表删去，或用 --as-of 改基准日期")
    return Problem("教师表", None, "birth_date", "", expected, label="出生日期", rule="past_retirement",
                   severity="warning")


def _scenario_county(path: Path, as_of: str | None, policy: Path | None, announce: bool = False,
                     pins: Path | None = None, check_pins: bool = False) -> tuple[County, Policy, tuple[Path, ...]]:
    """A scenario file's county (after its changes, without the holding schools of hires not yet placed),
    its policy, and the paths an output folder must not overlap. `announce`: print the changes, and
    that the hires, placed only by a plan, are not in the figures. `check_pins`: the scenario's pins
    (its hires' too) and `pins` checked as `plan` will (`validate`)."""
    from teacheralloc.compare import without_pool
    from teacheralloc.scenario import load_scenario

    scenario = load_scenario(path, as_of=_as_of(as_of), policy_file=policy)
    if check_pins:
        _validate_scenario_pins(scenario, pins)
    if announce:
        console.print(f"情景：{scenario.name}（基础数据 {scenario.base}）", markup=False)
        for line in scenario.changes:
            console.print("  " + line, markup=False, soft_wrap=True)
        if scenario.hire_ids:
            console.print(f"  新招聘教师 {len(scenario.hire_ids)} 人待方案分配，不计入下面的教师人数", markup=False)
    return without_pool(scenario.county, scenario), scenario.policy, (scenario.base, path)


def _validate_pins(data: Path, pins: Path | None, county: County, rules: Policy) -> None:
    """The pins (pins.csv in the dataset, or --pins), read and checked as `plan` will: an unknown teacher
    or school, and a pin no plan can honour (an exempt teacher pinned to move, must_stay with must_move,
    no school it could go to), reported with the data's problems rather than only when planning."""
    from teacheralloc.io.pins import find_pins, read_pins

    path = find_pins(data, pins)
    if path is None:
        return
    table = read_pins(path, county, honourable=_unhonourable(county, rules))
    if not table.empty:
        _check_pins_as_plan(county, rules, table)
    console.print(f"指定（{path.name}）：{len(table)} 项，均可执行", markup=False)


def _check_pins_as_plan(county: County, rules: Policy, table: pd.DataFrame) -> None:
    """Pins no plan can honour, found as `plan` finds them (`conflicts.check_pins` on the candidates)."""
    from teacheralloc.model.candidates import build_candidates
    from teacheralloc.model.conflicts import check_pins
    from teacheralloc.norms import compute_norms

    check_pins(build_candidates(county, compute_norms(county, rules), rules, table), table, rules)


def _unhonourable(county: County, rules: Policy) -> Callable[[pd.DataFrame], list[Problem]]:
    """The problems `_check_pins_as_plan` finds in a pins table, for `read_pins` to report with its own."""
    def problems(table: pd.DataFrame) -> list[Problem]:
        try:
            _check_pins_as_plan(county, rules, table)
        except InputError as error:
            return error.problems
        return []
    return problems


def _validate_scenario_pins(scenario: Scenario, pins: Path | None) -> None:
    """A scenario's pins (written in it, its hires', and --pins), checked as `plan` will check them."""
    from teacheralloc.compare import relabel_pin_problem
    from teacheralloc.io.pins import read_pins

    table = scenario.pins
    if pins is not None:
        table = pd.concat([table, read_pins(pins, scenario.county, scenario=True)], ignore_index=True)
    if table.empty:
        return
    try:
        _check_pins_as_plan(scenario.county, scenario.policy, table)
    except InputError as error:
        raise InputError([relabel_pin_problem(p, scenario) for p in error.problems]) from None
    hires = int(table["teacher_id"].isin(scenario.hire_ids).sum())
    console.print(f"指定：{len(table)} 项" + (f"（含新招聘教师待分配 {hires} 项）" if hires else "") + "，均可执行",
                  markup=False)


@app.command()
def template(
    out: Annotated[Path, typer.Argument(help="输出的空白模板 .xlsx")],
    force: Annotated[bool, typer.Option("--force", help="文件已存在时覆盖")] = False,
) -> None:
    """生成供人事股填写的空白 Excel 模板 (write a blank HR workbook)."""
    from teacheralloc.io.template import write_workbook

    if out.exists() and not force:
        raise OutputExistsError(f"{out} 已存在；请另选文件名，或加 --force 覆盖")
    if out.suffix.lower() != ".xlsx":
        raise InputError([Problem("命令行", None, "OUT", str(out), "以 .xlsx 结尾的文件名", rule="cli")])
    write_workbook(out)
    console.print(f"已写出模板：{out}（学校、班级、教师三张表，表头批注说明每列填写内容）", markup=False)


@app.command()
def sample(
    out: Annotated[Path, typer.Argument(help="输出：CSV 文件夹，或加 --xlsx 时的 .xlsx 文件")],
    teachers: Annotated[int, typer.Option("--teachers", min=50, help="教师人数（学校、学生按比例生成）")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子：相同参数生成相同数据")] = 0,
    staffing: Annotated[
        float | None, typer.Option("--staffing", min=0.3, max=3.0, help="在岗教师 ÷ 核定编制（如 0.97 为总量缺编）")
    ] = None,
    xlsx: Annotated[bool, typer.Option("--xlsx", help="写成一个 .xlsx 工作簿")] = False,
    chinese: Annotated[bool, typer.Option("--chinese", help="CSV 用中文文件名、表头与取值")] = False,
    encoding: Annotated[str, typer.Option("--encoding", help="CSV 编码：utf-8 或 gbk")] = "utf-8",
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="生成数据所按的基准日期 YYYY-MM-DD（年龄、任教年限）；默认 2026-09-01（内置模拟县即按此生成），"
                        "不随今天变化")] = None,
    force: ForceOpt = False,
) -> None:
    """生成确定性的模拟县数据 (generate a realistic, deterministic sample county)."""
    from teacheralloc.io.write import ensure_new_dir, write_county
    from teacheralloc.norms import required_total
    from teacheralloc.sample import generate_county

    if encoding.lower() not in ("utf-8", "utf8", "gbk", "gb18030"):
        raise InputError([Problem("命令行", None, "--encoding", encoding, "utf-8 或 gbk", rule="cli")])
    if xlsx:
        if out.suffix.lower() not in (".xlsx", ".xlsm"):  # read back only as a workbook by its name
            out = out.with_name(out.name + ".xlsx")
        if out.exists() and not force:
            raise OutputExistsError(f"{out} 已存在；请另选文件名，或加 --force 覆盖")
    else:
        ensure_new_dir(out, force=force)
    kwargs = {"num_teachers": teachers, "seed": seed, "staffing": staffing}
    reference = _as_of(as_of)
    if reference is not None:
        kwargs["as_of"] = reference
    county = generate_county(**kwargs)
    write_county(county, out, xlsx=xlsx, encoding=encoding, chinese=chinese)
    required = required_total(county)
    active = int((county.teachers["status"] == "active").sum())
    console.print(
        f"已生成模拟县：{len(county.schools)} 所学校（含教学点），{int(county.classes['students'].sum()):,} 名学生，"
        f"{len(county.teachers):,} 名教师（在岗 {active:,}），核定编制 {required:,.1f}，"
        f"在岗/编制 = {active / required:.3f}。写入 {out}",
        markup=False,
    )


@app.command()
def norms(
    data: DataArg,
    out: Annotated[Path, typer.Option("--out", help="输出目录（须为新目录）")],
    policy: PolicyOpt = None,
    as_of: AsOfOpt = None,
    force: ForceOpt = False,
) -> None:
    """核定编制、学科缺口与优质均衡指标 (staffing norms, subject gaps and quality indicators)."""
    from teacheralloc.io.write import ensure_new_dir
    from teacheralloc.norms import compute_norms
    from teacheralloc.report.norms import county_indicator_table, establishment_table, write_norms
    from teacheralloc.scenario import is_scenario_file

    if is_scenario_file(data):  # the county after the scenario's changes
        county, rules, protected = _scenario_county(data, as_of, policy)
    else:
        (rules, county), protected = _policy_and_county(data, policy, as_of), (data,)
    result = compute_norms(county, rules)
    folder = ensure_new_dir(out, force=force, protected=protected)
    written = write_norms(result, folder)
    summary = establishment_table(result).set_index("学段").drop(columns=["说明", "依据"]).T
    console.print(_table(summary, "县域编制测算（按学段）"))
    indicators = county_indicator_table(result)
    console.print(_table(indicators, "优质均衡教师指标：每百名学生（县域值与校际差异系数）", index=False))
    for text in establishment_table(result)["说明"]:
        console.print(text, markup=False)
    console.print("已写出：" + "、".join(str(p) for p in written), markup=False)


TimeLimitOpt = Annotated[
    float | None,
    typer.Option("--time-limit", min=1, help="求解时间上限（秒，全部目标层合计）；默认 120，情景文件可另定"),
]
SeedOpt = Annotated[int | None, typer.Option("--seed", min=0, help="求解器随机种子（默认 0，情景文件可另定）")]
PinsOpt = Annotated[Path | None, typer.Option("--pins", help="指定文件 pins.csv（默认读取数据文件夹中的 pins.csv）")]
AnonymizeOpt = Annotated[bool, typer.Option("--anonymize", help="所有输出中以教师编号代替姓名")]


@app.command()
def plan(
    data: DataArg,
    out: Annotated[Path, typer.Option("--out", help="输出目录（须为新目录）")],
    policy: PolicyOpt = None,
    pins: PinsOpt = None,
    time_limit: TimeLimitOpt = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="线程数（HiGHS 单线程求解，保证结果确定）")] = 1,
    seed: SeedOpt = None,
    as_of: AsOfOpt = None,
    force: ForceOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="不显示求解进度")] = False,
    anonymize: AnonymizeOpt = False,
) -> None:
    """生成调配方案：交流轮岗、支教、调剂，每项附理由 (plan rotations, support postings, redeployments).

    DATA 也可以是情景文件 scenarios/X.yaml（基础数据 + 变化，见 docs/scenarios.md）。
    """
    from teacheralloc.io.pins import find_pins, read_pins
    from teacheralloc.io.write import new_output_dir, write_plan
    from teacheralloc.model.solve import SolveParams, plan_county
    from teacheralloc.scenario import is_scenario_file

    if is_scenario_file(data):
        _plan_scenario(data, out, policy, pins, time_limit, workers, seed, as_of, force, quiet, anonymize)
        return
    time_limit, seed = time_limit or 120.0, seed or 0
    rules, county = _policy_and_county(data, policy, as_of)
    pinned = read_pins(find_pins(data, pins), county, honourable=_unhonourable(county, rules))
    with new_output_dir(out, force=force, protected=(data, *[p for p in (policy, pins) if p is not None])):
        progress = None if quiet else (lambda line: console.print(line, markup=False))
        result = plan_county(county, rules, pinned,
                             SolveParams(time_limit_s=time_limit, workers=workers, seed=seed), progress=progress)
        written = write_plan(result, out, rules, county=county, anonymize=anonymize, pins=pinned)
    _print_plan(result)
    console.print("已写出：" + "、".join(str(p) for p in written), markup=False)


def _plan_scenario(path: Path, out: Path, policy: Path | None, pins: Path | None, time_limit: float | None,
                   workers: int, seed: int | None, as_of: str | None, force: bool, quiet: bool,
                   anonymize: bool) -> None:
    """`plan scenarios/X.yaml`: the scenario's county, policy and pins (CLI flags win), then the plan."""
    import dataclasses

    from teacheralloc.compare import run_scenario
    from teacheralloc.io.pins import read_pins
    from teacheralloc.io.write import new_output_dir, write_plan
    from teacheralloc.scenario import load_scenario

    scenario = load_scenario(path, as_of=_as_of(as_of), policy_file=policy)
    if pins is not None:
        extra = read_pins(pins, scenario.county, scenario=True)
        scenario = dataclasses.replace(scenario, pins=pd.concat([scenario.pins, extra], ignore_index=True))
    with new_output_dir(out, force=force,
                        protected=(scenario.base, path, *[p for p in (policy, pins) if p is not None])):
        console.print(f"情景：{scenario.name}（{scenario.file}）{scenario.question}", markup=False)
        for line in scenario.changes:
            console.print("  " + line, markup=False)
        progress = None if quiet else (lambda line: console.print(line, markup=False))
        result = run_scenario(scenario, time_limit_s=time_limit, seed=seed, workers=workers, progress=progress)
        written = write_plan(result, out, scenario.policy, county=scenario.county, anonymize=anonymize,
                             pins=scenario.pins)
    _print_plan(result)
    console.print("已写出：" + "、".join(str(p) for p in written), markup=False)


@app.command()
def report(
    plan_dir: Annotated[Path, typer.Argument(help="方案目录（teacheralloc plan 的输出）")],
    data: Annotated[Path | None, typer.Option("--data", help="方案所用数据（方案目录缺 subjects.csv 或经纬度时读取；"
                                                            "默认 summary.json 中记录的数据路径）")] = None,
    anonymize: AnonymizeOpt = False,
) -> None:
    """由方案目录重新生成 plan.xlsx、report.html 和 establishment.md (regenerate the reports of a plan folder)."""
    from teacheralloc.report.plan_data import (
        anonymize_folder,
        missing_plan_files,
        needs_county,
        read_plan_folder,
        report_county,
    )
    from teacheralloc.report.plan_reports import write_reports

    missing = missing_plan_files(plan_dir)
    if missing:
        raise InputError([Problem(str(plan_dir), None, "", "、".join(missing) + " 不存在",
                                  "teacheralloc plan 的输出目录（含 plan.csv、schools.csv、summary.json）",
                                  rule="not_found")])
    county = report_county(plan_dir, data)
    if county is None and needs_county(plan_dir):
        err_console.print("[警告] 找不到方案所用的数据（summary.json 中记录的路径不存在）："
                          "报告中的学科缺口与学校分布图从略；用 --data 指定数据文件夹或 .xlsx", markup=False)
    written = []
    if anonymize:  # plan.csv's names become ids, and summary.json records it
        anonymize_folder(plan_dir)
        written += [plan_dir / name for name in ("plan.csv", "applicants.csv", "summary.json")
                    if (plan_dir / name).exists()]
    written += write_reports(read_plan_folder(plan_dir, county), plan_dir)
    console.print("已写出：" + "、".join(str(p) for p in written), markup=False)


def _print_plan(result: object) -> None:
    from teacheralloc.domain import MoveType, moves_within_school
    from teacheralloc.plan import STATUS_LABELS, Plan, quota_tier_text
    from teacheralloc.report.establishment import schools_short

    assert isinstance(result, Plan)
    summary = result.summary()
    moves = "，".join(f"{MoveType(k).label} {v}" for k, v in result.moves_by_type().items() if v)
    within = moves_within_school(result.moves)
    if within:  # 校内跨学段: a redeployment that leaves no school
        moves += f"；其中校内转任小学部 {within}"
    console.print(f"方案状态：{STATUS_LABELS.get(result.status, result.status)}；"
                  f"调动 {len(result.moves)} 人（{moves or '无'}）；"
                  f"用时 {result.wall_time:.1f} 秒", markup=False)
    base = int(summary["quota"]["eligible_base"])

    def shown(tier: str, x: float) -> object:
        return quota_tier_text(x, base) if tier == "quota" else (x if math.isfinite(x) else "—")

    tiers = pd.DataFrame([{"调配前": shown(t.name, t.before), "方案": shown(t.name, t.value),
                           "证明的界": shown(t.name, t.bound),
                           "差距": f"{t.gap:.2%}" if math.isfinite(t.gap) else "—",
                           "状态": STATUS_LABELS.get(t.status, t.status)} for t in result.tiers],
                         index=[t.label for t in result.tiers])
    console.print(_table(tiers, "分层目标（按优先次序）"))
    for note in result.notes:
        console.print(f"说明：{note}", markup=False, soft_wrap=True)
    schools = result.schools
    short_before = schools["gap_before"].clip(lower=0).sum()
    short_after = schools["gap_after"].clip(lower=0).sum()
    console.print(f"缺编（分校合计）：调配前 {short_before:.1f} 人 → 调配后 {short_after:.1f} 人；"
                  f"缺编学校 {schools_short(schools, 'gap_before')} → {schools_short(schools, 'gap_after')} 所",
                  markup=False)
    quota = summary["quota"]
    others = int(quota.get("rotations_all", quota["rotations"])) - int(quota["rotations"])
    console.print(f"交流轮岗：计入比例 {quota['rotations']} 人（应交流 {quota['required_rotations']} 人，"
                  f"基数 {quota['eligible_base']} 人），其中骨干教师 {quota['backbone_rotations']} 人"
                  + (f"；另有基数以外学校的交流 {others} 人" if others else ""), markup=False)
    for note in quota["shortfall"]:
        console.print("  " + note, markup=False)
    applied = summary["applicants"]
    if applied["total"]:
        console.print(f"申请交流：{applied['total']} 人，按志愿调动 {applied['moved_to_wish']} 人（第一志愿 "
                      f"{applied['first_wish']} 人）"
                      + (f"，未填志愿而调动 {applied['moved_without_wishes']} 人" if applied["moved_without_wishes"]
                         else "")
                      + f"，未调动 {applied['stayed']} 人" + ("（原因见 applicants.csv）" if applied["stayed"] else ""),
                      markup=False)


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="情景文件 .yaml（第一个为对比基准），如 scenarios/*.yaml")],
    out: Annotated[Path, typer.Option("--out", help="输出目录（须为新目录）")],
    policy: PolicyOpt = None,
    time_limit: TimeLimitOpt = None,
    seed: SeedOpt = None,
    jobs: Annotated[int | None, typer.Option("--jobs", min=1, help="并行求解的情景数（默认为 CPU 核数）")] = None,
    as_of: AsOfOpt = None,
    force: ForceOpt = False,
    anonymize: AnonymizeOpt = False,
) -> None:
    """情景对比：逐个求解情景，并排比较编制、缺编、学科缺口、调动与指标 (compare what-if scenarios).

    写出 compare.xlsx、compare.html、compare.json，以及每个情景的方案文件夹。
    """
    from teacheralloc.compare import compare_scenarios
    from teacheralloc.io.write import new_output_dir, write_plan
    from teacheralloc.report.compare import write_comparison
    from teacheralloc.scenario import is_scenario_file, load_scenario

    problems: list[Problem] = []
    loaded = []
    for path in scenarios:
        if not is_scenario_file(path):
            problems.append(Problem("命令行", None, "SCENARIOS", str(path), "情景文件（.yaml 或 .yml）", rule="cli"))
            continue
        try:
            loaded.append(load_scenario(path, as_of=_as_of(as_of), policy_file=policy))
        except InputError as error:  # every file's problems at once
            problems.extend(error.problems)
    if problems:
        raise InputError(problems)
    stems = [s.path.stem for s in loaded]
    if len(set(stems)) < len(stems):
        raise InputError([Problem("命令行", None, "SCENARIOS", "、".join(stems), "文件名互不相同的情景", rule="cli")])
    with new_output_dir(out, force=force, protected=tuple(s.base for s in loaded)) as folder:
        serial = jobs == 1 or len(loaded) == 1
        console.print(f"{len(loaded)} 个情景，{'逐个' if serial else '并行'}求解……", markup=False)
        result = compare_scenarios(loaded, time_limit_s=time_limit, seed=seed, workers=jobs,
                                   progress=lambda line: console.print(line, markup=False))
        written = write_comparison(result, folder)
    for item, scenario in zip(result.results, loaded, strict=True):
        assert item.plan is not None
        plan_dir = folder / scenario.path.stem
        plan_dir.mkdir(exist_ok=True)
        write_plan(item.plan, plan_dir, item.policy, county=scenario.county, anonymize=anonymize, pins=scenario.pins)
    _print_comparison(result)
    console.print("已写出：" + "、".join(str(p) for p in written)
                  + f"，及每个情景的方案文件夹（{folder}/<情景文件名>/）", markup=False)


def _print_comparison(result: object) -> None:
    from teacheralloc.compare import Comparison

    assert isinstance(result, Comparison)
    headline = ["required.total", "teachers_after.total", "shortage_after.total", "surplus_after.total",
                "subject_shortage.total", "request.total", "moves.total", "moves.new_hire"]
    table = result.table.set_index("code").loc[[c for c in headline if c in set(result.table["code"])]]
    names = [r.name for r in result.results]
    frame = table[[c for c in table.columns if c in names or str(c).startswith("Δ ")]]
    frame.index = [f"{label}（{stage}）" for label, stage in zip(table["label"], table["stage"], strict=True)]
    console.print(_table(frame, f"情景对比（用时 {result.wall_time:.1f} 秒，{result.workers} 个进程）"))
    for row in result.checks.itertuples(index=False):
        mark = "✓" if row.held else "✗"
        direction = {"up": "增加", "down": "减少", "same": "不变"}[row.expected]
        console.print(f"  {mark} {row.scenario}：{row.label} 预期{direction}，"
                      f"{_fmt(float(row.first))} → {_fmt(float(row.value))}", markup=False)


@app.command()
def check(
    data: DataArg,
    plan_dir: Annotated[Path, typer.Argument(help="方案目录（teacheralloc plan 的输出）")],
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="按此政策复核（默认按方案所用的政策：方案目录中的 policy_used.yaml）")] = None,
    pins: Annotated[Path | None, typer.Option(
        "--pins", help="按此指定复核（默认按方案所用的指定：方案目录中的 pins_used.csv）")] = None,
    as_of: AsOfOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="每项规则最多列出的违规条数")] = 10,
) -> None:
    """独立复核方案：逐条核对硬性规则并重算数字 (independently re-verify a written plan).

    DATA 也可以是情景文件 scenarios/X.yaml：按情景变化后的数据、政策与指定复核（新招聘教师作为新教师分配核对）。
    未给 --pins 时按方案所用的指定（方案目录中的 pins_used.csv）复核。
    """
    from teacheralloc.check import check_plan
    from teacheralloc.io.pins import PINS_USED, find_pins, read_pins
    from teacheralloc.io.read import load_county
    from teacheralloc.scenario import is_scenario_file, load_scenario

    when = _as_of(as_of) or _plan_as_of(plan_dir)
    holding: frozenset[str] = frozenset()
    used = plan_dir / PINS_USED if pins is None and (plan_dir / PINS_USED).is_file() else None
    if is_scenario_file(data):
        scenario = load_scenario(data, as_of=when, policy_file=policy)
        county, holding = scenario.county, frozenset(scenario.pool_schools)
        if used is not None:  # the scenario's pins and any given with --pins when it was planned
            pinned = read_pins(used, county)
        elif pins is not None:
            pinned = pd.concat([scenario.pins, read_pins(pins, county, scenario=True)], ignore_index=True)
        else:
            pinned = scenario.pins
        rules, reference = _plan_policy(plan_dir, scenario.policy, explicit=policy is not None)
    else:
        rules, reference = _check_policy(data, plan_dir, policy)
        county = load_county(data, as_of=when)
        pinned = read_pins(used or find_pins(data, pins), county, without_hires=used is not None)
    report = check_plan(county, rules, plan_dir, pinned, reference=reference, holding=holding)
    source, given = _plan_source(plan_dir), data.resolve()
    recorded = _plan_parameter(plan_dir, "data_fingerprint")
    if recorded and recorded != county.fingerprint() and (source is None or source == given):  # changed in place
        err_console.print(f"[警告] 复核所用数据（{given}）的内容与制定此方案时的数据不同（summary.json 记录的数据指纹 "
                          f"{recorded}，现为 {county.fingerprint()}）：数据在制定方案后改过，或不是同一份数据；"
                          "复核结果针对现在的数据", markup=False, soft_wrap=True)
    elif not report.ok and source is not None and source != given:  # 3,692 violations read as a bad plan
        err_console.print(f"[警告] 此方案由 {source} 制定（summary.json），复核所用数据为 {given}："
                          "若两者不是同一份数据，下面的违规多半由此而来", markup=False, soft_wrap=True)
    for line in report.summary_lines(limit):
        console.print(line, markup=False, soft_wrap=True)
    if not report.ok:
        console.print("下一步：方案若经手工改动，请改回或重新运行 teacheralloc plan（原用 --pins 的照样带上）生成方案，"
                      "再复核；若数据或政策改过，请用制定方案时的数据与 policy_used.yaml 复核。",
                      markup=False, soft_wrap=True)
        raise typer.Exit(code=1)


def _check_policy(data: Path, plan_dir: Path, policy: Path | None) -> tuple[Policy, Policy | None]:
    """The policy to check against and, when it is the plan's own, the county's to compare it with.

    Without --policy a plan is checked against the policy it was made with (its policy_used.yaml, like
    the reference date from its summary.json): a plan made with `--policy` then passes `check DATA
    PLANDIR` as it should, and the settings it changed are named in a warning. With --policy, that one
    (the auditor's rules); a policy_used.yaml that cannot be read: the county's, with a warning."""
    from teacheralloc.policy import load_policy

    return _plan_policy(plan_dir, load_policy(policy, dataset=data), explicit=policy is not None)


def _plan_policy(plan_dir: Path, county_policy: Policy, explicit: bool) -> tuple[Policy, Policy | None]:
    """The plan's own policy_used.yaml with the county's (or scenario's) `county_policy` as the reference;
    that one alone when it was given explicitly (--policy) or the plan has no readable policy file."""
    from teacheralloc.policy import load_policy

    used = plan_dir / "policy_used.yaml"
    if explicit or not used.is_file():
        return county_policy, None
    try:
        return load_policy(used), county_policy
    except InputError:  # check names it in a warning and goes on with the county's policy
        return county_policy, None


def _plan_source(plan_dir: Path) -> Path | None:
    """The data a plan was made from (summary.json's parameters: the scenario file, else the dataset),
    resolved; None if not recorded."""
    import json

    try:
        parameters = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))["parameters"]
        text = parameters.get("scenario") or parameters["source"]
        return Path(text).resolve() if text else None
    except (OSError, KeyError, ValueError, TypeError, AttributeError):
        return None


def _plan_parameter(plan_dir: Path, name: str) -> str | None:
    """One of summary.json's parameters as text; None if not recorded (plans made before it was)."""
    import json

    try:
        value = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))["parameters"].get(name)
        return str(value) if value else None
    except (OSError, KeyError, ValueError, TypeError, AttributeError):
        return None


def _plan_as_of(plan_dir: Path) -> date | None:
    """The reference date a plan was made with (from its summary.json), so check uses the same one."""
    import json

    try:
        text = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))["parameters"]["as_of"]
        return date.fromisoformat(text)
    except (OSError, KeyError, ValueError, TypeError):
        return None


def main() -> None:
    """Entry point: `_run`, with the garbage collector spared what lives until exit anyway.

    What the imports made (modules, classes, pandas, plotly…) is frozen first, so the collector's full
    passes during a plan skip it (they took ~0.25 s, ~0.05 s of it on the main thread); at the end,
    everything is frozen, so the passes at interpreter exit skip it too (~0.25 s). Atexit handlers
    still run; the memory goes back with the process.
    """
    gc.freeze()
    try:
        _run()
    finally:
        gc.freeze()


def _run() -> None:
    """Run the app, turning user mistakes into messages and exit code 2.

    Typer's standalone mode prints usage errors itself (exit 2) and exits; everything else that
    escapes a command is caught here so that a user never sees a traceback.
    """
    try:
        app()
    except InputError as error:
        _print_problems(error)
        sys.exit(2)
    except OutputExistsError as error:
        err_console.print(f"[错误] {error}", markup=False)
        sys.exit(2)
    except OSError as error:
        err_console.print(f"[错误] 文件操作失败：{error}", markup=False)
        sys.exit(2)
    except RuntimeError as error:
        from teacheralloc.model.tiers import SolverTimeout

        if not isinstance(error, SolverTimeout):
            raise
        err_console.print(f"[错误] {error}", markup=False)
        sys.exit(3)
    except Exception as error:  # a bug: a message, not a traceback (unless asked for)
        err_console.print(f"[内部错误] {type(error).__name__}: {error}", markup=False)
        if os.environ.get("TEACHERALLOC_DEBUG"):
            traceback.print_exc()
        else:
            err_console.print("设置环境变量 TEACHERALLOC_DEBUG=1 可查看详细信息；请将其报告给开发者。", markup=False)
        sys.exit(70)
