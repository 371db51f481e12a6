"""School-to-school moves priced from the pooled model (逐对路径定价): exact distances at any county size.

A pooled move is a path: a leave arc (group → pool), the cascade arcs down a rotation chain, an
arrive arc (pool → unit). The path's column in the pooled model's rows is the sum of its arcs'
columns, in which the pool rows cancel (+1 in, −1 out), and its cost carries the real distance of
its two schools instead of the pooled lower bound. So the school-to-school model is the pooled
model's rows with one variable per path, and it need not be held whole: a 20,000-teacher county
has 14.6 million paths (~15 GB as arcs). Column generation holds the paths the LPs use; the duals
price every other path blockwise in numpy from the decomposition

    reduced cost (leave i, arrive j) = a[i] + b[j] + κ · km(school of i, school of j),

where a and b are each arc's own reduced cost in the pooled rows (plus the path cost's parts that
sit on it), and κ is the price of a kilometre (the objective's and the holds' weight on distance).
No path with a negative reduced cost is left out when the LP stops, so its optimum is the
school-to-school model's: a proven bound with exact distances, as `plan.exact_distance_arcs`
gives for smaller counties by building every arc.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from teacheralloc.model.builder import AllocationModel, Linear, LinearModel
from teacheralloc.model.candidates import Candidates
from teacheralloc.policy import Policy

log = logging.getLogger("teacheralloc")

#: The tier expressions with terms on flows; every other tier lives on shortage and slack variables.
FLOW_TIERS = ("disruption", "wishes")
#: Paths priced at a time: the block a[i] + b[j] + κ km is built in pieces of at most this many cells.
BLOCK_CELLS = 2_000_000
#: Column generation stops once the Lagrangian bound is this close (relative) to the restricted LP:
#: the tail of rounds that move the LP by less costs a solve each (5,000 teachers: ~0.8 s).
PRICE_GAP = 1e-4
#: Held paths at zero whose reduced cost exceeds this leave the LP's working set after each round
#: (`engine.Solver.drop_above`): 5,000 teachers, disruption tier 23.3 s keeping every column, 13.6 s at 0.1
#: (14.2 s at 0.5, 13.9 s at 0.05), the same bound.
DROP_ABOVE = 0.1
#: The first working set: the pooled plan's paths and each leave arc's paths to its nearest
#: destinations (5,000 teachers, disruption tier: 9.9 s without, 7.8 s with 3, 8.1 s with 10).
SEED_NEAREST = 3
#: Per leave arc, the most negative paths that may join in one round, and the most that join in all:
#: small rounds are cheap rounds (disruption tier at 10,000 teachers: 42 s with 100,000 a round, 32 s
#: with 30,000, 29 s with 5,000 or 2,500; 5,000 teachers 8.6 → 6.1 s).
PER_LEAVE = 4
MAX_JOIN = 5_000


@dataclass
class _Blocks:
    """Per entry pool: its leave arcs and every arrive arc reachable from it (its chain below)."""

    leave: list[np.ndarray]
    reach: list[np.ndarray]


class PathSpace:
    """Every school-to-school path of a pooled model, and the model over the paths that joined.

    Built from the solved pooled model (`hub`): its rows, its non-flow variables (shortages, subject
    cover, quota slacks) and its direct arcs (volunteers and pinned teachers) are kept as they are;
    its leave, cascade and arrive arcs are replaced by path variables, the first ones those of
    `start` (the pooled plan routed). `built` is the model to solve; `price` adds paths to it."""

    def __init__(self, hub: AllocationModel, routes: pd.DataFrame) -> None:
        self.hub = hub
        arcs = hub.candidates.arcs
        self.policy: Policy = hub.policy
        self.km_cost = float(hub.policy.plan.km_cost)
        kind = arcs["kind"].astype(str).to_numpy()
        self.arc_count = len(arcs)
        pool_rows = np.zeros(hub.model.num_rows, dtype=bool)
        pool_rows[hub.rows.get("pool_balance", np.zeros(0, dtype=np.int64))] = True
        rows, columns, coefs = hub.model.matrix()
        # Column-major entries of the flow arcs outside the pool rows: a path's column is the sum of two.
        flow_entry = (columns < self.arc_count) & ~pool_rows[rows]
        order = np.argsort(columns[flow_entry], kind="stable")
        self._entry_rows = rows[flow_entry][order].astype(np.int64)
        self._entry_coefs = coefs[flow_entry][order]
        entry_columns = columns[flow_entry][order].astype(np.int64)
        self._entry_columns = entry_columns
        self._start = np.r_[0, np.cumsum(np.bincount(entry_columns, minlength=self.arc_count))]
        # Each arc's cost parts that a path keeps (its distance is re-priced from the two schools).
        km = arcs["km"].to_numpy(float)
        self.base = {
            "disruption": arcs["disruption"].to_numpy(float) - self.km_cost * np.where(
                np.isin(kind, ["leave", "arrive"]), km, 0.0),
            "wishes": -arcs["wish_score"].to_numpy(float),
        }
        self.km_coef = {"disruption": self.km_cost, "wishes": 0.0}
        index = hub.candidates.school_index
        self.distance = np.asarray(hub.candidates.distance, dtype=float)
        self.school = np.full(self.arc_count, -1, dtype=np.int64)
        leaving = np.isin(kind, ["leave", "direct"])
        self.school[leaving] = arcs.loc[leaving, "school_id"].astype(str).map(index).to_numpy(dtype=np.int64)
        self.dest_school = np.full(self.arc_count, -1, dtype=np.int64)
        arriving = np.isin(kind, ["arrive", "direct"])
        self.dest_school[arriving] = arcs.loc[arriving, "dest_school"].astype(str).map(index).to_numpy(
            dtype=np.int64)
        self.blocks = self._blocks(arcs, kind)
        # Each leave arc's "moves at most once" row (its group's): kept out of the Lagrangian bound's pricing.
        self._group_rows = np.asarray(hub.rows.get("at_most_one_move", np.zeros(0)), dtype=np.int64)
        is_group = np.zeros(hub.model.num_rows, dtype=bool)
        is_group[self._group_rows] = True
        mark = is_group[self._entry_rows]
        self._leave_group_row = np.zeros(self.arc_count, dtype=np.int64)
        self._leave_group_row[self._entry_columns[mark]] = self._entry_rows[mark]
        self.least = np.full(self.arc_count, np.inf)
        self._best_bound = -np.inf  # the best Lagrangian bound in this LP (`_bound_key`: which LP)
        self._bound_key: tuple | None = None
        self.direct = np.flatnonzero(kind == "direct")
        self.paths = int(sum(len(out) * len(into) for out, into in zip(self.blocks.leave, self.blocks.reach,
                                                                         strict=True)))
        self._keys = np.zeros(0, dtype=np.int64)  # sorted keys (leave × arc count + arrive) of the paths held
        self._order_keys = np.zeros(0, dtype=np.int64)  # the same in variable order
        self._frames: list[pd.DataFrame] = []
        self._key_parts: list[tuple[np.ndarray, np.ndarray]] = []
        self.built = self._model(routes)

    # ----------------------------------------------------------------------------------------------
    # Structure
    # ----------------------------------------------------------------------------------------------

    def _blocks(self, arcs: pd.DataFrame, kind: np.ndarray) -> _Blocks:
        pool = arcs["pool"].to_numpy(dtype=np.int64)
        cascade = kind == "cascade"
        child = dict(zip(pool[cascade].tolist(), arcs.loc[cascade, "pool_to"].astype(int).tolist(), strict=True))
        arrive_ids = np.flatnonzero(kind == "arrive")
        by_pool = pd.Series(arrive_ids).groupby(pool[arrive_ids]).apply(np.asarray).to_dict()
        self.chain: dict[int, list[int]] = {}
        leave_ids = np.flatnonzero(kind == "leave")
        leave_by_pool = pd.Series(leave_ids).groupby(pool[leave_ids]).apply(np.asarray)
        leave, reach = [], []
        for entry, ids in leave_by_pool.items():
            chain = [int(entry)]
            while chain[-1] in child:
                chain.append(child[chain[-1]])
            self.chain[int(entry)] = chain
            reachable = [by_pool[p] for p in chain if p in by_pool]
            if not reachable:
                continue
            leave.append(np.asarray(ids, dtype=np.int64))
            reach.append(np.concatenate(reachable).astype(np.int64))
        self._arrive_at = {(int(p), d): int(j) for j, p, d in zip(
            arrive_ids, pool[arrive_ids], arcs["dest"].astype(str).to_numpy()[arrive_ids], strict=True)}
        return _Blocks(leave, reach)

    def start_paths(self, routes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pooled plan's routed moves as paths: (leave arc, arrive arc, count) per pooled route
        (`routes` without the direct arcs' routes: a group may have both, its moves within its own school
        being direct)."""
        arcs = self.hub.candidates.arcs
        leave = arcs[arcs["kind"].astype(str) == "leave"]
        key = pd.MultiIndex.from_frame(pd.DataFrame({
            "group": leave["group"].astype(int), "taught": leave["taught"].astype(str),
            "move_type": leave["move_type"].astype(str), "cross_stage": leave["cross_stage"].astype(bool)}))
        if not key.is_unique:
            raise ValueError("leave arcs are not unique per group, subject, type and stage")
        pooled = routes[~routes["voluntary"].astype(bool)]
        wanted = pd.MultiIndex.from_frame(pd.DataFrame({
            "group": pooled["group"].astype(int), "taught": pooled["taught"].astype(str),
            "move_type": pooled["move_type"].astype(str), "cross_stage": pooled["cross_stage"].astype(bool)}))
        at = key.get_indexer(wanted)
        if (at < 0).any():
            raise ValueError(f"{int((at < 0).sum())} routed moves have no leave arc")
        leave_ids = leave.index.to_numpy()[at]
        pools = arcs["pool"].to_numpy(dtype=np.int64)
        arrive_ids = []
        for i, dest in zip(leave_ids, pooled["dest"].astype(str), strict=True):
            chain = self.chain.get(int(pools[i]), [])
            found = [self._arrive_at[(p, dest)] for p in chain if (p, dest) in self._arrive_at]
            if len(found) != 1:
                raise ValueError(f"routed move of leave arc {i} to {dest}: {len(found)} arrive arcs")
            arrive_ids.append(found[0])
        return leave_ids.astype(np.int64), np.asarray(arrive_ids, dtype=np.int64), pooled["count"].to_numpy(float)

    def _model(self, routes: pd.DataFrame) -> AllocationModel:
        """The path model: the pooled rows, its non-flow variables (ids first), its direct arcs and the
        routed plan's paths as flows; the pooled plan routed as `self.start` (a value per flow)."""
        hub, first = self.hub, self.arc_count
        lower, upper, integer = hub.model.bounds()
        row_lower, row_upper = hub.model.row_bounds()
        model = LinearModel()
        model.add_variables(len(lower) - first, lower[first:], upper[first:], integer=integer[first:])
        model.add_rows(row_lower, row_upper, len(row_lower))
        rows, columns, coefs = hub.model.matrix()
        other = columns >= first
        model.add_terms(rows[other], columns[other].astype(np.int64) - first, coefs[other])

        def shift(expression: Linear) -> Linear:
            if len(expression.columns) and expression.columns.min() < first:
                raise ValueError("a tier other than disruption or wishes has terms on flows")
            return Linear(expression.columns - first, expression.coefs, expression.constant)

        tiers = {name: shift(e) for name, e in hub.tiers.items() if name not in FLOW_TIERS}
        tiers.update({name: Linear(np.zeros(0, dtype=np.int64), np.zeros(0)) for name in FLOW_TIERS})
        cover = None if hub.cover is None else hub.cover.assign(var=hub.cover["var"] - first)
        self.built = AllocationModel(
            candidates=hub.candidates, policy=hub.policy, model=model, flow=np.zeros(0, dtype=np.int64),
            rows=dict(hub.rows), shortage={k: v - first for k, v in hub.shortage.items()},
            slack={k: v - first for k, v in hub.slack.items()}, cover=cover, pinned_rows=hub.pinned_rows,
            tiers=tiers)
        arcs = hub.candidates.arcs
        self._dtypes = {col: arcs[col].dtype for col in arcs.columns}
        if isinstance(self._dtypes["kind"], pd.CategoricalDtype):
            self._dtypes["kind"] = pd.CategoricalDtype(sorted({*self._dtypes["kind"].categories, "direct"}))
        # A route is a direct arc's when its (group, dest, subject, type) is one: a volunteer's or a
        # pinned teacher's, or a group's move to its own school's other section (never pooled).
        key = ["group", "dest", "taught", "move_type", "cross_stage"]
        plain = {"group": int, "dest": str, "taught": str, "move_type": str, "cross_stage": bool}
        direct_keys = pd.MultiIndex.from_frame(arcs.loc[self.direct, key].astype(plain))
        is_direct = (direct_keys.get_indexer(pd.MultiIndex.from_frame(routes[key].astype(plain))) >= 0
                     if len(routes) and len(direct_keys) else np.zeros(len(routes), dtype=bool))
        leave_ids, arrive_ids, counts = self.start_paths(routes[~is_direct])
        self.add(self.direct, np.full(len(self.direct), -1, dtype=np.int64))
        self.add(leave_ids, arrive_ids)
        # The pooled plan on the held variables: direct arcs by (group, dest, subject, type), paths by key.
        start = np.zeros(len(self.built.flow))
        held = pd.MultiIndex.from_frame(self._frames[0][key].astype(plain)) if len(self.direct) else None
        direct_routes = routes[is_direct]
        if held is not None and len(direct_routes):
            where = held.get_indexer(pd.MultiIndex.from_frame(direct_routes[key].astype(plain)))
            if (where < 0).any():
                raise ValueError(f"{int((where < 0).sum())} routed direct moves have no arc")
            np.add.at(start, where, direct_routes["count"].to_numpy(float))
        np.add.at(start, self.position(leave_ids, arrive_ids), counts)
        if SEED_NEAREST:
            self.add(*self.nearest(SEED_NEAREST))
            start = np.r_[start, np.zeros(len(self.built.flow) - len(start))]
        self.start = start
        self.built.candidates = self.candidates()
        return self.built

    def nearest(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Each leave arc's paths to its `count` nearest destinations (a first working set)."""
        found_leave, found_arrive = [], []
        for leave, reach in zip(self.blocks.leave, self.blocks.reach, strict=True):
            km = self.distance[np.ix_(self.school[leave], self.dest_school[reach])]
            km[self.school[leave][:, None] == self.dest_school[reach][None, :]] = np.inf
            k = min(count, len(reach))
            pick = np.argsort(km, axis=1, kind="stable")[:, :k]
            ok = np.isfinite(np.take_along_axis(km, pick, axis=1))
            found_leave.append(np.repeat(leave, k).reshape(len(leave), k)[ok])
            found_arrive.append(reach[pick][ok])
        if not found_leave:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(found_leave), np.concatenate(found_arrive)

    def position(self, leave_ids: np.ndarray, arrive_ids: np.ndarray) -> np.ndarray:
        """Where held paths stand among the flow variables."""
        at = pd.Index(self._order_keys).get_indexer(leave_ids * self.arc_count + arrive_ids)
        if (at < 0).any():
            raise ValueError("a path asked for is not held")
        return at

    # ----------------------------------------------------------------------------------------------
    # Columns
    # ----------------------------------------------------------------------------------------------

    def add(self, leave_ids: np.ndarray, arrive_ids: np.ndarray) -> np.ndarray:
        """Add the paths (leave arc, arrive arc), or direct arcs as they are (arrive −1), as flow
        variables; returns their ids. Their arcs, columns and tier terms join the model; paths already
        held are skipped."""
        first = self.arc_count
        keys = np.where(arrive_ids >= 0, leave_ids * first + arrive_ids, -1 - leave_ids)
        keys, unique_at = np.unique(keys, return_index=True)
        leave_ids, arrive_ids = leave_ids[unique_at], arrive_ids[unique_at]
        fresh = ~np.isin(keys, self._keys)
        keys, leave_ids, arrive_ids = keys[fresh], leave_ids[fresh], arrive_ids[fresh]
        if not len(keys):
            return np.zeros(0, dtype=np.int64)
        built, model = self.built, self.built.model
        arcs = self.hub.candidates.arcs
        path = arrive_ids >= 0
        if path.any() and not path.all():
            raise ValueError("paths and direct arcs are added apart")
        frame = self._path_frame(arcs, leave_ids, arrive_ids) if path.all() else \
            arcs.iloc[leave_ids].reset_index(drop=True).astype(self._dtypes)
        sizes = self.hub.candidates.groups.set_index("group")["size"]
        ids = model.add_variables(len(frame), 0.0, frame["group"].map(sizes).to_numpy(float), integer=True)
        self._add_entries(ids, leave_ids)
        if path.all():
            self._add_entries(ids, arrive_ids)
        built.flow = np.r_[built.flow, ids]
        for name, column, sign in (("disruption", "disruption", 1.0), ("wishes", "wish_score", -1.0)):
            coefs = sign * frame[column].to_numpy(float)
            keep = coefs != 0
            old = built.tiers[name]
            built.tiers[name] = Linear(np.r_[old.columns, ids[keep]], np.r_[old.coefs, coefs[keep]], old.constant)
        self._frames.append(frame)
        self._keys = np.union1d(self._keys, keys)
        self._order_keys = np.r_[self._order_keys, keys]
        dest = frame["dest"]
        self._key_parts.append((frame["group"].to_numpy(dtype=np.int64), dest.cat.codes.to_numpy(dtype=np.int64)))
        return ids

    def _add_entries(self, ids: np.ndarray, arc_ids: np.ndarray) -> None:
        """The pooled columns of `arc_ids` (pool rows left out) added to the variables `ids`."""
        count = self._start[arc_ids + 1] - self._start[arc_ids]
        at = np.repeat(self._start[arc_ids] - np.r_[0, np.cumsum(count)[:-1]], count) + np.arange(count.sum())
        self.built.model.add_terms(self._entry_rows[at], np.repeat(ids, count), self._entry_coefs[at])

    def _path_frame(self, arcs: pd.DataFrame, leave_ids: np.ndarray, arrive_ids: np.ndarray) -> pd.DataFrame:
        """The paths as direct arcs (the arc table's columns): the leave arc's group, subject and type,
        the arrive arc's destination, the real distance and the disruption it gives."""
        frame = arcs.iloc[leave_ids].reset_index(drop=True)
        arrive = arcs.iloc[arrive_ids].reset_index(drop=True)
        km = self.distance[self.school[leave_ids], self.dest_school[arrive_ids]]
        frame["dest"] = arrive["dest"].to_numpy()
        frame["dest_school"] = arrive["dest_school"].to_numpy()
        frame["kind"] = "direct"
        frame["pool"], frame["pool_to"] = -1, -1
        frame["km"] = km
        frame["disruption"] = self.base["disruption"][leave_ids] + self.base["disruption"][arrive_ids] + \
            self.km_cost * km
        frame["wish_score"] = -(self.base["wishes"][leave_ids] + self.base["wishes"][arrive_ids])
        return frame.astype(self._dtypes)

    def arcs(self) -> pd.DataFrame:
        """The held paths as an arc table (one row per flow variable, in variable order)."""
        frame = pd.concat(self._frames, ignore_index=True) if self._frames else self.hub.candidates.arcs.iloc[0:0]
        frame = frame.astype(self._dtypes)
        frame["arc"] = np.arange(len(frame))
        return frame

    def candidates(self) -> Candidates:
        """The pairs-mode candidates of the plan: the held paths as direct arcs."""
        hub = self.hub.candidates
        return replace(hub, arcs=self.arcs(), pools=hub.pools.iloc[0:0], mode="pairs")

    def keys(self, start: int) -> list[np.ndarray]:
        """Neighbour keys (group, destination unit code) of the flows from position `start` on."""
        groups = np.concatenate([g for g, _ in self._key_parts])
        dests = np.concatenate([d for _, d in self._key_parts])
        return [groups[start:], dests[start:]]

    # ----------------------------------------------------------------------------------------------
    # Pricing
    # ----------------------------------------------------------------------------------------------

    def price(self, duals: np.ndarray, weights: dict[str, float], tolerance: float = 1e-7,
              below: float | None = None) -> tuple[np.ndarray, np.ndarray, int]:
        """The paths not held with the most negative reduced costs under `duals` (by row, holds last)
        and `weights` (the objective's and each hold's weight on each flow tier): (leave, arrive) arcs,
        at most `PER_LEAVE` per leave arc and `MAX_JOIN` in all, and how many leave arcs priced any.
        With `below`: every path not held whose reduced cost is at most that, least first."""
        rows, coefs, columns = self._entry_rows, self._entry_coefs, self._entry_columns
        alpha = -np.bincount(columns, weights=coefs * duals[rows], minlength=self.arc_count)
        cost = alpha.copy()
        kappa = 0.0
        for name, weight in weights.items():
            if weight:
                cost += weight * self.base[name]
                kappa += weight * self.km_coef[name]
        found_leave, found_arrive, found_value = [], [], []
        negative_leaves = 0
        if below is None:
            self.least = np.full(self.arc_count, np.inf)  # per leave arc: its least reduced cost over every path
        for leave, reach in zip(self.blocks.leave, self.blocks.reach, strict=True):
            b = cost[reach]
            dest = self.dest_school[reach]
            step = max(1, BLOCK_CELLS // max(len(reach), 1))
            for s in range(0, len(leave), step):
                part = leave[s:s + step]
                origin = self.school[part]
                block = cost[part][:, None] + b[None, :]
                if kappa:
                    block += kappa * self.distance[np.ix_(origin, dest)]
                block[origin[:, None] == dest[None, :]] = np.inf  # never to the teacher's own school
                if below is not None:
                    rows_hit, cols_hit = np.nonzero(block <= below)
                    found_leave.append(part[rows_hit])
                    found_arrive.append(reach[cols_hit])
                    found_value.append(block[rows_hit, cols_hit])
                    continue
                k = min(PER_LEAVE, len(reach))
                pick = np.argpartition(block, k - 1, axis=1)[:, :k] if len(reach) > k else \
                    np.broadcast_to(np.arange(len(reach)), (len(part), len(reach)))
                value = np.take_along_axis(block, pick, axis=1)
                self.least[part] = value.min(axis=1)
                hit = value < -tolerance
                if not hit.any():
                    continue
                negative_leaves += int(hit.any(axis=1).sum())
                rows_hit, cols_hit = np.nonzero(hit)
                found_leave.append(part[rows_hit])
                found_arrive.append(reach[pick[rows_hit, cols_hit]])
                found_value.append(value[rows_hit, cols_hit])
        if not found_leave:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0
        leave_ids, arrive_ids = np.concatenate(found_leave), np.concatenate(found_arrive)
        values = np.concatenate(found_value)
        held = np.isin(leave_ids * self.arc_count + arrive_ids, self._keys)
        leave_ids, arrive_ids, values = leave_ids[~held], arrive_ids[~held], values[~held]
        order = np.argsort(values, kind="stable")[:MAX_JOIN if below is None else None]
        return leave_ids[order], arrive_ids[order], negative_leaves

    def complete(self, solver: object, duals: np.ndarray, threshold: float, limit: int) -> bool:
        """`engine.Solver.completer`: every path not held whose reduced cost at `duals` is at most `threshold`
        joins, so that every path left out exceeds it (reduced-cost fixing then holds them at zero as it
        does the held ones). False, and none join, when more than `limit` would."""
        leave_ids, arrive_ids, _ = self.price(duals, self._weights(solver, duals), below=threshold)
        if len(leave_ids) > limit:
            log.debug("paths within %.4f of the LP: %d, too many to hold", threshold, len(leave_ids))
            return False
        first = len(self.built.flow)
        if len(leave_ids) and len(self.add(leave_ids, arrive_ids)):
            solver.grow(self.built, self.keys(first))  # type: ignore[attr-defined]
        log.debug("paths within %.4f of the LP: %d joined", threshold, len(leave_ids))
        return True

    def pricer(self, solver: object, result: object, reduced_cost: np.ndarray) -> tuple[bool, float | None, bool]:
        """`engine.Solver.pricer`: price every path not held; the most negative join the model and the solver.
        Returns whether any joined, the best Lagrangian bound found so far in this LP
        (`lagrangian_bound`), and whether that bound is within `PRICE_GAP` of the restricted LP (then
        none join: the rounds that would close the rest cost a solve each).
        (Smoothing the duals toward the best-bound ones, Wentges' rule, was measured and gained nothing:
        5,000 teachers, disruption tier 23.3 s unsmoothed, 25.4 s at ½, 45.2 s at 0.8.)"""
        duals = result.duals  # type: ignore[attr-defined]
        objective = float(result.objective)  # type: ignore[attr-defined]
        holds = tuple(upper for _, upper in solver.holds)  # type: ignore[attr-defined]
        key = (solver.tier, holds, len(duals))  # type: ignore[attr-defined]
        if self._bound_key != key:  # a new tier's LP, or a hold loosened: bounds start again
            self._best_bound, self._bound_key = -np.inf, key
        found = self._price_at(solver, duals, reduced_cost)
        bound = self._best_bound if np.isfinite(self._best_bound) else None
        close = bound is not None and bound >= objective - PRICE_GAP * max(1.0, abs(objective))
        log.debug("paths priced: %d join; LP %.4f, bound %s", len(found[0]), objective,
                  "none" if bound is None else f"{bound:.4f}")
        if close or not len(found[0]):
            return False, bound, close
        first = len(self.built.flow)
        if not len(self.add(*found)):
            return False, bound, False
        solver.grow(self.built, self.keys(first))  # type: ignore[attr-defined]
        return True, bound, False

    def _price_at(self, solver: object, duals: np.ndarray, reduced_cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The paths to join at `duals` (see `price`); the Lagrangian bound there is kept if the best yet."""
        leave_ids, arrive_ids, _ = self.price(duals, self._weights(solver, duals))
        bound = self.lagrangian_bound(solver, duals, reduced_cost)
        if bound is not None and bound > self._best_bound:
            self._best_bound = bound
        return leave_ids, arrive_ids

    def _weights(self, solver: object, duals: np.ndarray) -> dict[str, float]:
        """Each flow tier's weight in a path's cost: the objective's (1 for the tier solved) less each
        hold's dual (the holds are the rows after the model's own)."""
        base_rows = self.built.model.num_rows
        weights = dict.fromkeys(FLOW_TIERS, 0.0)
        if solver.tier in weights:  # type: ignore[attr-defined]
            weights[solver.tier] += 1.0  # type: ignore[attr-defined]
        for offset, name in enumerate(solver.hold_names):  # type: ignore[attr-defined]
            if name in weights:
                weights[name] -= float(duals[base_rows + offset])
        return weights

    def lagrangian_bound(self, solver: object, duals: np.ndarray, reduced_cost: np.ndarray) -> float | None:
        """A lower bound on the whole path LP from any duals (拉格朗日下界): every row priced by its dual
        but each group's "moves at most its size" row, which is kept: a group then sends all its
        teachers along its cheapest path if that is negative (held or not, from `price`), none
        otherwise. With the restricted LP's duals it closes on the LP optimum as pricing converges, so
        column generation may stop once it is close, and a time limit still leaves a proven bound."""
        rows, columns, coefs, lower, upper = solver._rows()  # type: ignore[attr-defined]
        group_rows = self._group_rows
        in_group = np.zeros(len(lower), dtype=bool)
        in_group[group_rows] = True
        given_back = np.where(in_group, duals, 0.0)
        cost = reduced_cost + np.bincount(columns, weights=coefs * given_back[rows], minlength=len(reduced_cost))
        y = np.where(np.abs(duals) < 1e-9, 0.0, duals)
        with np.errstate(invalid="ignore"):
            row_terms = np.where(y > 0, y * lower, np.where(y < 0, y * upper, 0.0))
        row_terms = row_terms[~in_group]
        flows = solver.flows  # type: ignore[attr-defined]
        lo, up = solver.lower, solver.upper  # type: ignore[attr-defined]
        d = np.where(np.abs(cost) < 1e-9, 0.0, cost)
        with np.errstate(invalid="ignore"):
            box = np.where(d > 0, d * lo, np.where(d < 0, d * up, 0.0))[~flows]
        # Per group row: the least reduced cost of its flows held, and of its paths not held.
        entry_group = in_group[rows]
        least = np.full(len(lower), np.inf)
        held = flows[columns] & entry_group
        np.minimum.at(least, rows[held], d[columns[held]])
        leave = np.flatnonzero(np.isfinite(self.least))
        np.minimum.at(least, self._leave_group_row[leave], self.least[leave] + duals[self._leave_group_row[leave]])
        least = least[group_rows]
        least = np.where(np.isfinite(least), least, 0.0)
        groups = np.where(least < 0, least * upper[group_rows], least * np.maximum(lower[group_rows], 0.0))
        total = row_terms.sum() + box.sum() + groups.sum() + solver.objective.constant  # type: ignore[attr-defined]
        return float(total) if np.isfinite(total) else None


__all__ = ["PathSpace"]
