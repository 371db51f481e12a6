"""The comparison of scenarios (情景对比): compare.xlsx, compare.html (self-contained) and compare.json.

Each scenario is a column, followed by its difference to the first scenario (Δ). Sheets and the page:
情景对比 (every figure), 情景说明 (question, changes, solve status and time), 方向核验 (each scenario's
expected directions against the first).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from teacheralloc.compare import Comparison
from teacheralloc.plan import STATUS_LABELS
from teacheralloc.report.excel import write_sheets
from teacheralloc.scenario import figure_catalogue

DIRECTION_LABELS = {"up": "增加", "down": "减少", "same": "不变"}


def _names(comparison: Comparison) -> list[str]:
    return [c for c in comparison.table.columns if c not in ("code", "group", "label", "stage")
            and not str(c).startswith("Δ ")]


def figure_sheet(comparison: Comparison) -> pd.DataFrame:
    """情景对比: 类别, 指标, 学段, then each scenario and (after the first) its Δ, then the code."""
    table = comparison.table
    names = _names(comparison)
    columns: list[str] = []
    for i, name in enumerate(names):
        columns.append(name)
        if i:
            columns.append(f"Δ {name}")
    out = table[["group", "label", "stage", *columns, "code"]].rename(
        columns={"group": "类别", "label": "指标", "stage": "学段", "code": "代码"})
    return out.rename(columns={f"Δ {n}": f"{n} 与 {names[0]} 之差" for n in names[1:]})


def scenario_sheet(comparison: Comparison) -> pd.DataFrame:
    """情景说明: one row per scenario."""
    return pd.DataFrame([{
        "情景": r.name, "文件": r.file, "回答的问题": r.question, "基准日期": r.as_of,
        "变化": "\n".join(r.changes) or "（无变化：基础数据）",
        "求解状态": STATUS_LABELS.get(r.status, r.status), "用时(秒)": round(r.seconds, 1),
    } for r in comparison.results])


def check_sheet(comparison: Comparison) -> pd.DataFrame:
    """方向核验: each expected direction against the first scenario."""
    checks = comparison.checks
    first = comparison.results[0].name if comparison.results else ""
    return pd.DataFrame({
        "情景": checks["scenario"], "指标": checks["label"], "代码": checks["code"],
        "预期方向": checks["expected"].map(DIRECTION_LABELS), f"{first}（第一个情景）": checks["first"],
        "本情景": checks["value"], "差值": checks["delta"], "是否符合": checks["held"].map({True: "是", False: "否"}),
    })


def write_comparison(comparison: Comparison, out: Path) -> list[Path]:
    """Write compare.xlsx, compare.html and compare.json into `out` (which the caller made new)."""
    workbook = write_sheets(
        out / "compare.xlsx",
        {"情景对比": figure_sheet(comparison), "情景说明": scenario_sheet(comparison),
         "方向核验": check_sheet(comparison)},
        wrap_columns={"情景说明": ["变化", "回答的问题"]},
    )
    page = out / "compare.html"
    page.write_text(comparison_html(comparison), encoding="utf-8")
    data = out / "compare.json"
    data.write_text(json.dumps(comparison_json(comparison), ensure_ascii=False, indent=2), encoding="utf-8")
    return [workbook, page, data]


def _number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    from teacheralloc.versions import versions

    catalogue = figure_catalogue()
    codes = comparison.table["code"].tolist()
    return {
        "scenarios": [{"name": r.name, "file": r.file, "question": r.question, "as_of": r.as_of,
                       "changes": list(r.changes), "expect": r.expect, "status": r.status,
                       "seconds": round(r.seconds, 3), "figures": {c: _number(r.figures.get(c)) for c in codes}}
                      for r in comparison.results],
        "figures": [{"code": c, "group": catalogue[c][0], "label": catalogue[c][1], "stage": catalogue[c][2]}
                    for c in codes],
        "differences_to_first": {
            r.name: {c: _number(round(r.figures[c] - comparison.results[0].figures[c], 4)) for c in codes}
            for r in comparison.results[1:]
        },
        "checks": [{k: _number(v) for k, v in row.items()} for row in comparison.checks.to_dict(orient="records")],
        "wall_time_s": round(comparison.wall_time, 3),
        "workers": comparison.workers,
        "notes": list(comparison.notes),
        "versions": versions(),
    }


def _fmt(value: Any, delta: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    number = float(value)
    text = f"{number:,.0f}" if number.is_integer() else (f"{number:,.4f}" if abs(number) < 1 else f"{number:,.2f}")
    if delta and number > 0:
        text = "+" + text
    return text


_STYLE = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 2px solid #ddebf7; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
th { background: #ddebf7; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.up { color: #b00020; } td.down { color: #1f5fa8; } td.zero { color: #999; }
tr.group td { background: #f3f3f3; font-weight: bold; }
.ok { color: #1a7f37; font-weight: bold; } .bad { color: #b00020; font-weight: bold; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.card p { margin: 4px 0; } .muted { color: #666; font-size: 12px; }
"""


def comparison_html(comparison: Comparison) -> str:
    """A self-contained page (no scripts, no external files): scenarios, direction checks, figures."""
    esc = html.escape
    names = _names(comparison)
    parts = ["<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
             "<title>情景对比</title>", f"<style>{_STYLE}</style></head><body>",
             "<h1>情景对比（What-if scenarios）</h1>",
             f"<p class='muted'>{len(names)} 个情景，并行 {comparison.workers} 个进程，"
             f"用时 {comparison.wall_time:.1f} 秒。每个情景一列，其后为与第一个情景"
             f"（{esc(names[0]) if names else ''}）之差；差值红色为增加，蓝色为减少。</p>"]
    for note in comparison.notes:
        parts.append(f"<p class='bad'>{esc(note)}</p>")
    parts.append("<h2>情景说明</h2>")
    for result in comparison.results:
        changes = "".join(f"<li>{esc(c)}</li>" for c in result.changes) or "<li>无变化：基础数据</li>"
        parts.append(f"<div class='card'><p><b>{esc(result.name)}</b> <span class='muted'>{esc(result.file)}；"
                     f"求解{esc(STATUS_LABELS.get(result.status, result.status))}，{result.seconds:.1f} 秒</span></p>"
                     f"<p>{esc(result.question)}</p><ul>{changes}</ul></div>")
    if len(comparison.checks):
        parts.append("<h2>方向核验（与第一个情景相比）</h2><table><tr><th>情景</th><th>指标</th><th>预期</th>"
                     f"<th>{esc(names[0])}</th><th>本情景</th><th>差值</th><th>是否符合</th></tr>")
        for row in comparison.checks.itertuples(index=False):
            mark = "<span class='ok'>✓ 符合</span>" if row.held else "<span class='bad'>✗ 不符合</span>"
            parts.append(f"<tr><td>{esc(row.scenario)}</td><td>{esc(row.label)}</td>"
                         f"<td>{DIRECTION_LABELS[row.expected]}</td><td class='num'>{_fmt(row.first)}</td>"
                         f"<td class='num'>{_fmt(row.value)}</td><td class='num'>{_fmt(row.delta, True)}</td>"
                         f"<td>{mark}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>指标对比</h2><table><tr><th>指标</th><th>学段</th>")
    for i, name in enumerate(names):
        parts.append(f"<th>{esc(name)}</th>" + ("<th>Δ</th>" if i else ""))
    parts.append("</tr>")
    group = None
    for row in comparison.table.to_dict(orient="records"):
        if row["group"] != group:
            group = row["group"]
            parts.append(f"<tr class='group'><td colspan='{2 + 2 * len(names) - 1}'>{esc(group)}</td></tr>")
        cells = [f"<td>{esc(row['label'])}</td><td>{esc(row['stage'])}</td>"]
        for i, name in enumerate(names):
            cells.append(f"<td class='num'>{_fmt(row[name])}</td>")
            if i:
                delta = row[f"Δ {name}"]
                kind = "zero" if not delta or delta != delta else ("up" if delta > 0 else "down")
                cells.append(f"<td class='num {kind}'>{_fmt(delta, True)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table><p class='muted'>由 teacheralloc compare 生成；指标代码与口径见 docs/scenarios.md。</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
