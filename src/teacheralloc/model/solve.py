"""Plan a county (调配方案): norms → candidates → pooled model → tiers → exact lower tiers → named moves.

The first tiers are solved on the pooled model (`tiers.solve_tiers`); the disruption and wishes tiers
then on school-to-school arcs (small counties), on school-to-school paths priced from the pooled model
(`paths`, larger ones), or pooled (the largest, or when time is short). The plan's flows are routed
school to school, named (`assign`), given reasons (`explain`) and figures before and after.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from teacheralloc.domain import County
from teacheralloc.errors import InputError, Problem
from teacheralloc.model.builder import AllocationModel, build_model
from teacheralloc.model.candidates import (
    Candidates,
    any_distance_known,
    build_candidates,
    capped_sections,
    distance_known,
    leaving_cap,
    unit_id,
)
from teacheralloc.model.conflicts import CONFLICT_RULES, QuotaBinding, check_pins, quota_binding, rule_conflicts
from teacheralloc.model.engine import SolveParams, Solver, release_memory
from teacheralloc.model.explain import ahead_of
from teacheralloc.model.tiers import (
    SolverTimeout,
    at_last_plan,
    progress_line,
    solve_tiers,
    tier_before,
    within_gap,
)
from teacheralloc.norms import Norms, compute_norms
from teacheralloc.plan import Plan, TierResult, county_after, county_indicators
from teacheralloc.policy import Policy

log = logging.getLogger("teacheralloc")

@dataclass(frozen=True)
class Solution:
    """Raw solver output: the flow on every arc and the tier results."""

    candidates: Candidates
    norms: Norms
    flows: pd.DataFrame  # the arcs with flow > 0, with a `flow` column
    tiers: tuple[TierResult, ...]
    status: str
    model_size: dict[str, int]
    exact_lower: bool = False  # the lower tiers were solved on school-to-school arcs after the pooled ones
    priced: bool = False  # ... on school-to-school paths priced from the pooled model (model/paths.py)
    notes: tuple[str, ...] = ()  # why the lower tiers were solved pooled when they could not be exact (中文)
    quota_binding: QuotaBinding | None = None  # the rules keeping the quota short (`quota_binding`)


def solve_county(
    county: County,
    policy: Policy,
    pins: pd.DataFrame,
    params: SolveParams,
    norms: Norms | None = None,
    progress: Callable[[str], None] | None = None,
) -> Solution:
    """Norms → candidates → model → tiered solve. Raises InputError for pins no plan can honour."""
    norms = norms or compute_norms(county, policy)
    candidates = build_candidates(county, norms, policy, pins, mode=params.mode)
    check_pins(candidates, pins, policy)
    if progress:
        progress(f"模型：{len(candidates.groups):,} 组教师，{len(candidates.arcs):,} 个候选调动")
    built = build_model(candidates, policy)
    size = {"groups": len(candidates.groups), "arcs": len(candidates.arcs),
            "variables": built.model.num_variables, "constraints": built.model.num_rows}
    started = time.perf_counter()
    order = tuple(policy.plan.tiers)
    split = min([order.index(name) for name in LOWER_TIERS if name in order], default=len(order))
    exact = None
    notes: list[str] = []
    lower = candidates.mode == "hub" and params.mode is None and split < len(order)
    estimate = _pairs_estimate(candidates) if lower else 0
    priced = lower and policy.plan.exact_distance_arcs < estimate <= policy.plan.priced_paths
    if lower and (estimate <= policy.plan.exact_distance_arcs or priced):
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Built while the pooled tiers solve (the solver releases the GIL): ~0.7 s on the sample county.
            exact_model = None if priced else pool.submit(_exact_model, county, norms, policy, pins, params.seed)
            values, tiers, status = solve_tiers(built, params, None, names=order[:split], started=started)
            if progress:
                for tier in tiers:
                    progress(progress_line(order, tier, built.candidates.quota_base))
            solved = status in ("optimal", "feasible")
            if solved and priced and not _time_for_paths(params, estimate):
                log.info("priced paths skipped: %.0f s left after the first tiers",
                         params.time_limit_s - (time.perf_counter() - started))
                notes.append("剩余时间不足以按实际距离逐对定价，扰动与意愿两层按汇集模型求解（距离按下界估计）："
                             "加大 --time-limit 可得更紧的界")
            elif solved:
                exact = _solve_paths(built, values, tiers, params, progress, started) if priced else \
                    _solve_exact(*exact_model.result(), candidates, values, tiers, params, progress, started)
                if exact is None:
                    notes.append("前几层的汇集方案无法逐对表示，扰动与意愿两层按汇集模型求解（距离按下界估计）")
        if exact is not None:
            candidates, pairs_built, values, rest, rest_status = exact
            tiers = tiers + rest
            status = rest_status if rest_status != "optimal" else status
            size = {**size, "exact_arcs": len(candidates.arcs), "exact_variables": pairs_built.model.num_variables}
            if priced:
                size["priced_paths"] = estimate
        elif solved:  # the lower tiers pooled, from the pooled plan of the first tiers
            values, tiers, status = _pooled_rest(built, params, progress, tiers, values, status, started)
        elif status == "time_limit":  # the lower tiers at the last plan found, as solve_tiers reports them
            last = np.zeros(built.model.num_variables)
            last[built.flow] = values
            rest = order[split:]
            befores = {name: tier_before(name, candidates, policy) for name in rest}
            tiers = tiers + tuple(at_last_plan(built, last, rest, befores, Solver(built, params.seed)))
    else:
        values, tiers, status = solve_tiers(built, params, progress, started=started)
        if lower:  # too many school-to-school paths to price within the budget
            notes.append(f"扰动与意愿两层按汇集模型求解：学校间距离按下界估计，扰动层的界因此偏松；本县逐对路径约 "
                         f"{estimate:,} 条，超过 plan.priced_paths（{policy.plan.priced_paths:,}）。提高该设置并加大 "
                         "--time-limit（两万教师约 600 秒）可按实际距离求得紧的界")
    if status == "infeasible":
        raise InputError(rule_conflicts(built, pins, params))
    flows = candidates.arcs.assign(flow=np.rint(values).astype(int))
    flows = flows[flows["flow"] > 0].reset_index(drop=True)
    quota = next((t for t in tiers if t.name == "quota"), None)
    binding = None
    # a rotation short, and the quota first (ranked later, the tiers ahead of it are the cause named)
    if quota is not None and order[0] == "quota" and quota.value >= built.candidates.quota_base + 1 - 1e-6:
        before = time.perf_counter()
        binding = quota_binding(built, params, params.time_limit_s - (before - started))
        log.debug("quota binding: %s in %.2fs", binding, time.perf_counter() - before)
    return Solution(candidates=candidates, norms=norms, flows=flows, tiers=tiers, status=status, model_size=size,
                    exact_lower=exact is not None, priced=exact is not None and priced, notes=tuple(notes),
                    quota_binding=binding)


#: Tiers whose value depends on which school sends to which (distances, wishes): exact on school-to-school arcs.
LOWER_TIERS = ("disruption", "wishes")


def _pooled_rest(built: AllocationModel, params: SolveParams, progress: Callable[[str], None] | None,
                 known: tuple[TierResult, ...], values: np.ndarray, status: str, started: float
                 ) -> tuple[np.ndarray, tuple[TierResult, ...], str]:
    """The tiers after `known` on the pooled model, from its plan of the first tiers (`values`), with
    those held at their values: when paths cannot be priced in the time left, or the plan does not fit
    the school-to-school model."""
    order = tuple(built.policy.plan.tiers)
    values, rest, rest_status = solve_tiers(built, params, progress, names=order[len(known):], known=known,
                                            start_flows=values, started=started)
    if rest_status == "no_start":  # never seen: every tier pooled
        return solve_tiers(built, params, progress, started=started)
    return values, known + rest, rest_status if rest_status != "optimal" else status


def _pairs_estimate(candidates: Candidates) -> int:
    """How many school-to-school arcs the pooled model stands for: each way of leaving (a leave arc) times
    the units its pool and the pools below it in a rotation cascade can reach."""
    arcs = candidates.arcs
    reach = arcs[arcs["kind"] == "arrive"].groupby("pool").size().reindex(candidates.pools["pool"], fill_value=0)
    lower = arcs[arcs["kind"] == "cascade"].set_index("pool")["pool_to"]
    total = reach.copy()
    for pool in reach.index:  # a cascade is a chain: add every pool below
        current = pool
        while current in lower.index:
            current = int(lower[current])
            total[pool] += reach.get(current, 0)
    leave = arcs[arcs["kind"] == "leave"]
    return int(total.reindex(leave["pool"]).sum()) + int((arcs["kind"] == "direct").sum())


def _exact_model(county: County, norms: Norms, policy: Policy, pins: pd.DataFrame, seed: int
                 ) -> tuple[Candidates, AllocationModel, Solver]:
    """The school-to-school candidates, model and solver for the exact lower tiers."""
    pairs = build_candidates(county, norms, policy, pins, mode="pairs")
    built = build_model(pairs, policy)
    solver = Solver(built, seed)
    release_memory()
    return pairs, built, solver


def _solve_exact(
    pairs: Candidates, built: AllocationModel, solver: Solver, hub: Candidates, values: np.ndarray,
    known: tuple[TierResult, ...], params: SolveParams, progress: Callable[[str], None] | None, started: float,
) -> tuple[Candidates, AllocationModel, np.ndarray, tuple[TierResult, ...], str] | None:
    """The lower tiers on school-to-school arcs (精确距离), started from the pooled plan routed, with the
    tiers solved on the pooled model held at their values. Pooling prices a move's distance at a lower
    bound, so its disruption bound is loose and its plan a little long (sample county: bound 385.4 and
    plan 392.0 pooled, against 389.28 and 389.36 here); the school-to-school model is exact, and column
    generation keeps its LPs to the arcs that matter. None when the pooled plan does not fit (never seen)."""
    from teacheralloc.model.routes import route_flows

    flows = hub.arcs.assign(flow=np.rint(values).astype(int))
    routes = route_flows(hub, flows[flows["flow"] > 0].reset_index(drop=True))
    key = ["group", "dest", "taught", "move_type", "cross_stage"]
    position = pd.MultiIndex.from_frame(pairs.arcs[key]).get_indexer(pd.MultiIndex.from_frame(routes[key]))
    if (position < 0).any():
        log.info("exact tiers skipped: %d pooled moves have no school-to-school arc", int((position < 0).sum()))
        return None
    start = np.zeros(len(pairs.arcs))
    np.add.at(start, position, routes["count"].to_numpy(dtype=float))
    order = tuple(built.policy.plan.tiers)
    rest = order[len(known):]
    values, tiers, status = solve_tiers(built, params, progress, names=rest, known=known, start_flows=start,
                                        started=started, exact_distances=True, solver=solver)
    if status == "no_start":
        log.info("exact tiers skipped: the pooled plan does not fit the school-to-school model")
        return None
    return pairs, built, values, tiers, status


#: Priced paths are tried only when the time limit allows this many seconds per million school-to-school
#: paths (at least a million): when the limit falls while pricing, the plan is the last restricted LP's,
#: which can be worse than the pooled one (10,000 teachers, `--time-limit 35`: disruption 2813 priced,
#: 2225 pooled). Measured on this project's 2-core machine, the whole plan with pricing: 5,000 teachers
#: (0.97 million paths) 19 s, 10,000 (3.6 million) 54 s, 20,000 (14.6 million) 209 s. A rate on the
#: county's size, not the time the first tiers took: the same input and settings choose the same way
#: however loaded the machine (measured CPU time sat at the threshold for a 6,000-teacher county).
PRICED_SECONDS_PER_MILLION = 20.0


def _time_for_paths(params: SolveParams, paths: int) -> bool:
    return params.time_limit_s >= PRICED_SECONDS_PER_MILLION * max(paths, 1_000_000) / 1e6


def _solve_paths(
    hub: AllocationModel, values: np.ndarray, known: tuple[TierResult, ...], params: SolveParams,
    progress: Callable[[str], None] | None, started: float,
) -> tuple[Candidates, AllocationModel, np.ndarray, tuple[TierResult, ...], str] | None:
    """The lower tiers on school-to-school paths priced from the pooled model (`paths`): for counties
    whose school-to-school model is too big to build (20,000 teachers: 14.6 million arcs), the same
    exact distances and bounds, holding only the paths the LPs use. Started from the pooled plan
    routed; None when it does not fit (never seen)."""
    from teacheralloc.model.paths import DROP_ABOVE, PathSpace
    from teacheralloc.model.routes import route_flows

    flows = hub.candidates.arcs.assign(flow=np.rint(values).astype(int))
    routes = route_flows(hub.candidates, flows[flows["flow"] > 0].reset_index(drop=True))
    try:
        space = PathSpace(hub, routes)
    except ValueError as error:  # the routed plan is not a set of paths (never seen): the pooled tiers stand
        log.info("priced paths skipped: %s", error)
        return None
    solver = Solver(space.built, params.seed)
    solver.pricer = space.pricer
    solver.drop_above = DROP_ABOVE
    solver.completer = space.complete
    order = tuple(hub.policy.plan.tiers)
    rest = order[len(known):]
    values, tiers, status = solve_tiers(space.built, params, progress, names=rest, known=known,
                                        start_flows=space.start, started=started, exact_distances=True, solver=solver)
    if status == "no_start":
        log.info("priced paths skipped: the pooled plan does not fit the path model")
        return None
    log.debug("priced paths: %d held of %d", len(space.built.flow), space.paths)
    return space.candidates(), space.built, values, tiers, status


#: What to relax when a rule keeps the rotation quota short (`conflicts.quota_binding`).
QUOTA_REMEDIES = {
    "max_leaving": "放宽 rotation.max_share_leaving_school",
    "establishment_cap": "核增接收学校的编制（schools.establishment）",
    "arrival_cap": "为接收学校填写核定编制（schools.establishment）：未填时按标准人数为上限",
    "redeploy_from_surplus": "让接收学校的非富余教师也可调出对调",
    "cross_stage_from_surplus": "允许初中非富余教师跨学段到小学（rules.cross_stage_from_surplus）",
    "no_return_to_own_school": "允许初中富余教师转任本校小学部（plan.within_school_cross_stage: true）",
}


def _quota_causes(candidates: Candidates, policy: Policy, rotated: int,
                  binding: QuotaBinding | None = None) -> str:
    """Why the rotation quota is short, naming what binds where it can be seen from the data alone: no
    school at a lower level to rotate to (方向), every such school at its 核定编制, or the yearly leaving
    cap letting fewer eligible teachers go than the quota asks; past those, the rules whose relaxation
    lets the quota LP rotate more (`binding`, from `conflicts.quota_binding`); without it, the
    restrictions together."""
    units, teachers = candidates.units, candidates.teachers
    eligible = teachers[teachers["rotation_eligible"]]
    if candidates.quota_schools is not None:
        eligible = eligible[eligible["school_id"].isin(candidates.quota_schools)]
    level = units.drop_duplicates("school_id").set_index("school_id")["level"]
    top = eligible.assign(level=eligible["school_id"].map(level)).groupby(eligible["stage"].astype(str))["level"].max()
    # Where a rotation could go: a section of an eligible teacher's stage, below the highest such teacher's level.
    lower = units[units["level"] < units["stage"].astype(str).map(top).fillna(-np.inf)]
    full = lower["school_posts"] >= lower["establishment"].fillna(np.inf)
    if policy.plan.arrivals_within_shortage:  # no 核定编制: the norm stands for it (rules.arrival_cap)
        full |= lower["establishment"].isna() & (lower["before"] >= np.ceil(lower["target"] - 1e-9))
    share = policy.rotation.max_share_leaving_school
    posts = units.drop_duplicates("school_id").set_index("school_id")["school_posts"]
    cap = pd.Series(leaving_cap(posts, share), index=posts.index)
    # Each school lets go its eligible teachers up to its cap and, by stage, its sections' caps.
    sections = capped_sections(units, policy).set_index("unit")["cap"]
    section = unit_id(eligible["school_id"], eligible["stage"].astype(str))
    by_section = eligible.groupby(section).size()
    section_room = np.minimum(by_section, sections.reindex(by_section.index).fillna(np.inf))
    room = section_room.groupby(section_room.index.str.split("|").str[0]).sum()
    can_leave = int(np.minimum(room, cap.reindex(room.index)).sum()) if len(eligible) else 0
    limit = "" if policy.plan.max_km is None else f"、调动距离上限（plan.max_km {policy.plan.max_km:g} 公里）"
    # Past the data: the rules whose rows the quota LP finds binding (the leaving cap named apart above)
    found, jointly = binding if binding is not None else ((), False)
    named = [rule for rule in found if jointly or not (rule == "max_leaving" and can_leave < candidates.quota_target)]
    rules = ("与" if jointly else "、").join(f"“{CONFLICT_RULES[rule][0]}”" for rule in named)
    remedies = ("并" if jointly else "，或").join(QUOTA_REMEDIES.get(rule, "放宽该规则") for rule in named)
    if binding is None:
        rest = f"受交流方向{limit}、接收学校编制或排在前面的目标层限制"
    elif named:
        rest = f"受{rules}{'共同' if jointly else ''}限制：{remedies}即可多交流"
        if full.any() and "establishment_cap" not in named:
            # Schools at their 核定编制 before the plan have no arcs, so no row of theirs can bind: named
            # from the data (a tester's county met its quota once one such school's posts were raised).
            closed = lower.loc[full & lower["establishment"].notna(), "school_id"].unique()
            if len(closed):
                rest += (f"；另有 {len(closed)} 所可接收交流的学校已达核定编制（{'、'.join(sorted(closed)[:5])}"
                         f"{'等' if len(closed) > 5 else ''}），不接收调入：核增其编制也可多交流")
    else:
        held = f"和已达核定编制的 {lower.loc[full, 'school_id'].nunique()} 所学校（不接收调入）" if full.any() else ""
        rest = (f"受交流方向（城区、优质学校向乡村、薄弱学校）{limit}{held}所限：符合条件的教师没有更多可去的学校"
                "（放宽调出、调入限制也不能多交流）")
    causes = []
    if lower.empty:
        causes.append("符合条件的教师没有可交流去的同学段学校（交流方向：城区、优质学校向乡村、薄弱学校）")
    elif full.all():
        # Then a rotation in is one of their own teachers out (对调), within their own leaving caps.
        swaps = int(cap.reindex(lower["school_id"].unique()).fillna(0).sum())
        swapped = (f"，只能对调，而这些学校一年最多调出 {swaps} 人（rotation.max_share_leaving_school {share:.0%}），"
                   f"故至多交流 {swaps} 人") if swaps < candidates.quota_target else ""
        causes.append(f"可接收交流的 {lower['school_id'].nunique()} 所学校均已达核定编制（未填的按标准人数），"
                      f"不能净调入{swapped}")
    ahead = ahead_of("quota", policy)
    if ahead:
        causes.append(f"plan.tiers 把{ahead}排在轮岗比例之前，这些目标优先")
    if can_leave < candidates.quota_target:
        by_stage = "（有多个学段的学校各学段也各自计，rotation.leaving_cap_by_stage）" if len(sections) else ""
        causes.append(f"单校一年调出不超过其教师的 {share:.0%}（rotation.max_share_leaving_school）{by_stage}，"
                      f"各校符合条件的教师最多可调出 {can_leave} 人")
        if rotated < can_leave:  # the cap alone would allow more: say what else binds
            causes.append(f"其余 {can_leave - rotated} 人又{rest}")
    if causes:
        return "；".join(causes)
    if binding is None:
        return (f"符合条件且可派出的教师受交流方向、单校调出比例上限（{share:.0%}）{limit}和接收学校编制限制"
                "（合在一起，不能再多派出）")
    return rest


def _quota(candidates: Candidates, moves: pd.DataFrame, policy: Policy,
           binding: QuotaBinding | None = None) -> dict[str, object]:
    """summary.json's quota figures: the rotations counted toward the quota (out of the base's schools),
    every rotation (`rotations_all`), the backbone share, and why a quota is short if it is."""
    every = moves[moves["move_type"] == "rotation"]
    rotated = every if candidates.quota_schools is None else every[every["from_school"].isin(candidates.quota_schools)]
    teachers = candidates.teachers.set_index("teacher_id")
    backbone = int(teachers.loc[rotated["teacher_id"], "backbone_flag"].sum()) if len(rotated) else 0
    share = policy.rotation.min_backbone_share_of_rotators
    needed_backbone = int(np.ceil(share * len(rotated) - 1e-9))
    # Counted where rotations count (the quota's base schools): a backbone teacher of a rural school
    # was counted though their rotation could not count toward the quota.
    pool = candidates.teachers["rotation_eligible"] & candidates.teachers["backbone_flag"]
    if candidates.quota_schools is not None:
        pool &= candidates.teachers["school_id"].isin(candidates.quota_schools)
    eligible_backbone = int(pool.sum())
    where = "全县" if candidates.quota_schools is None else "比例基数内的学校（城区、镇区非薄弱学校）"
    notes = []
    if len(rotated) < candidates.quota_target:
        notes.append(f"交流轮岗 {len(rotated)} 人，少于应交流 {candidates.quota_target} 人："
                     + _quota_causes(candidates, policy, len(rotated), binding))
    if backbone < share * len(rotated) - 1e-9:
        notes.append(f"交流的骨干教师 {backbone} 人，少于交流人数的 {share:.0%}（{needed_backbone} 人）："
                     f"{where}符合交流条件的骨干教师仅 {eligible_backbone} 人"
                     + ("" if eligible_backbone < needed_backbone else "，且受交流方向、调出比例与本人志愿等限制"))
    return {
        "eligible_base": candidates.quota_base,
        "required_rotations": candidates.quota_target,
        "rotations": len(rotated),
        "rotations_all": len(every),
        "backbone_rotations": backbone,
        "backbone_required": needed_backbone,
        "rotation_quota_met": len(rotated) >= candidates.quota_target,
        "backbone_quota_met": backbone >= share * len(rotated) - 1e-9,
        "shortfall": notes,
    }


def plan_county(
    county: County,
    policy: Policy,
    pins: pd.DataFrame | None = None,
    params: SolveParams | None = None,
    progress: Callable[[str], None] | None = None,
) -> Plan:
    """The whole plan: norms → model → tiered solve → routes → named teachers → reasons → figures.

    Parameters
    ----------
    county, policy
        A validated county and its policy.
    pins
        User pins (`io.pins.read_pins`); default none.
    params
        Solver settings; default `SolveParams()` (60 s, seed 0).

    Raises
    ------
    InputError
        When pins contradict the rules (naming the pin and what to relax).
    """
    from teacheralloc.io.pins import empty_pins
    from teacheralloc.model.applicants import applicant_outcomes
    from teacheralloc.model.assign import name_teachers
    from teacheralloc.model.explain import (
        indicator_drop_note,
        move_reasons,
        shortage_causes,
        shortage_shift_note,
        unknown_distance_note,
    )
    from teacheralloc.model.routes import route_flows, routed_disruption
    from teacheralloc.versions import versions

    started = time.perf_counter()
    pins = empty_pins() if pins is None else pins
    params = params or SolveParams()
    county = county.in_key_order()  # the same plan however the bureau sorted its lists
    norms = compute_norms(county, policy)
    solution = solve_county(county, policy, pins, params, norms=norms, progress=progress)
    candidates = solution.candidates
    if solution.status == "infeasible":
        raise InputError([Problem("policy", None, "", "",
                                  "规则之间相互矛盾，无可行方案：检查 pins.csv 与 plan、rotation 设置",
                                  rule="infeasible")])
    routes = route_flows(candidates, solution.flows)
    named = name_teachers(routes, candidates.teachers)
    groups = candidates.groups.set_index("group")
    units = candidates.units.set_index("unit")
    teachers = candidates.teachers.set_index("teacher_id")
    moves = pd.DataFrame({
        "teacher_id": named.get("teacher_id", pd.Series(dtype=object)),
        "from_school": named["group"].map(groups["school_id"]) if len(named) else [],
        "to_school": named["dest"].map(units["school_id"]) if len(named) else [],
        "move_type": named.get("move_type", pd.Series(dtype=object)),
        "subject": named.get("taught", pd.Series(dtype=object)),
        "from_stage": named["group"].map(groups["stage"]) if len(named) else [],
        "to_stage": named["dest"].map(units["stage"]) if len(named) else [],
        "km": named.get("km", pd.Series(dtype=float)).astype(float).round(1),
        "voluntary": named.get("voluntary", pd.Series(dtype=bool)).astype(bool),
        "wish_rank": named.get("wish_rank", pd.Series(dtype=int)).astype(int),
    })
    # The arcs' labels are categories (memory); the plan's table holds plain strings.
    moves = moves.astype({col: "str" for col in moves.columns if isinstance(moves[col].dtype, pd.CategoricalDtype)})
    moves.loc[~distance_known(county, moves["from_school"], moves["to_school"]), "km"] = np.nan  # estimated: blank
    after_norms = compute_norms(county_after(county, moves), policy)
    if len(moves):
        moves["backbone"] = moves["teacher_id"].map(teachers["backbone_flag"]).astype(bool)
        moves["years_at_school"] = moves["teacher_id"].map(teachers["years_at_school"]).round(1)
        moves = moves.sort_values(["move_type", "from_school", "teacher_id"]).reset_index(drop=True)
        moves.insert(5, "reason", move_reasons(moves, candidates, county.schools, policy,
                                               _subject_fte(norms, after_norms)))
    else:
        moves = moves.assign(backbone=pd.Series(dtype=bool), years_at_school=pd.Series(dtype=float))
        moves.insert(5, "reason", pd.Series(dtype=object))
    schools = _school_table(norms, after_norms, moves)
    tiers = list(solution.tiers)
    status = solution.status
    for i, tier in enumerate(tiers):
        if tier.name == "disruption":  # the pooled model priced distances at their lower bound
            routed = routed_disruption(routes, policy.plan)
            proven = tier.status == "optimal" and within_gap(routed, tier.bound, 0.0, policy.plan.tier_tolerance)
            tiers[i] = replace(tier, value=routed,
                               status="optimal" if proven else "feasible" if tier.status == "optimal" else tier.status)
            if status == "optimal" and not proven:
                status = "feasible"
    tiers = _conditional(tiers)
    causes = shortage_causes(schools.assign(unit=schools["school_id"] + "|" + schools["stage"]), after_norms.subjects,
                             candidates, policy, set(moves["teacher_id"]), moves, norms.subjects)
    notes = [f"求解方式：{'汇集（学校→调配池→学校）' if candidates.mode == 'hub' else '逐对（学校→学校）'}"]
    if solution.exact_lower:
        notes = ["求解方式：汇集（学校→调配池→学校）求前几层，扰动与意愿两层逐对（学校→学校）按实际距离精确求解"
                 + ("（各路径按对偶价格定价，只加入能改进的路径：列生成）" if solution.priced else "")]
    notes += [*solution.notes, *(t.note for t in tiers if t.note)]
    notes += [note for note in (unknown_distance_note(moves, any_distance_known(county, policy)),
                                shortage_shift_note(schools, policy, next(
                                    ((t.before, t.value) for t in tiers if t.name == "headcount"), None)),
                                indicator_drop_note(norms.county, after_norms.county, policy)) if note]
    unsolved = [t.label for t in tiers if t.status == "time_limit"]
    if unsolved:
        notes.append(f"时间上限 {params.time_limit_s:g} 秒内未解完：{'、'.join(unsolved)}按最后得到的方案计值，"
                     "没有证明的界；加大 --time-limit 可解完")
    spent = time.perf_counter() - started
    if spent > params.time_limit_s + max(1.0, 0.2 * params.time_limit_s):  # said, not hidden (a tester: 6 s at 1)
        notes.append(f"用时 {spent:.1f} 秒，超过时间上限 {params.time_limit_s:g} 秒：时间上限在求解的各步之间检查，"
                     "每一步（一次 LP、一次 MIP）至少运行 0.5 秒、中途不能打断，建模也需要时间")
    return Plan(
        moves=moves,
        schools=schools,
        tiers=tuple(tiers),
        status=status,
        wall_time=time.perf_counter() - started,
        parameters={**params.model_dump(), "as_of": county.as_of.isoformat(), "source": _source_path(county.source),
                    "data_fingerprint": county.fingerprint()},
        versions=versions(),
        quota=_quota(candidates, moves, policy, solution.quota_binding),
        indicators=county_indicators(norms, after_norms),
        causes=causes,
        model_size=solution.model_size,
        notes=tuple(notes),
        applicants=applicant_outcomes(candidates, policy, moves, schools, pins),
        norms_before=norms,
        norms_after=after_norms,
    )


def _source_path(source: str) -> str:
    """The dataset's path as summary.json records it: absolute where it is a path, so that `report` finds
    it from any folder (a relative one found nothing from elsewhere, and the reports lost the subject
    gaps without a word)."""
    path = Path(source)
    return str(path.resolve()) if source and path.exists() else source


def _conditional(tiers: list[TierResult]) -> list[TierResult]:
    """A tier is optimal only when every tier before it is: its bound holds with the earlier tiers at the
    values found, so after a tier left above its bound (pooled distances, a lower tier's gap), a later
    tier proven at its bound is optimal only given that value — reported feasible, with a note."""
    out: list[TierResult] = []
    unproven: TierResult | None = None
    for tier in tiers:
        if unproven is not None and tier.status == "optimal":
            note = (f"{tier.label}：在{unproven.label}取 {unproven.value:,.3f} 的前提下已达其界；"
                    f"{unproven.label}未证明最优（界 {unproven.bound:,.3f}），故此层只标为可行")
            tier = replace(tier, status="feasible", note="；".join(n for n in (tier.note, note) if n))
        if unproven is None and tier.status != "optimal":
            unproven = tier
        out.append(tier)
    return out


def _subject_fte(before: Norms, after: Norms) -> dict[str, tuple[float, float]]:
    """Each unit's (school|stage) subject shortage in FTE before and after the plan."""
    def by_unit(norms: Norms) -> pd.Series:
        table = norms.schools
        return pd.Series(table["subject_shortage_fte"].to_numpy(float), index=table["school_id"] + "|" + table["stage"])

    b, a = by_unit(before), by_unit(after)
    return {unit: (float(b[unit]), float(a.get(unit, 0.0))) for unit in b.index}


def _school_table(before: Norms, after: Norms, moves: pd.DataFrame) -> pd.DataFrame:
    """schools.csv of a plan: contract columns, then names, posts and indicators before and after.

    Teachers on duty count where they serve (a support posting at its destination); posts (在编)
    move only with transfers: a teacher on a support posting still holds a post at home."""
    keys = ["school_id", "stage"]
    base = before.schools[[*keys, "name", "township", "type", "area", "students", "classes", "required",
                           "teachers_before", "gap_before", "teachers_establishment", "subject_shortage_fte",
                           "per100_backbone", "per100_pe_arts", "per100_higher_degree"]]
    late = after.schools[[*keys, "teachers_before", "gap_before", "teachers_establishment", "subject_shortage_fte",
                          "per100_backbone", "per100_pe_arts", "per100_higher_degree"]].rename(columns={
        "teachers_before": "teachers_after", "gap_before": "gap_after", "teachers_establishment": "establishment_after",
        "subject_shortage_fte": "subject_shortage_after", "per100_backbone": "per100_backbone_after",
        "per100_pe_arts": "per100_pe_arts_after", "per100_higher_degree": "per100_higher_degree_after"})
    table = base.merge(late, on=keys, how="outer")
    table["teachers_before"] = table["teachers_before"].fillna(0).astype(int)
    table["teachers_after"] = table["teachers_after"].fillna(0).astype(int)
    table["gap_before"] = table["gap_before"].fillna(-table["teachers_before"])
    table["gap_after"] = table["gap_after"].fillna(-table["teachers_after"])
    table = table.rename(columns={"teachers_establishment": "establishment_before",
                                  "subject_shortage_fte": "subject_shortage_before"})
    transfers = moves[moves["move_type"] != "support"]
    out = transfers.groupby(["from_school", "from_stage"]).size()
    into = transfers.groupby(["to_school", "to_stage"]).size()
    keys_index = list(zip(table["school_id"], table["stage"], strict=True))
    table["establishment_before"] = table["establishment_before"].fillna(0).astype(int)
    table["establishment_after"] = [
        int(posts) - int(out.get(key, 0)) + int(into.get(key, 0))
        for posts, key in zip(table["establishment_before"], keys_index, strict=True)
    ]
    columns = ["school_id", "stage", "students", "classes", "required", "teachers_before", "teachers_after",
               "gap_before", "gap_after", "name", "township", "type", "area", "establishment_before",
               "establishment_after", "subject_shortage_before", "subject_shortage_after", "per100_backbone",
               "per100_backbone_after", "per100_pe_arts", "per100_pe_arts_after", "per100_higher_degree",
               "per100_higher_degree_after"]
    return table[columns].sort_values(keys).reset_index(drop=True)


__all__ = ["Solution", "SolveParams", "SolverTimeout", "plan_county", "solve_county"]
