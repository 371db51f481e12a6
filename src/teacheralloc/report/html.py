"""report.html: one self-contained page (plotly's offline bundle and the CSS inline, no network) that
HR staff can present to the bureau's leadership, in Chinese, printable to A4.

Summary cards; shortage per school before and after (bars); the schools by latitude and longitude
coloured by gap with the moves drawn as arrows; a subject-gap heatmap; the quality indicators with
their coefficients of variation against the limits; the establishment request; the moves.
"""

from __future__ import annotations

import html
import math
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from teacheralloc.domain import MoveType, Stage, Subject, moves_within_school
from teacheralloc.report.establishment import TOWNSHIP_COLUMNS, EstablishmentRequest, labelled_requests
from teacheralloc.report.plan_data import PlanData, indicator_warnings, school_level
from teacheralloc.report.plan_workbook import indicator_sheet, moves_sheet

#: The heatmap shows at most this many school-stages (those short the most), to stay readable.
HEATMAP_ROWS = 45
#: Page width in CSS pixels: A4 (210 mm) less 12 mm margins each side, at 96 dpi.
PAGE_WIDTH = 700
FONT = '"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", sans-serif'
SHORT_COLOUR, SURPLUS_COLOUR = "#c0392b", "#2e6da4"
MOVE_COLOURS = {"rotation": "#e67e22", "support": "#27ae60", "redeploy": "#8e44ad", "new_hire": "#7f8c8d"}
STATUS_LABELS = {"optimal": "最优", "feasible": "可行（下层目标在容差内）", "time_limit": "达到时间上限",
                 "infeasible": "无可行方案"}

CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: FONT; color: #222; margin: 0; background: #f4f5f7; }
main { width: WIDTHpx; margin: 0 auto; background: #fff; padding: 24px 0; }
header, section { padding: 0 0 8px 0; }
h1 { font-size: 22px; margin: 0 0 4px 0; }
h2 { font-size: 16px; border-left: 4px solid #2e6da4; padding-left: 8px; margin: 22px 0 8px 0; }
p.meta { color: #666; font-size: 12px; margin: 0 0 12px 0; }
p.note { color: #555; font-size: 12px; margin: 4px 0; }
p.warning { color: #a61b1b; background: #fdecec; border: 1px solid #f3b7b7; border-radius: 6px; padding: 6px 10px;
  font-size: 13px; margin: 8px 0 0; }
p.text { font-size: 13px; line-height: 1.7; margin: 6px 0; text-align: justify; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
.card { border: 1px solid #dde3ea; border-radius: 6px; padding: 8px 10px; background: #fafbfc; }
.card .label { font-size: 12px; color: #555; }
.card .value { font-size: 20px; font-weight: 600; margin: 2px 0; }
.card .detail { font-size: 11px; color: #777; }
.good { color: #1e8449; } .bad { color: #c0392b; }
table { border-collapse: collapse; width: 100%; font-size: 11px; margin: 6px 0; }
th, td { border: 1px solid #d5dbe1; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #ddebf7; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
tr.fail td { background: #fdecea; }
.figure { width: WIDTHpx; break-inside: avoid; }
@media print {
  body { background: #fff; }
  main { padding: 0; }
  section { break-inside: auto; }
  h2 { break-after: avoid; }
  .pagebreak { break-before: page; }
}
""".replace("FONT", FONT).replace("WIDTH", str(PAGE_WIDTH))


def _layout(figure: go.Figure, height: int, **extra: object) -> go.Figure:
    settings: dict[str, object] = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, **extra}
    figure.update_layout(width=PAGE_WIDTH, height=height, font={"family": FONT, "size": 11}, paper_bgcolor="white",
                         plot_bgcolor="white", **settings)
    return figure


def _figure_html(figure: go.Figure, element_id: str, toolbar: bool = False) -> str:
    body = figure.to_html(full_html=False, include_plotlyjs=False, div_id=element_id,
                          config={"displaylogo": False, "responsive": False, "displayModeBar": toolbar})
    return f'<div class="figure">{body}</div>'


def _place(schools: pd.DataFrame) -> pd.Series:
    """A school-stage's display name: the school, and the stage for a school with two."""
    stages = schools.groupby("school_id")["stage"].transform("size")
    stage = schools["stage"].map(lambda s: Stage(s).label)
    return schools["name"].where(stages == 1, schools["name"] + "（" + stage + "）")


def shortage_bars(data: PlanData) -> go.Figure | None:
    """Shortage (whole required − on duty, ≥ 0) per school and stage before and after, where either ≥ 0.5."""
    schools = data.schools.assign(place=_place(data.schools), before=data.schools["gap_before"].clip(lower=0),
                                  after=data.schools["gap_after"].clip(lower=0))
    shown = schools[(schools["before"] >= 0.5) | (schools["after"] >= 0.5)].sort_values(["before", "after"])
    if shown.empty:
        return None
    figure = go.Figure([
        go.Bar(y=shown["place"], x=shown["before"], name="调配前缺编", orientation="h", marker_color="#e8a39b"),
        go.Bar(y=shown["place"], x=shown["after"], name="调配后缺编", orientation="h", marker_color=SHORT_COLOUR),
    ])
    figure.update_xaxes(title_text="缺编人数（核定编制 − 在岗教师）", gridcolor="#eee", zeroline=True)
    figure.update_yaxes(automargin=True, tickfont={"size": 10})
    return _layout(figure, 120 + 22 * len(shown), barmode="group", bargap=0.25,
                   legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"})


def school_map(data: PlanData) -> go.Figure | None:
    """Schools placed by latitude and longitude, coloured by gap (before / after, switchable), moves as arrows."""
    if not data.has_sites:
        return None
    schools = school_level(data.schools)
    schools = schools[schools["lat"].notna() & schools["lon"].notna()]
    if schools.empty:
        return None
    spread = np.nanpercentile(np.abs(np.r_[schools["gap_before"], schools["gap_after"]]), 75)
    limit = float(max(2.0, math.ceil(spread)))
    size = 6 + 14 * np.sqrt(schools["students"] / max(schools["students"].max(), 1))
    hover = (schools["name"] + "（" + schools["township"].astype(str) + "）<br>调配前缺口 "
             + schools["gap_before"].round(1).astype(str) + "，调配后 " + schools["gap_after"].round(1).astype(str)
             + "<br>学生 " + schools["students"].astype(int).astype(str) + " 人")
    figure = go.Figure()
    sites = schools.set_index("school_id")
    moves = data.moves[data.moves["from_school"].isin(sites.index) & data.moves["to_school"].isin(sites.index)]
    # A move within a school (校内跨学段) has no arrow to draw.
    pairs = moves[moves["from_school"] != moves["to_school"]].groupby(
        ["from_school", "to_school", "move_type"]).size().reset_index(name="count")
    lon, lat = sites["lon"].to_dict(), sites["lat"].to_dict()
    arrows = []
    for pair in pairs.itertuples(index=False):
        start, end = pair.from_school, pair.to_school
        arrows.append({"x": lon[end], "y": lat[end], "ax": lon[start], "ay": lat[start],
                       "xref": "x", "yref": "y", "axref": "x", "ayref": "y", "text": "", "showarrow": True,
                       "arrowhead": 2, "arrowsize": 1, "arrowwidth": min(1 + 0.6 * pair.count, 5),
                       "arrowcolor": MOVE_COLOURS.get(pair.move_type, "#888"), "opacity": 0.55, "standoff": 4})
    figure.update_layout(annotations=arrows)  # at once: adding them one by one is quadratic in plotly
    for kind in pairs["move_type"].unique():  # legend entries for the arrows
        count = int(moves["move_type"].eq(kind).sum())
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"{MoveType(kind).label}（{count} 人）",
                                    line={"color": MOVE_COLOURS.get(kind, "#888"), "width": 3}))
    # New hires come from no school: no arrow, a star at the school that receives them (they were missing
    # from the map and its legend).
    hires = data.moves[data.moves["move_type"].eq("new_hire") & data.moves["to_school"].isin(sites.index)]
    if len(hires):
        placed = hires.groupby("to_school").size()
        label = MoveType.new_hire.label
        figure.add_trace(go.Scatter(
            x=[lon[school] for school in placed.index], y=[lat[school] for school in placed.index],
            mode="markers", name=f"{label}（{len(hires)} 人，星号为到达学校）", hovertemplate="%{text}<extra></extra>",
            text=[f"{sites.at[school, 'name']}：{label} {count} 人" for school, count in placed.items()],
            marker={"symbol": "star", "size": 13, "color": MOVE_COLOURS["new_hire"],
                    "line": {"width": 0.6, "color": "#333"}}))
    for when, column in (("调配前", "gap_before"), ("调配后", "gap_after")):
        figure.add_trace(go.Scatter(
            x=schools["lon"], y=schools["lat"], mode="markers", name=f"学校（颜色：{when}缺口）", text=hover,
            hovertemplate="%{text}<extra></extra>", visible=(when == "调配前"),
            marker={"size": size, "color": schools[column], "colorscale": "RdBu_r", "cmin": -limit, "cmax": limit,
                    "cmid": 0, "line": {"width": 0.6, "color": "#333"},
                    "colorbar": {"title": {"text": "缺口<br>（人）"}, "thickness": 12, "len": 0.7}}))
    markers = len(figure.data) - 2
    visible_before = [True] * markers + [True, False]
    visible_after = [True] * markers + [False, True]
    figure.update_layout(updatemenus=[{
        "type": "buttons", "direction": "right", "x": 0, "y": 1.08, "xanchor": "left", "yanchor": "bottom",
        "buttons": [{"label": "按调配前缺口着色", "method": "restyle", "args": [{"visible": visible_before}]},
                    {"label": "按调配后缺口着色", "method": "restyle", "args": [{"visible": visible_after}]}]}])
    latitude = float(schools["lat"].mean())
    figure.update_xaxes(title_text="经度", showgrid=True, gridcolor="#eee", zeroline=False)
    figure.update_yaxes(title_text="纬度", showgrid=True, gridcolor="#eee", zeroline=False, scaleanchor="x",
                        scaleratio=1 / math.cos(math.radians(latitude)))
    return _layout(figure, 620, legend={"orientation": "h", "y": -0.1, "x": 0, "yanchor": "top"},
                   margin={"l": 10, "r": 10, "t": 70, "b": 10})


def subject_heatmap(data: PlanData) -> go.Figure | None:
    """School × subject shortage (FTE, deeper red short more) before and after, rows short somewhere.
    subjects.csv holds shortages only (a surplus is 0), so the scale starts at 0."""
    subjects = data.subjects
    if subjects is None or subjects.empty:
        return None
    places = dict(zip(zip(data.schools["school_id"], data.schools["stage"], strict=True), _place(data.schools),
                      strict=True))
    table = subjects.assign(place=[places.get(key, key[0]) for key in zip(subjects["school_id"], subjects["stage"],
                                                                           strict=True)])
    order = [s.value for s in Subject if s.value in set(table["subject"])]
    before = table.pivot_table(index="place", columns="subject", values="gap_before", aggfunc="sum").reindex(
        columns=order).fillna(0)
    after = table.pivot_table(index="place", columns="subject", values="gap_after", aggfunc="sum").reindex(
        index=before.index, columns=order).fillna(0)
    rows = before.index[((before >= 0.5) | (after >= 0.5)).any(axis=1)]
    if len(rows) == 0:
        return None
    total = before.loc[rows].clip(lower=0).sum(axis=1) + after.loc[rows].clip(lower=0).sum(axis=1)
    rank = total.sort_values(ascending=False).head(HEATMAP_ROWS).sort_values()
    before, after = before.loc[rank.index], after.loc[rank.index]
    labels = [Subject(s).label for s in order]
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.02,
                           subplot_titles=("调配前", "调配后"))
    for col, frame in ((1, before), (2, after)):
        figure.add_trace(go.Heatmap(z=frame.to_numpy(), x=labels, y=list(frame.index), zmin=0, zmax=2,
                                    colorscale="Reds", showscale=(col == 2),
                                    colorbar={"title": {"text": "缺口<br>(FTE)"}, "thickness": 12},
                                    hovertemplate="%{y}<br>%{x}：%{z:.2f}<extra></extra>"), row=1, col=col)
    figure.update_xaxes(tickangle=-60, tickfont={"size": 9})
    figure.update_yaxes(tickfont={"size": 9}, automargin=True)
    return _layout(figure, 160 + 14 * len(rows), margin={"l": 10, "r": 10, "t": 30, "b": 10})


#: Short columns kept on one line.
NOWRAP = {"学段", "学科", "排序", "调配类型", "任教学科", "教师编号", "姓名", "原学校", "新学校", "乡镇"}


def _table(frame: pd.DataFrame, numeric: set[str] | None = None, row_class: pd.Series | None = None) -> str:
    numeric = numeric or {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for position, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            text = _cell_text(value)
            css = "num" if column in numeric else ("nowrap" if column in NOWRAP else "")
            cells.append(f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>")
        css = f' class="{row_class.iloc[position]}"' if row_class is not None and row_class.iloc[position] else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
    return html.escape(str(value))


def _cards(data: PlanData, request: EstablishmentRequest) -> str:
    totals, summary = request.totals, data.summary
    moves = summary.get("moves", {})
    quota = summary.get("quota", {})
    parts = "、".join(f"{MoveType(k).label} {moves.get(k, 0)}" for k in ("rotation", "support", "redeploy", "new_hire")
                     if moves.get(k, 0))
    within = moves_within_school(data.moves)
    if within:  # 校内跨学段: a redeployment that leaves no school
        parts += f"（其中校内转任小学部 {within}）"

    def card(label: str, value: str, detail: str, good: bool | None = None) -> str:
        css = "" if good is None else (" good" if good else " bad")
        return (f'<div class="card"><div class="label">{label}</div><div class="value{css}">{value}</div>'
                f'<div class="detail">{detail}</div></div>')

    cards = [
        card("调动教师", f"{int(moves.get('total', len(data.moves)))} 人", parts or "无调动"),
        card("缺编（各校合计）", f"{totals['shortage_before']:.1f} → {totals['shortage_after']:.1f}",
             "核定编制 − 在岗教师，缺编学校相加（人）", totals["shortage_after"] < totals["shortage_before"] or None),
        card("缺编 1 人以上的学校", f"{totals['schools_short_before']:.0f} → {totals['schools_short_after']:.0f} 所",
             f"全县 {data.schools['school_id'].nunique()} 所学校",
             totals["schools_short_after"] <= totals["schools_short_before"]),
    ]
    if "subject_gap_before" in totals:
        cards.append(card("学科缺口（折合专任教师）",
                          f"{totals['subject_gap_before']:.1f} → {totals['subject_gap_after']:.1f}",
                          "各校各学科缺口相加（FTE）",
                          totals["subject_gap_after"] < totals["subject_gap_before"] or None))
    met = bool(quota.get("rotation_quota_met", True)) and bool(quota.get("backbone_quota_met", True))
    cards.append(card("交流轮岗", f"{quota.get('rotations', 0)} / {quota.get('required_rotations', 0)} 人",
                      f"计入比例 / 应交流；其中骨干教师 {quota.get('backbone_rotations', 0)} 人", met))
    applied = summary.get("applicants", {})
    if applied.get("total"):  # every applicant's outcome and reason: applicants.csv, plan.xlsx 交流申请
        cards.append(card("申请交流", f"{applied['moved_to_wish']} / {applied['total']} 人",
                          f"按志愿调动 / 申请；其中第一志愿 {applied['first_wish']} 人；未调动 {applied['stayed']} 人"
                          "（原因见 applicants.csv）"))
    # As §四 counts them: the school's own vacancies first, then the county's other vacancies (编办 moves them)
    within = int(totals.get("posts_within", 0))
    elsewhere = min(int(totals["posts"]) - within, max(0, int(totals.get("vacant_posts", 0)) - within))
    covered = "、".join(text for text in (f"{within} 个所在学校有空编" if within else "",
                                          f"{elsewhere} 个可用县内其他学校空编" if elsewhere else "") if text)
    cards.append(card("申请编制", f"{int(totals['posts'])} 个", "调配无法解决的缺编（按整人计）"
                      + (f"；其中 {covered}，补充教师即可，不增编制总量" if covered else ""),
                      None if totals["posts"] else True))
    return f'<div class="cards">{"".join(cards)}</div>'


def _indicator_html(data: PlanData) -> str:
    sheet = indicator_sheet(data)
    county = sheet[sheet["范围"] == "全县"].drop(columns=["范围", "学校代码", "学校名称", "参与评估"])
    fails = county["调配后达标"].eq("否").map({True: "fail", False: ""})
    # A coefficient is judged to four decimals: 0.5001 shown as 0.5 read as meeting a 0.50 limit it misses.
    numeric = {c for c in county.columns if pd.api.types.is_numeric_dtype(county[c])}
    cv = county["度量"].astype(str).str.startswith("差异系数")
    for column in ("调配前", "调配后", "标准"):
        county[column] = [f"{v:.4f}" if is_cv and isinstance(v, float) and v == v else _cell_text(v)
                          for v, is_cv in zip(county[column], cv, strict=True)]
    schools = sheet[(sheet["范围"] == "学校") & (sheet["参与评估"] == "是")]
    counts = schools.groupby(["学段", "指标"], sort=False).agg(参评学校=("学校代码", "size"),
                                                           调配前达标=("调配前达标", lambda s: int(s.eq("是").sum())),
                                                           调配后达标=("调配后达标", lambda s: int(s.eq("是").sum())))
    return (_table(county, numeric=numeric, row_class=fails)
            + '<p class="note">差异系数按学生数加权（校际差异系数），不超过上限为达标；标红为调配后仍未达标。</p>'
            + "<h3 style='font-size:13px;margin:10px 0 4px'>各校达标情况（参评学校数）</h3>"
            + _table(counts.reset_index()))


def render_html(data: PlanData, request: EstablishmentRequest) -> str:
    """The whole page as one string (plotly's JS inline)."""
    summary = data.summary
    parameters = summary.get("parameters", {})
    source = str(parameters.get("source", "")) or "—"
    status = STATUS_LABELS.get(str(summary.get("status")), str(summary.get("status")))
    title = "教师调配方案报告"
    sections = [
        f"<header><h1>{title}</h1><p class='meta'>数据：{html.escape(Path(source).name or source)}　基准日期："
        f"{html.escape(str(parameters.get('as_of', '')))}　求解状态：{status}　生成：{datetime.now():%Y-%m-%d %H:%M}"
        f"{'　（已匿名：教师以编号代替姓名）' if data.anonymized else ''}</p>{_cards(data, request)}"
        + "".join(f"<p class='warning'>{html.escape(note)}</p>" for note in indicator_warnings(summary))
        + "</header>",
    ]
    bars = shortage_bars(data)
    sections.append("<section><h2>一、各校缺编：调配前后</h2>" + (
        _figure_html(bars, "shortage-bars") if bars is not None
        else "<p class='note'>调配前后均无缺编半人以上的学校。</p>")
        + "<p class='note'>仅列调配前或调配后缺编半人以上的学校（学段）。</p></section>")
    site_map = school_map(data)
    sections.append("<section class='pagebreak'><h2>二、学校分布与调动</h2>" + (
        _figure_html(site_map, "school-map", toolbar=True)
        + "<p class='note'>按经纬度示意学校位置（非地图底图）：红色缺编、蓝色超编，"
        "圆点大小示学生数；箭头由原学校指向新学校，颜色示调配类型，粗细示人数。</p>"
        if site_map is not None else "<p class='note'>数据中没有学校经纬度，未绘制分布图。</p>") + "</section>")
    heatmap = subject_heatmap(data)
    sections.append("<section class='pagebreak'><h2>三、学科缺口</h2>" + (
        _figure_html(heatmap, "subject-heatmap") + "<p class='note'>折合专任教师（FTE）缺口：颜色越深缺得越多；"
        f"列出调配前后学科缺口合计最大的 {HEATMAP_ROWS} 个学校（学段）；全部学校见 plan.xlsx 的“学科缺口”表。</p>"
        if heatmap is not None else "<p class='note'>无学科缺口数据（方案目录中没有 subjects.csv）。</p>")
        + "</section>")
    sections.append("<section class='pagebreak'><h2>四、优质均衡教师指标</h2>" + _indicator_html(data) + "</section>")
    requests = labelled_requests(request).drop(columns=["性质"])
    sections.append(
        "<section class='pagebreak'><h2>五、编制申请</h2>"
        + "".join(f"<p class='text'>{html.escape(_sub_numbered(p))}</p>" for p in request.text)
        + "<h3 style='font-size:13px;margin:10px 0 4px'>申请编制（按学段、学科，按边际价值排序）</h3>"
        + (_table(requests) if len(requests) else "<p class='note'>无。</p>")
        + "<h3 style='font-size:13px;margin:10px 0 4px'>按乡镇</h3>"
        + _table(request.townships.rename(columns=TOWNSHIP_COLUMNS)) + "</section>")
    moves = moves_sheet(data)
    names = data.schools.drop_duplicates("school_id").set_index("school_id")["name"]
    within = (moves["原学校"] == moves["新学校"]).to_numpy() if len(moves) else np.zeros(0, dtype=bool)
    for column in ("原学校", "新学校"):  # names read better than codes on a page
        moves[column] = moves[column].map(names).fillna(moves[column])
    if within.any() and "新学段" in moves:  # the stage columns are left out below: a move within a school says it
        moves.loc[within, "新学校"] = moves.loc[within, "新学校"] + "（本校" + moves.loc[within, "新学段"] + "部）"
    sections.append(f"<section class='pagebreak'><h2>六、调配名单（{len(moves)} 人）</h2>"
                    + (_table(moves.drop(columns=[c for c in ("本人申请", "志愿序号", "原学段", "新学段")
                                                  if c in moves]),
                              numeric={"距离(公里)", "本校任教年限"})
                       if len(moves) else "<p class='note'>无调动。</p>") + "</section>")
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{CSS}</style><script>{get_plotlyjs()}</script></head><body><main>{''.join(sections)}</main>"
            f"</body></html>")


def _sub_numbered(paragraph: str) -> str:
    """The request's own 一、二、… numbered as （一）（二）…: inside section 五 of the page, its 六、 read as
    the page's next section."""
    return re.sub(r"^([一二三四五六七八九十]+)、", r"（\1）", paragraph)


def write_html(data: PlanData, path: Path, request: EstablishmentRequest) -> Path:
    """Write report.html (UTF-8, self-contained)."""
    path.write_text(render_html(data, request), encoding="utf-8")
    return path

