"""The LP relaxation kept in one GLOP solver between solves (增量求解), for column generation.

Every LP round of `engine.Solver.lp` changes little: some columns join, a tier's objective replaces
the last, an earlier tier's hold is added as a row or loosened. Sent to GLOP as a whole model each
time, a round paid for the copy, GLOP's load and a fresh factorisation of the basis whatever the
number of iterations (sample county: a 7-iteration round over 22,000 columns took 0.09 s). Kept in
one MathOpt solver, each round sends only what changed (`ModelUpdateProto`) and GLOP's revised
simplex goes on from its own last basis. Preprocessing and scaling stay off: either transforms the
model anew when columns join, and the basis is lost (scaled, the sample's school-to-school rounds took
4,000–7,000 iterations each instead of about 1,000, and its plan 35 s instead of 5).

GLOP's variable ids here are its own, in the order columns joined (MathOpt wants new ids above the
old ones); `position` maps them back to the model's variables. Columns that leave the working set
stay in GLOP with an upper bound of zero, so a column that rejoins needs only its bound back.
"""

from __future__ import annotations

import numpy as np
from ortools.glop import parameters_pb2 as glop_parameters_pb2
from ortools.math_opt import model_parameters_pb2, model_pb2, model_update_pb2, result_pb2
from ortools.math_opt.core.python import solver as core_solver
from ortools.math_opt.python import callback, init_arguments, mathopt
from pybind11_abseil.status import StatusNotOk


class IncrementalLP:
    """One GLOP solver holding the working set's LP; `solve` brings it up to date and solves it."""

    def __init__(self) -> None:
        self._solver: object | None = None
        self.position = np.zeros(0, dtype=np.int64)  # GLOP id → model variable
        self._glop_id = np.zeros(0, dtype=np.int64)  # model variable → GLOP id, −1 when not in GLOP
        self._upper = np.zeros(0)  # each GLOP variable's upper bound as GLOP has it
        self._cost = np.zeros(0)  # each GLOP variable's objective coefficient as GLOP has it
        self._offset = 0.0
        self._row_lower = np.zeros(0)
        self._row_upper = np.zeros(0)

    def solve(self, working: np.ndarray, lower: np.ndarray, upper: np.ndarray, matrix: tuple[np.ndarray, ...],
              row_lower: np.ndarray, row_upper: np.ndarray, cost: np.ndarray, offset: float,
              params: mathopt.SolveParameters) -> result_pb2.SolveResultProto:
        """The LP over the variables where `working` (bounds `lower`, `upper`; the others out of it), the
        rows of `matrix` (rows, columns, coefficients, row-major) within their bounds, minimising
        `cost`·x + `offset`: the raw result, variable ids to map through `position`."""
        size = len(working)
        if len(self._glop_id) < size:  # the model gained variables (priced columns)
            self._glop_id = np.r_[self._glop_id, np.full(size - len(self._glop_id), -1, dtype=np.int64)]
        proto = params.to_proto()
        glop = glop_parameters_pb2.GlopParameters()
        glop.MergeFrom(proto.glop)
        glop.use_preprocessing = False  # the revised simplex keeps its basis between solves ...
        glop.use_scaling = False  # ... and its factorisation: scaled, every joining column rescales the rest
        proto.glop.CopyFrom(glop)
        model_params = model_parameters_pb2.ModelSolveParametersProto()
        model_params.reduced_costs_filter.filter_by_ids = True  # computed by the caller
        try:
            if self._solver is None:
                self._create(working, lower, upper, matrix, row_lower, row_upper, cost, offset)
            else:
                self._update(working, lower, upper, matrix, row_lower, row_upper, cost, offset)
            return self._solver.solve(proto, model_params, None, callback.CallbackRegistration().to_proto(), None,
                                      None)
        except StatusNotOk as error:  # an invalid model is a bug, not a user mistake
            raise RuntimeError(f"MathOpt: {error}") from None

    def _create(self, working: np.ndarray, lower: np.ndarray, upper: np.ndarray, matrix: tuple[np.ndarray, ...],
                row_lower: np.ndarray, row_upper: np.ndarray, cost: np.ndarray, offset: float) -> None:
        ids = np.flatnonzero(working)
        self.position = ids.astype(np.int64)
        self._glop_id[:] = -1
        self._glop_id[ids] = np.arange(len(ids))
        self._upper, self._cost, self._offset = upper[ids].astype(float), cost[ids].astype(float), offset
        self._row_lower, self._row_upper = row_lower.copy(), row_upper.copy()
        proto = model_pb2.ModelProto(name="teacheralloc-lp")
        proto.variables.ids.extend(range(len(ids)))
        proto.variables.lower_bounds.extend(lower[ids].tolist())
        proto.variables.upper_bounds.extend(self._upper.tolist())
        proto.variables.integers.extend([False] * len(ids))
        proto.linear_constraints.ids.extend(range(len(row_lower)))
        proto.linear_constraints.lower_bounds.extend(row_lower.tolist())
        proto.linear_constraints.upper_bounds.extend(row_upper.tolist())
        rows, columns, coefs = matrix
        kept = working[columns]  # row-major already, and GLOP ids follow the variables' order
        entries = proto.linear_constraint_matrix
        entries.row_ids.extend(rows[kept].tolist())
        entries.column_ids.extend(self._glop_id[columns[kept]].tolist())
        entries.coefficients.extend(coefs[kept].tolist())
        priced = np.flatnonzero(self._cost)
        proto.objective.offset = offset
        proto.objective.linear_coefficients.ids.extend(priced.tolist())
        proto.objective.linear_coefficients.values.extend(self._cost[priced].tolist())
        self._solver = core_solver.new(mathopt.SolverType.GLOP.value, proto,
                                       init_arguments.StreamableSolverInitArguments().to_proto())

    def _update(self, working: np.ndarray, lower: np.ndarray, upper: np.ndarray, matrix: tuple[np.ndarray, ...],
                row_lower: np.ndarray, row_upper: np.ndarray, cost: np.ndarray, offset: float) -> None:
        update = model_update_pb2.ModelUpdateProto()
        held = len(self.position)
        new = np.flatnonzero(working & (self._glop_id < 0))
        self._glop_id[new] = np.arange(held, held + len(new))
        self.position = np.r_[self.position, new]
        self._upper = np.r_[self._upper, upper[new]]
        self._cost = np.r_[self._cost, np.zeros(len(new))]
        if len(new):
            update.new_variables.ids.extend(range(held, held + len(new)))
            update.new_variables.lower_bounds.extend(lower[new].tolist())
            update.new_variables.upper_bounds.extend(upper[new].tolist())
            update.new_variables.integers.extend([False] * len(new))
        # Bounds: a column out of the working set is held at zero; one back in gets its own bound again.
        wanted = np.where(working[self.position[:held]], upper[self.position[:held]], 0.0)
        changed = np.flatnonzero(wanted != self._upper[:held])
        if len(changed):
            update.variable_updates.upper_bounds.ids.extend(changed.tolist())
            update.variable_updates.upper_bounds.values.extend(wanted[changed].tolist())
            self._upper[changed] = wanted[changed]
        old_rows = len(self._row_lower)
        if len(row_lower) > old_rows:  # holds of earlier tiers, appended
            update.new_linear_constraints.ids.extend(range(old_rows, len(row_lower)))
            update.new_linear_constraints.lower_bounds.extend(row_lower[old_rows:].tolist())
            update.new_linear_constraints.upper_bounds.extend(row_upper[old_rows:].tolist())
        for bound, known, field in ((row_lower, self._row_lower, "lower_bounds"),
                                    (row_upper, self._row_upper, "upper_bounds")):
            moved = np.flatnonzero(bound[:old_rows] != known)  # a hold loosened or restored
            if len(moved):
                getattr(update.linear_constraint_updates, field).ids.extend(moved.tolist())
                getattr(update.linear_constraint_updates, field).values.extend(bound[moved].tolist())
        self._row_lower, self._row_upper = row_lower.copy(), row_upper.copy()
        # The matrix entries GLOP lacks: the new columns' in the old rows (row-major, and GLOP ids rise
        # with the variables' ids, so already in order), then the new rows' (a tail, row-major) on every
        # column GLOP holds, sorted by GLOP id within each row.
        rows, columns, coefs = matrix
        tail = int(np.searchsorted(rows, old_rows))
        fresh = np.zeros(len(working), dtype=bool)
        fresh[new] = True
        old_part = np.flatnonzero(fresh[columns[:tail]])
        new_part = tail + np.flatnonzero(self._glop_id[columns[tail:]] >= 0)
        new_part = new_part[np.lexsort((self._glop_id[columns[new_part]], rows[new_part]))]
        added = np.r_[old_part, new_part]
        if len(added):
            entries = update.linear_constraint_matrix_updates
            entries.row_ids.extend(rows[added].tolist())
            entries.column_ids.extend(self._glop_id[columns[added]].tolist())
            entries.coefficients.extend(coefs[added].tolist())
        wanted_cost = cost[self.position]
        changed = np.flatnonzero(wanted_cost != self._cost)
        if len(changed):
            update.objective_updates.linear_coefficients.ids.extend(changed.tolist())
            update.objective_updates.linear_coefficients.values.extend(wanted_cost[changed].tolist())
            self._cost = wanted_cost
        if offset != self._offset:
            update.objective_updates.offset_update = offset
            self._offset = offset
        if not self._solver.update(update):  # GLOP could not take it in place: a new solver from scratch
            self._solver = None
            self._create(working, lower, upper, matrix, row_lower, row_upper, cost, offset)
