"""What the plan was made under (复核依据): another reference date or other rule settings than the
check's are warned about, since every rule is re-derived from the data and policy given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from teacheralloc.check.report import Violation
from teacheralloc.domain import County
from teacheralloc.policy import Policy, load_policy


def context_warnings(
    county: County, policy: Policy, plan_dir: Path, summary: dict[str, Any], warn: list[Violation]
) -> None:
    """Warn when the plan was made for another reference date or under another policy."""
    as_of = (
        (summary.get("parameters") or {}).get("as_of")
        if isinstance(summary.get("parameters"), dict)
        else None
    )
    if as_of and str(as_of) != county.as_of.isoformat():
        warn.append(
            Violation(
                "context",
                f"方案的基准日期为 {as_of}，复核按 {county.as_of.isoformat()} 计算任教年限与退休日期",
                severity="warning",
            )
        )
    used = plan_dir / "policy_used.yaml"
    if not used.is_file():
        return
    try:
        data = load_policy(used).model_dump(mode="json")  # over the defaults: older plans lack newer settings
    except Exception:  # any unreadable policy file is only worth a warning here
        warn.append(
            Violation("context", "policy_used.yaml 无法读取，无法确认方案所用政策", severity="warning")
        )
        return
    differ = _rule_differences(_flatten(policy.model_dump(mode="json")), _flatten(data))
    if differ:
        shown = "、".join(differ[:8]) + ("…" if len(differ) > 8 else "")
        warn.append(
            Violation(
                "context",
                f"方案所用政策（policy_used.yaml）与复核所用政策在规则设置上不同：{shown}",
                severity="warning",
            )
        )


def reference_warning(policy: Policy, reference: Policy, warn: list[Violation]) -> None:
    """Checked against the plan's own policy: say which rule settings it changes from the county's."""
    mine, theirs = _flatten(policy.model_dump(mode="json")), _flatten(reference.model_dump(mode="json"))
    differ = _rule_differences(mine, theirs)
    if differ:
        shown = "、".join(f"{k} = {mine.get(k)}（本县现行政策：{theirs.get(k)}）" for k in differ[:8])
        warn.append(
            Violation(
                "context",
                "按方案所用政策（policy_used.yaml）复核；它在规则设置上不同于本县现行政策"
                f"（默认值加数据文件夹中的 policy.yaml）：{shown}"
                + ("…" if len(differ) > 8 else "")
                + "。按其他政策复核请用 --policy",
                severity="warning",
            )
        )


#: Policy settings the hard rules and the recomputed figures depend on.
RULE_SETTINGS = (
    "staffing.",
    "rotation.",
    "support.",
    "retirement.",
    "indicators.backbone_levels",
    "plan.headcount_rounding",
    "plan.junior_to_primary",
    "plan.within_school_cross_stage",
    "plan.max_km",
    "plan.road_factor",
)


def _rule_differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The rule settings (`RULE_SETTINGS`) two flattened policies set differently, sorted."""
    return sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k) and k.startswith(RULE_SETTINGS))


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}
