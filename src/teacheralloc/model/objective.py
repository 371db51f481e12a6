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

import numpy as np

from teacheralloc.model.builder import AllocationModel, Linear

TIER_LABELS = {
    "quota": "轮岗比例缺口",
    "headcount": "总量缺编（加权）",
    "subject": "学科缺口（加权，整人）",
    "balance": "优质均衡指标差额（人）",
    "disruption": "调动扰动（人次与距离）",
    "wishes": "意愿满足（负值，越小越好）",
}


def _linear(columns: np.ndarray, coefs: np.ndarray) -> Linear:
    columns, coefs = np.asarray(columns, dtype=np.int64), np.asarray(coefs, dtype=float)
    keep = coefs != 0
    return Linear(columns[keep], coefs[keep])


def add_tier_objectives(m: AllocationModel) -> None:
    plan = m.policy.plan
    units = m.candidates.units.set_index("unit")
    arcs = m.candidates.arcs
    m.tiers["quota"] = _linear([m.slack["quota"], m.slack["backbone_quota"]], [m.candidates.quota_base + 1, 1.0])
    headcount = m.shortage["headcount"]
    m.tiers["headcount"] = _linear(headcount.to_numpy(), units.loc[headcount.index, "weight"].to_numpy(float))
    subject = m.shortage["subject"]
    weights = [plan.subject_weight_of(s) for s in subject.index.get_level_values(1)]
    m.tiers["subject"] = _linear(subject.to_numpy(), weights)
    balance = [(m.shortage[kind].to_numpy(), np.full(len(m.shortage[kind]), plan.balance_weight[kind]))
               for kind in ("backbone", "pe_arts")]
    m.tiers["balance"] = _linear(np.concatenate([b[0] for b in balance]), np.concatenate([b[1] for b in balance]))
    m.tiers["disruption"] = _linear(m.flow, arcs["disruption"].to_numpy(float))
    m.tiers["wishes"] = _linear(m.flow, -arcs["wish_score"].to_numpy(float))
