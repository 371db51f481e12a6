"""The MathOpt engine (求解引擎): one model solved many times, its results read straight into numpy.

LPs by column generation with GLOP's primal simplex, warm-started from the last optimal basis (kept in
one GLOP solver for small models); MIPs with HiGHS, whole, restricted to a set of free variables, or
with variables fixed (reduced-cost fixing). Both run single-threaded with a fixed seed: the same model
and settings give the same solution. What is minimised and held, tier by tier, is `tiers`'s business.
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
from fractions import Fraction

import numpy as np
import pandas as pd
from ortools.math_opt import model_parameters_pb2, model_pb2, result_pb2, solution_pb2
from ortools.math_opt.core.python import solver as core_solver
from ortools.math_opt.python import callback, init_arguments, mathopt
from ortools.math_opt.solvers import highs_pb2
from pybind11_abseil.status import StatusNotOk
from pydantic import BaseModel, ConfigDict, Field

from teacheralloc.model.builder import AllocationModel, Linear
from teacheralloc.model.incremental import IncrementalLP

log = logging.getLogger("teacheralloc")

#: LPs of at most this many rows are kept in one GLOP solver between rounds (`incremental.IncrementalLP`):
#: there a round's fixed cost (copying the model, GLOP's load, a fresh factorisation) outweighs its
#: iterations. Sample county (4,800 rows): the six tiers 4.3 → 3.4 s; 5,000 teachers (10,500 rows): the
#: same or better per tier. Larger LPs spend their time iterating, where GLOP's scaling (off when kept:
#: each joining column would rescale the others) pays: 10,000 teachers (19,700 rows), subject tier
#: 3.2 → 5.7 s kept; 20,000 (38,500 rows) 8.7 → 13.6 s.
INCREMENTAL_ROWS = 12_000

#: How an LP can end in numerical trouble (`Solver.lp` then leaves the kept GLOP solver for a copied one).
_NUMERICAL = (result_pb2.TERMINATION_REASON_IMPRECISE, result_pb2.TERMINATION_REASON_NUMERICAL_ERROR,
              result_pb2.TERMINATION_REASON_OTHER_ERROR)


class SolveParams(BaseModel):
    """Solver settings (求解参数)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    time_limit_s: float = Field(60.0, gt=0, description="Wall-clock limit for the whole solve (all tiers).")
    workers: int = Field(1, ge=1, description="Threads; HiGHS MIP runs single-threaded, kept for determinism.")
    seed: int = Field(0, ge=0, description="Solver random seed.")
    mode: str | None = Field(None, description="'hub' or 'pairs' (None: hub, or pairs with a distance limit).")


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


class Result:
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
        #: Every variable's reduced cost at an LP optimum over the whole model (`Solver.lp`), else None.
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
    def known(cls, values: np.ndarray, objective: float) -> Result:
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


class Solver:
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
        #: The most free variables a reduced-cost fixing MIP was skipped for (over `plan.fixing_free_variables`)
        self.fixing_skipped = 0
        #: Column generation beyond the model's own variables (`paths.PathSpace.pricer`): called with the
        #: solver, an optimal LP result and the held variables' reduced costs after each round; returns
        #: whether columns joined, a proven bound on the whole LP (or None) and whether it is close enough.
        self.pricer: Callable[[Solver, Result, np.ndarray], tuple[bool, float | None, bool]] | None = None
        #: With a pricer: flows at zero whose reduced cost exceeds this leave the working set after each
        #: round (they stay in the model, priced with the rest, and rejoin if they price negative): each
        #: GLOP solve costs ~0.5 s per 70,000 columns before its first iteration.
        self.drop_above: float | None = None
        #: With a pricer: adds every column not held whose reduced cost at the given duals is at most the
        #: threshold (`paths.PathSpace.complete`), so that reduced-cost fixing may treat the rest as fixed at
        #: zero; False when more than the limit would.
        self.completer: Callable[[Solver, np.ndarray, float, int], bool] | None = None
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
        """`values` with the integer variables rounded to whole numbers, and zeros for the priced
        columns that joined since they were found: a 6,000-teacher county's wishes tier, restoring the
        strict hold after a loosened solve that priced 5,000 paths in, rounded the probe's plan against
        the longer model (a ValueError, under load only)."""
        values = padded(values, self.size)
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
              basis: object = None, hint: np.ndarray | None = None, duals: bool = False) -> Result:
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
        return Result(raw, self.position, self.size, len(proto.linear_constraints.ids) if duals else 0)

    def lp(self, seconds: float, include: np.ndarray | None = None) -> Result:
        """The LP relaxation by column generation over the working set (plus `include`), warm-started
        from the last optimal basis (kept in GLOP, or passed to it); the result covers every variable
        (zero outside the set)."""
        start = time.perf_counter()
        if include is not None:
            self.working[:len(include)] |= include & self.flows[:len(include)]
        best: Result | None = None  # with a pricer: the last optimal restricted LP, with its proven bound
        while True:
            rows, columns, coefs, lower, upper = self._rows()  # row-major: each round's model keeps this order
            cost = np.bincount(self.objective.columns, weights=self.objective.coefs, minlength=self.size)
            params = solver_parameters(seconds - (time.perf_counter() - start), self.seed)
            params.lp_algorithm = mathopt.LPAlgorithm.PRIMAL_SIMPLEX
            if self._incremental is not None and self.pricer is None:  # priced columns come and go: copied
                with _native_stdout_silenced():
                    raw = self._incremental.solve(self.working, self.lower, self.upper, (rows, columns, coefs),
                                                  lower, upper, cost, self.objective.constant, params)
                result = Result(raw, self._incremental.position, self.size, len(lower))
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
                best.values = padded(best.values, self.size)
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
            hint: np.ndarray | None = None, nodes: int | None = None, cutoff: float | None = None) -> Result:
        """The MIP with HiGHS; the variables where `fix` held at `values`; `relax_rows` without lower bound;
        `hint` a feasible solution to start from (HiGHS then spends its time on improving it and on the
        bound: without one, the 20,000-teacher @0.97 wishes tier searched 33 s for a first solution).
        `cutoff`: only plans at or below it are sought (HiGHS's `objective_bound`): every node whose bound
        is above it is pruned from the start, and "infeasible" then means no plan at or below it."""
        params = solver_parameters(seconds, self.seed, gap, nodes)
        if cutoff is not None:
            params.highs = highs_pb2.HighsOptionsProto(double_options={"objective_bound": cutoff})
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


def solver_parameters(seconds: float, seed: int, gap: float = 1e-9, nodes: int | None = None
                      ) -> mathopt.SolveParameters:
    """Solver settings; `nodes` a branch-and-bound node limit (deterministic, unlike a time limit)."""
    return mathopt.SolveParameters(
        time_limit=datetime.timedelta(seconds=max(seconds, 0.5)),
        random_seed=seed,
        relative_gap_tolerance=gap,
        absolute_gap_tolerance=1e-7,
        node_limit=nodes,
    )


def padded(values: np.ndarray | None, size: int) -> np.ndarray | None:
    """`values` with zeros for the variables added since (priced columns are appended)."""
    if values is None or len(values) >= size:
        return values
    return np.r_[values, np.zeros(size - len(values))]


def release_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's malloc_trim): building the exact model in
    a thread leaves its arena holding the intermediate tables (5,000 teachers: peak 1.32 → 1.09 GB)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
