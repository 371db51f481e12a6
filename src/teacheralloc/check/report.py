"""What the check found (复核结果): violations by rule, warnings, and the figures it recomputed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from teacheralloc.domain import MoveType, Stage

#: Rule code -> (number, Chinese name).
RULES: dict[str, tuple[int, str]] = {
    "well_formed": (1, "方案格式"),
    "movable": (2, "可否调动"),
    "rotation": (3, "交流轮岗条件与方向"),
    "support": (4, "支教条件"),
    "stage": (5, "任教学段"),
    "subject": (6, "任教学科"),
    "wishes": (7, "本人志愿"),
    "pins": (7, "指定"),
    "establishment": (8, "核定编制"),
    "max_leaving": (9, "单校调出上限"),
    "redeploy_surplus": (10, "调剂限于富余"),
    "quota": (11, "交流轮岗比例"),
    "max_km": (12, "调动距离上限"),
    "figures": (13, "数字复核"),
    # figures derived from the moves beyond the contract's (tier values, county indicators, schools.csv's
    # extra columns, plan.csv's 骨干教师 and 本校任教年限): any hand edit of plan.csv changes them, so they
    # are told apart from the contract's figures
    "derived": (13, "派生数字复核"),
    "context": (0, "复核依据"),
}
MOVE_TYPES = tuple(m.value for m in MoveType)
STAGE_LABEL = {s.value: s.label for s in Stage}
TYPE_LABEL = {m.value: m.label for m in MoveType}


@dataclass(frozen=True)
class Violation:
    """One broken rule (or, with severity "warning", something to look at)."""

    rule: str
    message: str
    teacher_id: str | None = None
    school_id: str | None = None
    row: int | None = None  # plan.csv row as a spreadsheet shows it (header = row 1)
    severity: str = "error"

    @property
    def number(self) -> int:
        return RULES.get(self.rule, (0, ""))[0]

    @property
    def rule_label(self) -> str:
        return RULES.get(self.rule, (0, self.rule))[1]

    def line(self) -> str:
        tag = "警告" if self.severity == "warning" else "违规"
        where = f"plan.csv 第 {self.row} 行 " if self.row is not None else ""
        rule = f"规则 {self.number} {self.rule_label}" if self.number else self.rule_label
        return f"[{tag}][{rule}] {where}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "number": self.number,
            "teacher_id": self.teacher_id,
            "school_id": self.school_id,
            "row": self.row,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass
class CheckReport:
    """The result of `check_plan`: violations, warnings and the recomputed figures."""

    plan_dir: Path
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    units: pd.DataFrame | None = None  # recomputed school × stage figures

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def rules_violated(self) -> set[str]:
        return {v.rule for v in self.violations}

    def by_rule(self, rule: str) -> list[Violation]:
        return [v for v in self.violations if v.rule == rule]

    def summary_lines(self, limit: int = 10) -> list[str]:
        """Lines for the command line: the verdict, violations per rule (at most `limit` each),
        warnings, then the recomputed headline figures."""
        lines = []
        if self.ok:
            lines.append(f"复核通过：{self.plan_dir} 满足全部 13 项硬性规则，数字与重新计算一致。")
        else:
            rules = sorted(self.rules_violated, key=lambda r: (RULES.get(r, (0,))[0], r))
            lines.append(
                f"复核未通过：{self.plan_dir} 有 {len(self.violations)} 处违规，涉及 {len(rules)} 项规则。"
            )
            for rule in rules:
                found = self.by_rule(rule)
                number, label = RULES.get(rule, (0, rule))
                lines.append(f"规则 {number} {label}（{rule}）：{len(found)} 处")
                lines.extend(f"  {v.line()}" for v in found[:limit])
                if len(found) > limit:
                    lines.append(f"  …另有 {len(found) - limit} 处")
        for warning in self.warnings[: limit * 3]:
            lines.append(warning.line())
        figures = self.figures
        moves = figures.get("moves")
        if moves:
            lines.append(
                "调动（重新计算）："
                + "，".join(f"{TYPE_LABEL[k]} {moves[k]}" for k in MOVE_TYPES)
                + f"，合计 {moves['total']} 人"
            )
        quota = figures.get("quota")
        if quota:
            others = quota["rotations_all"] - quota["rotations"]
            lines.append(
                f"交流轮岗：计入比例 {quota['rotations']} 人（应交流 {quota['required_rotations']} 人，基数 "
                f"{quota['eligible_base']} 人），其中骨干教师 {quota['backbone_rotations']} 人"
                f"（应至少 {quota['backbone_required']} 人）"
                + (f"；另有基数以外学校的交流 {others} 人" if others else "")
            )
        for stage, row in (figures.get("stages") or {}).items():
            lines.append(
                f"{STAGE_LABEL.get(stage, stage)}：按标准需 {row['required']:.1f}，"
                f"在岗 {row['teachers_before']} → {row['teachers_after']}，"
                f"缺编 {row['shortage_before']:.1f} → {row['shortage_after']:.1f} 人"
            )
        return lines
