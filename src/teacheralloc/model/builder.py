"""The allocation model, built in one place and always in the same order:
candidates → variables → flow sums → rules (rules.py) → tier objectives (objective.py).

Variables are integer flows, one per arc: a `direct` arc moves teachers of a group to a unit; in
hub mode a `leave` arc sends them into an arrival pool, a `cascade` arc passes rotation teachers to
the pool one level lower, and an `arrive` arc takes them from a pool to a unit. Origin-side sums read direct and leave arcs, destination-side sums read direct and
arrive arcs, so every rule is written once for both modes. Shortages and subject cover are
continuous. Everything is keyed by domain ids (unit "school|stage", subject codes, group ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ortools.math_opt.python import mathopt

from teacheralloc.model.candidates import TRANSFER, Candidates
from teacheralloc.policy import Policy


@dataclass
class AllocationModel:
    """A MathOpt model with its variables and the flow sums the rules and objectives read."""

    candidates: Candidates
    policy: Policy
    model: mathopt.Model
    flow: list[mathopt.Variable]
    sums: dict[str, dict[object, mathopt.LinearExpression]] = field(default_factory=dict)
    shortage: dict[str, dict[object, mathopt.Variable]] = field(default_factory=dict)
    slack: dict[str, mathopt.Variable] = field(default_factory=dict)
    cover: dict[str, dict[object, mathopt.LinearExpression]] = field(default_factory=dict)
    constraints: dict[str, list[mathopt.LinearConstraint]] = field(default_factory=dict)
    tiers: dict[str, mathopt.LinearExpression] = field(default_factory=dict)

    def flow_sum(self, name: str, key: object) -> mathopt.LinearExpression | float:
        """The named flow sum for `key` (0.0 when no arc contributes)."""
        return self.sums[name].get(key, 0.0)

    def add(self, rule: str, bounded: mathopt.BoundedLinearExpression, name: str) -> None:
        self.constraints.setdefault(rule, []).append(self.model.add_linear_constraint(bounded, name=name))


def _grouped(flow: list[mathopt.Variable], keys: list[object] | pd.Series, mask: np.ndarray
             ) -> dict[object, mathopt.LinearExpression]:
    """Σ flow over the arcs of each key, for the arcs where `mask`."""
    frame = pd.DataFrame({"key": list(keys), "arc": np.arange(len(mask))})[mask]
    out: dict[object, mathopt.LinearExpression] = {}
    for key, arcs in frame.groupby("key", sort=True)["arc"]:
        out[key] = mathopt.fast_sum(flow[i] for i in arcs.to_numpy())
    return out


def build_model(candidates: Candidates, policy: Policy, integer: bool = True) -> AllocationModel:
    """Build the whole model: variables, flow sums, every rule and every tier objective."""
    from teacheralloc.model.objective import add_tier_objectives
    from teacheralloc.model.rules import RULES

    arcs = candidates.arcs
    sizes = candidates.groups.set_index("group")["size"]
    total_movable = float(candidates.groups.loc[candidates.groups["movable"], "size"].sum())
    upper = np.where(arcs["kind"].isin(["arrive", "cascade"]), total_movable, arcs["group"].map(sizes).fillna(0))
    model = mathopt.Model(name="teacheralloc")
    flow = [
        model.add_variable(lb=0, ub=float(upper[i]), is_integer=integer,
                           name=f"{a.kind}[{a.group},{a.pool},{a.dest},{a.taught},{a.move_type}]")
        for i, a in enumerate(arcs.itertuples(index=False))
    ]
    built = AllocationModel(candidates=candidates, policy=policy, model=model, flow=flow)
    _add_flow_sums(built)
    for rule in RULES:
        rule(built)
    add_tier_objectives(built)
    return built


def _add_flow_sums(built: AllocationModel) -> None:
    """The sums every rule reads, each a dict keyed by unit, school, group, pool or (unit, subject)."""
    arcs = built.candidates.arcs
    flow = built.flow
    if arcs.empty:
        built.sums = {name: {} for name in ("group", "pool_in", "pool_out", "out_duty", "in_duty", "in_taught",
                                            "out_backbone", "in_backbone", "out_pe_arts", "in_pe_arts", "school_out",
                                            "school_out_transfer", "school_in_transfer", "unit_out_redeploy",
                                            "unit_in_transfer", "rotation", "rotation_backbone")}
        return
    kind = arcs["kind"].to_numpy()
    leaving = np.isin(kind, ["direct", "leave"])
    arriving = np.isin(kind, ["direct", "arrive"])
    duty, counted = arcs["on_duty"].to_numpy(bool), arcs["counted"].to_numpy(bool)
    backbone = arcs["backbone_flag"].to_numpy(bool) & counted
    pe_arts = arcs["pe_arts_flag"].to_numpy(bool) & counted
    move = arcs["move_type"].to_numpy()
    transfer = np.isin(move, TRANSFER)
    rotation = move == "rotation"
    redeploy = (move == "redeploy") & ~arcs["voluntary"].to_numpy(bool)
    everything = ["all"] * len(arcs)
    built.sums = {
        "group": _grouped(flow, arcs["group"], leaving),
        "pool_in": _grouped(flow, list(arcs["pool"].where(kind != "cascade", arcs["pool_to"])),
                            np.isin(kind, ["leave", "cascade"])),
        "pool_out": _grouped(flow, arcs["pool"], np.isin(kind, ["arrive", "cascade"])),
        "out_duty": _grouped(flow, arcs["origin"], leaving & duty),
        "in_duty": _grouped(flow, arcs["dest"], arriving & duty),
        "in_taught": _grouped(flow, list(zip(arcs["dest"], arcs["taught"], strict=True)),
                              arriving & duty & (arcs["slot"].to_numpy() == "subject")),
        "out_backbone": _grouped(flow, arcs["origin"], leaving & backbone),
        "in_backbone": _grouped(flow, arcs["dest"], arriving & backbone),
        "out_pe_arts": _grouped(flow, arcs["origin"], leaving & pe_arts),
        "in_pe_arts": _grouped(flow, arcs["dest"], arriving & pe_arts),
        "school_out": _grouped(flow, arcs["school_id"], leaving),
        "school_out_transfer": _grouped(flow, arcs["school_id"], leaving & transfer),
        "school_in_transfer": _grouped(flow, arcs["dest_school"], arriving & transfer),
        "unit_out_redeploy": _grouped(flow, arcs["origin"], leaving & redeploy),
        "unit_in_transfer": _grouped(flow, arcs["dest"], arriving & transfer),
        "rotation": _grouped(flow, everything, leaving & rotation),
        "rotation_backbone": _grouped(flow, everything, leaving & rotation & arcs["backbone_flag"].to_numpy(bool)),
    }
