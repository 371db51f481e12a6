"""Name the teachers (落实到人): which teachers of a group take the moves the model gave the group.

Teachers of one group are interchangeable for every rule and objective, so this is a small
assignment per group, solved exactly with OR-Tools min-cost flow. Preferences, documented in
docs/solver.md: a rotation goes to the longest-serving at the school (they are who the rule targets);
a support posting to the teacher with the least rural service; a redeployment to the most recent
arrival (the least rooted). Ties go to the teacher id, so the result is deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

COST_SCALE = 100


def _preferences(years: np.ndarray, rural_years: np.ndarray, move_type: str) -> np.ndarray:
    """Lower is preferred (see the module docstring), in hundredths of a year."""
    if move_type == "rotation":
        value = -years
    elif move_type == "support":
        value = rural_years
    else:
        value = years
    return np.round(value * COST_SCALE).astype(np.int64)


def name_teachers(routes: pd.DataFrame, teachers: pd.DataFrame) -> pd.DataFrame:
    """One row per moving teacher: the route columns plus `teacher_id`.

    Raises
    ------
    RuntimeError
        If a group is given more moves than it has teachers (the model forbids it).
    """
    members = teachers[teachers["group"] >= 0].sort_values("teacher_id")
    member_ids = members["teacher_id"].to_numpy()
    member_years = members["years_at_school"].to_numpy(dtype=float)
    member_rural = members["rural_years"].to_numpy(dtype=float)
    members_of = members.groupby("group").indices  # positions, in teacher id order
    move_types = routes["move_type"].tolist()
    counts = routes["count"].to_numpy(dtype=np.int64)
    taken: list[int] = []  # route row of each named teacher
    named: list[str] = []
    for group, rows in routes.groupby("group", sort=True).indices.items():
        at = members_of[group]
        ids, years, rural = member_ids[at], member_years[at], member_rural[at]
        total = int(counts[rows].sum())
        if total > len(ids):
            raise RuntimeError(f"group {group}: {total} moves for {len(ids)} teachers")
        if len(ids) == total and len(rows) == 1:
            taken.extend([int(rows[0])] * len(ids))
            named.extend(ids)
            continue
        flows = _assign(ids, years, rural, [move_types[r] for r in rows], counts[rows], group)
        person, move = np.nonzero(flows)
        taken.extend(rows[move].tolist())
        named.extend(ids[person])
    if not named:
        return pd.DataFrame(columns=[*routes.columns, "teacher_id"])
    out = routes.iloc[taken].reset_index(drop=True).assign(teacher_id=named)
    return out.drop(columns=["count"]).sort_values("teacher_id").reset_index(drop=True)


def _assign(ids: np.ndarray, years: np.ndarray, rural: np.ndarray, move_types: list[str], counts: np.ndarray,
            group: int) -> np.ndarray:
    """Min-cost flow source → teacher → move → sink; the flow matrix (teacher × move).

    Arcs are added teacher by teacher (the source arc, then one per move), so the same input gives
    the same names."""
    people, moves = len(ids), len(move_types)
    ties = people + 1  # break ties by teacher id: same input, same names
    cost = np.column_stack([_preferences(years, rural, kind) for kind in move_types]) * ties
    cost += np.arange(people)[:, None]
    source, sink = 0, 1
    person_node = 2 + np.arange(people)
    move_node = 2 + people + np.arange(moves)
    # Per teacher: the arc from the source, then one arc per move.
    tails = np.column_stack([np.full(people, source), np.repeat(person_node[:, None], moves, axis=1)]).ravel()
    heads = np.column_stack([person_node, np.tile(move_node, (people, 1))]).ravel()
    costs = np.column_stack([np.zeros(people, dtype=np.int64), cost]).ravel()
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(tails, heads, np.ones(len(tails), dtype=np.int64), costs)
    solver.add_arcs_with_capacity_and_unit_cost(move_node, np.full(moves, sink), counts, np.zeros(moves, np.int64))
    total = int(counts.sum())
    solver.set_node_supply(source, total)
    solver.set_node_supply(sink, -total)
    # Teachers who stay: the source may send less than everyone; supplies fix the total moved.
    if solver.solve() != solver.OPTIMAL:
        raise RuntimeError(f"group {group}: assignment failed")
    return solver.flows(arcs).reshape(people, moves + 1)[:, 1:]
