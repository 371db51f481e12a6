"""The solver's machinery: the sparse model, the warm-started LPs and the restricted MIPs.

Each fast path is checked against the plain way of doing the same thing on the same model, so a
shortcut that changes an answer fails here rather than somewhere downstream.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from ortools.math_opt.python import mathopt

from teacheralloc.io.pins import empty_pins
from teacheralloc.model.builder import Linear, LinearModel, build_model
from teacheralloc.model.candidates import build_candidates
from teacheralloc.model.engine import Solver
from teacheralloc.norms import compute_norms
from teacheralloc.policy import Policy
from teacheralloc.sample import generate_county


def _solve_proto(proto, solver=mathopt.SolverType.GLOP) -> float:
    from teacheralloc.model.engine import solver_parameters

    params = solver_parameters(60, 0)
    holder = Solver.__new__(Solver)  # only its _call and position/size are used
    holder.position = np.arange(max(proto.variables.ids, default=-1) + 1)
    holder.size = len(holder.position)
    return holder._call(proto, solver, params).objective


def test_linear_model_sums_repeated_terms_and_drops_zeros() -> None:
    model = LinearModel()
    x = model.add_variables(2, 0.0, 1.0)
    (row,) = model.add_rows(1.5, np.inf, 1)
    model.add_terms([row], [x[0]], 0.5)
    model.add_terms([row, row], x, 0.5)  # x0 twice: 1.0 in all
    (empty,) = model.add_rows(-np.inf, 2.0, 1)
    model.add_terms([empty, empty], [x[1], x[1]], [1.0, -1.0])  # cancels out: no entry at all
    proto = model.to_proto()
    matrix = proto.linear_constraint_matrix
    assert list(matrix.row_ids) == [0, 0]
    assert list(matrix.column_ids) == [0, 1]
    assert list(matrix.coefficients) == [1.0, 0.5]
    proto.objective.linear_coefficients.ids.extend([0, 1])
    proto.objective.linear_coefficients.values.extend([1.0, 1.0])
    # x0 + 0.5 x1 ≥ 1.5 with x ≤ 1: the cheapest is x0 = 1, x1 = 1.
    assert _solve_proto(proto) == pytest.approx(2.0)


def test_linear_expression_value() -> None:
    expression = Linear(np.array([0, 2]), np.array([2.0, -1.0]), 3.0)
    assert expression.at(np.array([1.0, 5.0, 4.0])) == pytest.approx(3.0 + 2.0 - 4.0)


@pytest.fixture(scope="module")
def built():
    policy = Policy.default()
    # 500 teachers: enough arcs that pricing leaves some out (300 teachers, seed 2: 99 % of them join)
    county = generate_county(num_teachers=500, seed=1)
    norms = compute_norms(county, policy)
    candidates = build_candidates(county, norms, policy, empty_pins())
    return build_model(candidates, policy)


def test_column_generation_reaches_the_whole_lps_optimum_in_every_tier(built) -> None:
    """The LP over a working set of arcs, priced by duals, must end at the optimum of the LP over every
    arc, tier after tier, and after a hold is loosened: kept in one GLOP solver (`IncrementalLP`), copied
    with the last basis, or copied cold. And it must not need every arc to get there."""
    kept, warm, cold = Solver(built, 0), Solver(built, 0), Solver(built, 0)
    assert kept._incremental is not None
    warm._incremental = cold._incremental = None
    solvers = (kept, warm, cold)

    def agree() -> float:
        cold.basis = None
        a, b, c = (solver.lp(60) for solver in solvers)
        whole = warm.export()
        whole.variables.integers[:] = [False] * warm.size
        assert a.optimal and b.optimal and c.optimal
        assert a.objective == pytest.approx(b.objective, abs=1e-6)
        assert a.objective == pytest.approx(c.objective, abs=1e-6)
        assert a.objective == pytest.approx(_solve_proto(whole), abs=1e-6)
        return a.objective

    optimum = {}
    for name in built.policy.plan.tiers:
        for solver in solvers:
            solver.objective = built.tiers[name]
        optimum[name] = agree()
        for solver in solvers:
            solver.hold(built.tiers[name], optimum[name] + 1e-6)
    balance = built.policy.plan.tiers.index("balance")
    for solver in solvers:  # the disruption tier again, with the balance tier's hold loosened by 5
        solver.objective = built.tiers["disruption"]
        solver.relax(balance, solver.holds[balance][1] + 5.0)
    assert agree() < optimum["disruption"] - 1e-3
    assert kept.working[kept.flows].mean() < 0.9


def test_restricted_mip_equals_the_mip_with_those_variables_fixed(built) -> None:
    """`reduced` substitutes fixed variables into the rows; the answer must be the one a MIP with
    those variables' bounds pinned gives."""
    solver = Solver(built, 0)
    solver.objective = built.tiers["headcount"]
    first = solver.mip(60)
    assert first.found
    rng = np.random.default_rng(0)
    fix = solver.integer & (rng.random(solver.size) < 0.7)
    values = np.where(solver.integer, np.rint(first.values), first.values)
    restricted = solver.mip(60, fix=fix, values=values)
    proto = solver.export()
    lower = np.asarray(proto.variables.lower_bounds)
    upper = np.asarray(proto.variables.upper_bounds)
    lower[fix] = upper[fix] = values[fix]
    proto.variables.lower_bounds[:] = lower.tolist()
    proto.variables.upper_bounds[:] = upper.tolist()
    pinned = solver._call(proto, mathopt.SolverType.HIGHS, mathopt.SolveParameters(
        time_limit=datetime.timedelta(seconds=60), relative_gap_tolerance=1e-9, absolute_gap_tolerance=1e-7))
    assert restricted.found and pinned.found
    assert restricted.objective == pytest.approx(pinned.objective, abs=1e-6)
    assert np.allclose(restricted.values[fix], values[fix])


def _disruption_after_headcount(built) -> tuple[Solver, np.ndarray]:
    """A solver at the disruption tier with the headcount tier held, and the headcount MIP's plan."""
    solver = Solver(built, 0)
    solver.objective = built.tiers["headcount"]
    known = solver.mip(60)
    solver.hold(built.tiers["headcount"], known.objective + 1e-6)
    solver.objective = built.tiers["disruption"]
    return solver, np.where(solver.integer, np.rint(known.values), known.values)


def test_a_hinted_mip_starts_from_the_hint(built) -> None:
    """The full MIP of a lower tier is given the best known solution: it returns one at least as good."""
    solver, hint = _disruption_after_headcount(built)
    at_hint = solver.objective_at(hint)
    continuous = np.flatnonzero(~solver.integer & (solver.lower == 0))
    hint[continuous[0]] = -5e-7  # solver noise just below a bound: HiGHS would reject the hint outright
    hinted = solver.mip(5, gap=0.5, hint=hint)  # a loose gap: stop at the first good solution
    assert hinted.found
    assert hinted.objective <= at_hint + 1e-6


def _one_and_a_half() -> tuple[Solver, np.ndarray]:
    """x + y ≥ 1.5, x and y integer in [0, 5]: its solver and the two variables."""
    model = LinearModel()
    x = model.add_variables(2, 0.0, 5.0, integer=True)
    (row,) = model.add_rows(1.5, np.inf, 1)
    model.add_terms([row, row], x)
    arcs = pd.DataFrame({"group": [0, 1], "dest": ["a", "b"]})
    return Solver(SimpleNamespace(model=model, flow=x, candidates=SimpleNamespace(arcs=arcs)), 0), x


def test_a_plan_found_before_columns_joined_rounds_against_the_whole_model() -> None:
    """Priced columns join the model during a tier's LP; a plan found before (the wishes tier's probe,
    restored after a loosened solve priced 5,000 paths in) is shorter than the model: rounding it
    raised a ValueError (shapes 90,943 and 85,943) on a 6,000-teacher county under load."""
    model = LinearModel()
    x = model.add_variables(3, 0.0, 5.0, integer=True)
    arcs = pd.DataFrame({"group": [0, 1, 2], "dest": ["a", "b", "c"]})
    solver = Solver(SimpleNamespace(model=model, flow=x, candidates=SimpleNamespace(arcs=arcs)), 0)
    assert solver.whole(np.array([0.6, 2.2])).tolist() == [1.0, 2.0, 0.0]


def test_a_whole_number_objective_rounds_its_bound_up() -> None:
    """x + y ≥ 1.5 with x, y integer: the LP bound 1.5 is no integer plan's value; the bound is 2."""
    from teacheralloc.model.tiers import _solve_tier

    solver, x = _one_and_a_half()
    solver.objective = Linear(x, np.array([1.0, 1.0]))
    assert solver.objective_step() == 1
    solved = _solve_tier(solver, 60, 1e-9, 1e-9, None)
    assert solved.bound == 2 and solved.value == pytest.approx(2.0) and solved.optimal
    solver.objective = Linear(x, np.array([1.0, 0.5]))
    assert solver.objective_step() == 0.5
    solver.objective = Linear(x, np.array([1.0, np.pi]))
    assert solver.objective_step() is None


@pytest.mark.parametrize(("right_side", "step", "optimum"), [(3.0, 1.0, 2.0), (2.5, None, 1.5)])
def test_a_shortage_variable_of_whole_rows_is_on_the_grid(monkeypatch: pytest.MonkeyPatch, right_side: float,
                                                          step: float | None, optimum: float) -> None:
    """min s + x with s + 2x ≥ 3, x integer, s ≥ 0 continuous (a shortage): the LP gives 1.5 (x = 1.5),
    every integer plan 2; s is whole at any optimum since its row is whole, so the LP bound rounds up to
    2 and the first restricted MIP's 2 is proven optimal with no full MIP. With a fractional right side
    (2.5) s may be fractional: no grid, and it takes the full MIP to prove 1.5 (LP 1.25)."""
    from teacheralloc.model.tiers import _solve_tier

    model = LinearModel()
    x = model.add_variables(1, 0.0, 5.0, integer=True)
    s = model.add_variables(1, 0.0, np.inf)
    (row,) = model.add_rows(right_side, np.inf, 1)
    model.add_terms([row, row], [s[0], x[0]], [1.0, 2.0])
    arcs = pd.DataFrame({"group": [0], "dest": ["a"]})
    solver = Solver(SimpleNamespace(model=model, flow=x, candidates=SimpleNamespace(arcs=arcs)), 0)
    solver.objective = Linear(np.array([s[0], x[0]]), np.array([1.0, 1.0]))
    assert solver.objective_step() == step
    full_mips = []
    real_mip = solver.mip

    def counting_mip(*args, **kwargs):
        if kwargs.get("fix") is None:
            full_mips.append(1)
        return real_mip(*args, **kwargs)

    monkeypatch.setattr(solver, "mip", counting_mip)
    solved = _solve_tier(solver, 60, 1e-9, 1e-9, None)
    assert solved.optimal and solved.value == pytest.approx(optimum) and solved.bound == pytest.approx(optimum)
    assert len(full_mips) == (0 if step else 1)


def test_a_restricted_mip_starts_from_its_hint_and_a_node_limit_keeps_it(built) -> None:
    """Restricted MIPs are given the previous tier's solution: with no branching allowed at all, HiGHS
    must still return a solution at least as good as that hint (the @0.97 county's wishes tier searched
    33 s for a first solution without one)."""
    solver, hint = _disruption_after_headcount(built)
    fix = solver.integer & (hint == 0) & (np.random.default_rng(1).random(solver.size) < 0.5)
    result = solver.mip(60, fix=fix, values=np.zeros(solver.size), hint=hint, nodes=0)
    assert result.found
    assert result.objective <= solver.objective_at(hint) + 1e-6
    assert np.all(result.values[fix] == 0)


def test_a_full_mip_that_stops_without_a_bound_keeps_the_lp_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """`plan.lower_tier_seconds` > 0 runs a lower tier's full MIP; when HiGHS stops before it has a bound
    (dual bound −inf), the tier keeps the LP bound instead of failing (a 3,000-teacher county's wishes
    tier crashed with "cannot convert float infinity to integer")."""
    from ortools.math_opt import result_pb2

    from teacheralloc.model.engine import Result
    from teacheralloc.model.tiers import _solve_tier

    solver, x = _one_and_a_half()
    solver.objective = Linear(x, np.array([1.0, 1.0]))  # whole-number: the bound is rounded up, 1.5 → 2

    def mip(seconds, gap=1e-9, fix=None, values=None, relax_rows=None, hint=None, nodes=None):
        if fix is not None:  # the restricted MIPs find nothing, so the full MIP runs
            return Result(result_pb2.SolveResultProto(), solver.position, solver.size)
        stopped = Result.known(hint, solver.objective_at(hint))
        stopped.dual_bound = -np.inf
        return stopped

    monkeypatch.setattr(solver, "mip", mip)
    solved = _solve_tier(solver, 60, 1e-9, 0.005, np.array([3.0, 0.0]), lower_tier_seconds=30)
    assert solved is not None
    assert solved.value == 3 and solved.bound == 2 and not solved.optimal


def test_a_tier_after_an_unproven_one_is_not_reported_optimal() -> None:
    """Lexicographic optimality: wishes at their bound with disruption above its own is optimal only
    given that disruption, so it reads feasible (with a note); the tiers before stay as they are."""
    from teacheralloc.model.solve import _conditional
    from teacheralloc.plan import TierResult

    def tier(name: str, value: float, bound: float, status: str) -> TierResult:
        return TierResult(name=name, label=name, before=0.0, value=value, bound=bound, status=status, seconds=0.0)

    tiers = [tier("headcount", 4.0, 4.0, "optimal"), tier("disruption", 94.3, 80.2, "feasible"),
             tier("wishes", -45.0, -45.0, "optimal")]
    out = _conditional(tiers)
    assert [t.status for t in out] == ["optimal", "feasible", "feasible"]
    assert out[2].bound == -45.0 and "94.300" in out[2].note
    assert _conditional(tiers[:1] + tiers[2:]) == tiers[:1] + tiers[2:]  # all proven: unchanged


def test_a_kept_lp_in_numerical_trouble_is_solved_copied(built, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unscaled GLOP (the kept LP) ending imprecise: the round is solved again copied and scaled, and
    the LP's optimum is the same as a copied solver's."""
    from ortools.math_opt import result_pb2

    from teacheralloc.model.incremental import IncrementalLP

    def imprecise(self, *args, **kwargs):
        return result_pb2.SolveResultProto(
            termination=result_pb2.TerminationProto(reason=result_pb2.TERMINATION_REASON_IMPRECISE))

    kept, copied = Solver(built, 0), Solver(built, 0)
    copied._incremental = None
    monkeypatch.setattr(IncrementalLP, "solve", imprecise)
    kept.objective = copied.objective = built.tiers["headcount"]
    result = kept.lp(60)
    assert kept._incremental is None
    assert result.optimal
    assert result.objective == pytest.approx(copied.lp(60).objective, abs=1e-6)


def test_an_exact_tiers_full_mip_leaves_the_later_tiers_half_the_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exact tier still above its LP bound after its restricted MIPs runs the full MIP, which may
    take at most half the time left when tiers follow (`tiers.EXACT_FULL_MIP_SHARE`): a 5,046-teacher
    county's balance tier took 114 s of 120 and left disruption and wishes unoptimised. Here (150
    teachers, seed 3, fixing off so the balance tier reaches its full MIP) the limit it gets is seen."""
    import teacheralloc.model.solve as solve
    import teacheralloc.model.tiers as tiers
    from teacheralloc.policy import load_policy
    from teacheralloc.sample import generate_county

    limits: list[tuple[str | None, float]] = []
    real = Solver.mip

    def spy(self, seconds, gap=1e-9, fix=None, values=None, relax_rows=None, hint=None, nodes=None, cutoff=None):
        if fix is None and relax_rows is None:
            limits.append((self.tier, seconds))
        return real(self, seconds, gap, fix, values, relax_rows, hint, nodes, cutoff)

    monkeypatch.setattr(Solver, "mip", spy)
    county = generate_county(150, seed=3)
    # (the county as chosen, before a school with no 核定编制 took its norm for one)
    policy = load_policy(overrides={"plan": {"fixing_free_variables": 0, "arrivals_within_shortage": False}})
    solve.plan_county(county, policy, None, solve.SolveParams(time_limit_s=60))
    [(tier, seconds)] = [(t, s) for t, s in limits if t in tiers.EXACT_TIERS]
    assert tier == "balance" and 25 < seconds <= 30
    limits.clear()
    monkeypatch.setattr(tiers, "EXACT_FULL_MIP_SHARE", 1.0)
    solve.plan_county(county, policy, None, solve.SolveParams(time_limit_s=60))
    assert next(s for t, s in limits if t == "balance") > 50


def test_a_tier_cut_by_time_is_valued_at_its_best_for_the_plans_moves(built) -> None:
    """A tier the time limit cut is reported at the last plan. Read off that solution as it stood, its
    subject assignment (who teaches what) had never been optimised: a 20,000-teacher county at 1 s showed
    its subject tier 3,360 → 17,212 for 967 moves, where each move changes it by 2 at most. With the moves
    fixed, the rest is at its best: within that reach of the value before the plan."""
    from teacheralloc.model.engine import SolveParams
    from teacheralloc.model.tiers import _value_without_moves, at_last_plan

    solver = Solver(built, 0)
    before = _value_without_moves(built, solver, "subject", SolveParams())
    solver.objective, solver.tier = built.tiers["headcount"], "headcount"
    last = solver.mip(60).values  # the plan of the tier before: its subject assignment is anyone's
    moves = float(np.rint(last[built.flow])[built.arc_masks["leaving"]].sum())  # a move leaves once
    raw = built.tiers["subject"].at(last)
    [cut] = at_last_plan(built, last, ("subject",), {"subject": before}, solver)
    assert cut.status == "time_limit" and cut.value < raw
    assert cut.value <= before + 2 * max(moves, 1) + 1e-6 < raw


def test_the_slack_a_later_tier_may_spend_is_in_the_tiers_own_units(built) -> None:
    """`plan.lower_tier_slack` (0.99: less than one move) was an absolute amount: with the disruption
    weights scaled by 0.1 it let the wishes tier buy nine moves more (275 against 268 on a 2,000-teacher
    county). It is a share of one move (`plan.move_cost`) where the tier's values lie on no grid, of its
    grid step where they do (wishes: one wish)."""
    from teacheralloc.model.tiers import slack_of

    solver = Solver(built, 0)
    plan = built.policy.plan
    solver.objective = built.tiers["disruption"]
    assert slack_of(solver, "disruption", plan) == pytest.approx(0.99 * plan.move_cost)
    scaled = plan.model_copy(update={"move_cost": plan.move_cost * 0.1})
    assert slack_of(solver, "disruption", scaled) == pytest.approx(0.099 * plan.move_cost)
    solver.objective = built.tiers["wishes"]
    step = solver.objective_step()
    assert step and slack_of(solver, "wishes", plan) == pytest.approx(0.99 * step)
    # whole-km distances put the disruption tier on a grid of km_cost (0.02): still one move, not a fiftieth
    solver.objective = built.tiers["disruption"]
    solver.objective_step = lambda: 0.02
    assert slack_of(solver, "disruption", plan) == pytest.approx(0.99 * plan.move_cost)
