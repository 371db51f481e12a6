"""From pooled flows to school-to-school moves (路线): a transportation problem per arrival pool.

In hub mode the solver decides how many teachers of each group leave into each pool and how many
arrive from each pool at each unit; every rule holds on those counts. Which origin serves which
destination changes only the distance, so each pool is routed exactly with OR-Tools min-cost flow
(least total km, never a teacher to their own school).
"""

from __future__ import annotations

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
    leave = flows[flows["kind"] == "leave"].assign(family=lambda f: f["pool"].map(family))
    arrive = flows[flows["kind"] == "arrive"].assign(family=lambda f: f["pool"].map(family))
    groups = candidates.groups.set_index("group")
    units = candidates.units.set_index("unit")
    for head, supply in leave.groupby("family"):
        demand = arrive[arrive["family"] == head]
        parts.append(_route_family(int(head), supply, demand, groups, units, pools, candidates))
    if not parts:
        return pd.DataFrame(columns=ROUTE_COLUMNS)
    routes = pd.concat(parts, ignore_index=True)
    routes = routes.groupby(["group", "dest", "taught", "move_type", "cross_stage", "wish_rank", "voluntary"],
                            as_index=False).agg(count=("count", "sum"), km=("km", "first"))
    return routes[ROUTE_COLUMNS].sort_values(["group", "dest", "taught", "move_type"]).reset_index(drop=True)


def _route_family(head: int, supply: pd.DataFrame, demand: pd.DataFrame, groups: pd.DataFrame, units: pd.DataFrame,
                  pools: pd.DataFrame, candidates: Candidates) -> pd.DataFrame:
    sources = supply.groupby("group")["flow"].sum()
    sinks = demand.groupby("dest")["flow"].sum()
    if sources.sum() != sinks.sum():
        raise RuntimeError(f"pool family {head}: {sources.sum()} leave but {sinks.sum()} arrive")
    info = pools.loc[head]
    rotation = info["move_type"] == "rotation"
    solver = min_cost_flow.SimpleMinCostFlow()
    source_nodes = {g: i for i, g in enumerate(sources.index)}
    sink_nodes = {d: len(source_nodes) + i for i, d in enumerate(sinks.index)}
    index = candidates.school_index
    arcs = []
    for group, node in source_nodes.items():
        origin_school = groups.at[group, "school_id"]
        origin_level = float(units.at[groups.at[group, "origin"], "level"])
        for dest, sink in sink_nodes.items():
            dest_school = units.at[dest, "school_id"]
            if rotation and not float(units.at[dest, "level"]) < origin_level:
                continue
            km = float(candidates.distance[index[origin_school], index[dest_school]])
            # A teacher "moving" to their own school is no move; only a plan cut short by the time limit
            # (before the disruption tier) contains such flows, and they are dropped below.
            cost = SELF_COST if origin_school == dest_school else round(km * KM_SCALE)
            arc = solver.add_arc_with_capacity_and_unit_cost(node, sink, int(sources[group]), cost)
            arcs.append((arc, group, dest, km if origin_school != dest_school else -1.0))
    for group, node in source_nodes.items():
        solver.set_node_supply(node, int(sources[group]))
    for dest, node in sink_nodes.items():
        solver.set_node_supply(node, -int(sinks[dest]))
    if solver.solve() != solver.OPTIMAL:
        raise RuntimeError(f"pool family {head}: cannot route without a move to the teacher's own school")
    taught = info["taught"] if info["slot"] == "subject" else None
    mapped = candidates.subject_map if info["cross_stage"] else {}

    def subject_of(group: int) -> str:
        """A generic slot teaches the teacher's own subject (mapped to primary for a cross-stage move)."""
        own = str(groups.at[group, "subject"])
        return mapped.get(own, own)

    rows = [
        (group, dest, taught if taught is not None else subject_of(group), info["move_type"],
         solver.flow(arc), km, bool(info["cross_stage"]), 0, False)
        for arc, group, dest, km in arcs
        if solver.flow(arc) > 0 and km >= 0
    ]
    return pd.DataFrame(rows, columns=ROUTE_COLUMNS)


def routed_disruption(routes: pd.DataFrame, policy_plan: object) -> float:
    """Tier 4 of the routed plan, with the real distances."""
    involuntary = ~routes["voluntary"].astype(bool)
    per_move = (policy_plan.move_cost + policy_plan.km_cost * routes["km"]  # type: ignore[attr-defined]
                + policy_plan.cross_stage_cost * routes["cross_stage"].astype(float))  # type: ignore[attr-defined]
    return float((per_move * routes["count"] * involuntary).sum()) if len(routes) else 0.0


__all__ = ["ROUTE_COLUMNS", "route_flows", "routed_disruption"]
