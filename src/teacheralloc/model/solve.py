"""Solve the allocation tier by tier (词典序) with OR-Tools MathOpt, then name the teachers.

Each tier is minimised with every earlier tier held at its optimum (within `plan.tier_tolerance`),
so no amount of a lower tier can buy a unit of a higher one. Each tier reports its value and the
solver's proven bound: the LP relaxation (GLOP, warm-started from the previous tier's basis), then
HiGHS MIPs for integrality. Both run single-threaded with a fixed seed: the same input and settings
give the same plan.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
from ortools.math_opt import model_parameters_pb2, model_pb2, result_pb2, solution_pb2
from ortools.math_opt.core.python import solver as core_solver
from ortools.math_opt.python import callback, init_arguments, mathopt
from pybind11_abseil.status import StatusNotOk
from pydantic import BaseModel, ConfigDict, Field

from teacheralloc.domain import County, Stage
from teacheralloc.errors import InputError, Problem
from teacheralloc.model.builder import AllocationModel, Linear, build_model
from teacheralloc.model.candidates import (
    Candidates,
    any_distance_known,
    build_candidates,
    distance_known,
    leaving_cap,
)
from teacheralloc.model.incremental import IncrementalLP
from teacheralloc.model.objective import TIER_LABELS
from teacheralloc.norms import Norms, compute_norms
from teacheralloc.plan import Plan, TierResult, county_after, county_indicators, quota_tier_text
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
#: LPs of at most this many rows are kept in one GLOP solver between rounds (`incremental.IncrementalLP`):
#: there a round's fixed cost (copying the model, GLOP's load, a fresh factorisation) outweighs its
#: iterations. Sample county (4,800 rows): the six tiers 4.3 → 3.4 s; 5,000 teachers (10,500 rows): the
#: same or better per tier. Larger LPs spend their time iterating, where GLOP's scaling (off when kept:
#: each joining column would rescale the others) pays: 10,000 teachers (19,700 rows), subject tier
#: 3.2 → 5.7 s kept; 20,000 (38,500 rows) 8.7 → 13.6 s.
INCREMENTAL_ROWS = 12_000
#: How an LP can end in numerical trouble (`_Solver.lp` then leaves the kept GLOP solver for a copied one).
_NUMERICAL = (result_pb2.TERMINATION_REASON_IMPRECISE, result_pb2.TERMINATION_REASON_NUMERICAL_ERROR,
              result_pb2.TERMINATION_REASON_OTHER_ERROR)
#: A lower tier on school-to-school arcs or priced paths widens its restricted MIP when that leaves at
#: most this many free variables (or at most 4 times as many as before widening).
WIDEN_FREE = 10_000


class SolverTimeout(RuntimeError):
    """The time limit ran out before any plan was found."""


class SolveParams(BaseModel):
    """Solver settings (求解参数)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    time_limit_s: float = Field(60.0, gt=0, description="Wall-clock limit for the whole solve (all tiers).")
    workers: int = Field(1, ge=1, description="Threads; HiGHS MIP runs single-threaded, kept for determinism.")
    seed: int = Field(0, ge=0, description="Solver random seed.")
    mode: str | None = Field(None, description="'hub' or 'pairs' (None: hub, or pairs with a distance limit).")


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


@contextlib.contextmanager
def _native_stdout_silenced() -> object:
    """HiGHS prints debugging lines to the process's stdout from C++; keep them off the user's screen."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 (embedded use): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class _Result:
    """What one solve returned, read straight from MathOpt's result proto into numpy (parsing it into
    Python objects per variable cost 0.4 s a solve at 40,000 variables)."""

    def __init__(self, proto: result_pb2.SolveResultProto, position: np.ndarray, size: int, rows: int = 0) -> None:
        self.reason = proto.termination.reason
        self.timed_out = proto.termination.limit == result_pb2.LIMIT_TIME  # stopped by its time limit
        self.dual_bound = float(proto.termination.objective_bounds.dual_bound)
        self.values: np.ndarray | None = None
        self.duals: np.ndarray | None = None  # by row id, when asked for (`rows` > 0)
        self.objective = float("nan")
        self.bound = float("nan")  # a proven lower bound where it is not the objective (priced columns)
        #: Every variable's reduced cost at an LP optimum over the whole model (`_Solver.lp`), else None.
        self.reduced_cost: np.ndarray | None = None
        self.iterations = int(proto.solve_stats.simplex_iterations)
        self.basis = None
        for solution in proto.solutions:
            if solution.HasField("primal_solution") and solution.primal_solution.feasibility_status == 2:
                primal = solution.primal_solution
                self.values = np.zeros(size)
                self.values[position[np.asarray(primal.variable_values.ids, dtype=np.int64)]] = np.asarray(
                    primal.variable_values.values)
                self.objective = float(primal.objective_value)
                if solution.HasField("basis"):
                    self.basis = solution.basis
                if rows and solution.HasField("dual_solution"):
                    self.duals = np.zeros(rows)
                    self.duals[np.asarray(solution.dual_solution.dual_values.ids, dtype=np.int64)] = np.asarray(
                        solution.dual_solution.dual_values.values)
                break

    @classmethod
    def known(cls, values: np.ndarray, objective: float) -> _Result:
        """A solution found earlier (the incumbent), as a result."""
        result = cls(result_pb2.SolveResultProto(), np.zeros(0, dtype=np.int64), 0)
        result.values, result.objective = values, objective
        return result

    @property
    def optimal(self) -> bool:
        return self.reason == result_pb2.TERMINATION_REASON_OPTIMAL

    @property
    def infeasible(self) -> bool:
        return self.reason == result_pb2.TERMINATION_REASON_INFEASIBLE

    @property
    def found(self) -> bool:
        return self.values is not None


class _Solver:
    """Solves one model many times: LPs by column generation with GLOP's primal simplex, warm-started
    from the last optimal basis (each tier only changes the objective and adds one hold row, so the old
    basis stays primal feasible: measured 3.5 s for the six LPs of the sample county against 12 s cold
    with HiGHS), MIPs with HiGHS. The model's proto is built once; each solve copies it and sets the
    objective, the holds of the earlier tiers and any fixed variables.

    Column generation (列生成): an LP sees only its working set of flow variables (every other flow
    held at zero) plus every non-flow variable; the rows' duals price every flow left out, and those
    with a negative reduced cost join, until none does: then the restricted LP's optimum is the whole
    LP's. The working set only grows, across tiers too. Measured at 20,000 teachers: the six LPs 40 s
    against 73 s over all 139,000 arcs (the subject tier 5.9 s against 28.8 s); about half the arcs
    ever join."""

    def __init__(self, built: AllocationModel, seed: int) -> None:
        self.seed = seed
        self.model = built.model
        self._base: model_pb2.ModelProto | None = None  # the whole model's proto, built when first needed
        self.size = built.model.num_variables
        self.position = np.arange(self.size, dtype=np.int64)  # variable id → position: the same here
        self.lower, self.upper, self.integer = built.model.bounds()
        self.objective: Linear = Linear(np.zeros(0, dtype=np.int64), np.zeros(0))
        self.tier: str | None = None  # the tier `objective` is, when it is one (for pricing columns not held)
        self.holds: list[tuple[Linear, float]] = []
        self.hold_names: list[str | None] = []
        self.time_stops = 0  # MIPs its time limit stopped (a tier's share of the time, or the whole limit)
        #: Column generation beyond the model's own variables (`paths.PathSpace.pricer`): called with the
        #: solver, an optimal LP result and the held variables' reduced costs after each round; returns
        #: whether columns joined, a proven bound on the whole LP (or None) and whether it is close enough.
        self.pricer: Callable[[_Solver, _Result, np.ndarray], tuple[bool, float | None, bool]] | None = None
        #: With a pricer: flows at zero whose reduced cost exceeds this leave the working set after each
        #: round (they stay in the model, priced with the rest, and rejoin if they price negative): each
        #: GLOP solve costs ~0.5 s per 70,000 columns before its first iteration.
        self.drop_above: float | None = None
        #: With a pricer: adds every column not held whose reduced cost at the given duals is at most the
        #: threshold (`paths.PathSpace.complete`), so that reduced-cost fixing may treat the rest as fixed at
        #: zero; False when more than the limit would.
        self.completer: Callable[[_Solver, np.ndarray, float, int], bool] | None = None
        self.basis: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (variable ids, their, rows') status
        self.flows = np.zeros(self.size, dtype=bool)
        self.flows[built.flow] = True
        self.working = ~self.flows  # the LP's columns: every non-flow variable, and flows as they join
        self.keys = self._neighbour_keys(built)
        self.cover = self.integer.copy()
        self.cover[built.flow] = False
        self.row_bounds = built.model.row_bounds()
        self._stacked = (*built.model.matrix(), *self.row_bounds)  # see `_rows`
        self._stacked_holds = 0
        self._base_entries = len(self._stacked[0])
        self._implied: np.ndarray | None = None  # see `_implied_integer`
        #: The LP kept in one GLOP solver between rounds, for models small enough (`INCREMENTAL_ROWS`).
        self._incremental = IncrementalLP() if len(self.row_bounds[0]) <= INCREMENTAL_ROWS else None

    def _neighbour_keys(self, built: AllocationModel) -> list[np.ndarray]:
        """Arc keys (group, destination) by variable id, for `neighbours`; -1 elsewhere."""
        keys = []
        for column in ("group", "dest"):
            values = built.candidates.arcs[column]
            if pd.api.types.is_integer_dtype(values.dtype):  # ids as they are (-1: no such end)
                codes = values.to_numpy(dtype=np.int64)
            elif isinstance(values.dtype, pd.CategoricalDtype):  # its codes: -1 where the arc has no such end
                codes = values.cat.codes.to_numpy(dtype=np.int64)
                if "" in values.cat.categories:
                    codes = np.where(codes == values.cat.categories.get_loc(""), -1, codes)
            else:
                values = values.astype(object)
                missing = values.isna() | values.isin(["", -1])
                codes = pd.factorize(values.where(~missing, None))[0]  # -1 where the arc has no such end
            key = np.full(self.size, -1, dtype=np.int64)
            key[built.flow] = codes
            keys.append(key)
        return keys

    def neighbours(self, mask: np.ndarray) -> np.ndarray:
        """Every integer variable that shares a group or destination with a flow in `mask`, and
        every subject-cover variable: the room an integer solution near the LP's needs."""
        out = mask.copy()
        for key in self.keys:
            touched = np.unique(key[mask & (key >= 0)])
            out |= np.isin(key, touched) & (key >= 0)
        return out | self.cover

    def hold(self, expression: Linear, upper: float, name: str | None = None) -> None:
        """Keep `expression` ≤ `upper` in every later solve (an earlier tier at its optimum, `name`); its
        terms sorted by variable, so the rows with the holds appended stay row-major."""
        order = np.argsort(expression.columns, kind="stable")
        self.holds.append((Linear(expression.columns[order], expression.coefs[order], expression.constant), upper))
        self.hold_names.append(name)

    def relax(self, index: int, upper: float) -> None:
        """Hold `index` at a new upper value (a later tier may loosen an earlier lower tier's hold)."""
        expression, _ = self.holds[index]
        self.holds[index] = (expression, upper)
        if index < self._stacked_holds:  # the matrix with the holds appended keeps its row bounds
            self._stacked[4][len(self.row_bounds[0]) + index] = upper - expression.constant

    def grow(self, built: AllocationModel, keys: list[np.ndarray]) -> None:
        """The model gained flow variables (priced columns, appended with the highest ids, `keys` their
        neighbour keys): every array follows, they join the working set, and the objective and the holds
        take the tiers' new terms."""
        grown = built.model.num_variables - self.size
        self.size = built.model.num_variables
        self.position = np.arange(self.size, dtype=np.int64)
        self.lower, self.upper, self.integer = built.model.bounds()
        self.flows = np.r_[self.flows, np.ones(grown, dtype=bool)]
        self.working = np.r_[self.working, np.ones(grown, dtype=bool)]
        self.cover = np.r_[self.cover, np.zeros(grown, dtype=bool)]
        self.keys = [np.r_[key, new] for key, new in zip(self.keys, keys, strict=True)]
        if self.tier is not None:
            self.objective = built.tiers[self.tier]
        for offset, name in enumerate(self.hold_names):
            if name is not None:
                expression, upper = built.tiers[name], self.holds[offset][1]
                order = np.argsort(expression.columns, kind="stable")
                self.holds[offset] = (Linear(expression.columns[order], expression.coefs[order], expression.constant),
                                      upper)
        self._stacked = (*built.model.matrix(), *self.row_bounds)
        self._stacked_holds = 0
        self._base_entries = len(self._stacked[0])
        self._implied = None
        self._base = None

    def whole(self, values: np.ndarray) -> np.ndarray:
        """`values` with the integer variables rounded to whole numbers."""
        return np.where(self.integer, np.rint(values), values)

    def objective_step(self) -> float | None:
        """The grid every optimal value of the current objective lies on (its constant plus whole multiples
        of a step), or None. It exists when every variable of the objective is integer or implied integer
        (a continuous shortage variable whose one row holds otherwise only whole terms on integer variables,
        with whole bounds: at an optimum it sits at a whole number, since nothing but its row pushes it up)
        and the coefficients are whole multiples of one step. A bound may then be rounded up to the grid:
        the wishes tier's LP bound −135.19 → −135; a subject tier's 49.8 → 50 (weights 1 and 2), which
        proves the whole-teacher plan optimal without a full MIP."""
        objective = self.objective
        columns, coefs = objective.columns, objective.coefs
        implied = self._implied_integer().copy()
        for expression, _ in self.holds:  # an earlier tier that rewards a shortage could push it up
            implied[expression.columns[expression.coefs < 0]] = False
        if not np.all(self.integer[columns] | (implied[columns] & (coefs >= 0))):
            return None
        step = Fraction(0)
        for coef in np.unique(np.abs(coefs[coefs != 0])):
            exact = Fraction(float(coef)).limit_denominator(1000)
            if abs(float(exact) - coef) > 1e-12:
                return None
            step = Fraction(math.gcd(step.numerator, exact.numerator), math.lcm(step.denominator, exact.denominator))
        return float(step) if step else None

    def round_up(self, bound: float, step: float | None) -> float:
        """`bound` rounded up to the objective's grid (`objective_step`); a relative 1e-6 absorbs the LP's
        own tolerance, so a bound a hair above a grid point stays there."""
        if step is None or not math.isfinite(bound):
            return bound
        constant = self.objective.constant
        slack = 1e-6 * max(1.0, abs(bound))
        return constant + step * math.ceil((bound - constant - slack) / step)

    def _implied_integer(self) -> np.ndarray:
        """Continuous variables with a whole value at any optimum that lowers them (see `objective_step`)."""
        if self._implied is None:
            rows, columns, coefs = (part[:self._base_entries] for part in self._stacked[:3])
            row_lower, row_upper = self.row_bounds

            def whole(x: np.ndarray) -> np.ndarray:  # an infinite bound counts as whole
                with np.errstate(invalid="ignore"):
                    return np.isinf(x) | (np.abs(x - np.rint(x)) < 1e-9)

            single = ~self.integer & (np.bincount(columns, minlength=self.size) == 1)
            single &= whole(self.lower) & whole(self.upper)
            loose = ~self.integer[columns] | ~whole(coefs)  # entries that are not whole terms on integers
            clean_row = (np.bincount(rows[loose], minlength=len(row_lower)) == 1) & whole(row_lower) & whole(row_upper)
            ok = single[columns] & clean_row[rows] & (np.abs(np.abs(coefs) - 1.0) < 1e-12)
            self._implied = np.zeros(self.size, dtype=bool)
            self._implied[columns[ok]] = True
        return self._implied

    def objective_at(self, values: np.ndarray) -> float:
        """The current objective at `values`."""
        return self.objective.at(values)

    def export(self, relax_rows: np.ndarray | None = None) -> model_pb2.ModelProto:
        """The whole model with the current objective and holds."""
        proto = model_pb2.ModelProto()
        if self._base is None:
            self._base = self.model.to_proto()
        proto.CopyFrom(self._base)
        order = np.argsort(self.objective.columns, kind="stable")
        proto.objective.maximize = False
        proto.objective.offset = self.objective.constant
        proto.objective.linear_coefficients.ids.extend(self.objective.columns[order].tolist())
        proto.objective.linear_coefficients.values.extend(self.objective.coefs[order].tolist())
        rows = len(proto.linear_constraints.ids)
        matrix = proto.linear_constraint_matrix
        for offset, (expression, upper) in enumerate(self.holds):
            proto.linear_constraints.ids.append(rows + offset)
            proto.linear_constraints.lower_bounds.append(-math.inf)
            proto.linear_constraints.upper_bounds.append(upper - expression.constant)
            order = np.argsort(expression.columns, kind="stable")
            matrix.row_ids.extend([rows + offset] * len(order))
            matrix.column_ids.extend(expression.columns[order].tolist())
            matrix.coefficients.extend(expression.coefs[order].tolist())
        if relax_rows is not None and len(relax_rows):
            bounds = np.asarray(proto.linear_constraints.lower_bounds)
            bounds[relax_rows] = -math.inf
            proto.linear_constraints.lower_bounds[:] = bounds.tolist()
        return proto

    def _rows(self, relax_rows: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The matrix with the holds appended, row-major: (rows, columns, coefficients, row lower, row
        upper); `relax_rows` without their lower bound. Kept between calls and extended by the holds
        added since: one copy of the matrix (a million-arc model has 8.5 million entries)."""
        if self._stacked_holds < len(self.holds):
            rows, columns, coefs, lower, upper = self._stacked
            row_parts, column_parts, coef_parts = [rows], [columns], [coefs]
            lowers, uppers = [lower], [upper]
            first = len(self.row_bounds[0])
            for offset in range(self._stacked_holds, len(self.holds)):
                expression, bound = self.holds[offset]
                row_parts.append(np.full(len(expression.columns), first + offset, dtype=rows.dtype))
                column_parts.append(expression.columns.astype(columns.dtype))
                coef_parts.append(expression.coefs)
                lowers.append(np.array([-math.inf]))
                uppers.append(np.array([bound - expression.constant]))
            self._stacked = (np.concatenate(row_parts), np.concatenate(column_parts), np.concatenate(coef_parts),
                             np.concatenate(lowers), np.concatenate(uppers))
            self._stacked_holds = len(self.holds)
        rows, columns, coefs, lower, upper = self._stacked
        if relax_rows is not None and len(relax_rows):
            lower = lower.copy()
            lower[relax_rows] = -math.inf
        return rows, columns, coefs, lower, upper

    def reduced(self, fix: np.ndarray, values: np.ndarray, relax_rows: np.ndarray | None = None
                ) -> model_pb2.ModelProto:
        """The MIP with the variables where `fix` substituted by `values`: only the free variables (with
        their own ids) and the rows they appear in. HiGHS's presolve would remove them too, but paid
        0.2 s a call for it on the sample county's 45,000 variables."""
        rows, columns, coefs, lower, upper = self._rows(relax_rows)
        # The fixed variables' part of each row: only those fixed at a non-zero value add to it (few),
        # which keeps the temporaries small on a model of millions of entries.
        active = (fix & (values != 0))[columns]
        activity = np.bincount(rows[active], weights=coefs[active] * values[columns[active]], minlength=len(lower))
        lower, upper = lower - activity, upper - activity
        free_entry = ~fix[columns]
        rows, columns, coefs = rows[free_entry], columns[free_entry], coefs[free_entry]
        order = np.lexsort((columns, rows))
        rows, columns, coefs = rows[order], columns[order], coefs[order]
        used = np.zeros(len(lower), dtype=bool)
        used[rows] = True
        violated = ~used & ((lower > 1e-6) | (upper < -1e-6))  # an empty row that fails: keep, so it says so
        keep_rows = used | violated
        proto = model_pb2.ModelProto(name="teacheralloc-restricted")
        free = np.flatnonzero(~fix)
        proto.variables.ids.extend(free.tolist())
        proto.variables.lower_bounds.extend(self.lower[free].tolist())
        proto.variables.upper_bounds.extend(self.upper[free].tolist())
        proto.variables.integers.extend(self.integer[free].tolist())
        kept = np.flatnonzero(keep_rows)
        proto.linear_constraints.ids.extend(kept.tolist())
        proto.linear_constraints.lower_bounds.extend(lower[kept].tolist())
        proto.linear_constraints.upper_bounds.extend(upper[kept].tolist())
        matrix = proto.linear_constraint_matrix
        matrix.row_ids.extend(rows.tolist())
        matrix.column_ids.extend(columns.tolist())
        matrix.coefficients.extend(coefs.tolist())
        objective = self.objective
        fixed_terms = fix[objective.columns]
        proto.objective.maximize = False
        proto.objective.offset = objective.constant + float(
            np.dot(objective.coefs[fixed_terms], values[objective.columns[fixed_terms]]))
        order = np.argsort(objective.columns[~fixed_terms], kind="stable")
        proto.objective.linear_coefficients.ids.extend(objective.columns[~fixed_terms][order].tolist())
        proto.objective.linear_coefficients.values.extend(objective.coefs[~fixed_terms][order].tolist())
        return proto

    def _call(self, proto: model_pb2.ModelProto, solver: mathopt.SolverType, params: mathopt.SolveParameters,
              basis: object = None, hint: np.ndarray | None = None, duals: bool = False) -> _Result:
        model_params = model_parameters_pb2.ModelSolveParametersProto()
        model_params.dual_values_filter.filter_by_ids = not duals  # read only for column generation
        model_params.reduced_costs_filter.filter_by_ids = True  # computed here, for the flows left out
        if basis is not None:
            model_params.initial_basis.CopyFrom(basis)
        if hint is not None:  # a known solution: HiGHS starts from it and spends its time on the bound
            hint = np.clip(hint, self.lower, self.upper)  # HiGHS rejects a value 1e-7 outside a bound
            nonzero = np.flatnonzero(np.abs(hint) > 1e-9)
            values = model_params.solution_hints.add().variable_values
            values.ids.extend(nonzero.tolist())
            values.values.extend(hint[nonzero].tolist())
        with _native_stdout_silenced():
            try:
                raw = core_solver.solve(proto, solver.value, init_arguments.StreamableSolverInitArguments().to_proto(),
                                        params.to_proto(), model_params, None,
                                        callback.CallbackRegistration().to_proto(), None, None)
            except StatusNotOk as error:  # an invalid model is a bug, not a user mistake
                raise RuntimeError(f"MathOpt: {error}") from None
        return _Result(raw, self.position, self.size, len(proto.linear_constraints.ids) if duals else 0)

    def lp(self, seconds: float, include: np.ndarray | None = None) -> _Result:
        """The LP relaxation by column generation over the working set (plus `include`), warm-started
        from the last optimal basis (kept in GLOP, or passed to it); the result covers every variable
        (zero outside the set)."""
        start = time.perf_counter()
        if include is not None:
            self.working[:len(include)] |= include & self.flows[:len(include)]
        best: _Result | None = None  # with a pricer: the last optimal restricted LP, with its proven bound
        while True:
            rows, columns, coefs, lower, upper = self._rows()  # row-major: each round's model keeps this order
            cost = np.bincount(self.objective.columns, weights=self.objective.coefs, minlength=self.size)
            params = _params(seconds - (time.perf_counter() - start), self.seed)
            params.lp_algorithm = mathopt.LPAlgorithm.PRIMAL_SIMPLEX
            if self._incremental is not None and self.pricer is None:  # priced columns come and go: copied
                with _native_stdout_silenced():
                    raw = self._incremental.solve(self.working, self.lower, self.upper, (rows, columns, coefs),
                                                  lower, upper, cost, self.objective.constant, params)
                result = _Result(raw, self._incremental.position, self.size, len(lower))
                result.basis = None  # GLOP keeps it
                if result.reason in _NUMERICAL or (result.infeasible and self.working.all()):
                    # Unscaled GLOP in trouble, or an infeasibility to confirm: the LP copied and scaled
                    # from here on (never seen on the counties tried; a guard, not a path).
                    log.info("kept LP ended %s; solving it copied from here on", result.reason)
                    self._incremental = None
                    continue
            else:
                proto = self._restricted(rows, columns, coefs, lower, upper, cost)
                result = self._call(proto, mathopt.SolverType.GLOP, params, self._warm_basis(len(lower)), duals=True)
            if result.infeasible and not self.working.all():  # e.g. a pinned move with no arc in the set yet
                self.working[:] = True
                continue
            if not result.optimal or result.duals is None:
                if best is None or result.infeasible:
                    return result
                # Out of time while pricing: the last restricted optimum is feasible, with its bound (zero
                # on the columns that joined after it).
                best.values = _padded(best.values, self.size)
                return best
            if result.basis is not None:
                self.basis = (np.asarray(result.basis.variable_status.ids, dtype=np.int64),
                              np.asarray(result.basis.variable_status.values, dtype=np.int64),
                              np.asarray(result.basis.constraint_status.values, dtype=np.int64))
            reduced_cost = self.reduced_costs(result.duals)
            outside = np.flatnonzero(~self.working)
            negative = int((reduced_cost[outside] < -1e-7).sum())
            log.debug("LP round: %d columns, objective %.4f, %d priced negative, %d iterations",
                      int(self.working.sum()), result.objective, negative, result.iterations)
            if self.pricer is not None:
                # Columns not held are priced in the same round as the held ones (a round costs a solve).
                if self.drop_above is not None:
                    stale = self.working & self.flows & (result.values == 0) & (reduced_cost > self.drop_above)
                    self.working &= ~stale
                joined, bound, close = self.pricer(self, result, reduced_cost)
                converged = not joined and not negative
                known = best.bound if best is not None else -math.inf
                result.bound = result.objective if converged else max(known, -math.inf if bound is None else bound)
                best = result
                if converged:
                    result.reduced_cost = reduced_cost  # the held columns'; `completer` adds the rest
                if converged or close:
                    return result
                if not negative:
                    continue
            elif not negative:
                result.reduced_cost = reduced_cost
                return result
            # The most negative first, at most a tenth more columns a round; and at least 2 % of the arcs
            # (the next cheapest too), since a round costs a solve however few columns join.
            take = min(negative, max(2000, int(0.1 * self.working.sum())))
            take = max(take, min(len(outside), max(200, int(0.02 * self.flows.sum()))))
            self.working[outside[np.argsort(reduced_cost[outside], kind="stable")[:take]]] = True

    def reduced_costs(self, duals: np.ndarray) -> np.ndarray:
        """Every variable's reduced cost c − Aᵀy for the current objective, with the holds, at `duals`."""
        rows, columns, coefs, _, _ = self._rows()
        cost = np.bincount(self.objective.columns, weights=self.objective.coefs, minlength=self.size)
        # Only the rows with a dual price count (row-major: each row's entries are one slice). Most rows
        # are slack at an LP optimum: the sample county's tiers read a fifth of the entries.
        priced = np.flatnonzero(duals)
        starts = np.searchsorted(rows, np.r_[priced, priced + 1].astype(rows.dtype))
        first, last = starts[:len(priced)], starts[len(priced):]
        lengths = last - first
        entries = np.repeat(first - (np.cumsum(lengths) - lengths), lengths) + np.arange(lengths.sum())
        return cost - np.bincount(columns[entries], weights=coefs[entries] * duals[rows[entries]], minlength=self.size)

    def _restricted(self, rows: np.ndarray, columns: np.ndarray, coefs: np.ndarray, lower: np.ndarray,
                    upper: np.ndarray, cost: np.ndarray) -> model_pb2.ModelProto:
        """The LP over the working set's columns and every row (so a basis carries over as it is); the
        matrix entries come sorted row-major."""
        ids = np.flatnonzero(self.working)
        proto = model_pb2.ModelProto(name="teacheralloc-lp")
        proto.variables.ids.extend(ids.tolist())
        proto.variables.lower_bounds.extend(self.lower[ids].tolist())
        proto.variables.upper_bounds.extend(self.upper[ids].tolist())
        proto.variables.integers.extend([False] * len(ids))
        proto.linear_constraints.ids.extend(range(len(lower)))
        proto.linear_constraints.lower_bounds.extend(lower.tolist())
        proto.linear_constraints.upper_bounds.extend(upper.tolist())
        kept = self.working[columns]  # `rows` and `columns` come row-major
        matrix = proto.linear_constraint_matrix
        matrix.row_ids.extend(rows[kept].tolist())
        matrix.column_ids.extend(columns[kept].tolist())
        matrix.coefficients.extend(coefs[kept].tolist())
        priced = ids[cost[ids] != 0]
        proto.objective.maximize = False
        proto.objective.offset = self.objective.constant
        proto.objective.linear_coefficients.ids.extend(priced.tolist())
        proto.objective.linear_coefficients.values.extend(cost[priced].tolist())
        return proto

    def _warm_basis(self, rows: int) -> solution_pb2.BasisProto | None:
        """The last optimal basis for the current working set and `rows` rows: columns that joined since
        at their lower bound (zero), rows added since (the holds) basic; None when there is none."""
        if self.basis is None:
            return None
        known_ids, known_status, row_status = self.basis
        ids = np.flatnonzero(self.working)
        status = np.full(len(ids), solution_pb2.BASIS_STATUS_AT_LOWER_BOUND, dtype=np.int64)
        kept = self.working[known_ids]  # columns dropped from the working set were nonbasic at zero
        status[np.searchsorted(ids, known_ids[kept])] = known_status[kept]
        basis = solution_pb2.BasisProto()
        basis.variable_status.ids.extend(ids.tolist())
        basis.variable_status.values.extend(status.tolist())
        basis.constraint_status.ids.extend(range(rows))
        basis.constraint_status.values.extend(row_status.tolist())
        basis.constraint_status.values.extend([solution_pb2.BASIS_STATUS_BASIC] * (rows - len(row_status)))
        return basis

    def mip(self, seconds: float, gap: float = 1e-9, fix: np.ndarray | None = None,
            values: np.ndarray | None = None, relax_rows: np.ndarray | None = None,
            hint: np.ndarray | None = None, nodes: int | None = None) -> _Result:
        """The MIP with HiGHS; the variables where `fix` held at `values`; `relax_rows` without lower bound;
        `hint` a feasible solution to start from (HiGHS then spends its time on improving it and on the
        bound: without one, the 20,000-teacher @0.97 wishes tier searched 33 s for a first solution)."""
        params = _params(seconds, self.seed, gap, nodes)
        fixing = fix is not None and fix.any()
        proto = self.reduced(fix, values, relax_rows) if fixing else self.export(relax_rows=relax_rows)
        result = None
        if hint is not None:
            try:
                result = self._call(proto, mathopt.SolverType.HIGHS, params,
                                    hint=np.where(fix, 0.0, hint) if fixing else hint)
            except RuntimeError as error:  # HiGHS rejected the hint anyway (kError): solve without it
                log.debug("solution hint rejected (%s); solving without it", error)
        if result is None:
            result = self._call(proto, mathopt.SolverType.HIGHS, params)
        if result.timed_out:
            self.time_stops += 1
        if fixing and result.values is not None:
            result.values[fix] = values[fix]
        if result.found:  # HiGHS's objective carries its integrality tolerance (−19.0000011): on the grid
            result.objective = self.on_grid(result.objective)
        return result

    def on_grid(self, value: float) -> float:
        """`value` at the nearest point of the objective's grid (`objective_step`) when within a relative
        1e-6 of it, else as it is."""
        step = self.objective_step()
        if step is None or not math.isfinite(value):
            return value
        constant = self.objective.constant
        point = constant + step * round((value - constant) / step)
        return point if abs(point - value) <= 1e-6 * max(1.0, abs(value)) else value


def _params(seconds: float, seed: int, gap: float = 1e-9, nodes: int | None = None) -> mathopt.SolveParameters:
    """Solver settings; `nodes` a branch-and-bound node limit (deterministic, unlike a time limit)."""
    return mathopt.SolveParameters(
        time_limit=datetime.timedelta(seconds=max(seconds, 0.5)),
        random_seed=seed,
        relative_gap_tolerance=gap,
        absolute_gap_tolerance=1e-7,
        node_limit=nodes,
    )


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


def _value_without_moves(built: AllocationModel, solver: _Solver, name: str, params: SolveParams) -> float:
    """A tier's value if nobody moves (for the subject tier a small MIP: who teaches what)."""
    solver.objective, solver.tier = built.tiers[name], name
    flows = np.zeros(solver.size, dtype=bool)
    flows[built.flow] = True
    # nobody moves, pinned teachers included
    result = solver.mip(params.time_limit_s, fix=flows, values=np.zeros(solver.size), relax_rows=built.pinned_rows)
    return result.objective


def _within(value: float, bound: float, share: float, tolerance: float) -> bool:
    """`value` within `share` (relative) of `bound`. The earlier tiers are held with a relative slack of
    `tolerance`, which the LP bound may use: ten times that is allowed before a value counts as above it."""
    return value <= bound + max(share, 10 * tolerance) * max(1.0, abs(bound)) + 1e-6


@dataclass
class _TierSolve:
    value: float
    bound: float
    optimal: bool
    values: np.ndarray | None


def _solve_tier(solver: _Solver, seconds: float, exact: float, accept: float, incumbent: np.ndarray | None,
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
    incumbent = _padded(incumbent, solver.size)  # priced columns may have joined during the LP
    step = solver.objective_step()
    # Priced columns may stop short of the LP optimum, with a proven bound below it (`_Solver.lp`).
    bound = solver.round_up(relaxed.objective if math.isnan(relaxed.bound) else relaxed.bound, step)
    integer = solver.integer
    rounded = solver.whole(relaxed.values)
    whole = ~integer | (np.abs(relaxed.values - rounded) < 1e-6)
    log.debug("LP %.4f (bound %.4f) in %.2fs, %d fractional", relaxed.objective, bound, time.perf_counter() - start,
              int((~whole).sum()))

    def within(value: float, share: float) -> bool:
        return _within(value, bound, share, exact)

    if whole.all() and (math.isnan(relaxed.bound) or within(relaxed.objective, accept)):
        value = relaxed.objective if not math.isnan(relaxed.bound) else bound
        return _TierSolve(value, bound, within(value, exact), rounded)

    # Restrict the MIP to the arcs the LP or the last integer solution use (every other integer
    # variable held at zero): the incumbent keeps it feasible, the LP's support lets it reach the bound.
    # If that falls short, widen it to every arc sharing a group or destination with a fractional one.
    zero = integer & whole & (rounded == 0)
    if incumbent is not None:
        zero &= incumbent == 0
    best: _Result | None = None
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
    for fix in (zero,) if narrow else (zero, wider):
        restricted_free = max(restricted_free, int((integer & ~fix).sum()))
        result = solver.mip(seconds - (time.perf_counter() - start), gap=max(gap, 1e-9), fix=fix,
                            values=np.zeros(len(fix)), hint=best.values if best is not None else incumbent,
                            nodes=None if accept <= exact else lower_tier_nodes)
        log.debug("restricted MIP (%d free) %s %s at %.2fs", int((integer & ~fix).sum()), result.reason,
                  result.objective if result.found else None, time.perf_counter() - start)
        if result.found and (best is None or result.objective < best.objective):
            best = result
        if best is not None and within(best.objective, accept):
            break
    if best is None and incumbent is not None:  # feasible here, whatever HiGHS's presolve says
        best = _Result.known(incumbent, solver.objective_at(incumbent))
    # A plan within `accept` and nearer its bound than the next tier may spend of it anyway is refined
    # only by a small fixing MIP (half the free variables).
    settled = best is not None and within(best.objective, accept) and best.objective - bound < spent_anyway
    if best is not None and not within(best.objective, exact):
        most_free = fixing_free // 2 if settled else \
            max(fixing_free, min(FIXING_STRETCH * restricted_free, FIXING_STRETCH * fixing_free))
        best, bound = _fixed_and_proven(solver, relaxed, best, bound, step, exact,
                                        seconds - (time.perf_counter() - start),
                                        None if accept <= exact else lower_tier_nodes, most_free)
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


def _fixed_and_proven(solver: _Solver, relaxed: _Result, best: _Result, bound: float, step: float | None,
                      exact: float, seconds: float, nodes: int | None, most_free: int) -> tuple[_Result, float]:
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
        values = _padded(values, solver.size)
        best.values = _padded(best.values, solver.size)
    integer = solver.integer
    at_lower = integer & (reduced_cost > room + margin) & (np.abs(values - solver.lower) < 1e-6)
    at_upper = integer & (-reduced_cost > room + margin) & (np.abs(values - solver.upper) < 1e-6)
    fix = at_lower | at_upper
    if not fix.any():
        return best, bound
    fixed_at = np.where(at_upper, solver.upper, np.where(at_lower, solver.lower, 0.0))
    result = solver.mip(seconds, gap=exact, fix=fix, values=fixed_at, nodes=nodes)
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
    started: float | None = None, exact_distances: bool = False, solver: _Solver | None = None,
    started_cpu: float | None = None,
) -> tuple[np.ndarray, tuple[TierResult, ...], str]:
    """Minimise each tier of `names` (default: all, in policy order), holding the earlier ones; return flows
    and tier results.

    `known` are tiers already solved on another model of the same plan (the pooled one): they are held at
    their values here. `start_flows` is a plan of this model that meets them (one flow per arc): its other
    variables are completed by a MIP, and it is where the first tier starts. Status "no_start" when that
    plan does not fit this model (the caller then solves every tier on the pooled model). `solver`: one
    already made for `built` (the exact model's is made in the thread that builds it). `started_cpu`: the
    process's CPU time (`time.process_time`) when the solve began, for the choices made on the time
    left (see `_cpu_left`)."""
    policy = built.policy
    start = started if started is not None else time.perf_counter()
    start_cpu = started_cpu if started_cpu is not None else time.process_time()
    tier_cpu: list[float] = []  # each tier's CPU seconds
    order = tuple(policy.plan.tiers)
    names = order if names is None else tuple(names)
    results: list[TierResult] = []
    solver = solver or _Solver(built, params.seed)
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
        tier_start, tier_start_cpu = time.perf_counter(), time.process_time()
        accept = tolerance if name in EXACT_TIERS else max(tolerance, plan.lower_tier_gap)
        # Pooled, the lower tier before is held at a value priced at lower-bound distances and re-priced
        # by routing: its last unit matters little, so the hold is loosened at once (no probe). 20,000
        # teachers @0.97: the strict probe took 7.4 s for −743 wishes against a bound of −877, then the
        # loosened solve −1,029.
        # Under a binding time limit (less left than the tier before took, in CPU time: `_cpu_left`) the
        # strict probe, quick from that tier's basis, still gives a plan where the loosened LP may not finish.
        ample = bool(tier_cpu) and _cpu_left(params, start_cpu) > tier_cpu[-1]
        pooled = built.candidates.mode == "hub" and not exact_distances  # distances at a lower bound
        loosen_first = relaxable is not None and name not in EXACT_TIERS and pooled and ample
        if loosen_first:
            solver.relax(relaxable.index, relaxable.value + plan.lower_tier_slack)
        probe = relaxable is not None and name not in EXACT_TIERS and not loosen_first
        # A tier after a lower tier first tries that tier's value as it is, briefly (a probe: a restricted
        # MIP of PROBE_NODES nodes, no fixing, no full MIP); only if that ends above the accepted gap is
        # the hold loosened by plan.lower_tier_slack and the tier solved in full (`_loosened`).
        following = names[names.index(name) + 1] if name != names[-1] else None
        # a lower tier followed by another, which may spend plan.lower_tier_slack of it
        slack_next = plan.lower_tier_slack if name not in EXACT_TIERS and following not in (None, *EXACT_TIERS) \
            else 0.0
        stops = solver.time_stops
        solved = _solve_tier(solver, remaining, tolerance, accept, incumbent,
                             0.0 if probe else plan.lower_tier_seconds,
                             PROBE_NODES if probe else plan.lower_tier_nodes, exact_distances,
                             0 if probe else plan.fixing_free_variables, slack_next,
                             EXACT_FULL_MIP_SHARE if name != plan.tiers[-1] else 1.0)  # tiers follow
        note = ""
        if loosen_first:
            note = (f"{TIER_LABELS[name]}：{TIER_LABELS[relaxable.name]}（汇集模型按距离下界计，路由后重算）放宽 "
                    f"{plan.lower_tier_slack:g} 后求解（plan.lower_tier_slack，不足一个单位）")
        if probe and solved is not None and solved.values is not None \
                and not _within(solved.value, solved.bound, accept, tolerance):
            left = params.time_limit_s - (time.perf_counter() - start)
            solved, note = _loosened(solver, relaxable, solved, name, left, tolerance, accept, plan, exact_distances)
        seconds = time.perf_counter() - tier_start
        tier_cpu.append(time.process_time() - tier_start_cpu)
        if solved is None:
            return values, tuple(results), "infeasible"
        finished = solved.values is not None and (solved.optimal or _within(solved.value, solved.bound, accept,
                                                                            tolerance))
        cut = _cut_by_time(name, finished, solver.time_stops > stops, params.time_limit_s)
        note = f"{note}；{cut}" if note and cut else note or cut
        if not solved.optimal:
            status = "feasible"
        if solved.values is None:  # out of time: the last solution stands; report the remaining tiers at it
            status = "time_limit"
            results.extend(_at_last_plan(built, last_values, names[names.index(name):], befores))
            break
        last_values = solved.values
        results.append(TierResult(name=name, label=TIER_LABELS[name], before=befores[name], value=solved.value,
                                  bound=solved.bound, status="optimal" if solved.optimal else "feasible",
                                  seconds=seconds, note=note))
        values = solved.values[built.flow]
        incumbent = solver.whole(solved.values)
        if progress:
            progress(_progress_line(order, results[-1], built.candidates.quota_base))
        if name != names[-1]:
            solver.hold(built.tiers[name], _held(solved.value, tolerance), name)
            if name not in EXACT_TIERS and plan.lower_tier_slack > 0:
                relaxable = _Relaxable(len(solver.holds) - 1, name, solved.value)
            _release_memory()
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


def _loosened(solver: _Solver, relaxable: _Relaxable, probed: _TierSolve, name: str, seconds: float,
              tolerance: float, accept: float, plan: PlanPolicy, exact_distances: bool) -> tuple[_TierSolve, str]:
    """The tier again, with the lower tier before it held at its value + `plan.lower_tier_slack`
    (less than one unit of it: 0.99 is less than one move). A disruption value held to the last
    kilometre leaves the wishes tier almost no whole-move plan to find: a generated 6,000-teacher
    county @0.9 honoured −305 against a bound of −481; loosened by 0.99, −539 against −540 (and 42 s
    instead of 64 s). Kept only if better than the probe; otherwise the hold is restored and the tier
    solved in full as it is."""
    start = time.perf_counter()
    solver.relax(relaxable.index, relaxable.value + plan.lower_tier_slack)
    again = _solve_tier(solver, seconds, tolerance, accept, solver.whole(probed.values), plan.lower_tier_seconds,
                        plan.lower_tier_nodes, exact_distances, plan.fixing_free_variables)
    if again is None or again.values is None or not again.value < probed.value - 1e-9:
        solver.relax(relaxable.index, _held(relaxable.value, tolerance))
        if again is not None and _within(probed.value, again.bound, 0.0, tolerance):
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
            f"（界 {probed.bound:,.3f}）；允许{held_label}放宽 {plan.lower_tier_slack:g}（plan.lower_tier_slack，"
            f"不足一个单位）后求得 {again.value:,.3f}（界 {again.bound:,.3f}）")
    return again, note


def _padded(values: np.ndarray | None, size: int) -> np.ndarray | None:
    """`values` with zeros for the variables added since (priced columns are appended)."""
    if values is None or len(values) >= size:
        return values
    return np.r_[values, np.zeros(size - len(values))]


def _held(value: float, tolerance: float) -> float:
    """The most a tier solved at `value` may be worth in later solves (its relative tolerance)."""
    return value + (tolerance * max(1.0, abs(value)) + 1e-7)


def _at_last_plan(built: AllocationModel, values: np.ndarray, names: tuple[str, ...], befores: dict[str, float]
                  ) -> list[TierResult]:
    """Tiers the time limit left unsolved, reported at the last plan found (`values`: every variable)."""
    values = _padded(values, built.model.num_variables)
    return [TierResult(name=name, label=TIER_LABELS[name], before=befores[name], value=built.tiers[name].at(values),
                       bound=float("-inf"), status="time_limit", seconds=0.0) for name in names]


def _cut_by_time(name: str, finished: bool, timed_out: bool, limit: float) -> str:
    """The note for a tier a MIP's time limit stopped (the whole limit, or the share a tier may take) at a
    plan short of its bound and of the accepted gap: without it the tier read as an ordinary "feasible".
    "" otherwise (a node limit, or a plan within the gap)."""
    if finished or not timed_out:
        return ""
    return (f"{TIER_LABELS[name]}：在时间上限（--time-limit {limit:g} 秒，或其中分给此层的部分）内停在已求得的"
            "可行方案，未达到证明的界；加大 --time-limit 可求得更好的方案或证明其最优")


def _progress_line(order: tuple[str, ...], tier: TierResult, quota_base: int) -> str:
    def shown(x: float) -> str:
        return quota_tier_text(x, quota_base) if tier.name == "quota" else f"{x:,.3f}"

    return (f"[{order.index(tier.name) + 1}/{len(order)}] {tier.label}：{shown(tier.value)}"
            f"（界 {shown(tier.bound)}，{tier.seconds:.2f} 秒）")


def check_pins(candidates: Candidates, pins: pd.DataFrame, policy: Policy) -> None:
    """Pins that no plan can honour: an explanation naming the conflicting rules and what to relax, as an
    InputError (every such pin at once). Each pin on its own: a teacher pinned to stay and to move, an
    exempt teacher, two schools for one teacher, a school both pinned and barred, a school the teacher
    cannot go to (and why); and together: more pinned departures from one school than it may lose."""
    from teacheralloc.errors import Problem
    from teacheralloc.io.pins import PIN_COLUMNS
    from teacheralloc.model.candidates import EXEMPT_LABELS

    if pins.empty:
        return
    problems = []
    file = pins.attrs.get("file", "pins.csv")
    teachers = candidates.teachers.set_index("teacher_id")
    moving = pins[pins["kind"].isin(["must_move", "to_school"])]
    stay_pins = pins[pins["kind"] == "must_stay"].drop_duplicates("teacher_id")
    staying = dict(zip(stay_pins["teacher_id"], stay_pins["row"], strict=True))
    barred = set(zip(pins.loc[pins["kind"] == "not_to_school", "teacher_id"],
                     pins.loc[pins["kind"] == "not_to_school", "school_id"], strict=True))
    first_to: dict[str, tuple[str, int]] = {}
    flagged: set[str] = set()
    has_arc = set(candidates.groups.loc[candidates.groups["group"].isin(candidates.arcs["group"]), "first_teacher"])
    for pin in moving.itertuples(index=False):
        teacher = teachers.loc[pin.teacher_id]
        expected = ""
        if pin.teacher_id in staying:
            expected = f"与同一教师第 {staying[pin.teacher_id]} 行的“必须留任”冲突：删去其中一项"
        elif not teacher["movable"]:
            reason = EXEMPT_LABELS.get(teacher["exempt"], teacher["exempt"])
            setting = "plan.special_schools_take_part" if teacher["exempt"] == "special" else "rotation.exempt_*"
            expected = f"该教师因“{reason}”不得调动（{setting}）：删去此项，或由本人申请交流"
        elif pin.kind == "to_school" and pin.teacher_id in first_to and first_to[pin.teacher_id][0] != pin.school_id:
            school, row = first_to[pin.teacher_id]
            expected = f"同一教师已在第 {row} 行指定调往 {school}：每人只能指定一所调往学校，删去其中一行"
        elif pin.kind == "to_school" and (pin.teacher_id, pin.school_id) in barred:
            expected = f"同一教师又被指定“不得调往”{pin.school_id}：删去其中一项"
        elif pin.teacher_id not in has_arc:
            expected = _no_arc_reason(candidates, policy, teacher, pin.school_id if pin.kind == "to_school" else None)
        if pin.kind == "to_school":
            first_to.setdefault(pin.teacher_id, (pin.school_id, pin.row))
        if expected:
            school = pin.school_id if isinstance(pin.school_id, str) and pin.school_id else "是"
            problems.append(Problem(file, pin.row, pin.kind, school, expected,
                                    label=PIN_COLUMNS.get(pin.kind, ""), rule="pin_conflict"))
            flagged.add(pin.teacher_id)
    # The leaving cap counts the pins that are otherwise sound (one already wrong is not a second time).
    sound = moving[~moving["teacher_id"].isin(flagged)].drop_duplicates("teacher_id")
    problems += _leaving_cap_conflicts(candidates, policy, sound, file)
    if problems:
        raise InputError(problems)


def _no_arc_reason(candidates: Candidates, policy: Policy, teacher: pd.Series, school: str | None) -> str:
    """Why a teacher pinned to move (to `school`, if given) has nowhere to go: the first rule that
    closes the school (its own school, a volunteer's wish list, the stage, the 核定编制, special
    education, the distance limit), else the general list."""
    units = candidates.units[candidates.units["school_id"] == school] if school else candidates.units.iloc[0:0]
    wishes = tuple(teacher["wishes"]) if teacher["volunteer"] else ()
    max_km = policy.plan.max_km
    if school and school == teacher["school_id"]:
        return "该教师已在此校：改选其他学校，或改为“必须调出”"
    if school and wishes and school not in wishes:
        return f"该教师本人申请交流并填报了志愿（{'、'.join(wishes)}），只能调往志愿学校：改选志愿学校，或删去此项"
    if school and not len(units):
        return "该校不参加调配：改选学校"
    if school and str(teacher["stage"]) not in set(units["stage"].astype(str)):
        if str(teacher["stage"]) == Stage.junior.value and not policy.plan.junior_to_primary \
                and Stage.primary.value in set(units["stage"].astype(str)):
            return "本县政策不允许初中教师到小学任教（plan.junior_to_primary: false）：改选学校，或修改该设置"
        home = candidates.units[(candidates.units["school_id"] == teacher["school_id"])
                                & (candidates.units["stage"].astype(str) == str(teacher["stage"]))]
        across = (policy.plan.junior_to_primary and str(teacher["stage"]) == Stage.junior.value
                  and Stage.primary.value in set(units["stage"].astype(str)))
        if across and len(home) and int(home["surplus"].iloc[0]) < 1:
            return ("该教师所在学校的初中学段没有富余教师，初中教师只能作为富余教师跨学段到小学"
                    "（rules.cross_stage_from_surplus）：改选有初中学段的学校")
        return f"该校没有该教师所在学段（{Stage(str(teacher['stage'])).label}）：改选学校"
    if school and bool((units["school_posts"] >= units["establishment"].fillna(np.inf)).any()):
        return "该校已达核定编制，不能再调入：改选学校，或核增该校编制"
    if school and max_km is not None:
        index = candidates.school_index
        km = float(candidates.distance[index[teacher["school_id"]], index[school]])
        if km > max_km:
            return (f"两校相距约 {km:.0f} 公里，超过调动距离上限 plan.max_km（{max_km:g} 公里）："
                    "改选学校，或放宽 plan.max_km")
    return "没有可调往的学校（学段、编制已满、志愿或距离上限）：改选学校，或放宽 plan.max_km"


def _leaving_cap_conflicts(candidates: Candidates, policy: Policy, moving: pd.DataFrame, file: str) -> list[Problem]:
    """Schools that more pinned teachers must leave than `rotation.max_share_leaving_school` lets go
    in one year (max(1, ⌊share × teachers⌋)): one problem at the first pin over the cap."""
    from teacheralloc.io.pins import PIN_COLUMNS

    if moving.empty:
        return []
    share = policy.rotation.max_share_leaving_school
    home = moving["teacher_id"].map(candidates.teachers.set_index("teacher_id")["school_id"])
    posts = candidates.teachers.groupby("school_id").size()
    problems = []
    for school, rows in moving.groupby(home, sort=True):
        cap = int(leaving_cap([posts.get(school, 0)], share)[0])
        if len(rows) > cap:
            pin = rows.sort_values("row").iloc[cap]
            value = pin["school_id"] if isinstance(pin["school_id"], str) and pin["school_id"] else "是"
            problems.append(Problem(
                file, int(pin["row"]), pin["kind"], value,
                f"{school} 有 {len(rows)} 名教师被指定调出（本行起超出），超过单校一年调出上限 {cap} 人"
                f"（rotation.max_share_leaving_school {share:.0%} × 在编 {int(posts.get(school, 0))} 人）："
                "减少该校的指定，或提高该比例", label=PIN_COLUMNS.get(pin["kind"], ""), rule="pin_conflict"))
    return problems


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
    started, started_cpu = time.perf_counter(), time.process_time()
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
            values, tiers, status = solve_tiers(built, params, None, names=order[:split], started=started,
                                                started_cpu=started_cpu)
            if progress:
                for tier in tiers:
                    progress(_progress_line(order, tier, built.candidates.quota_base))
            solved = status in ("optimal", "feasible")
            if solved and priced and not _time_for_paths(params, started_cpu):
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
            values, tiers, status = _pooled_rest(built, params, progress, tiers, values, status, started,
                                                 started_cpu)
        elif status == "time_limit":  # the lower tiers at the last plan found, as solve_tiers reports them
            last = np.zeros(built.model.num_variables)
            last[built.flow] = values
            rest = order[split:]
            befores = {name: tier_before(name, candidates, policy) for name in rest}
            tiers = tiers + tuple(_at_last_plan(built, last, rest, befores))
    else:
        values, tiers, status = solve_tiers(built, params, progress, started=started, started_cpu=started_cpu)
        if lower:  # too many school-to-school paths to price within the budget
            notes.append(f"扰动与意愿两层按汇集模型求解：学校间距离按下界估计，扰动层的界因此偏松；本县逐对路径约 "
                         f"{estimate:,} 条，超过 plan.priced_paths（{policy.plan.priced_paths:,}）。提高该设置并加大 "
                         "--time-limit（两万教师约 600 秒）可按实际距离求得紧的界")
    if status == "infeasible":
        raise InputError(_conflicts(built, pins, params))
    flows = candidates.arcs.assign(flow=np.rint(values).astype(int))
    flows = flows[flows["flow"] > 0].reset_index(drop=True)
    return Solution(candidates=candidates, norms=norms, flows=flows, tiers=tiers, status=status, model_size=size,
                    exact_lower=exact is not None, priced=exact is not None and priced, notes=tuple(notes))


#: The hard rules a plan can fail (the others have shortage or slack variables), with what would relax each.
CONFLICT_RULES = {
    "redeploy_from_surplus": ("调剂限于富余（一所学校调剂出的教师不超过其富余加调入的在岗教师）",
                              "减少同一学校必须调出的教师，或为其安排调入"),
    "cross_stage_from_surplus": ("初中教师只作为富余教师跨学段到小学（rules.cross_stage_from_surplus）",
                                 "减少同一初中学段必须调出的教师"),
    "max_leaving": ("单校一年调出不超过其教师的 rotation.max_share_leaving_school", "放宽该比例，或减少必须调出的教师"),
    "establishment_cap": ("调入后不超过接收学校的核定编制", "改选调往学校，或核增其编制"),
    "no_return_to_own_school": ("不调回本校的另一学段", "改选调往学校"),
    "pool_balance": ("调出的教师须有可去的学校", "改选调往学校，或删去必须调出"),
}


def _conflicts(built: AllocationModel, pins: pd.DataFrame, params: SolveParams) -> list[Problem]:
    """Why no plan exists (规则冲突), as input problems: the model's LP, no objective, with the pinned
    moves (必须调出, 调往学校: `pinned_rows`) relaxed, and with each rule's rows relaxed in turn. Pins
    are named when relaxing them restores a plan: each one that alone does, else all of them, with
    each rule whose relaxation also does; otherwise the rules alone. Only when the solve found no plan."""
    from teacheralloc.io.pins import PIN_COLUMNS

    solver = _Solver(built, params.seed)  # no objective: feasibility only

    def feasible(free: np.ndarray) -> bool:
        proto = solver.export()
        proto.variables.integers[:] = [False] * len(proto.variables.integers)  # the LP, as the tiers found it
        lower = np.asarray(proto.linear_constraints.lower_bounds)
        upper = np.asarray(proto.linear_constraints.upper_bounds)
        lower[free], upper[free] = -math.inf, math.inf
        proto.linear_constraints.lower_bounds[:] = lower.tolist()
        proto.linear_constraints.upper_bounds[:] = upper.tolist()
        # a plan found (an LP cut short by the time limit proves nothing either way: taken as none)
        return solver._call(proto, mathopt.SolverType.GLOP, _params(params.time_limit_s, params.seed)).optimal

    general = [Problem("policy", None, "", "", "规则之间相互矛盾，无可行方案：检查 pins.csv 与 plan、rotation 设置",
                       rule="infeasible")]
    if feasible(np.zeros(0, dtype=np.int64)):  # the pooled LP has a plan: nothing here to name (never seen)
        return general
    present = [rule for rule in CONFLICT_RULES if rule in built.rows]
    rules = [rule for rule in present if feasible(built.rows[rule])]
    joint = False
    if not rules and present and feasible(np.concatenate([built.rows[r] for r in present])):
        # No one rule alone: the fewest that together do (a deletion filter: keep a rule in the set only
        # if the others relaxed without it leave no plan), e.g. 跨学段只调富余 with 调剂限于富余.
        rules = list(present)
        for rule in present:
            others = [r for r in rules if r != rule]
            if others and feasible(np.concatenate([built.rows[r] for r in others])):
                rules = others
        joint = len(rules) > 1
    labels = ("与" if joint else "、").join(f"“{CONFLICT_RULES[rule][0]}”" for rule in rules)
    labels += "共同" if joint else ""
    relax = "；".join(CONFLICT_RULES[rule][1] for rule in rules)
    pinned = built.pinned_rows
    if len(pinned) and feasible(pinned):
        alone = [i for i in range(len(pinned)) if feasible(pinned[i:i + 1])]
        culprits = set(built.pinned_teachers[alone] if alone else built.pinned_teachers)
        file = pins.attrs.get("file", "pins.csv")
        moving = pins[pins["kind"].isin(["must_move", "to_school"]) & pins["teacher_id"].isin(culprits)]
        remedy = ("删去此项即可" if alone and len(culprits) == 1
                  else f"删去这 {len(culprits)} 项中任一项即可" if alone
                  else f"这 {len(culprits)} 项合起来无法同时满足：删去其中一些")
        expected = f"与{labels or '其他规则'}冲突，{remedy}" + (f"；或{relax}" if relax else "")
        return [Problem(file, pin.row, pin.kind, pin.school_id if isinstance(pin.school_id, str) and pin.school_id
                        else "是", expected, label=PIN_COLUMNS.get(pin.kind, ""), rule="pin_conflict")
                for pin in moving.itertuples(index=False)]
    if not rules:
        return general
    return [Problem("policy", None, "", "", f"规则之间相互矛盾，无可行方案：{labels}；{relax}", rule="infeasible")]


#: Tiers whose value depends on which school sends to which (distances, wishes): exact on school-to-school arcs.
LOWER_TIERS = ("disruption", "wishes")


def _pooled_rest(built: AllocationModel, params: SolveParams, progress: Callable[[str], None] | None,
                 known: tuple[TierResult, ...], values: np.ndarray, status: str, started: float,
                 started_cpu: float | None = None) -> tuple[np.ndarray, tuple[TierResult, ...], str]:
    """The tiers after `known` on the pooled model, from its plan of the first tiers (`values`), with
    those held at their values: when paths cannot be priced in the time left, or the plan does not fit
    the school-to-school model."""
    order = tuple(built.policy.plan.tiers)
    values, rest, rest_status = solve_tiers(built, params, progress, names=order[len(known):], known=known,
                                            start_flows=values, started=started, started_cpu=started_cpu)
    if rest_status == "no_start":  # never seen: every tier pooled
        return solve_tiers(built, params, progress, started=started, started_cpu=started_cpu)
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
                 ) -> tuple[Candidates, AllocationModel, _Solver]:
    """The school-to-school candidates, model and solver for the exact lower tiers."""
    pairs = build_candidates(county, norms, policy, pins, mode="pairs")
    built = build_model(pairs, policy)
    solver = _Solver(built, seed)
    _release_memory()
    return pairs, built, solver


def _release_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's malloc_trim): building the exact model in
    a thread leaves its arena holding the intermediate tables (5,000 teachers: peak 1.32 → 1.09 GB)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _solve_exact(
    pairs: Candidates, built: AllocationModel, solver: _Solver, hub: Candidates, values: np.ndarray,
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


#: Priced paths are tried only when at least this many times the first tiers' time is left: when the time
#: limit falls while pricing, the plan is the last restricted LP's, which can be worse than the pooled
#: one (10,000 teachers, `--time-limit 35`: disruption 2813 priced, 2225 pooled). Measured, pricing took
#: 1.5× the first tiers' time at 5,000 teachers, 3× at 10,000, 7× at 20,000.
PRICED_TIME_FACTOR = 4.0


def _cpu_left(params: SolveParams, started_cpu: float) -> float:
    """The time limit less the CPU time this process spent since `started_cpu`. Choices of method made on
    the time left (priced paths or not, loosening a lower tier's hold at once) read CPU time, not the
    clock: the same input and settings then choose the same way on a busy machine. Measured on the wall
    clock, a 6,000-teacher county @0.85 at `--time-limit 120` sat at the threshold (96 s left, 4 × 24 s)
    and planned with priced paths or without from run to run, as other processes shared the two cores."""
    return params.time_limit_s - (time.process_time() - started_cpu)


def _time_for_paths(params: SolveParams, started_cpu: float) -> bool:
    elapsed = time.process_time() - started_cpu
    return _cpu_left(params, started_cpu) >= PRICED_TIME_FACTOR * elapsed


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
    solver = _Solver(space.built, params.seed)
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


def _quota_causes(candidates: Candidates, policy: Policy) -> str:
    """Why the rotation quota is short, naming what binds where it can be seen from the data alone: no
    school at a lower level to rotate to (方向), every such school at its 核定编制, or the yearly leaving
    cap letting fewer eligible teachers go than the quota asks; else the restrictions together."""
    units, teachers = candidates.units, candidates.teachers
    eligible = teachers[teachers["rotation_eligible"]]
    if candidates.quota_schools is not None:
        eligible = eligible[eligible["school_id"].isin(candidates.quota_schools)]
    level = units.drop_duplicates("school_id").set_index("school_id")["level"]
    top = eligible.assign(level=eligible["school_id"].map(level)).groupby(eligible["stage"].astype(str))["level"].max()
    # Where a rotation could go: a section of an eligible teacher's stage, below the highest such teacher's level.
    lower = units[units["level"] < units["stage"].astype(str).map(top).fillna(-np.inf)]
    full = lower["school_posts"] >= lower["establishment"].fillna(np.inf)
    share = policy.rotation.max_share_leaving_school
    posts = units.drop_duplicates("school_id").set_index("school_id")["school_posts"]
    cap = pd.Series(leaving_cap(posts, share), index=posts.index)
    can_leave = int(np.minimum(eligible.groupby("school_id").size(), cap.reindex(
        eligible["school_id"].unique())).sum()) if len(eligible) else 0
    causes = []
    if lower.empty:
        causes.append("符合条件的教师没有可交流去的同学段学校（交流方向：城区、优质学校向乡村、薄弱学校）")
    elif full.all():
        causes.append(f"可接收交流的 {lower['school_id'].nunique()} 所学校均已达核定编制，不能调入")
    if can_leave < candidates.quota_target:
        causes.append(f"单校一年调出不超过其教师的 {share:.0%}（rotation.max_share_leaving_school），"
                      f"各校符合条件的教师最多可调出 {can_leave} 人")
    if causes:
        return "；".join(causes)
    limit = "" if policy.plan.max_km is None else f"、调动距离上限（plan.max_km {policy.plan.max_km:g} 公里）"
    return (f"符合条件且可派出的教师受交流方向、单校调出比例上限（{share:.0%}）{limit}和接收学校编制限制"
            "（合在一起，不能再多派出）")


def _quota(candidates: Candidates, moves: pd.DataFrame, policy: Policy) -> dict[str, object]:
    """summary.json's quota figures: the rotations counted toward the quota (out of the base's schools),
    every rotation (`rotations_all`), the backbone share, and why a quota is short if it is."""
    every = moves[moves["move_type"] == "rotation"]
    rotated = every if candidates.quota_schools is None else every[every["from_school"].isin(candidates.quota_schools)]
    teachers = candidates.teachers.set_index("teacher_id")
    backbone = int(teachers.loc[rotated["teacher_id"], "backbone_flag"].sum()) if len(rotated) else 0
    share = policy.rotation.min_backbone_share_of_rotators
    needed_backbone = int(np.ceil(share * len(rotated) - 1e-9))
    eligible_backbone = int((candidates.teachers["rotation_eligible"] & candidates.teachers["backbone_flag"]).sum())
    notes = []
    if len(rotated) < candidates.quota_target:
        notes.append(f"交流轮岗 {len(rotated)} 人，少于应交流 {candidates.quota_target} 人："
                     + _quota_causes(candidates, policy))
    if backbone < share * len(rotated) - 1e-9:
        notes.append(f"交流的骨干教师 {backbone} 人，少于交流人数的 {share:.0%}（{needed_backbone} 人）："
                     "全县符合交流条件的"
                     f"骨干教师仅 {eligible_backbone} 人，且受方向与调出比例限制")
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
    from teacheralloc.model.assign import name_teachers
    from teacheralloc.model.explain import move_reasons, shortage_causes, shortage_shift_note, unknown_distance_note
    from teacheralloc.model.routes import route_flows, routed_disruption
    from teacheralloc.versions import versions

    started = time.perf_counter()
    pins = empty_pins() if pins is None else pins
    params = params or SolveParams()
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
    if len(moves):
        moves["backbone"] = moves["teacher_id"].map(teachers["backbone_flag"]).astype(bool)
        moves["years_at_school"] = moves["teacher_id"].map(teachers["years_at_school"]).round(1)
        moves = moves.sort_values(["move_type", "from_school", "teacher_id"]).reset_index(drop=True)
        moves.insert(5, "reason", move_reasons(moves, candidates, county.schools, policy))
    else:
        moves = moves.assign(backbone=pd.Series(dtype=bool), years_at_school=pd.Series(dtype=float))
        moves.insert(5, "reason", pd.Series(dtype=object))
    after_norms = compute_norms(county_after(county, moves), policy)
    schools = _school_table(norms, after_norms, moves)
    tiers = list(solution.tiers)
    status = solution.status
    for i, tier in enumerate(tiers):
        if tier.name == "disruption":  # the pooled model priced distances at their lower bound
            routed = routed_disruption(routes, policy.plan)
            proven = tier.status == "optimal" and _within(routed, tier.bound, 0.0, policy.plan.tier_tolerance)
            tiers[i] = replace(tier, value=routed,
                               status="optimal" if proven else "feasible" if tier.status == "optimal" else tier.status)
            if status == "optimal" and not proven:
                status = "feasible"
    tiers = _conditional(tiers)
    causes = shortage_causes(schools.assign(unit=schools["school_id"] + "|" + schools["stage"]), after_norms.subjects,
                             candidates, policy, set(moves["teacher_id"]))
    notes = [f"求解方式：{'汇集（学校→调配池→学校）' if candidates.mode == 'hub' else '逐对（学校→学校）'}"]
    if solution.exact_lower:
        notes = ["求解方式：汇集（学校→调配池→学校）求前几层，扰动与意愿两层逐对（学校→学校）按实际距离精确求解"
                 + ("（各路径按对偶价格定价，只加入能改进的路径：列生成）" if solution.priced else "")]
    notes += [*solution.notes, *(t.note for t in tiers if t.note)]
    notes += [note for note in (unknown_distance_note(moves, any_distance_known(county, policy)),
                                shortage_shift_note(schools, policy)) if note]
    unsolved = [t.label for t in tiers if t.status == "time_limit"]
    if unsolved:
        notes.append(f"时间上限 {params.time_limit_s:g} 秒内未解完：{'、'.join(unsolved)}按最后得到的方案计值，"
                     "没有证明的界；加大 --time-limit 可解完")
    return Plan(
        moves=moves,
        schools=schools,
        tiers=tuple(tiers),
        status=status,
        wall_time=time.perf_counter() - started,
        parameters={**params.model_dump(), "as_of": county.as_of.isoformat(), "source": _source_path(county.source)},
        versions=versions(),
        quota=_quota(candidates, moves, policy),
        indicators=county_indicators(norms, after_norms),
        causes=causes,
        model_size=solution.model_size,
        notes=tuple(notes),
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
