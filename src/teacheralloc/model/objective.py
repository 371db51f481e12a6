"""The objective tiers (分层目标), each a linear expression the solver minimises in priority order.

quota      : rotation-quota shortfall (a rotation short of the quota outweighs every backbone one);
headcount  : Σ weight × headcount shortage (teaching points and rural schools weigh more);
subject    : Σ subject weight × subject shortage in FTE (shortage subjects weigh more);
balance    : Σ weight × teachers short of the backbone and PE/arts thresholds;
disruption : Σ over moves the teacher did not ask for of (move cost + km cost × km + cross-stage cost);
wishes     : − Σ wish scores (first wish, second wish, ...; support postings for those who need one).
The weights are policy data (`plan` in policy_defaults.yaml).
"""

from __future__ import annotations

from ortools.math_opt.python import mathopt

from teacheralloc.model.builder import AllocationModel

TIER_LABELS = {
    "quota": "轮岗比例缺口",
    "headcount": "总量缺编（加权）",
    "subject": "学科缺口（加权，整人）",
    "balance": "优质均衡指标差额（人）",
    "disruption": "调动扰动（人次与距离）",
    "wishes": "意愿满足（负值，越小越好）",
}


def add_tier_objectives(m: AllocationModel) -> None:
    plan = m.policy.plan
    units = m.candidates.units.set_index("unit")
    arcs = m.candidates.arcs
    m.tiers["quota"] = m.slack["quota"] * (m.candidates.quota_base + 1) + m.slack["backbone_quota"]
    m.tiers["headcount"] = mathopt.fast_sum(
        float(units.at[unit, "weight"]) * var for unit, var in m.shortage["headcount"].items())
    m.tiers["subject"] = mathopt.fast_sum(
        plan.subject_weight_of(subject) * var for (_unit, subject), var in m.shortage["subject"].items())
    m.tiers["balance"] = mathopt.fast_sum(
        [plan.balance_weight[kind] * var for kind in ("backbone", "pe_arts") for var in m.shortage[kind].values()])
    m.tiers["disruption"] = mathopt.fast_sum(
        float(cost) * m.flow[i] for i, cost in enumerate(arcs["disruption"].to_numpy()) if cost)
    m.tiers["wishes"] = mathopt.fast_sum(
        -float(score) * m.flow[i] for i, score in enumerate(arcs["wish_score"].to_numpy()) if score)
