"""A plan (调配方案) and its audit record: moves, school figures before and after, and per tier the
value, the proven bound and the gap; status, wall time, parameters and versions (PyVRP's Result)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from teacheralloc.domain import County, moves_within_school
from teacheralloc.norms import INDICATORS, Norms

#: plan.csv columns, in contract order (then extras).
MOVE_COLUMNS = {
    "teacher_id": "教师编号",
    "from_school": "原学校",
    "to_school": "新学校",
    "move_type": "调配类型",
    "subject": "任教学科",
    "reason": "理由",
}
MOVE_EXTRA_COLUMNS = {
    "from_stage": "原学段",
    "to_stage": "新学段",
    "km": "距离(公里)",
    "voluntary": "本人申请",
    "wish_rank": "志愿序号",
    "backbone": "骨干教师",
    "years_at_school": "本校任教年限",
}
SCHOOL_COLUMNS = {
    "school_id": "学校代码",
    "stage": "学段",
    "students": "学生数",
    "classes": "班数",
    "required": "核定编制",
    "teachers_before": "调配前在岗教师",
    "teachers_after": "调配后在岗教师",
    "gap_before": "调配前缺口",
    "gap_after": "调配后缺口",
}


#: Solve and tier statuses as HR staff read them (CLI, workbook, comparison).
STATUS_LABELS = {"optimal": "最优", "feasible": "可行", "time_limit": "达到时间上限", "infeasible": "无可行方案"}


@dataclass(frozen=True)
class TierResult:
    """One objective tier: the value reached, the proven bound (given the tiers before it), the gap."""

    name: str
    label: str
    before: float
    value: float
    bound: float
    status: str
    seconds: float
    note: str = ""  # how it was reached, when not as the other tiers (中文)

    @property
    def gap(self) -> float:
        """Relative gap |value − bound| / max(|value|, 1); infinite when no bound was proven."""
        if not (math.isfinite(self.value) and math.isfinite(self.bound)):
            return math.inf
        return abs(self.value - self.bound) / max(abs(self.value), 1.0)

    def as_dict(self) -> dict[str, Any]:
        return {"tier": self.name, "label": self.label, "before": _finite(self.before), "value": _finite(self.value),
                "bound": _finite(self.bound), "gap": _finite(self.gap, 8), "status": self.status,
                "seconds": round(self.seconds, 3), **({"note": self.note} if self.note else {})}


def quota_tier_text(value: float | None, eligible_base: int) -> str:
    """The quota tier's value as HR reads it: rotations short (and backbone rotations short). The tier
    weighs a missing rotation `eligible_base + 1` times a missing backbone one (so none outweighs it),
    and its raw value (73,788 on the sample county before the plan) means nothing on its own. The
    backbone part is a share of the rotations (0.8 for 4 rotations at 20 %): short in whole teachers,
    it is rounded up, as the quota line and `check` count it (应至少 1 人)."""
    if value is None or not math.isfinite(value):
        return "—"
    weight = eligible_base + 1
    short = math.floor(value / weight + 1e-9)
    if value - short * weight > weight - 1 + 1e-6:  # an LP bound a hair below a whole rotation (8,630.986 of
        short += 1  # 21 × 411): more than any backbone part can be (at most the base), so the rotation is short
    backbone = max(0, math.ceil(value - short * weight - 1e-6))
    parts = [f"缺 {short:,} 人"] if short or not backbone else []
    if backbone:
        parts.append(f"骨干缺 {backbone:,} 人")
    return "，".join(parts)


def _finite(value: float, digits: int = 6) -> float | None:
    """JSON has no infinity: an unknown bound or gap is null."""
    return round(value, digits) if math.isfinite(value) else None


@dataclass(frozen=True)
class Plan:
    """The result of `teacheralloc plan`."""

    moves: pd.DataFrame
    schools: pd.DataFrame
    tiers: tuple[TierResult, ...]
    status: str
    wall_time: float
    parameters: dict[str, Any]
    versions: dict[str, str]
    quota: dict[str, Any]
    indicators: dict[str, Any]
    causes: pd.DataFrame
    model_size: dict[str, int]
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: applicants.csv: every teacher who asked to move (申请交流), the outcome and, if kept, why.
    applicants: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The norms before and after the plan (not written; saves the reports recomputing them).
    norms_before: Any = field(default=None, repr=False, compare=False)
    norms_after: Any = field(default=None, repr=False, compare=False)

    def moves_by_type(self) -> dict[str, int]:
        counts = self.moves["move_type"].value_counts() if len(self.moves) else pd.Series(dtype=int)
        return {kind: int(counts.get(kind, 0)) for kind in ("rotation", "support", "redeploy", "new_hire")}

    def summary(self) -> dict[str, Any]:
        """summary.json: status, objective and bound per tier, gap, time, moves, quotas, indicators."""
        headline = next((t for t in self.tiers if t.name == "headcount"), None)
        return {
            "status": self.status,
            "objective": {t.name: _finite(t.value) for t in self.tiers},
            "best_bound": {t.name: _finite(t.bound) for t in self.tiers},
            "gap": _finite(max((t.gap for t in self.tiers), default=0.0), 8),
            "headcount_gap": headline.gap if headline else None,
            "tiers": [t.as_dict() for t in self.tiers],
            "wall_time_s": round(self.wall_time, 3),
            # within_school: the redeployments that stay in their school (校内跨学段), among `redeploy`
            "moves": {**self.moves_by_type(), "total": len(self.moves),
                      "within_school": moves_within_school(self.moves)},
            "quota": self.quota,
            "applicants": applicant_counts(self.applicants),
            "indicators": self.indicators,
            "model_size": self.model_size,
            "parameters": self.parameters,
            "versions": self.versions,
            "notes": list(self.notes),
        }


def applicant_counts(applicants: pd.DataFrame) -> dict[str, int]:
    """summary.json `applicants`: how many asked to move (申请交流), moved to a wish (to their first), moved
    without a wish list, stayed."""
    outcome = applicants["outcome"].astype(str) if len(applicants) else pd.Series(dtype=str)
    return {"total": len(applicants), "moved_to_wish": int(outcome.str.startswith("wish_").sum()),
            "first_wish": int((outcome == "wish_1").sum()), "moved_without_wishes": int((outcome == "moved").sum()),
            "stayed": int((outcome == "stayed").sum())}


def county_after(county: County, moves: pd.DataFrame) -> County:
    """The county as the plan leaves it: movers on duty at their new school and stage, teaching the
    subject they were moved for (their old main subject becomes one they may also teach)."""
    teachers = county.teachers.copy()
    if len(moves) == 0:
        return county
    where = pd.Index(teachers["teacher_id"]).get_indexer(moves["teacher_id"])
    if (where < 0).any():
        missing = moves.loc[where < 0, "teacher_id"].tolist()[:5]
        raise ValueError(f"plan.csv names teachers not in the dataset: {missing}")
    teachers["stage"] = teachers["stage"].astype(str)
    teachers["subject"] = teachers["subject"].astype(str)
    teachers.loc[teachers.index[where], "school_id"] = moves["to_school"].to_numpy()
    teachers.loc[teachers.index[where], "stage"] = moves["to_stage"].to_numpy()
    old = teachers.loc[teachers.index[where], "subject"].to_numpy()
    teachers.loc[teachers.index[where], "subject"] = moves["subject"].to_numpy()
    others = teachers["other_subjects"].tolist()
    for row, previous, new in zip(where, old, moves["subject"], strict=True):
        if previous != new:
            others[row] = tuple(dict.fromkeys((*others[row], previous)))
    teachers["other_subjects"] = others
    return county.replace(teachers=teachers)


def county_indicators(before: Norms, after: Norms) -> dict[str, Any]:
    """summary.json's `indicators`: the county table per stage, before and after. The norms table names its
    columns for the county it describes (`teachers_before` is the teachers it counts), so "after" repeats
    those names; `teachers`, `shortage` and `surplus` say the same under names that read right on both
    sides (the old names stay for readers that use them)."""
    keys = ["students", "required", "teachers_before", "shortage_before", "surplus_before", "schools_short",
            "subject_shortage_fte", *[f"{p}_{k}" for k in INDICATORS for p in ("per100", "cv", "schools_meeting")],
            "cv_max", "evaluated_schools"]
    out: dict[str, Any] = {}
    for label, norms in (("before", before), ("after", after)):
        table = norms.county.set_index("stage")
        out[label] = {stage: {k: (None if pd.isna(table.at[stage, k]) else float(table.at[stage, k])) for k in keys}
                      for stage in table.index}
        for figures in out[label].values():
            figures.update(teachers=figures["teachers_before"], shortage=figures["shortage_before"],
                           surplus=figures["surplus_before"])
    return out
