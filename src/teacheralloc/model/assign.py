"""Name the teachers (落实到人): which teachers of a group take the moves the model gave the group.

Teachers of one group are interchangeable for every rule and objective, so this is a small
assignment per group, solved exactly with OR-Tools min-cost flow. Preferences, documented in
docs/plan.md: a rotation goes to the longest-serving at the school (they are who the rule targets);
a support posting to the teacher with the least rural service; a redeployment to the most recent
arrival (the least rooted). Ties go to the teacher id, so the result is deterministic.
"""

from __future__ import annotations

import pandas as pd
from ortools.graph.python import min_cost_flow

COST_SCALE = 100


def _preference(teacher: pd.Series, move_type: str) -> int:
    """Lower is preferred."""
    years = float(teacher["years_at_school"])
    if move_type == "rotation":
        value = -years
    elif move_type == "support":
        value = float(teacher["rural_years"])
    else:
        value = years
    return round(value * COST_SCALE)


def name_teachers(routes: pd.DataFrame, teachers: pd.DataFrame) -> pd.DataFrame:
    """One row per moving teacher: the route columns plus `teacher_id`.

    Raises
    ------
    RuntimeError
        If a group is given more moves than it has teachers (the model forbids it).
    """
    rows = []
    members = teachers[teachers["group"] >= 0].sort_values("teacher_id").groupby("group")
    for group, moves in routes.groupby("group", sort=True):
        people = members.get_group(group)
        if moves["count"].sum() > len(people):
            raise RuntimeError(f"group {group}: {moves['count'].sum()} moves for {len(people)} teachers")
        moves = moves.reset_index(drop=True)
        if len(people) == moves["count"].sum() and len(moves) == 1:
            rows.extend({**moves.iloc[0].to_dict(), "teacher_id": t} for t in people["teacher_id"])
            continue
        solver = min_cost_flow.SimpleMinCostFlow()
        source, sink = 0, 1
        person_nodes = {t: 2 + i for i, t in enumerate(people["teacher_id"])}
        move_nodes = {m: 2 + len(person_nodes) + m for m in range(len(moves))}
        arcs = []
        ties = len(people) + 1  # break ties by teacher id: same input, same names
        for rank, (_, teacher) in enumerate(people.iterrows()):
            node = person_nodes[teacher["teacher_id"]]
            solver.add_arc_with_capacity_and_unit_cost(source, node, 1, 0)
            for m, move in moves.iterrows():
                cost = _preference(teacher, move["move_type"]) * ties + rank
                arcs.append((solver.add_arc_with_capacity_and_unit_cost(node, move_nodes[m], 1, cost),
                             teacher["teacher_id"], m))
        for m, move in moves.iterrows():
            solver.add_arc_with_capacity_and_unit_cost(move_nodes[m], sink, int(move["count"]), 0)
        total = int(moves["count"].sum())
        solver.set_node_supply(source, total)
        solver.set_node_supply(sink, -total)
        # Teachers who stay: the source may send less than everyone; supplies fix the total moved.
        if solver.solve() != solver.OPTIMAL:
            raise RuntimeError(f"group {group}: assignment failed")
        for arc, teacher_id, m in arcs:
            if solver.flow(arc):
                rows.append({**moves.iloc[m].to_dict(), "teacher_id": teacher_id})
    named = pd.DataFrame(rows)
    if named.empty:
        return pd.DataFrame(columns=[*routes.columns, "teacher_id"])
    return named.drop(columns=["count"]).sort_values("teacher_id").reset_index(drop=True)
