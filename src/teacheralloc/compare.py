"""Run scenarios and compare them (情景对比): each scenario planned, its figures side by side.

`run_scenario` plans one scenario with `plan_county` (the optimizer's public interface only) and
finishes the plan: new hires, who waited at virtual holding schools, become `new_hire` rows (新教师分配,
empty `from_school`), and the holding schools leave every table. `scenario_figures` reads the figures
a comparison shows (required posts, teachers, shortages by stage and subject, moves by type,
indicators, the establishment request) from the county before and after the plan.
`compare_scenarios` runs several scenarios in a process pool, one column each, with the difference
to the first and a check of each scenario's expected directions.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from teacheralloc.domain import County, Stage, Subject, moves_within_school
from teacheralloc.errors import InputError, Problem
from teacheralloc.model.candidates import any_distance_known
from teacheralloc.model.explain import UNKNOWN_DISTANCE, unknown_distance_note
from teacheralloc.norms import INDICATORS, Norms, compute_norms
from teacheralloc.plan import Plan, county_after, county_indicators
from teacheralloc.policy import Policy
from teacheralloc.report.establishment import posts_short, schools_short
from teacheralloc.scenario import MOVE_TYPES, STAGES, Scenario, figure_catalogue

DEFAULT_TIME_LIMIT = 120.0


# --------------------------------------------------------------------------------------------------
# One scenario
# --------------------------------------------------------------------------------------------------


def run_scenario(
    scenario: Scenario,
    time_limit_s: float | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Plan:
    """Plan a scenario and finish the plan (new hires as `new_hire` rows, holding schools removed).

    `time_limit_s` and `seed` (CLI flags) override the scenario's `solve:` section; default 120 s, seed 0.

    Raises
    ------
    InputError
        When pins (a hire's placement included) contradict the rules; problems about pins the scenario
        made name the scenario file, its line and key.
    """
    from teacheralloc.model.solve import SolveParams, plan_county

    params = SolveParams(time_limit_s=time_limit_s or scenario.time_limit_s or DEFAULT_TIME_LIMIT,
                         seed=seed if seed is not None else (scenario.seed or 0), workers=workers)
    try:
        plan = plan_county(scenario.county, scenario.policy, scenario.pins, params, progress=progress)
    except InputError as error:
        raise InputError([relabel_pin_problem(p, scenario) for p in error.problems]) from None
    # summary.json names the scenario file too: `check` must be given it, not the base county
    plan = dataclasses.replace(plan, parameters={**plan.parameters, "scenario": str(scenario.path.resolve())})
    return finish_plan(plan, scenario)


def relabel_pin_problem(problem: Problem, scenario: Scenario) -> Problem:
    """A problem about a pin the scenario made, named at the scenario file's line and key."""
    source = scenario.pin_sources.get(problem.row) if problem.row is not None else None
    if source is None:
        return problem
    line, key = source
    return dataclasses.replace(problem, file=scenario.file, row=line, column=key)


def without_pool(county: County, scenario: Scenario) -> County:
    """The county without the holding schools and whoever is still waiting there."""
    if not scenario.pool_schools:
        return county
    pools = set(scenario.pool_schools)
    return county.replace(schools=county.schools[~county.schools["school_id"].isin(pools)],
                          teachers=county.teachers[~county.teachers["school_id"].isin(pools)],
                          holding_schools=frozenset())


def finish_plan(plan: Plan, scenario: Scenario) -> Plan:
    """New hires' moves become `new_hire` (新教师分配) rows with an empty `from_school` and a reason
    naming the gap they fill; holding schools leave the school table, the causes and the county
    indicators (which are recomputed without them, before and after)."""
    if not scenario.hire_ids:
        return plan
    hires, pools = set(scenario.hire_ids), set(scenario.pool_schools)
    moves = plan.moves.copy()
    is_hire = moves["teacher_id"].isin(hires)
    if is_hire.any():
        moves.loc[is_hire, "move_type"] = "new_hire"
        moves.loc[is_hire, "from_school"] = ""
        moves.loc[is_hire, "reason"] = [_hire_reason(r, st, su) for r, st, su in zip(
            moves.loc[is_hire, "reason"], moves.loc[is_hire, "from_stage"], moves.loc[is_hire, "subject"], strict=True)]
        order = {kind: i for i, kind in enumerate(("new_hire", "redeploy", "rotation", "support"))}
        moves = moves.sort_values(["move_type", "from_school", "teacher_id"],
                                  key=lambda c: c.map(order) if c.name == "move_type" else c).reset_index(drop=True)
    before = compute_norms(without_pool(scenario.county, scenario), scenario.policy)
    after = compute_norms(without_pool(county_after(scenario.county, moves), scenario), scenario.policy)
    placed = int(is_hire.sum())
    # The note on unknown distances again, without the hires (they come from nowhere).
    notes = [note for note in plan.notes if not note.startswith(UNKNOWN_DISTANCE)]
    unknown_km = unknown_distance_note(moves, any_distance_known(scenario.county, scenario.policy))
    notes += [*([unknown_km] if unknown_km else []),
              f"新招聘教师 {len(hires)} 人，方案分配 {placed} 人（调配类型：新教师分配）"]
    if placed < len(hires):
        notes.append(f"{len(hires) - placed} 名新招聘教师未能分配（无空编学校）")
    into_pool = moves[moves["to_school"].isin(pools)]
    if len(into_pool):  # cannot happen while holding schools are at their establishment; say so if it does
        notes.append("注意：有教师被调往新招聘教师的待分配学校：" + "、".join(into_pool["teacher_id"]))
    return dataclasses.replace(
        plan,
        moves=moves,
        schools=plan.schools[~plan.schools["school_id"].isin(pools)].reset_index(drop=True),
        causes=plan.causes[~plan.causes["school_id"].isin(pools)].reset_index(drop=True),
        indicators=county_indicators(before, after),
        notes=tuple(notes),
    )


def _hire_reason(reason: str, stage: str, subject: str) -> str:
    head = str(reason).split("。")[0]
    label = f"{Stage(stage).label}{Subject(subject).label}" if stage in STAGES else ""
    return f"{head}。新招聘{label}教师，由县统筹分配到最需要的学校（新教师分配）。"


# --------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------


def scenario_figures(scenario: Scenario, plan: Plan) -> dict[str, float]:
    """The comparison's figures (codes of `scenario.figure_catalogue`) for one planned scenario.

    "Before" is the scenario's county before the plan (new hires not yet placed), "after" the county
    the plan leaves. The establishment request (`request`) is what the plan cannot fix: per school and
    stage, the whole posts still short after the plan (required rounded as `plan.headcount_rounding`, less
    the teachers on the books: `report.establishment.posts_short`), as establishment.md asks.
    """
    policy = scenario.policy
    before = compute_norms(without_pool(scenario.county, scenario), policy)
    after = compute_norms(without_pool(county_after(scenario.county, plan.moves), scenario), policy)
    return figures_from(before, after, plan, policy)


def figures_from(before: Norms, after: Norms, plan: Plan, policy: Policy) -> dict[str, float]:
    out: dict[str, float] = {"schools": float(before.schools["school_id"].nunique())}
    b, a = before.schools, after.schools
    # The request as establishment.md counts it: whole posts short of the teachers on the books (在编).
    held = plan.schools[plan.schools["school_id"].isin(a["school_id"])]
    requests = held.assign(request=posts_short(held, policy)).groupby("stage")["request"].sum()
    for stage in (*STAGES, "total"):
        pb = b if stage == "total" else b[b["stage"] == stage]
        pa = a if stage == "total" else a[a["stage"] == stage]
        sa = after.subjects if stage == "total" else after.subjects[after.subjects["stage"] == stage]
        out[f"students.{stage}"] = float(pb["students"].sum())
        out[f"classes.{stage}"] = float(pb["classes"].sum())
        out[f"required.{stage}"] = round(float(pb["required"].sum()), 2)
        out[f"teachers_before.{stage}"] = float(pb["teachers_before"].sum())
        out[f"teachers_after.{stage}"] = float(pa["teachers_before"].sum())
        out[f"net_gap.{stage}"] = round(float(pa["required"].sum() - pa["teachers_before"].sum()), 2)
        out[f"shortage_before.{stage}"] = round(float(pb["gap_before"].clip(lower=0).sum()), 2)
        out[f"shortage_after.{stage}"] = round(float(pa["gap_before"].clip(lower=0).sum()), 2)
        out[f"surplus_after.{stage}"] = round(float((-pa["gap_before"]).clip(lower=0).sum()), 2)
        out[f"schools_short_after.{stage}"] = float(schools_short(pa, "gap_before"))  # after the plan, once each
        out[f"subject_shortage.{stage}"] = round(float(sa["gap"].clip(lower=0).sum()), 2)
        out[f"request.{stage}"] = float(requests.sum() if stage == "total" else requests.get(stage, 0))
    subjects = after.subjects.assign(short=after.subjects["gap"].clip(lower=0))
    short = subjects.groupby(["stage", "subject"])["short"].sum()
    for stage in STAGES:
        for subject in Subject:
            out[f"subject_shortage.{stage}.{subject.value}"] = round(float(short.get((stage, subject.value), 0.0)), 2)
    counts = plan.moves_by_type()
    for kind in MOVE_TYPES:
        out[f"moves.{kind}"] = float(counts.get(kind, 0))
    out["moves.total"] = float(len(plan.moves))
    out["moves.within_school"] = float(moves_within_school(plan.moves))
    out["quota.required"] = float(plan.quota.get("required_rotations", 0))
    out["quota.rotations"] = float(plan.quota.get("rotations", 0))
    for tier in plan.tiers:
        out[f"tier.{tier.name}"] = round(float(tier.value), 4)
    county = after.county.set_index("stage")
    for key in INDICATORS:
        for stage in STAGES:
            present = stage in county.index
            for code, column in (("per100", f"per100_{key}"), ("cv", f"cv_{key}"),
                                 ("meeting", f"schools_meeting_{key}")):
                out[f"{code}_{key}.{stage}"] = float(county.at[stage, column]) if present else float("nan")
    return out


# --------------------------------------------------------------------------------------------------
# Several scenarios
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioResult:
    """One planned scenario: what it is, its plan's headline, its figures."""

    name: str
    file: str
    question: str
    changes: tuple[str, ...]
    expect: dict[str, str]
    status: str
    seconds: float
    figures: dict[str, float]
    plan: Plan | None = None
    policy: Policy | None = None
    as_of: str = ""


@dataclass(frozen=True)
class Comparison:
    """Scenarios side by side: `table` has one row per figure (code, group, label, stage) and one
    column per scenario, then `Δ <name>` = scenario − the first; `checks` the expected directions."""

    results: tuple[ScenarioResult, ...]
    table: pd.DataFrame
    checks: pd.DataFrame
    wall_time: float
    workers: int
    notes: tuple[str, ...] = field(default_factory=tuple)


def _plan_one(scenario: Scenario, time_limit_s: float | None, seed: int | None
              ) -> tuple[Plan, dict[str, float], float] | list[Problem]:
    """Worker: plan one scenario and read its figures (runs in a separate process). Problems come
    back as a list (an exception carrying them would not cross the process boundary intact)."""
    started = time.perf_counter()
    try:
        plan = run_scenario(scenario, time_limit_s=time_limit_s, seed=seed)
    except InputError as error:
        return list(error.problems)
    return plan, scenario_figures(scenario, plan), time.perf_counter() - started


def compare_scenarios(
    scenarios: list[Scenario],
    time_limit_s: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Plan every scenario (in parallel, at most one process per core) and compare them.

    Parameters
    ----------
    scenarios
        Loaded scenarios; the first is the reference for the differences and the expected directions.
    time_limit_s, seed
        Override every scenario's `solve:` section (default: the scenario's, else 120 s and seed 0).
    workers
        Processes; default min(number of scenarios, cores). 1 runs in this process.

    Raises
    ------
    InputError
        Every scenario's problems (pins no plan can honour), after all have run.
    """
    started = time.perf_counter()
    workers = max(1, min(workers or (os.cpu_count() or 1), len(scenarios)))
    outcomes: dict[int, tuple[Plan, dict[str, float], float]] = {}
    problems: list[Problem] = []

    def take(i: int, outcome: Any) -> None:
        """A scenario's plan, or its input problems (returned, not raised: they cross processes)."""
        if isinstance(outcome, list):
            problems.extend(outcome)
            return
        outcomes[i] = outcome
        if progress:
            progress(f"情景 {scenarios[i].name} 完成（{outcome[2]:.1f} 秒）")

    if workers == 1:
        for i, scenario in enumerate(scenarios):
            take(i, _plan_one(scenario, time_limit_s, seed))
    else:
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # no fork of a process that may hold solver threads
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(_plan_one, s, time_limit_s, seed): i for i, s in enumerate(scenarios)}
            for future in as_completed(futures):
                take(futures[future], future.result())
    if problems:
        raise InputError(problems)
    results = tuple(
        ScenarioResult(name=s.name, file=s.file, question=s.question, changes=s.changes, expect=s.expect,
                       status=outcomes[i][0].status, seconds=outcomes[i][2], figures=outcomes[i][1],
                       plan=outcomes[i][0], policy=s.policy, as_of=s.county.as_of.isoformat())
        for i, s in enumerate(scenarios)
    )
    notes = []
    dates = {s.county.as_of for s in scenarios}
    if len(dates) > 1:
        notes.append("各情景的基准日期不同：" + "、".join(f"{s.name} {s.county.as_of}" for s in scenarios))
    return Comparison(results=results, table=comparison_table(results), checks=expectation_checks(results),
                      wall_time=time.perf_counter() - started, workers=workers, notes=tuple(notes))


def _unique_names(results: tuple[ScenarioResult, ...]) -> list[str]:
    names: list[str] = []
    for result in results:
        name = result.name
        if name in names:
            name = f"{name}（{result.file}）"
        names.append(name)
    return names


def comparison_table(results: tuple[ScenarioResult, ...]) -> pd.DataFrame:
    """One row per figure, one column per scenario, then `Δ name` columns (scenario − first).

    Per-subject rows appear only for subjects short somewhere in some scenario; indicator rows only
    for stages present."""
    catalogue = figure_catalogue()
    names = _unique_names(results)
    rows = []
    for code, (group, label, stage) in catalogue.items():
        values = [r.figures.get(code, float("nan")) for r in results]
        if code.startswith("subject_shortage.") and code.count(".") == 2 and all(
                (v != v) or abs(v) < 0.05 for v in values):
            continue
        if all(v != v for v in values):
            continue
        row: dict[str, Any] = {"code": code, "group": group, "label": label, "stage": stage}
        row.update(dict(zip(names, values, strict=True)))
        for name, value in zip(names[1:], values[1:], strict=True):
            known = value == value and values[0] == values[0]
            row[f"Δ {name}"] = round(value - values[0], 4) if known else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def expectation_checks(results: tuple[ScenarioResult, ...]) -> pd.DataFrame:
    """Each scenario's `expect:` against the first scenario: held (是) or not (否)."""
    catalogue = figure_catalogue()
    first = results[0].figures if results else {}
    rows = []
    for result in results[1:]:
        for code, direction in result.expect.items():
            base, value = first.get(code, float("nan")), result.figures.get(code, float("nan"))
            delta = value - base
            held = {"up": delta > 1e-9, "down": delta < -1e-9, "same": abs(delta) <= 1e-9}[direction]
            _group, label, stage = catalogue[code]
            rows.append({"scenario": result.name, "code": code, "label": f"{label}（{stage}）", "expected": direction,
                         "first": base, "value": value, "delta": round(delta, 4), "held": bool(held)})
    columns = ["scenario", "code", "label", "expected", "first", "value", "delta", "held"]
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "Comparison",
    "ScenarioResult",
    "compare_scenarios",
    "comparison_table",
    "expectation_checks",
    "finish_plan",
    "relabel_pin_problem",
    "run_scenario",
    "scenario_figures",
]
