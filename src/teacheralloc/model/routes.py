"""From pooled flows to school-to-school moves (路线): a transportation problem per arrival pool.

In hub mode the solver decides how many teachers of each group leave into each pool and how many
arrive from each pool at each unit; every rule holds on those counts. Which origin serves which
destination changes only the distance, so each pool is routed exactly with OR-Tools min-cost flow
(least total km, never a teacher to their own school).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from teacheralloc.model.candidates import Candidates

ROUTE_COLUMNS = ["group", "dest", "taught", "move_type", "count", "km", "cross_stage", "wish_rank", "voluntary"]
KM_SCALE = 1000  # min-cost flow needs integer costs: metres
SELF_COST = 10**12  # a flow back to the teacher's own school: only when nothing else is possible


def route_flows(candidates: Candidates, flows: pd.DataFrame) -> pd.DataFrame:
    """Moves as (group, destination unit, subject, type, count, km): direct arcs as they are, pooled
    ones routed per pool family (a rotation cascade is one family: a teacher entering it at their
    school's level may arrive at any unit below that level).

    Raises
    ------
    RuntimeError
        If a family cannot be routed without sending a teacher to their own school or against the
        rotation direction (the pooled model never needs that: such a move costs and gains nothing).
    """
    direct = flows[flows["kind"] == "direct"].rename(columns={"flow": "count"})
    parts = [direct[ROUTE_COLUMNS]] if len(direct) else []
    pools = candidates.pools.set_index("pool")
    family = {int(p): int(p) for p in pools.index}
    cascade = candidates.arcs[candidates.arcs["kind"] == "cascade"]
    for upper, lower in sorted(zip(cascade["pool"], cascade["pool_to"], strict=True),
                               key=lambda pair: -float(pools.at[pair[0], "level"])):
        family[int(lower)] = family[int(upper)]
    # Totals per family and origin group / destination unit, in one pass (not one pandas call per family).
    leave = flows[flows["kind"] == "leave"]
    arrive = flows[flows["kind"] == "arrive"]
    sources = leave.groupby([leave["pool"].map(family).rename("family"), "group"])["flow"].sum()
    sinks = arrive.groupby([arrive["pool"].map(family).rename("family"), "dest"])["flow"].sum()
    sinks_of = {head: (list(dests), np.asarray(counts, dtype=np.int64))
                for head, dests, counts in _split(sinks)}
    context = _RouteContext(candidates)
    rows = [_route_family(int(head), groups_, counts, *sinks_of.get(head, ([], np.zeros(0, np.int64))),
                          context, pools.loc[head].to_dict())
            for head, groups_, counts in _split(sources)]
    if rows:
        parts.append(pd.DataFrame({c: [v for part in rows for v in part[c]] for c in ROUTE_COLUMNS},
                                  columns=ROUTE_COLUMNS))
    if not parts:
        return pd.DataFrame(columns=ROUTE_COLUMNS)
    routes = pd.concat(parts, ignore_index=True)
    routes = routes.groupby(["group", "dest", "taught", "move_type", "cross_stage", "wish_rank", "voluntary"],
                            as_index=False).agg(count=("count", "sum"), km=("km", "first"))
    return routes[ROUTE_COLUMNS].sort_values(["group", "dest", "taught", "move_type"]).reset_index(drop=True)


def _split(totals: pd.Series) -> list[tuple[int, list, list[int]]]:
    """A (family, key) → total series as (family, keys, totals) per family, both in sorted order."""
    out: dict[int, tuple[list, list[int]]] = {}
    for (head, key), total in totals.items():
        keys, counts = out.setdefault(int(head), ([], []))
        keys.append(key)
        counts.append(int(total))
    return [(head, keys, counts) for head, (keys, counts) in out.items()]


class _RouteContext:
    """What routing reads per group and unit, as plain dicts (looked up thousands of times)."""

    def __init__(self, candidates: Candidates) -> None:
        groups, units = candidates.groups, candidates.units
        self.group_school = dict(zip(groups["group"], groups["school_id"], strict=True))
        self.group_origin = dict(zip(groups["group"], groups["origin"], strict=True))
        self.unit_school = dict(zip(units["unit"], units["school_id"], strict=True))
        self.unit_level = dict(zip(units["unit"], units["level"].astype(float), strict=True))
        self.school_index = candidates.school_index
        self.distance = np.asarray(candidates.distance, dtype=float)


def _route_family(head: int, groups: list, leaving: list[int], dests: list, arriving: np.ndarray,
                  context: _RouteContext, info: dict) -> dict[str, list]:
    """One family as a transportation problem: every (origin group, destination unit) pair the
    direction allows is an arc, added group by group in order (so the routing is deterministic)."""
    supply = np.asarray(leaving, dtype=np.int64)
    if supply.sum() != arriving.sum():
        raise RuntimeError(f"pool family {head}: {supply.sum()} leave but {arriving.sum()} arrive")
    origin_school = np.array([context.group_school[g] for g in groups], dtype=object)
    dest_school = np.array([context.unit_school[d] for d in dests], dtype=object)
    index = context.school_index
    km = context.distance[np.ix_([index[s] for s in origin_school], [index[s] for s in dest_school])]
    same = origin_school[:, None] == dest_school[None, :]
    allowed = np.ones(same.shape, dtype=bool)
    if info["move_type"] == "rotation":
        origin_level = np.array([context.unit_level[context.group_origin[g]] for g in groups])
        dest_level = np.array([context.unit_level[d] for d in dests])
        allowed = dest_level[None, :] < origin_level[:, None]
    tails, heads = np.nonzero(allowed)  # row-major: group by group, destinations in order
    # A teacher "moving" to their own school is no move; only a plan cut short by the time limit
    # (before the disruption tier) contains such flows, and they are dropped below.
    cost = np.where(same, SELF_COST, np.round(km * KM_SCALE)).astype(np.int64)[tails, heads]
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(tails, heads + len(supply), supply[tails], cost)
    solver.set_nodes_supplies(np.arange(len(supply) + len(arriving)), np.r_[supply, -arriving])
    if solver.solve() != solver.OPTIMAL:
        raise RuntimeError(f"pool family {head}: cannot route without a move to the teacher's own school")
    flow = solver.flows(arcs)
    used = (flow > 0) & ~same[tails, heads]
    tails, heads, flow = tails[used], heads[used], flow[used]
    group = [groups[t] for t in tails]
    return {"group": group, "dest": [dests[h] for h in heads], "taught": [info["taught"]] * len(group),
            "move_type": [info["move_type"]] * len(group), "count": flow.tolist(), "km": km[tails, heads].tolist(),
            "cross_stage": [bool(info["cross_stage"])] * len(group), "wish_rank": [0] * len(group),
            "voluntary": [False] * len(group)}


def routed_disruption(routes: pd.DataFrame, policy_plan: object) -> float:
    """Tier 4 of the routed plan, with the real distances."""
    involuntary = ~routes["voluntary"].astype(bool)
    per_move = (policy_plan.move_cost + policy_plan.km_cost * routes["km"]  # type: ignore[attr-defined]
                + policy_plan.cross_stage_cost * routes["cross_stage"].astype(float))  # type: ignore[attr-defined]
    return float((per_move * routes["count"] * involuntary).sum()) if len(routes) else 0.0


__all__ = ["ROUTE_COLUMNS", "route_flows", "routed_disruption"]
