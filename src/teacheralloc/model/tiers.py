"""Solve the objective tier by tier (分层求解, 词典序).

Each tier is minimised with every earlier tier held at its optimum (within `plan.tier_tolerance`), so
no amount of a lower tier can buy a unit of a higher one. Each tier reports its value and the proven
bound: the LP relaxation first (column generation, `engine.Solver.lp`), then ever larger HiGHS MIPs
(restricted to the LP's neighbourhood, reduced-cost fixing, the full MIP) until the bound is met or,
for the lower tiers, the plan is within `plan.lower_tier_gap` of it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from teacheralloc.model.builder import AllocationModel
from teacheralloc.model.candidates import Candidates
from teacheralloc.model.engine import Result, SolveParams, Solver, padded, release_memory
from teacheralloc.model.objective import TIER_LABELS
from teacheralloc.plan import TierResult, quota_tier_text
from teacheralloc.policy import Plan as PlanPolicy
from teacheralloc.policy import Policy

log = logging.getLogger("teacheralloc")

#: Reduced-cost fixing may leave up to this many times the free variables of the largest restricted MIP
#: the tier has just solved (at most this many times `plan.fixing_free_variables`): a MIP of about that
#: size has been paid for already. A 452-teacher county @1.3 left 11,819 free in its wishes tier (its
#: widened restricted MIP 8,420): −83 against a bound of −91, now proven (+3 s); the sample county's
#: lower tiers (restricted MIPs of ~1,500 free) and 26 other unseen counties are unchanged.
FIXING_STRETCH = 2

#: An exact tier's full MIP (after its LP and restricted MIPs left a gap) takes at most this share of the
#: time left when tiers follow it: a 5,000-teacher county's balance tier, one unit above its LP bound,
#: proved 858 in 114 s of a 120-s limit and left the disruption and wishes tiers no time at all (their
#: plan unoptimised, no bound); capped, the tier may end a unit short of its proof, the lower tiers solved.
EXACT_FULL_MIP_SHARE = 0.5

#: Tiers proven optimal whatever the time; the others stop within `plan.lower_tier_gap` of the bound.
EXACT_TIERS = ("quota", "headcount", "subject", "balance")

#: Pooled lower tiers loosen the hold of the tier before at once (no strict probe) when the time limit
#: gives at least this many seconds per teacher (20,000 teachers: 100 s). Measured at 20,000 teachers
#: @0.97 (twenty-first session): the probe cost 9 s for the same wishes (−935 against −934, bound −938;
#: 80.4 → 71.3 s end to end), and the loosened LP (5.3 s) finished well inside even a 70-s limit;
#: 20,000 teachers 49.6 → 46.0 s, wishes −1,193 both. At 0.01 (200 s) both took the probe.
LOOSEN_FIRST_SECONDS_PER_TEACHER = 0.005
#: The MIP over a pooled LP's fractional arcs is a heuristic (the restricted and full MIPs after it prove
#: the tier): it stops after this many nodes whatever the tier, so a hard one costs little.
ROUNDING_NODES = 1_000
#: A lower tier on school-to-school arcs or priced paths widens its restricted MIP when that leaves at
#: most this many free variables (or at most 4 times as many as before widening).
WIDEN_FREE = 10_000


class SolverTimeout(RuntimeError):
    """The time limit ran out before any plan was found."""


def tier_before(name: str, candidates: Candidates, policy: Policy) -> float:
    """The tier's value with no move at all (the plan starts from here)."""
    units, subjects, plan = candidates.units, candidates.subjects, policy.plan
    if name == "quota":
        return float(candidates.quota_target * (candidates.quota_base + 1))
    if name == "headcount":
        return float((units["weight"] * units["headcount_gap"].clip(lower=0)).sum())
    if name == "subject":
        weights = subjects["subject"].map(plan.subject_weight_of).astype(float)  # float when empty too
        return float((weights * subjects["gap"].astype(float).clip(lower=0)).sum())
    if name == "balance":
        bb = (units["backbone_target"] - units["backbone_before"]).clip(lower=0)
        pa = (units["pe_arts_target"] - units["pe_arts_before"]).clip(lower=0)
        return float(plan.balance_weight["backbone"] * bb.sum() + plan.balance_weight["pe_arts"] * pa.sum())
    return 0.0


def _value_without_moves(built: AllocationModel, solver: Solver, name: str, params: SolveParams) -> float:
    """A tier's value if nobody moves (for the subject tier a small MIP: who teaches what)."""
    solver.objective, solver.tier = built.tiers[name], name
    flows = np.zeros(solver.size, dtype=bool)
    flows[built.flow] = True
    # nobody moves, pinned teachers included
    result = solver.mip(params.time_limit_s, fix=flows, values=np.zeros(solver.size), relax_rows=built.pinned_rows)
    return result.objective


def within_gap(value: float, bound: float, share: float, tolerance: float) -> bool:
    """`value` within `share` (relative) of `bound`. The earlier tiers are held with a relative slack of
    `tolerance`, which the LP bound may use: ten times that is allowed before a value counts as above it."""
    return value <= bound + max(share, 10 * tolerance) * max(1.0, abs(bound)) + 1e-6


@dataclass
class _TierSolve:
    value: float
    bound: float
    optimal: bool
    values: np.ndarray | None


def _solve_tier(solver: Solver, seconds: float, exact: float, accept: float, incumbent: np.ndarray | None,
                lower_tier_seconds: float = 10.0, lower_tier_nodes: int | None = None,
                exact_distances: bool = False, fixing_free: int = 10_000, spent_anyway: float = 0.0,
                full_share: float = 1.0) -> _TierSolve | None:
    """LP first, then ever larger MIPs until the LP bound is met.

    1. The LP relaxation's optimum is a proven bound; an integral LP solution is the MIP optimum.
    2. Solve the MIP restricted to the arcs used by the LP or by the previous tier's integer solution
       (`incumbent`, feasible here since the holds are its values): every other arc stays empty;
       then the same widened to the arcs next to the LP's fractional ones.
    3. Solve the full MIP with the time left (a lower tier: at most `lower_tier_seconds`).
    A step's result is taken when it is within `accept` (relative) of the bound; it is optimal when
    within `exact`. None if the tier is infeasible. Each MIP starts from the best plan known; a lower
    tier's restricted MIPs stop after `lower_tier_nodes` nodes. `exact_distances`: the model has
    school-to-school arcs (see the two places below). `spent_anyway`: how much of this tier the next
    one may spend (`plan.lower_tier_slack`); a plan within `accept` and closer than that to the bound
    gets reduced-cost fixing with half the free variables (sample county: 7,912 free took 4 s to move
    400.373 to 400.330, which the wishes tier then loosened to 401.077 all the same; small counties,
    a few hundred free, are still proven). `full_share`: the share of the time left that an exact tier's
    full MIP may take (`EXACT_FULL_MIP_SHARE` when tiers follow it).
    """
    start = time.perf_counter()
    relaxed = solver.lp(seconds, include=None if incumbent is None else incumbent != 0)
    if relaxed.infeasible:
        return None
    if not relaxed.optimal or not relaxed.found:
        # Out of time: keep the last tier's plan (feasible here); the bound is unknown.
        log.info("tier LP stopped (%s); keeping the previous solution", relaxed.reason)
        if incumbent is None:
            raise SolverTimeout("时间不足：第一层目标未能在时限内求解，请加大 --time-limit")
        return _TierSolve(float("nan"), float("-inf"), False, None)
    incumbent = padded(incumbent, solver.size)  # priced columns may have joined during the LP
    step = solver.objective_step()
    # Priced columns may stop short of the LP optimum, with a proven bound below it (`Solver.lp`).
    bound = solver.round_up(relaxed.objective if math.isnan(relaxed.bound) else relaxed.bound, step)
    integer = solver.integer
    rounded = solver.whole(relaxed.values)
    whole = ~integer | (np.abs(relaxed.values - rounded) < 1e-6)
    log.debug("LP %.4f (bound %.4f) in %.2fs, %d fractional", relaxed.objective, bound, time.perf_counter() - start,
              int((~whole).sum()))

    def within(value: float, share: float) -> bool:
        return within_gap(value, bound, share, exact)

    if whole.all() and (math.isnan(relaxed.bound) or within(relaxed.objective, accept)):
        value = relaxed.objective if not math.isnan(relaxed.bound) else bound
        return _TierSolve(value, bound, within(value, exact), rounded)

    # Restrict the MIP to the arcs the LP or the last integer solution use (every other integer
    # variable held at zero): the incumbent keeps it feasible, the LP's support lets it reach the bound.
    # If that falls short, widen it to every arc sharing a group or destination with a fractional one.
    zero = integer & whole & (rounded == 0)
    if incumbent is not None:
        zero &= incumbent == 0
    best: Result | None = None
    wider = zero & ~solver.neighbours(~whole)
    # On school-to-school arcs a lower tier widens only by a few times its free variables: a destination's
    # neighbourhood is most of the model there (sample county: 1,523 → 66,583 free, 30 s for nothing
    # better). Up to WIDEN_FREE free variables the widened MIP is still cheap and worth it (300 teachers:
    # disruption 54.33 → 52.22 on the school-to-school arcs, 67.21 → 67.04 on priced paths; 5,000 teachers'
    # wishes tier, 3,690 → 37,529 free, 30 s for −374 instead of −368, is not). Pooled, the restricted MIP
    # starts from the incumbent and widening beyond that gained nothing (wishes at 10,000 teachers, 20,000
    # and 20,000 @0.97: 7,015 → 17,680, 14,085 → 30,735 and 14,870 → 29,025 free, the same −757, −1,486
    # and −855, for 0.7, 3.0 and 27 s).
    room = max(4 * max((integer & ~zero).sum(), 1), WIDEN_FREE) if exact_distances else WIDEN_FREE
    narrow = accept > exact and (integer & ~wider).sum() > room
    # HiGHS's own gap inside the restriction: `accept`, or on school-to-school arcs 0.01 % — there the LP
    # bound is tight and the next tier is held at this one's value (sample county: disruption 389.40
    # instead of 390.78, which left the wishes tier 6 % from its bound); pooled, routing re-prices the plan.
    gap = min(accept, 1e-4) if exact_distances else accept
    restricted_free = 0  # the largest restricted MIP solved: a fixing MIP of twice its size is affordable
    if not exact_distances:  # on school-to-school arcs the restricted MIP is small already
        best, restricted_free = _rounded(solver, seconds - (time.perf_counter() - start), max(gap, 1e-9),
                                         integer & whole, rounded, incumbent, lambda v: within(v, accept))
    settled_by_rounding = best is not None and within(best.objective, accept)
    # The restricted MIPs start from the last tier's plan, as before the rounding MIPs: started from a
    # rounding that fell short, the node-limited search ended elsewhere (20,000 teachers' wishes tier
    # −1,189 instead of −1,193); their own best, once they have one.
    found: Result | None = None
    for fix in () if settled_by_rounding else (zero,) if narrow else (zero, wider):
        restricted_free = max(restricted_free, int((integer & ~fix).sum()))
        start_from = found.values if found is not None else incumbent if incumbent is not None else \
            best.values if best is not None else None
        result = solver.mip(seconds - (time.perf_counter() - start), gap=max(gap, 1e-9), fix=fix,
                            values=np.zeros(len(fix)), hint=start_from,
                            nodes=None if accept <= exact else lower_tier_nodes)
        log.debug("restricted MIP (%d free) %s %s at %.2fs", int((integer & ~fix).sum()), result.reason,
                  result.objective if result.found else None, time.perf_counter() - start)
        if result.found and (found is None or result.objective < found.objective):
            found = result
        if result.found and (best is None or result.objective < best.objective):
            best = result
        if best is not None and within(best.objective, accept):
            break
    if best is None and incumbent is not None:  # feasible here, whatever HiGHS's presolve says
        best = Result.known(incumbent, solver.objective_at(incumbent))
    # A plan within `accept` and nearer its bound than the next tier may spend of it anyway is refined
    # only by a small fixing MIP (half the free variables, PROBE_NODES nodes): a 1,200-teacher county at
    # 60 % of its posts spent 9 s of 1,000 nodes on 2,265 free to move 252.94044 by nothing, where the
    # wishes tier then spends 0.99 of it.
    settled = best is not None and within(best.objective, accept) and best.objective - bound < spent_anyway
    if best is not None and not within(best.objective, exact):
        most_free = fixing_free // 2 if settled else \
            max(fixing_free, min(FIXING_STRETCH * restricted_free, FIXING_STRETCH * fixing_free))
        nodes = None if accept <= exact else PROBE_NODES if settled else lower_tier_nodes
        best, bound = _fixed_and_proven(solver, relaxed, best, bound, step, exact,
                                        seconds - (time.perf_counter() - start), nodes, most_free)
    if best is not None and within(best.objective, accept):
        return _TierSolve(best.objective, bound, within(best.objective, exact), best.values)
    remaining = seconds - (time.perf_counter() - start)
    if accept > exact:  # a lower tier: its full MIP gets a bounded share of the time, if any
        remaining = min(remaining, lower_tier_seconds)
        if best is not None and remaining < 1.0:
            return _TierSolve(best.objective, bound, within(best.objective, exact), best.values)
    elif best is not None:  # an exact tier with a plan: the tiers after it keep the rest of the time
        remaining *= full_share
    full = solver.mip(remaining, gap=max(accept, 1e-9), hint=best.values if best is not None else incumbent)
    log.debug("full MIP %s at %.2fs (limit %.1fs)", full.reason, time.perf_counter() - start, remaining)
    if full.found and (best is None or full.objective <= best.objective):
        best = full
    if math.isfinite(full.dual_bound):  # the whole model's bound; none when HiGHS stopped before one
        bound = max(bound, solver.round_up(full.dual_bound, step))
    if best is None:
        return None
    return _TierSolve(best.objective, bound, within(best.objective, exact), best.values)


def _rounded(solver: Solver, seconds: float, gap: float, whole: np.ndarray, rounded: np.ndarray,
             incumbent: np.ndarray | None, accepted: Callable[[float], bool]) -> tuple[Result | None, int]:
    """Pooled, two small MIPs before the restricted ones; the better plan found (or None) and the free
    variables of the MIP that found it. `whole`: the integer variables the LP left whole.

    1. Rounding: every whole arc held where the LP put it, the fractional ones free. They are few (20,000
       teachers @0.97: 10–440 of the 4,000–18,000 the LP uses), and it meets the bound of the first tiers
       and the accepted gap of the disruption tier in 0.03–0.07 s, where the restricted MIP took up to
       5.4 s (71.3 → 60.3 s end to end, the same tier values).
    2. Short of that (the wishes tier's rounding overdraws the disruption hold), RINS: the arcs where the
       LP and the last plan agree held; the last plan satisfies them, so it is feasible (there 848 free,
       −935 in 0.7 s, where the restricted MIP of 14,515 free found the same in 2.6 s).
    Each stops after ROUNDING_NODES nodes: a heuristic; the MIPs after it prove the tier."""
    start = time.perf_counter()
    agreed = None if incumbent is None else whole & (np.abs(rounded - incumbent) < 1e-6)
    best, free = None, 0
    for name, held, hint in (("rounding", whole, None), ("RINS", agreed, incumbent)):
        if held is None or (best is not None and accepted(best.objective)):
            break
        result = solver.mip(seconds - (time.perf_counter() - start), gap=gap, fix=held, values=rounded,
                            nodes=ROUNDING_NODES, hint=hint)
        left = int((solver.integer & ~held).sum())
        log.debug("%s MIP (%d free) %s %s at %.2fs", name, left, result.reason,
                  result.objective if result.found else None, time.perf_counter() - start)
        if result.found and (best is None or result.objective < best.objective):
            best, free = result, max(free, left)
    return best, free


def _fixed_and_proven(solver: Solver, relaxed: Result, best: Result, bound: float, step: float | None,
                      exact: float, seconds: float, nodes: int | None, most_free: int) -> tuple[Result, float]:
    """Reduced-cost fixing (约简成本固定) to prove `best` optimal or find a better plan: any plan's value is
    the LP optimum plus each variable's reduced cost times its distance from the bound where the LP left
    it (plus each row's dual times its slack; every term ≥ 0). So in a plan better than `best` by a grid
    step (or, off a grid, by the tier tolerance), an integer variable whose reduced cost exceeds that
    target − LP never leaves its bound. The MIP with those variables fixed holds every such plan and is
    small (sample county, wishes tier: ~1,500 of 45,000 free): its bound is the whole model's, up to the
    target; a plan it finds is a plan of the whole model. Tried when at most `most_free` integer variables
    stay free (`plan.fixing_free_variables`). Needs the reduced costs of every variable: on priced paths,
    every path within the room joins first. Returns the best plan and the bound."""
    reduced_cost, values = relaxed.reduced_cost, relaxed.values
    if reduced_cost is None or values is None or relaxed.duals is None or len(reduced_cost) != solver.size \
            or seconds < 0.5:
        return best, bound
    target = best.objective - (step if step is not None else exact * max(1.0, abs(best.objective)))
    room = target - relaxed.objective
    if room < 0:  # the LP alone rules out anything at the target (the bound is rounded up to it already)
        return best, bound
    margin = 1e-6 * max(1.0, abs(relaxed.objective))
    magnitude = np.abs(reduced_cost[solver.integer])
    free = int((magnitude <= room + margin).sum())  # an upper bound on those left
    if free > most_free:
        solver.fixing_skipped = max(solver.fixing_skipped, free)  # named in the tier's note (`_short_of_gap`)
        # Too many: a target nearer the LP that leaves half as many free (a MIP of 5,000 free takes a
        # fraction of one of 10,000). Its MIP still holds every plan at or below that target, and other
        # plans near the LP's: sample county as of 2027-09-01, 13,995 free for the target, 4,983 for the
        # nearer one (0.5 s): it finds the disruption optimum 389.358 the restricted MIP missed (389.435),
        # which holds the wishes tier's LP to −135 = its plan. Degenerate LPs (larger counties: more
        # than that many reduced costs at zero) leave no room below the target: skipped, at no cost.
        nearer = most_free // 2
        if nearer <= 0 or nearer >= len(magnitude):
            return best, bound
        target = relaxed.objective + float(np.partition(magnitude, nearer)[nearer]) - 2 * margin
        if step is not None:
            constant = solver.objective.constant
            target = constant + step * math.floor((target - constant) / step + 1e-9)
        log.debug("reduced-cost fixing: %d variables within %.4f of the LP; target %.4f", free, room, target)
        room = target - relaxed.objective
        if room < 0 or target < bound - margin:
            return best, bound
        free = int((magnitude <= room + margin).sum())
    if solver.pricer is not None:  # priced paths: every path within the room must be held first
        if solver.completer is None or not solver.completer(solver, relaxed.duals, room + margin, most_free - free):
            return best, bound
        reduced_cost = solver.reduced_costs(relaxed.duals)  # the joined paths' too
        values = padded(values, solver.size)
        best.values = padded(best.values, solver.size)
    integer = solver.integer
    at_lower = integer & (reduced_cost > room + margin) & (np.abs(values - solver.lower) < 1e-6)
    at_upper = integer & (-reduced_cost > room + margin) & (np.abs(values - solver.upper) < 1e-6)
    fix = at_lower | at_upper
    if not fix.any():
        return best, bound
    fixed_at = np.where(at_upper, solver.upper, np.where(at_lower, solver.lower, 0.0))
    # Only plans at or below the target matter here (the rest are the proof's): HiGHS prunes by it from
    # the start, with half a grid step (or the margin) of room for its tolerances.
    cutoff = target + (step / 2 if step is not None else margin)
    result = solver.mip(seconds, gap=exact, fix=fix, values=fixed_at, nodes=nodes, cutoff=cutoff)
    log.debug("reduced-cost fixing: %d free, target %.4f; %s, %s, bound %.4f", int((integer & ~fix).sum()),
              target, result.reason, result.objective if result.found else None, result.dual_bound)
    if result.found and result.objective < best.objective:
        best = result
    if result.infeasible:
        proven = math.inf  # no plan at or below the target
    elif math.isfinite(result.dual_bound):
        proven = solver.round_up(result.dual_bound, step)
    else:
        return best, bound
    # Plans off the fixing score above the target: on a grid, at least a step above it.
    beyond = target + step if step is not None else target
    return best, max(bound, min(proven, beyond, best.objective))


def solve_tiers(
    built: AllocationModel, params: SolveParams, progress: Callable[[str], None] | None = None,
    names: tuple[str, ...] | None = None, known: tuple[TierResult, ...] = (), start_flows: np.ndarray | None = None,
    started: float | None = None, exact_distances: bool = False, solver: Solver | None = None,
) -> tuple[np.ndarray, tuple[TierResult, ...], str]:
    """Minimise each tier of `names` (default: all, in policy order), holding the earlier ones; return flows
    and tier results.

    `known` are tiers already solved on another model of the same plan (the pooled one): they are held at
    their values here. `start_flows` is a plan of this model that meets them (one flow per arc): its other
    variables are completed by a MIP, and it is where the first tier starts. Status "no_start" when that
    plan does not fit this model (the caller then solves every tier on the pooled model). `solver`: one
    already made for `built` (the exact model's is made in the thread that builds it)."""
    policy = built.policy
    start = started if started is not None else time.perf_counter()
    order = tuple(policy.plan.tiers)
    names = order if names is None else tuple(names)
    results: list[TierResult] = []
    solver = solver or Solver(built, params.seed)
    tolerance = policy.plan.tier_tolerance
    for tier in known:
        solver.hold(built.tiers[tier.name], _held(tier.value, tolerance), tier.name)
    incumbent: np.ndarray | None = None
    if start_flows is not None:
        fix = solver.flows
        planned = np.zeros(solver.size)
        planned[built.flow] = start_flows
        solver.objective, solver.tier = built.tiers[names[0]], names[0]
        completed = solver.mip(params.time_limit_s - (time.perf_counter() - start), fix=fix, values=planned)
        if not completed.found:
            return np.zeros(len(built.flow)), (), "no_start"
        incumbent = solver.whole(completed.values)
    last_values: np.ndarray | None = incumbent
    values = np.zeros(len(built.flow)) if start_flows is None else np.asarray(start_flows, dtype=float)
    status = "optimal"
    befores = {name: tier_before(name, built.candidates, policy) for name in names}
    if "subject" in names:
        befores["subject"] = _value_without_moves(built, solver, "subject", params)
    plan = policy.plan
    relaxable: _Relaxable | None = None  # the last lower tier's hold, which a later lower tier may loosen
    for name in names:
        expression = built.tiers[name]
        solver.objective, solver.tier = expression, name
        remaining = params.time_limit_s - (time.perf_counter() - start)
        tier_start = time.perf_counter()
        accept = tolerance if name in EXACT_TIERS else max(tolerance, plan.lower_tier_gap)
        # Pooled, the lower tier before is held at a value priced at lower-bound distances and re-priced
        # by routing: its last unit matters little, so the hold is loosened at once (no probe). 20,000
        # teachers @0.97: the strict probe took 7.4 s for −743 wishes against a bound of −877, then the
        # loosened solve −1,029.
        # Under a binding time limit the strict probe, quick from that tier's basis, still gives a plan where
        # the loosened LP may not finish (20,000 teachers @0.97 at 120 s: −726 against −807 with the probe,
        # the disruption tier's plan without it). Whether the limit binds is read from the county's size
        # (`LOOSEN_FIRST_SECONDS_PER_TEACHER`), nothing measured: comparing the CPU time left with the tier
        # before's sent a 20,000-teacher county's wishes tier one way or the other from run to run.
        pooled = built.candidates.mode == "hub" and not exact_distances  # distances at a lower bound
        ample = params.time_limit_s >= LOOSEN_FIRST_SECONDS_PER_TEACHER * len(built.candidates.teachers)
        loosen_first = relaxable is not None and name not in EXACT_TIERS and pooled and ample
        if loosen_first:
            solver.relax(relaxable.index, relaxable.value + relaxable.slack)
        probe = relaxable is not None and name not in EXACT_TIERS and not loosen_first
        # A tier after a lower tier first tries that tier's value as it is, briefly (a probe: a restricted
        # MIP of PROBE_NODES nodes, no fixing, no full MIP); only if that ends above the accepted gap is
        # the hold loosened by plan.lower_tier_slack and the tier solved in full (`_loosened`).
        following = names[names.index(name) + 1] if name != names[-1] else None
        # a lower tier followed by another, which may spend plan.lower_tier_slack of it
        slack_next = slack_of(solver, name, plan) \
            if name not in EXACT_TIERS and following not in (None, *EXACT_TIERS) else 0.0
        stops = solver.time_stops
        solver.fixing_skipped = 0
        solved = _solve_tier(solver, remaining, tolerance, accept, incumbent,
                             0.0 if probe else plan.lower_tier_seconds,
                             PROBE_NODES if probe else plan.lower_tier_nodes, exact_distances,
                             0 if probe else plan.fixing_free_variables, slack_next,
                             EXACT_FULL_MIP_SHARE if name != plan.tiers[-1] else 1.0)  # tiers follow
        note = ""
        if loosen_first:
            note = (f"{TIER_LABELS[name]}：{TIER_LABELS[relaxable.name]}（汇集模型按距离下界计，路由后重算）放宽 "
                    f"{relaxable.slack:g} 后求解（plan.lower_tier_slack，不足一个单位）")
        if probe and solved is not None and solved.values is not None \
                and not within_gap(solved.value, solved.bound, accept, tolerance):
            left = params.time_limit_s - (time.perf_counter() - start)
            solved, note = _loosened(solver, relaxable, solved, name, left, tolerance, accept, plan, exact_distances)
        seconds = time.perf_counter() - tier_start
        if solved is None:
            return values, tuple(results), "infeasible"
        if solved.values is not None:  # a plan found before priced columns joined (the probe kept): padded
            solved = replace(solved, values=padded(solved.values, solver.size))
        finished = solved.values is not None and (solved.optimal or within_gap(solved.value, solved.bound, accept,
                                                                            tolerance))
        cut = _cut_by_time(name, finished, solver.time_stops > stops, params.time_limit_s)
        if not cut and not finished and not pooled and solved.values is not None and name not in EXACT_TIERS:
            cut = _short_of_gap(name, plan, solver.fixing_skipped)  # pooled: the routed value is judged later
        note = f"{note}；{cut}" if note and cut else note or cut
        if not solved.optimal:
            status = "feasible"
        if solved.values is None:  # out of time: the last solution stands; report the remaining tiers at it
            status = "time_limit"
            results.extend(at_last_plan(built, last_values, names[names.index(name):], befores, solver))
            break
        last_values = solved.values
        results.append(TierResult(name=name, label=TIER_LABELS[name], before=befores[name], value=solved.value,
                                  bound=solved.bound, status="optimal" if solved.optimal else "feasible",
                                  seconds=seconds, note=note))
        values = solved.values[built.flow]
        incumbent = solver.whole(solved.values)
        if progress:
            progress(progress_line(order, results[-1], built.candidates.quota_base))
        if name != names[-1]:
            solver.hold(built.tiers[name], _held(solved.value, tolerance), name)
            if name not in EXACT_TIERS and plan.lower_tier_slack > 0:
                relaxable = _Relaxable(len(solver.holds) - 1, name, solved.value, slack_of(solver, name, plan))
            release_memory()
    return values, tuple(results), status


#: A tier after a lower tier is first tried with that tier held as solved, with a restricted MIP of at
#: most this many nodes: enough where the held value leaves room for whole moves (sample county: wishes
#: −136 = its bound at once), and little time lost where it does not (6,000 teachers @0.9: the 1,000-node
#: MIP took 26 s for −305 against a bound of −481, 100 nodes 7 s for −295).
PROBE_NODES = 100


@dataclass(frozen=True)
class _Relaxable:
    """A lower tier held for the tiers after it: the hold's index, the tier and its value."""

    index: int
    name: str
    value: float
    slack: float  # plan.lower_tier_slack in the tier's units (`slack_of`)


def slack_of(solver: Solver, name: str, plan: PlanPolicy) -> float:
    """`plan.lower_tier_slack` in units of the tier being solved (`solver.objective`): one move
    (`plan.move_cost`) for the disruption tier, else its grid step where its values lie on one. Taken as
    an absolute amount, 0.99 with the disruption weights scaled by 0.1 let the wishes tier buy nine moves
    more (the same county planned otherwise, weights ×0.1: 275 moves against 268). The disruption tier's
    own grid is no unit: whole-km distances put it on a grid of 0.02 (km_cost), a fiftieth of a move."""
    if name == "disruption" and plan.move_cost > 0:
        return plan.lower_tier_slack * plan.move_cost
    step = solver.objective_step()
    return plan.lower_tier_slack * (step if step else 1.0)


def _loosened(solver: Solver, relaxable: _Relaxable, probed: _TierSolve, name: str, seconds: float,
              tolerance: float, accept: float, plan: PlanPolicy, exact_distances: bool) -> tuple[_TierSolve, str]:
    """The tier again, with the lower tier before it held at its value + `plan.lower_tier_slack`
    (less than one unit of it: 0.99 is less than one move). A disruption value held to the last
    kilometre leaves the wishes tier almost no whole-move plan to find: a generated 6,000-teacher
    county @0.9 honoured −305 against a bound of −481; loosened by 0.99, −539 against −540 (and 42 s
    instead of 64 s). Kept only if better than the probe; otherwise the hold is restored and the tier
    solved in full as it is."""
    start = time.perf_counter()
    solver.relax(relaxable.index, relaxable.value + relaxable.slack)
    again = _solve_tier(solver, seconds, tolerance, accept, solver.whole(probed.values), plan.lower_tier_seconds,
                        plan.lower_tier_nodes, exact_distances, plan.fixing_free_variables)
    if again is None or again.values is None or not again.value < probed.value - 1e-9:
        solver.relax(relaxable.index, _held(relaxable.value, tolerance))
        if again is not None and within_gap(probed.value, again.bound, 0.0, tolerance):
            # The looser hold's bound holds for the strict one too (fewer plans): the probe is optimal.
            # 800 teachers with plan.max_km 5: the strict solve in full took 5 s more for the same −22.
            return replace(probed, bound=max(probed.bound, again.bound), optimal=True), ""
        strict = _solve_tier(solver, seconds - (time.perf_counter() - start), tolerance, accept,
                             solver.whole(probed.values), plan.lower_tier_seconds, plan.lower_tier_nodes,
                             exact_distances, plan.fixing_free_variables)
        keep = strict is not None and strict.values is not None and strict.value <= probed.value
        return (strict if keep else probed), ""
    held_label, label = TIER_LABELS[relaxable.name], TIER_LABELS[name]
    note = (f"{label}：{held_label}严格保持为 {relaxable.value:,.3f} 时，此层只求得 {probed.value:,.3f}"
            f"（界 {probed.bound:,.3f}）；允许{held_label}放宽 {relaxable.slack:g}（plan.lower_tier_slack，"
            f"不足一个单位）后求得 {again.value:,.3f}（界 {again.bound:,.3f}）")
    return again, note


def _held(value: float, tolerance: float) -> float:
    """The most a tier solved at `value` may be worth in later solves (its relative tolerance)."""
    return value + (tolerance * max(1.0, abs(value)) + 1e-7)


def at_last_plan(built: AllocationModel, values: np.ndarray, names: tuple[str, ...], befores: dict[str, float],
                 solver: Solver) -> list[TierResult]:
    """Tiers the time limit left unsolved, reported at the last plan found (`values`: every variable): the
    moves as they are, the rest (who teaches what, the indicator deficits) at its best for each tier, by a
    small MIP with the flows fixed (`_value_without_moves`'s, at the plan's moves). Read off the last
    solution as it stood, a 20,000-teacher county cut at 1 s showed its subject tier 3,360 → 17,212 for 967
    moves (each changes it by 2 at most): that solution's subject assignment was never optimised."""
    fixed = padded(values, solver.size)
    values = padded(values, built.model.num_variables)
    results = []
    for name in names:
        value = built.tiers[name].at(values)
        solver.objective, solver.tier = built.tiers[name], name
        best = solver.mip(TIER_AT_PLAN_SECONDS, fix=solver.flows, values=fixed, hint=fixed)
        if best.found:
            value = min(value, best.objective)
        results.append(TierResult(name=name, label=TIER_LABELS[name], before=befores[name], value=value,
                                  bound=float("-inf"), status="time_limit", seconds=0.0))
    return results


#: The most a tier the time limit cut may take to be valued at the last plan (its moves fixed: a small MIP,
#: 0.2 s at 20,000 teachers).
TIER_AT_PLAN_SECONDS = 5.0


def _cut_by_time(name: str, finished: bool, timed_out: bool, limit: float) -> str:
    """The note for a tier a MIP's time limit stopped (the whole limit, or the share a tier may take) at a
    plan short of its bound and of the accepted gap: without it the tier read as an ordinary "feasible".
    "" otherwise (a node limit, or a plan within the gap)."""
    if finished or not timed_out:
        return ""
    return (f"{TIER_LABELS[name]}：在时间上限（--time-limit {limit:g} 秒，或其中分给此层的部分）内停在已求得的"
            "可行方案，未达到证明的界；加大 --time-limit 可求得更好的方案或证明其最优")


def _short_of_gap(name: str, plan: PlanPolicy, fixing_skipped: int = 0) -> str:
    """The note for a lower tier its restricted MIPs (node limit `plan.lower_tier_nodes`) and its full MIP
    (`plan.lower_tier_seconds`) left farther from its bound than `plan.lower_tier_gap`: without it a 30 %
    gap read as an ordinary 可行, with nothing to say what would close it. Where reduced-cost fixing was
    skipped for `fixing_skipped` free variables, raising `plan.fixing_free_variables` to that is what
    works (sample county: 19,041 free, ~20 s, proves wishes −138 optimal); a full MIP over the whole
    school-to-school model does not (30 s asked, 58 s spent in HiGHS, the same −138 against −139)."""
    head = f"{TIER_LABELS[name]}：方案与证明的界之差大于 plan.lower_tier_gap（{plan.lower_tier_gap:.1%}）"
    if fixing_skipped > plan.fixing_free_variables:
        return (f"{head}：约简成本固定需留 {fixing_skipped:,} 个自由变量，超过 plan.fixing_free_variables"
                f"（{plan.fixing_free_variables:,}），未做；把它设为 {fixing_skipped:,} 以上可证明最优或找到更好的方案"
                "（更慢，约每万个自由变量 10 秒）")
    if plan.lower_tier_seconds > 0:
        return (f"{head}，完整 MIP 在 plan.lower_tier_seconds（{plan.lower_tier_seconds:g} 秒）内未能缩小；"
                "加大它可继续改进")
    return (f"{head}，受限 MIP 在节点上限（plan.lower_tier_nodes）内未能缩小；设置 plan.lower_tier_seconds（如 30 秒）"
            "可用完整 MIP 继续改进（更慢）")


def progress_line(order: tuple[str, ...], tier: TierResult, quota_base: int) -> str:
    def shown(x: float) -> str:
        return quota_tier_text(x, quota_base) if tier.name == "quota" else f"{x:,.3f}"

    return (f"[{order.index(tier.name) + 1}/{len(order)}] {tier.label}：{shown(tier.value)}"
            f"（界 {shown(tier.bound)}，{tier.seconds:.2f} 秒）")

