"""The establishment request (编制申请): what no transfer can fix, as posts to ask the establishment
office (编办) for, ranked by what one more post is worth, with the argument in Chinese (说明).

The plan is the best redistribution the rules allow, so the shortage it leaves is the case for new
posts. Posts are whole: a school-stage asks for max(0, required posts in whole teachers (the plan's
`plan.headcount_rounding`) − teachers holding a post there after the plan (在编: a support posting
keeps its post at home, a teacher on leave keeps theirs)). Each post is given a subject and a
school greedily, one at a time, where it removes the most weighted shortage.

Marginal value (边际价值) is computed by re-solving with one more post, not from LP duals: for each
(stage, subject), one more teacher of that subject is placed at the school of that stage where it
removes the most weighted shortage, the rest of the plan held as it is (for a subject posts are
asked for, its first post as the greedy placed it; for a structural gap, after the asked posts are
filled). What it removes is counted tier by tier, as the plan ranks them: first the headcount tier
(the school's weight — teaching point, rural, town, urban, weak extra, `plan.headcount_weight` — if
the school is still short of a whole teacher), then the subject tier (the subject's weight
`plan.subject_weight` × the part of a teacher of that subject the school still lacks, in FTE, at
most 1). Rows are ranked by these two numbers in that order. Placing one post is a maximum over
schools, so for one post this is exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from teacheralloc.domain import Stage, Subject, moves_within_school
from teacheralloc.policy import Policy
from teacheralloc.report.plan_data import PlanData, indicator_warnings

METHOD = ("边际价值按“增加一个编制后重新安置”测算（未用线性规划对偶价格）：对每个学段和学科，设想增加 1 名该学科教师，"
          "在其余调配方案不变的前提下，放到能使加权缺口减少最多的学校（申请编制的学科：按逐个安置的次序，取该学科的第一个"
          "编制及其学校；结构性缺口：在申请的编制补足之后）；先计总量缺编的减少（按学校权重：教学点 {tp:g}、"
          "乡村 {rural:g}、镇区 {town:g}、城区 {urban:g}，薄弱学校另加 {weak:g}），"
          "再计学科缺口的减少（学科权重 × 该校该学科"
          "仍缺的折合人数，至多 1 人），排序先比前者、再比后者。")
#: Section 五 names at most this many structural subject gaps, the largest first (the rest: the sheet).
STRUCTURAL_LISTED = 6
ANY_SUBJECT = "any"
ANY_SUBJECT_LABEL = "不限学科"

REQUEST_COLUMNS = {
    "rank": "排序",
    "stage": "学段",
    "subject": "学科",
    "posts": "申请编制(个)",
    "value_headcount": "增1个编制减少的加权总量缺编",
    "value_subject": "增1个编制减少的加权学科缺口",
    "best_school": "最优安置学校",
    "schools": "安置学校（个数）",
    "townships": "涉及乡镇",
    "gap_before": "调配前学科缺口(FTE)",
    "gap_after": "调配后学科缺口(FTE)",
    "kind": "性质",
    "within_posts": "其中本校有空编(个)",
}
TOWNSHIP_COLUMNS = {
    "township": "乡镇",
    "schools": "学校数",
    "shortage_before": "调配前缺编(分校合计)",
    "shortage_after": "调配后缺编(分校合计)",
    "schools_short_after": "调配后缺编学校数（缺 1 人及以上）",
    "posts": "申请编制(个)",
    "subject_gap_after": "调配后学科缺口(FTE)",
}
POST_COLUMNS = {
    "order": "序号",
    "school_id": "学校代码",
    "name": "学校名称",
    "township": "乡镇",
    "stage": "学段",
    "subject": "学科",
    "value_headcount": "减少的加权总量缺编",
    "value_subject": "减少的加权学科缺口",
    "cause": "调配未能解决的原因",
    "within_posts": "本校有空编",
}


@dataclass(frozen=True)
class EstablishmentRequest:
    """The request: by stage and subject, by township, post by post, and its explanation.

    requests  : per (stage, subject), posts asked for and the marginal value of one more post.
    townships : per township, shortage before and after, posts asked for.
    posts     : one row per post, in the order the greedy placed them.
    text      : 说明, paragraphs in Chinese.
    totals    : the figures the text quotes (for tests and the page).
    """

    requests: pd.DataFrame
    townships: pd.DataFrame
    posts: pd.DataFrame
    text: tuple[str, ...]
    totals: dict[str, float]


def school_weights(schools: pd.DataFrame, policy: Policy) -> pd.Series:
    """Headcount weight of each school-stage row, as the plan's headcount tier weighs it."""
    plan = policy.plan
    area = schools["area"].map(lambda a: plan.headcount_weight.get(str(a), 1.0))
    weight = area.where(schools["type"] != "teaching_point", plan.headcount_weight.get("teaching_point", 1.0))
    weak = schools["weak"].astype(bool) if "weak" in schools else pd.Series(False, index=schools.index)
    return (weight + np.where(weak, plan.weak_school_extra, 0.0)).astype(float)


def post_holders(schools: pd.DataFrame) -> pd.Series:
    """Teachers holding a post (在编) at each school-stage after the plan: the basis of the request, as
    编办 compares posts with the teachers on the books. A teacher on a one-year support posting (支教)
    still holds the post at home, and one on leave holds theirs: counted on duty instead, the request
    asked new posts for the home schools of 支教 teachers (counting their posts twice: an HR tester's
    county asked 44 posts for a school that sent 17 on 支教) and none for the schools they serve this year
    only. `teachers_after` for plan folders written before `establishment_after` was."""
    return schools["establishment_after"] if "establishment_after" in schools else schools["teachers_after"]


def whole_targets(schools: pd.DataFrame, policy: Policy) -> pd.Series:
    """Each school-stage's required posts in whole teachers, as the plan rounds them."""
    return pd.Series(policy.plan.headcount_target(schools["required"].to_numpy()), index=schools.index)


def posts_short(schools: pd.DataFrame, policy: Policy, holders: pd.Series | None = None) -> pd.Series:
    """Whole posts each school-stage still lacks after the plan (the plan's rounding of required posts,
    less the teachers holding a post there: `post_holders`, or `holders`). A school's posts (核定编制) are
    the school's: its stages together ask for no more than the school as a whole lacks (a special school
    with its junior section 1.5 short and its primary section 2.75 over asked 2 posts)."""
    target = whole_targets(schools, policy)
    held = post_holders(schools) if holders is None else holders
    short = np.ceil((target - held).clip(lower=0) - 1e-9).astype(int)
    whole = (target - held).groupby(schools["school_id"]).transform("sum").clip(lower=0)
    allowed = np.ceil(whole - 1e-9).astype(int)
    over = short.groupby(schools["school_id"]).transform("sum") > allowed
    for school_id in schools.loc[over, "school_id"].unique():  # the school's few stages: the most short first
        rows = short[schools["school_id"] == school_id].sort_values(ascending=False, kind="stable")
        left = int(allowed[rows.index[0]])
        for index, posts in rows.items():
            short[index] = min(int(posts), left)
            left -= short[index]
    return short


def _subject_gaps(data: PlanData) -> dict[tuple[str, str], dict[str, float]]:
    """(school, stage) → subject → remaining shortage in FTE after the plan."""
    gaps: dict[tuple[str, str], dict[str, float]] = {}
    if data.subjects is None:
        return gaps
    short = data.subjects[data.subjects["gap_after"] > 1e-9]
    for row in short.itertuples(index=False):
        gaps.setdefault((row.school_id, row.stage), {})[row.subject] = float(row.gap_after)
    return gaps


def _best_subject(gaps: dict[str, float], policy: Policy) -> tuple[str, float]:
    """The subject one more teacher at a school would remove the most weighted shortage of; a subject
    short by less than half a teacher (the subject tier rounds demand to whole teachers) names no post:
    two posts labelled 信息科技 for 0.34 FTE each would ask for two IT teachers the county does not lack."""
    order = {s.value: i for i, s in enumerate(Subject)}
    best, value = ANY_SUBJECT, 0.0
    for subject in sorted(gaps, key=lambda s: order.get(s, 99)):
        if gaps[subject] < 0.5:
            continue
        gain = policy.plan.subject_weight_of(subject) * min(1.0, gaps[subject])
        if gain > value + 1e-9:
            best, value = subject, gain
    return best, value


def place_posts(data: PlanData) -> pd.DataFrame:
    """Give every post the plan leaves short a school and a subject, one at a time, each where it
    removes the most weighted shortage (headcount tier first, then subject tier)."""
    schools, policy = data.schools, data.policy
    weights = school_weights(schools, policy)
    left = posts_short(schools, policy)
    gaps = _subject_gaps(data)
    causes = _headcount_causes(data)
    target, books = whole_targets(schools, policy), post_holders(schools)
    room = own_vacancies(schools)
    # Each post changes the gaps of its own school only, so every other school's best subject is kept
    # from post to post (20,000 teachers @0.97: 829 posts over 132 schools, 1.4 s of pandas lookups).
    short = {index: int(left[index]) for index in left[left > 0].index}
    keys = {index: (schools.at[index, "school_id"], schools.at[index, "stage"]) for index in short}
    best = {index: _best_subject(gaps.get(keys[index], {}), policy) for index in short}
    weight = {index: float(weights[index]) for index in short}
    rows = []
    while short:
        # Most weight first, then most subject gain, then the school short of most; ties by id.
        index = min(short, key=lambda i: (-weight[i], -best[i][1], -short[i], keys[i]))
        key, (subject, gain) = keys[index], best[index]
        short[index] -= 1
        if not short[index]:
            del short[index]
        if subject != ANY_SUBJECT:
            gaps[key][subject] = max(0.0, gaps[key][subject] - 1.0)
            best[index] = _best_subject(gaps[key], policy)
        rows.append({"order": len(rows) + 1, "school_id": key[0], "name": schools.at[index, "name"],
                     "township": schools.at[index, "township"], "stage": key[1], "subject": subject,
                     "value_headcount": weight[index], "value_subject": round(gain, 4),
                     "cause": causes.get(key) or _books_only_cause(schools.loc[index], float(target[index]),
                                                                   float(books[index])),
                     "within_posts": room.get(key[0], 0) > 0})
        room[key[0]] = room.get(key[0], 0) - 1
    return pd.DataFrame(rows, columns=list(POST_COLUMNS))


def _books_only_cause(row: pd.Series, target: float, books: float) -> str:
    """The cause of a post short on the books where causes.csv has none (it lists gaps on duty): a school
    staffed this year by 支教 teachers, who hold their posts at home (two posts asked with the cause left
    blank)."""
    parts = []
    if float(row["teachers_after"]) >= target - 1e-9:
        parts.append(f"本年由支教教师顶岗，在岗已达标准；在编 {books:.0f} 人，低于按标准应有的 {target:g} 人，"
                     "支教期满后仍缺")
    held = row.get("posts_held", np.nan)
    if pd.notna(held) and books >= float(held) - 1e-9:  # nullable Float64 from older plan folders: pd.NA
        parts.append(f"在编已达核定编制 {float(held):.0f} 个，不能调入，须核增编制")
    return "；".join(parts) or "调配后在编教师低于按标准应有的人数"


def own_vacancies(schools: pd.DataFrame) -> dict[str, int]:
    """Whole posts each school holds vacant after the plan (its 核定编制, where schools.csv gives it, less
    the teachers holding one): a post short there is filled by recruiting into the school's own vacancy,
    no new post (a tester's request asked 6 posts of schools 10 under their own 核定编制)."""
    if "posts_held" not in schools:
        return {}
    known = schools["posts_held"].notna()
    vacant = (schools.loc[known, "posts_held"] - post_holders(schools)[known]).groupby(
        schools.loc[known, "school_id"]).sum()
    return {str(k): int(np.floor(v + 1e-9)) for k, v in vacant.items() if v >= 1 - 1e-9}


def _headcount_causes(data: PlanData) -> dict[tuple[str, str], str]:
    causes = data.causes
    if causes.empty or "kind" not in causes:
        return {}
    head = causes[causes["kind"] == "headcount"]
    return {(row.school_id, row.stage): str(row.cause) for row in head.itertuples(index=False)}


def _remaining_gaps(data: PlanData, posts: pd.DataFrame) -> dict[tuple[str, str], dict[str, float]]:
    """Subject gaps (FTE) left once the posts asked for are filled with the subjects they name."""
    gaps = _subject_gaps(data)
    for post in posts.itertuples(index=False):
        key = (post.school_id, post.stage)
        if post.subject != ANY_SUBJECT and post.subject in gaps.get(key, {}):
            gaps[key][post.subject] = max(0.0, gaps[key][post.subject] - 1.0)
    return gaps


def marginal_values(data: PlanData, posts: pd.DataFrame) -> pd.DataFrame:
    """Per (stage, subject): the weighted shortage one more post removes and the school it goes to.

    For a subject posts are asked for: the first of them as placed (`place_posts`: where it removes
    the most, the posts placed before it held), so the row's school is where a post of it goes; it
    named the school one post would go to on the plan alone, which the placement, sharing schools
    among subjects, often did not use (an HR tester: 最优安置学校 one school, the post at another).
    For a subject no post is asked for (a structural gap): one more post once the asked ones are
    filled, when no school is short in total any more: subject tier only."""
    policy = data.policy
    rows = []
    first = posts.drop_duplicates(["stage", "subject"])
    for post in first.itertuples(index=False):
        rows.append({"stage": post.stage, "subject": post.subject, "value_headcount": float(post.value_headcount),
                     "value_subject": float(post.value_subject), "best_school": str(post.name)})
    asked = set(zip(first["stage"], first["subject"], strict=True))
    names = data.schools.drop_duplicates("school_id").set_index("school_id")["name"].astype(str)
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for (school_id, stage), by_subject in sorted(_remaining_gaps(data, posts).items()):
        for subject, gap in by_subject.items():
            if (stage, subject) in asked or gap <= 1e-9:
                continue
            gain = policy.plan.subject_weight_of(subject) * min(1.0, gap)
            if gain > best.get((stage, subject), (0.0, ""))[0] + 1e-12:
                best[(stage, subject)] = (gain, names.get(school_id, school_id))
    for (stage, subject), (gain, name) in best.items():
        rows.append({"stage": stage, "subject": subject, "value_headcount": 0.0, "value_subject": round(gain, 4),
                     "best_school": name})
    return pd.DataFrame(rows, columns=["stage", "subject", "value_headcount", "value_subject", "best_school"])


def request_table(data: PlanData, posts: pd.DataFrame) -> pd.DataFrame:
    """编制申请: per (stage, subject) the posts asked for, ranked by marginal value; then the subject
    shortages that need no new post (structural: the school is not short in total)."""
    values = marginal_values(data, posts)
    counts = posts.groupby(["stage", "subject"]).agg(
        posts=("order", "size"),
        within_posts=("within_posts", "sum"),
        schools=("name", lambda names: "、".join(f"{n}（{c}）" if c > 1 else str(n)
                                                for n, c in names.value_counts(sort=False).items())),
        townships=("township", lambda t: "、".join(dict.fromkeys(t))),
    ).reset_index()
    table = values.merge(counts, on=["stage", "subject"], how="outer")
    if data.subjects is not None:
        sums = data.subjects.assign(b=data.subjects["gap_before"].clip(lower=0),
                                    a=data.subjects["gap_after"].clip(lower=0))
        sums = sums.groupby(["stage", "subject"], as_index=False)[["b", "a"]].sum().rename(
            columns={"b": "gap_before", "a": "gap_after"})
        table = table.merge(sums, on=["stage", "subject"], how="left")
    else:
        table["gap_before"] = np.nan
        table["gap_after"] = np.nan
    table["posts"] = table["posts"].fillna(0).astype(int)
    table["within_posts"] = table["within_posts"].fillna(0).astype(int)
    for column in ("value_headcount", "value_subject"):
        table[column] = table[column].fillna(0.0)
    table[["schools", "townships", "best_school"]] = table[["schools", "townships", "best_school"]].fillna("")
    # Keep what a post would change: a post asked for, or a subject short by at least half a teacher.
    table = table[(table["posts"] > 0) | (table["gap_after"].fillna(0) >= 0.5)]
    table["kind"] = np.select(
        [table["posts"] == 0, table["within_posts"] >= table["posts"], table["within_posts"] > 0],
        ["结构性缺口：不需增编，调整补充教师的学科或培训转岗", "缺编：所在学校有空编，补充教师即可，不需增编",
         "需增编制（部分所在学校有空编）"], "需增编制")
    table = table.assign(asked=table["posts"] > 0).sort_values(
        ["asked", "value_headcount", "value_subject", "gap_after", "stage", "subject"],
        ascending=[False, False, False, False, True, True])
    table.insert(0, "rank", range(1, len(table) + 1))
    return table[list(REQUEST_COLUMNS)].round(2).reset_index(drop=True)


def township_table(data: PlanData, posts: pd.DataFrame) -> pd.DataFrame:
    """Per township: shortage before and after (per-school sums), posts asked for; a 合计 row last."""
    schools = data.schools.assign(b=data.schools["gap_before"].clip(lower=0), a=data.schools["gap_after"].clip(lower=0))
    table = schools.groupby("township").agg(schools=("school_id", "nunique"), shortage_before=("b", "sum"),
                                           shortage_after=("a", "sum"))
    table["schools_short_after"] = [schools_short(part, "gap_after") for _, part in schools.groupby("township")]
    table["posts"] = posts.groupby("township").size().reindex(table.index).fillna(0).astype(int)
    if data.subjects is not None:
        where = data.schools.drop_duplicates("school_id").set_index("school_id")["township"]
        subjects = data.subjects.assign(township=data.subjects["school_id"].map(where),
                                        a=data.subjects["gap_after"].clip(lower=0))
        table["subject_gap_after"] = subjects.groupby("township")["a"].sum().reindex(table.index).fillna(0.0)
    else:
        table["subject_gap_after"] = np.nan
    table = table.reset_index().sort_values(["posts", "shortage_after", "township"], ascending=[False, False, True])
    total = {"township": "合计", **{c: table[c].sum() for c in list(TOWNSHIP_COLUMNS)[1:]}}
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    table["schools_short_after"] = table["schools_short_after"].astype(int)
    return table[list(TOWNSHIP_COLUMNS)].round(2)


def establishment_request(data: PlanData) -> EstablishmentRequest:
    """The whole request: posts placed, tables by stage-subject and township, and the 说明."""
    posts = place_posts(data)
    requests = request_table(data, posts)
    townships = township_table(data, posts)
    totals = _totals(data, posts)
    return EstablishmentRequest(requests=requests, townships=townships, posts=posts,
                                text=explanation(data, posts, requests, totals), totals=totals)


def schools_short(schools: pd.DataFrame, gap: str) -> int:
    """Schools short by a whole teacher or more in some section: a school counts once, not per stage."""
    return int(schools.loc[schools[gap] >= 1, "school_id"].nunique())


def _totals(data: PlanData, posts: pd.DataFrame) -> dict[str, float]:
    schools = data.schools
    totals: dict[str, float] = {
        "posts": float(len(posts)),
        "posts_within": float(posts["within_posts"].sum()) if len(posts) else 0.0,  # the school's own vacancy
        "required": float(schools["required"].sum()),
        "teachers_before": float(schools["teachers_before"].sum()),
        "teachers_after": float(schools["teachers_after"].sum()),
        "shortage_before": float(schools["gap_before"].clip(lower=0).sum()),
        "shortage_after": float(schools["gap_after"].clip(lower=0).sum()),
        "schools_short_before": float(schools_short(schools, "gap_before")),
        "schools_short_after": float(schools_short(schools, "gap_after")),
    }
    # On duty and on the books differ by support postings (支教) and leave: the request counts the books.
    on_duty = posts_short(schools, data.policy, schools["teachers_after"])
    asked = posts_short(schools, data.policy)
    totals["duty_only"] = float((on_duty - asked).clip(lower=0).sum())  # short on duty, not of posts
    totals["covered_this_year"] = float((asked - on_duty).clip(lower=0).sum())  # short of posts, staffed by 支教
    if "posts_held" in schools and schools["posts_held"].notna().any():
        # Only where schools.csv gives the approved posts (optional per school): the others' teachers
        # on the books are not over a figure nobody gave.
        known = schools["posts_held"].notna()
        totals["posts_held"] = float(schools.loc[known, "posts_held"].sum())
        totals["establishment_after"] = float(post_holders(schools)[known].sum())
        totals["vacant_posts"] = float(max(0.0, totals["posts_held"] - totals["establishment_after"]))
        totals["posts_held_schools"] = float(schools.loc[known, "school_id"].nunique())
        totals["schools"] = float(schools["school_id"].nunique())
    if data.subjects is not None:
        totals["subject_gap_before"] = float(data.subjects["gap_before"].clip(lower=0).sum())
        totals["subject_gap_after"] = float(data.subjects["gap_after"].clip(lower=0).sum())
    return totals


def _document(source: str) -> str:
    """The document a policy source cites, without the reliability tag and the policy.md reference."""
    text = re.sub(r"^\[[A-Z]\]\s*", "", source)
    return text.split("：")[0].strip()


def _subject_label(code: str) -> str:
    return ANY_SUBJECT_LABEL if code == ANY_SUBJECT else Subject(code).label


def explanation(
    data: PlanData, posts: pd.DataFrame, requests: pd.DataFrame, totals: dict[str, float]
) -> tuple[str, ...]:
    """说明: the norm, the enrolment, the posts held, what redistribution achieved and what remains."""
    policy, schools, summary = data.policy, data.schools, data.summary
    staffing = policy.staffing
    ratio = "、".join(f"{Stage(s).label} 1:{staffing.students_per_staff[s]:g}" for s in ("primary", "junior"))
    paragraphs = [
        f"一、编制标准。中小学教职工编制按生师比核定：{ratio}（依据：{_document(policy.source('staffing.students_per_staff'))}）；"
        f"在校生不足 {staffing.small_school.threshold_students} 人的村小和教学点按生师比与班师比相结合核定"
        f"（班师比 小学 {staffing.small_school.staff_per_class['primary']:g}、初中 "
        f"{staffing.small_school.staff_per_class['junior']:g}），每个教学点不少于 "
        f"{staffing.small_school.min_per_teaching_point:g} 人。",
    ]
    stage_parts = []
    for stage in ("primary", "junior"):
        part = schools[schools["stage"] == stage]
        if part.empty:
            continue
        stage_parts.append(f"{Stage(stage).label}在校生 {int(part['students'].sum()):,} 人、"
                           f"{int(part['classes'].sum()):,} 个班，按标准需编制 {part['required'].sum():,.1f} 个，"
                           f"在岗教师 {int(part['teachers_before'].sum()):,} 人")
    moves = summary.get("moves", {})
    hires = int(moves.get("new_hire", 0) or 0)
    held = ""
    if "posts_held" in totals:
        over = round(totals["establishment_after"] - totals["posts_held"])
        hired = f"（含本情景新招聘教师 {hires} 人）" if hires else ""
        gap = f"超出核定编制 {over:,} 人。" if over > 0 else f"空编 {-over:,} 个。" if over < 0 else "无空编。"
        where = ("全县" if totals["posts_held_schools"] == totals["schools"] else
                 f"提供了现有核定编制的 {totals['posts_held_schools']:,.0f} 所学校（共 {totals['schools']:,.0f} 所）")
        held = (f"{where}现有核定编制 {totals['posts_held']:,.0f} 个，"
                f"调配后在编教师 {totals['establishment_after']:,.0f} 人{hired}，{gap}")
    net = totals["teachers_before"] - totals["required"]
    balance = (f"总量超出标准 {net:,.1f} 人" if net >= 0.05 else f"总量低于标准 {-net:,.1f} 人" if net <= -0.05
               else "总量与标准持平")
    paragraphs.append(f"二、在校生与编制。{'；'.join(stage_parts)}；"
                      f"全县合计需编制 {totals['required']:,.1f} 个，在岗教师 "
                      f"{totals['teachers_before']:,.0f} 人，{balance}。{held}")
    subject_text = ""
    if "subject_gap_before" in totals:
        change = _change(totals["subject_gap_before"], totals["subject_gap_after"], "人")
        subject_text = f"学科结构性缺口（折合专任教师）{change}。"
    kinds = [("rotation", "交流轮岗"), ("support", "支教"), ("redeploy", "调剂"), ("new_hire", "新教师分配")]
    parts = "、".join(f"{label} {moves.get(kind, 0)} 人" for kind, label in kinds if kind != "new_hire" or hires)
    within = moves_within_school(data.moves)
    if within:  # 校内跨学段: a redeployment that leaves no school
        parts += f"（调剂中 {within} 人为两学段学校（九年一贯制等）初中部富余教师转任本校小学部）"
    paragraphs.append(
        f"三、调配成效。在现行规则允许的范围内（交流方向、单校调出比例、接收学校编制上限、学段与任教资格等）"
        f"{_solved(summary)}：调动 {int(moves.get('total', len(data.moves)))} 人，其中{parts}。各校缺编合计"
        f"{_change(totals['shortage_before'], totals['shortage_after'], '人')}，缺编 1 人以上的学校"
        f"{_change(totals['schools_short_before'], totals['schools_short_after'], '所', 0)}。{subject_text}"
        + "".join(f"需要说明：{note}" + ("" if note.endswith("。") else "。") for note in indicator_warnings(summary))
    )
    count = int(totals["posts"])
    if count == 0:
        remains = ("四、仍存在的缺口。调配后各校在编教师均已达到按标准测算的编制（按整人计），"
                   "总量缺编已可全部通过县域内调配解决，本次无需申请增加编制。")
    else:
        by_school = posts.groupby(["name", "stage"], sort=False).size()
        where = "、".join(f"{name}{Stage(stage).label if schools['name'].eq(name).sum() > 1 else ''} {n} 个"
                          for (name, stage), n in by_school.items())
        asked = requests[requests["posts"] > 0]
        ranked = "；".join(
            f"{Stage(r.stage).label}{_subject_label(r.subject)} {r.posts} 个（增 1 个可减少加权总量缺编 "
            f"{r.value_headcount:g}、加权学科缺口 {r.value_subject:g}）" for r in asked.head(5).itertuples(index=False))
        if len(asked) > 5:  # the rest in the table, not dropped unsaid
            ranked += f" 等，共 {len(asked)} 项（全部见编制申请表）"
        causes = _merged_causes({c for c in posts["cause"] if c})
        cause_text = f"调配未能解决的原因：{'；'.join(causes)}。" if causes else ""
        remains = (f"四、仍存在的缺口与申请。调配后仍有 {count} 个编制的缺口在现行规则下无法通过调动解决，"
                   f"分布在：{where}。{cause_text}"
                   f"按边际价值排序：{ranked}。")
        # A post short at a school under its own 核定编制 is filled by recruiting into its vacancy; the
        # county's other vacancies (编办 moves them) come next; what is left needs new posts.
        within = int(posts["within_posts"].sum()) if "within_posts" in posts else 0
        if within:
            remains += (f"其中 {within} 个所在学校调配后在编低于本校核定编制（本校有空编）：在本校空编内补充教师即可，"
                        "不需增编。")
        above = _over_approved(schools, posts, policy)
        if above:
            remains += ("以下学校调配后在编已超过其核定编制，须核增的核定编制多于补足人员的编制数："
                        + "、".join(above) + "。")
        vacant = max(0, int(totals.get("vacant_posts", 0.0)) - within)
        from_vacant = min(count - within, vacant) + within  # the posts no new establishment is needed for
        if from_vacant > within:
            remains += f"{'另有' if within else '其中'} {from_vacant - within} 个可使用县内其他学校的空编解决。"
        if count > from_vacant and net >= 0:
            remains += (f"全县教师总量{'已超出' if net >= 0.05 else '已达到'}标准，"
                        f"{'其余' if from_vacant else '这'} {count - from_vacant} 个"
                        f"建议由编办在县域编制总量内统筹"
                        f"（核减超编学校、核增上述学校的核定编制，县管校聘），不增加编制总量。")
        elif count > from_vacant:
            spare = _spare_left(schools, posts, policy)
            usable = min(count - from_vacant, sum(spare.values()))
            remains += f"需新增编制 {count - from_vacant} 个。"
            if usable:
                listed = "、".join(f"{Stage(stage).label} {n} 人" for stage, n in spare.items() if n)
                remains += (f"调配后仍有超出标准的教师（{listed}）本次未能调出（受单校调出比例、接收学校核定编制等规则"
                            f"限制，或本人不在可调之列：服务期未满、临近退休、休假等）；其中可调者若在县域编制总量内统筹"
                            f"（核减富余学校、核增缺编学校的核定编制）或在以后年度继续调配，至多可少增 {usable} 个"
                            f"（即新增不少于 {count - from_vacant - usable} 个）。")
    basis = []
    if totals["duty_only"]:
        basis.append(f"另有 {totals['duty_only']:,.0f} 人的在岗缺口来自本校教师外出支教、借调或休假："
                     "这些教师仍占本校编制，宜由支教期满回校、代课或走教临时解决，不申请编制")
    if totals["covered_this_year"] and count:
        basis.append(f"上述编制中有 {totals['covered_this_year']:,.0f} 个所在学校本年由支教教师顶岗，支教期满后仍缺")
    if basis:
        remains += "编制缺口按调配后的在编教师计；" + "；".join(basis) + "。"
    paragraphs.append(remains)
    structural = requests[requests["posts"] == 0].sort_values("gap_after", ascending=False)
    if len(structural):
        listed = "、".join(f"{Stage(r.stage).label}{_subject_label(r.subject)} {r.gap_after:.1f}"
                           for r in structural.head(STRUCTURAL_LISTED).itertuples(index=False))
        if len(structural) > STRUCTURAL_LISTED:  # the rest in the 编制申请 sheet, not dropped unsaid
            listed += f" 等共 {len(structural)} 项（全部见编制申请表）"
        paragraphs.append(
            f"五、学科结构性缺口。以下学科缺口在上述编制补足后仍然存在，所在学校届时总量已不缺编（折合人数）：{listed}。"
            f"这些缺口不构成另外增编的理由，"
            f"宜在今后补充教师时按学科结构招聘、通过培训转岗、教育集团内走教或兼课解决。")
    c = policy.plan.headcount_weight
    paragraphs.append("六、测算方法。" + METHOD.format(tp=c.get("teaching_point", 1.0), rural=c.get("rural", 1.0),
                                                  town=c.get("town", 1.0), urban=c.get("urban", 1.0),
                                                  weak=policy.plan.weak_school_extra))
    return tuple(paragraphs)


#: How a school's cause reads when the plan's own transfers brought it to its 核定编制 (model.explain).
_REACHED = "本方案调入后"


#: The starts of a cause's first part on the plan's own moves out of the school, or out of a nine-year
#: school's section where some moved within it (model.explain `made_worse`).
_OWN_MOVES = ("本方案从本校调出", "本方案从本学部调出")


def _merged_causes(causes: set[str]) -> list[str]:
    """The distinct causes of the posts asked, a school at its 核定编制 before the plan and one the plan
    brought to it said once (they read as the same sentence twice, one with 本方案调入后 in front). A
    cause's part on the school's own moves (本方案从本校调出 10 人…；) is left out: joined over schools,
    本校 names none (the table of posts names each school)."""
    causes = {cause.split("；", 1)[1] if cause.startswith(_OWN_MOVES) and "；" in cause else cause
              for cause in causes}
    out = []
    for cause in sorted(causes):
        if cause.startswith(_REACHED) and cause.removeprefix(_REACHED) in causes:
            continue
        if _REACHED + cause in causes:
            cause = cause.replace("已达核定编制", "已达核定编制（含本方案调入后达到的）", 1)
        out.append(cause)
    return out


def _change(before: float, after: float, unit: str, digits: int = 1) -> str:
    """由 X 降至 Y / 增至 Y / 持平: a figure before and after, in the direction it went."""
    b, a = round(before, digits), round(after, digits)
    if a == b:
        return f"持平（{b:,.{digits}f} {unit}）"
    return f"由 {b:,.{digits}f} {unit}{'降至' if a < b else '增至'} {a:,.{digits}f} {unit}"


def _solved(summary: dict) -> str:
    """How the plan was proven: optimal in every tier, or in which tiers."""
    tiers = [t for t in summary.get("tiers", []) if isinstance(t, dict)]
    if summary.get("status") == "optimal" or (tiers and all(t.get("status") == "optimal" for t in tiers)):
        return "求得最优调配方案"
    proven = [str(t.get("label", t.get("tier"))) for t in tiers if t.get("status") == "optimal"]
    return "求得调配方案" + (f"（{'、'.join(proven)}已证明最优）" if proven else "")


def _over_approved(schools: pd.DataFrame, posts: pd.DataFrame, policy: Policy) -> list[str]:
    """Schools asked posts whose teachers on the books already exceed their 核定编制: 编办 must raise it by
    the standard less the approved posts, more than the posts asked (a school approved 90, 95 on the
    books, 98 by the standard was asked 3 posts where its 核定编制 must rise by 8)."""
    if "posts_held" not in schools or posts.empty:
        return []
    target = whole_targets(schools, policy)
    frame = schools.assign(target=target, books=post_holders(schools))
    known = frame[frame["posts_held"].notna()].groupby("school_id").agg(
        name=("name", "first"), held=("posts_held", "sum"), books=("books", "sum"), target=("target", "sum"))
    asked = posts.groupby("school_id").size()
    known = known[known.index.isin(asked.index) & (known["books"] > known["held"] + 1e-9)]
    return [f"{row['name']}核定 {row['held']:.0f} 个、在编 {row['books']:.0f} 人、按标准应有 {row['target']:g} 人，"
            f"申请 {int(asked[school_id])} 个，须核增 {row['target'] - row['held']:g} 个"
            for school_id, row in known.iterrows()]


def _spare_left(schools: pd.DataFrame, posts: pd.DataFrame, policy: Policy) -> dict[str, int]:
    """Per stage, the whole surplus teachers the plan leaves that could fill the posts asked for in that
    stage, were the rules to let them go: over the standard (required, in whole teachers) both on the
    books and on duty. Teachers away on leave or secondment hold posts but are not there to move, and a
    school whose on-duty gap the plan filled is over on the books only (a tester's county: 64 junior
    teachers said 本次未能调出, 43 of them arrivals the plan had sent to cover colleagues on leave)."""
    target = whole_targets(schools, policy)
    over = np.minimum(post_holders(schools) - target, schools["teachers_after"] - target)
    spare = np.floor(over.clip(lower=0) + 1e-9)
    asked = posts.groupby("stage").size()
    by_stage = spare.groupby(schools["stage"]).sum()
    return {str(stage): int(min(by_stage.get(stage, 0), asked.get(stage, 0))) for stage in ("primary", "junior")}


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if value != value else f"{value:g}"
        return str(value).replace("|", "／").replace("\n", " ")

    lines = ["| " + " | ".join(str(c) for c in frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def labelled_requests(request: EstablishmentRequest) -> pd.DataFrame:
    """The request table with Chinese headers and labels."""
    table = request.requests.assign(stage=request.requests["stage"].map(lambda s: Stage(s).label),
                                    subject=request.requests["subject"].map(_subject_label))
    return table.rename(columns=REQUEST_COLUMNS)


def labelled_posts(request: EstablishmentRequest) -> pd.DataFrame:
    table = request.posts.assign(stage=request.posts["stage"].map(lambda s: Stage(s).label),
                                 subject=request.posts["subject"].map(_subject_label),
                                 within_posts=request.posts["within_posts"].map({True: "是", False: "否"}))
    return table.rename(columns=POST_COLUMNS)


def establishment_markdown(request: EstablishmentRequest, title: str = "编制申请") -> str:
    """establishment.md: the 说明, then the tables (by stage and subject, by township, post by post)."""
    parts = [f"# {title}", "", "## 说明", "", *[p + "\n" for p in request.text]]
    parts += ["## 申请编制（按学段、学科，按边际价值排序）", "", _markdown_table(labelled_requests(request)), ""]
    parts += ["## 按乡镇", "", _markdown_table(request.townships.rename(columns=TOWNSHIP_COLUMNS)), ""]
    if len(request.posts):
        parts += ["## 逐个编制的安置", "", _markdown_table(labelled_posts(request)), ""]
    return "\n".join(parts)
