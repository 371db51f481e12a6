"""The plan's reports: plan.xlsx (sheets and columns), establishment.md and its reconciliation with
schools.csv, report.html (self-contained; renders in headless Chromium without console errors),
`--anonymize`, and `teacheralloc report PLANDIR`.

One small county is planned once per module: the four-school helper county (coordinates, a weak
school, a teaching point) with a fifth school, a rural primary school that is short and that no
surplus can reach (its teachers are all it has), so that the establishment request is not empty.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from tests.helpers import class_group, default_schools, default_teachers, make_county, school, teacher
from tests.report.browser import find_chromium, open_page
from typer.testing import CliRunner

from teacheralloc.cli import app
from teacheralloc.io.write import write_plan
from teacheralloc.model.solve import SolveParams, plan_county
from teacheralloc.plan import MOVE_COLUMNS, SCHOOL_COLUMNS
from teacheralloc.policy import Policy
from teacheralloc.report.establishment import REQUEST_COLUMNS, TOWNSHIP_COLUMNS, establishment_request
from teacheralloc.report.plan_data import read_plan_folder
from teacheralloc.report.plan_workbook import INDICATOR_SHEET_COLUMNS, SHEETS

REPORTS = ("plan.xlsx", "report.html", "establishment.md")


def short_county():
    """The helper county plus R9 石门村小学 (rural, six classes, two teachers): short by about six."""
    schools = [*default_schools(), school("R9", name="石门村小学", township="石门乡", area="rural", lat=28.3, lon=113.3)]
    classes = [class_group("R9", grade, 1, 25) for grade in range(1, 7)]
    teachers = [teacher(f"R9T{i}", school_id="R9", name=f"石门教师{i}") for i in range(2)]
    base = make_county()
    return make_county(schools=schools, classes=[*_classes(base), *classes], teachers=[*default_teachers(), *teachers])


def _classes(county):
    return [class_group(r.school_id, int(r.grade), int(r.classes), int(r.students))
            for r in county.classes.itertuples(index=False)]


@pytest.fixture(scope="module")
def county():
    return short_county()


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory, county) -> Path:
    """A plan folder written as `teacheralloc plan` writes it (with the county, names kept)."""
    policy = Policy.default()
    plan = plan_county(county, policy, params=SolveParams(time_limit_s=60))
    folder = tmp_path_factory.mktemp("plan")
    write_plan(plan, folder, policy, county=county)
    return folder


@pytest.fixture(scope="module")
def anonymous_dir(tmp_path_factory: pytest.TempPathFactory, county) -> Path:
    policy = Policy.default()
    plan = plan_county(county, policy, params=SolveParams(time_limit_s=60))
    folder = tmp_path_factory.mktemp("anonymous")
    write_plan(plan, folder, policy, county=county, anonymize=True)
    return folder


def test_plan_folder_holds_the_reports(plan_dir: Path) -> None:
    assert {*REPORTS, "subjects.csv", "plan.csv", "schools.csv"} <= {p.name for p in plan_dir.iterdir()}
    assert len(pd.read_csv(plan_dir / "plan.csv")) > 0, "the test county needs moves"


@pytest.mark.parametrize(("value", "text"), [
    (0.0, "缺 0 人"), (3 * 101.0, "缺 3 人"), (3 * 101.0 + 2, "缺 3 人，骨干缺 2 人"), (2.0, "骨干缺 2 人"),
    (0.8, "骨干缺 1 人"), (3 * 101.0 + 0.4, "缺 3 人，骨干缺 1 人"), (float("inf"), "—"), (None, "—"),
    (4 * 101.0 - 0.014, "缺 4 人"),  # an LP bound a hair below 4 rotations: not 3 and 101 backbone
])
def test_the_quota_tier_reads_in_rotations(value: float | None, text: str) -> None:
    """A missing rotation weighs base + 1 (here 101) missing backbone rotations; HR reads the two apart."""
    from teacheralloc.plan import quota_tier_text

    assert quota_tier_text(value, 100) == text


def test_workbook_sheets_and_columns_match_the_contract(plan_dir: Path) -> None:
    workbook = load_workbook(plan_dir / "plan.xlsx")
    assert tuple(workbook.sheetnames) == SHEETS

    def header(name: str) -> list[str]:
        return [cell.value for cell in workbook[name][1]]

    moves = header("调配方案")
    assert moves[:2] == ["教师编号", "姓名"]
    assert moves[2:7] == list(MOVE_COLUMNS.values())[1:]
    assert moves[-2:] == ["原学校名称", "新学校名称"]  # an extension: the schools' names beside their codes
    plan = pd.read_csv(plan_dir / "plan.csv", encoding="utf-8-sig", dtype=str)
    names = pd.read_csv(plan_dir / "schools.csv", encoding="utf-8-sig", dtype=str).drop_duplicates(
        "school_id").set_index("school_id")["name"]
    first = next(workbook["调配方案"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[-1] == names[plan.loc[0, "to_school"]]
    assert header("学校编制")[:9] == list(SCHOOL_COLUMNS.values())
    assert header("编制申请") == list(REQUEST_COLUMNS.values())
    assert header("编制申请_乡镇") == list(TOWNSHIP_COLUMNS.values())
    assert header("指标达标") == INDICATOR_SHEET_COLUMNS
    assert header("学科缺口")[:3] == ["学校代码", "学校名称", "学段"]
    assert "语文(前)" in header("学科缺口") and "语文(后)" in header("学科缺口")
    assert header("总览") == ["学段", "指标", "调配前", "调配后"]
    record = {row[1]: row for row in workbook["求解记录"].iter_rows(min_row=2, values_only=True)}
    required = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))["quota"]["required_rotations"]
    assert record["quota"][2:5] == (f"缺 {required:,} 人", "缺 0 人", "缺 0 人")  # rotations, not a weighted code
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref, sheet.title
    assert workbook["学校编制"].conditional_formatting, "shortage red and surplus blue"
    county_rows = [row for row in workbook["指标达标"].iter_rows(min_row=2, values_only=True) if row[0] == "全县"]
    assert any(row[6] == "差异系数（上限）" for row in county_rows)


def test_establishment_totals_reconcile_with_schools_csv(plan_dir: Path) -> None:
    schools = pd.read_csv(plan_dir / "schools.csv")
    # Independently: whole posts still short per school-stage (required rounded to the nearest), less
    # the teachers holding a post there (在编) after the plan.
    target = (schools["required"] + 0.5).apply(int)
    posts = (target - schools["establishment_after"]).clip(lower=0).sum()
    assert posts >= 1, "the test county leaves a shortage no transfer can fix"
    request = establishment_request(read_plan_folder(plan_dir))
    assert request.requests["posts"].sum() == posts
    assert len(request.posts) == posts
    total = request.townships.set_index("township").loc["合计"]
    assert total["posts"] == posts
    assert total["shortage_after"] == pytest.approx(schools["gap_after"].clip(lower=0).sum(), abs=0.02)
    assert total["shortage_before"] == pytest.approx(schools["gap_before"].clip(lower=0).sum(), abs=0.02)
    assert total["schools"] == schools["school_id"].nunique()
    first = request.requests.iloc[0]
    assert first["posts"] > 0 and first["value_headcount"] > 0  # ranked: posts asked for come first
    text = (plan_dir / "establishment.md").read_text(encoding="utf-8")
    assert f"仍有 {posts} 个编制的缺口" in text
    assert "说明" in text and "边际价值" in text and "未用线性规划对偶价格" in text


def test_a_teacher_away_on_a_support_posting_keeps_the_post_asked_for_at_home(plan_dir: Path) -> None:
    """The request counts the teachers holding a post (在编) after the plan, not those on duty: a school
    whose teachers serve elsewhere on 支教 (or are on leave) still holds their posts, and a school staffed
    this year by 支教 teachers still lacks the posts. Counted on duty, an HR tester's county asked 44
    posts for a school that sent 17 teachers on 支教 and 14 on rotation (21 on the books)."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    first = establishment_request(data).posts.iloc[0]
    host = data.schools.index[(data.schools["school_id"] == first["school_id"])
                              & (data.schools["stage"] == first["stage"])][0]
    home = data.schools.index[data.schools["school_id"] != first["school_id"]][0]
    level = data.schools.copy()  # `home` exactly at its norm, on duty and on the books
    level.loc[home, ["teachers_after", "establishment_after"]] = int(level.loc[home, "required"] + 0.5)
    base = establishment_request(dataclasses.replace(data, schools=level))
    # Two of `home`'s teachers serve at `host` this year: on duty there, on the books at home.
    schools = level.copy()
    schools.loc[home, "teachers_after"] -= 2
    schools.loc[host, "teachers_after"] += 2
    moved = establishment_request(dataclasses.replace(data, schools=schools))
    assert moved.posts.groupby("school_id").size().to_dict() == base.posts.groupby("school_id").size().to_dict()
    # Said, not asked for: two more short on duty at home; the host's posts staffed this year.
    assert moved.totals["duty_only"] == base.totals["duty_only"] + 2
    assert moved.totals["covered_this_year"] > base.totals["covered_this_year"]
    text = "".join(moved.text)
    assert "编制缺口按调配后的在编教师计" in text
    assert f"另有 {moved.totals['duty_only']:.0f} 人的在岗缺口来自本校教师外出支教、借调或休假" in text
    assert f"上述编制中有 {moved.totals['covered_this_year']:.0f} 个所在学校本年由支教教师顶岗，支教期满后仍缺" in text


def test_a_school_asks_no_more_posts_than_it_lacks_as_a_whole() -> None:
    """核定编制 is the school's: a special school with its junior section 1.5 short and its primary section
    2.75 over asked 2 posts for the junior section; a nine-year school 2 short in junior and 1 over in
    primary asks 1; a school short in both stages asks for both."""
    from teacheralloc.report.establishment import posts_short

    schools = pd.DataFrame({
        "school_id": ["T1", "T1", "N1", "N1", "N2", "N2"],
        "stage": ["junior", "primary"] * 3,
        "required": [6.5, 11.25, 10.0, 9.0, 10.0, 9.0],
        "establishment_after": [5, 14, 8, 10, 8, 8],
    })
    assert posts_short(schools, Policy.default()).tolist() == [0, 0, 1, 0, 2, 1]


@pytest.mark.parametrize(("before", "after", "text"), [
    (72.9, 73.7, "由 72.9 人增至 73.7 人"), (73.7, 72.9, "由 73.7 人降至 72.9 人"), (3.0, 3.0, "持平（3.0 人）"),
])
def test_a_figure_is_said_to_go_the_way_it_went(before: float, after: float, text: str) -> None:
    """The 说明 said 降至 whatever the figures did (72.9 → 73.7 read as a decrease)."""
    from teacheralloc.report.establishment import _change

    assert _change(before, after, "人") == text


def _explained(data) -> str:
    return "\n".join(establishment_request(data).text)


def test_the_request_text_follows_the_figures(plan_dir: Path) -> None:
    """Hires appear in the breakdown of moves and in the posts held; no 空编 -0; 最优 only when proven;
    the township table counts a school short from one whole teacher, as everywhere else."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    summary = {**data.summary, "moves": {**data.summary["moves"], "new_hire": 2,
                                         "total": data.summary["moves"]["total"] + 2}}
    hired = _explained(dataclasses.replace(data, summary=summary))
    assert "新教师分配 2 人" in hired and "含本情景新招聘教师 2 人" in hired
    assert "新教师分配" not in _explained(data)
    unproven = {**data.summary, "status": "feasible",
                "tiers": [{**t, "status": "optimal" if t["tier"] in ("quota", "headcount") else "feasible"}
                          for t in data.summary["tiers"]]}
    text = _explained(dataclasses.replace(data, summary=unproven))
    assert "最优调配方案" not in text and "求得调配方案（轮岗比例缺口、总量缺编（加权）已证明最优）" in text
    schools = data.schools.assign(posts_held=data.schools["teachers_after"].astype(float),
                                  establishment_after=data.schools["teachers_after"].astype(float))
    full = _explained(dataclasses.replace(data, schools=schools))
    assert "无空编" in full and "-0" not in full
    nearly = data.schools.assign(gap_after=np.where(data.schools["gap_after"] >= 1, 0.6, data.schools["gap_after"]))
    request = establishment_request(dataclasses.replace(data, schools=nearly))
    assert request.townships.set_index("township").at["合计", "schools_short_after"] == 0
    assert request.totals["schools_short_after"] == 0


def test_no_post_asked_and_a_gap_on_duty_only_do_not_contradict(plan_dir: Path) -> None:
    """Every school at its norm on the books but one short on duty (a teacher away on 支教): section 四
    said 各校在岗教师均已达到… and then 另有 1 人的在岗缺口 (a tester's edited plan)."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    target = (data.schools["required"] + 0.5).apply(int)
    level = data.schools.assign(establishment_after=target, teachers_after=target)
    level.loc[level.index[0], "teachers_after"] -= 1
    text = _explained(dataclasses.replace(data, schools=level))
    assert "本次无需申请增加编制" in text and "各校在编教师均已达到" in text and "在岗教师均已达到" not in text
    assert "另有 1 人的在岗缺口来自本校教师外出支教、借调或休假" in text


def test_approved_posts_given_for_some_schools_are_compared_for_those_only(plan_dir: Path) -> None:
    """`establishment` is optional per school: given for 11 of 41 schools, the 说明 said 全县现有核定编制
    414 个 against all 1,200 teachers on the books, 超出核定编制 786 人 (another generator's county)."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    first = data.schools["school_id"].iloc[0]
    mine = data.schools["school_id"] == first
    held = data.schools["establishment_after"].where(mine).astype(float) + 1  # one vacant post there
    request = establishment_request(dataclasses.replace(data, schools=data.schools.assign(posts_held=held)))
    schools = data.schools["school_id"].nunique()
    assert request.totals["establishment_after"] == data.schools.loc[mine, "establishment_after"].sum()
    assert request.totals["vacant_posts"] == mine.sum()
    assert f"提供了现有核定编制的 1 所学校（共 {schools} 所）现有核定编制" in "".join(request.text)
    assert "超出核定编制" not in "".join(request.text)


def test_a_nine_year_school_short_in_both_sections_is_one_school(plan_dir: Path) -> None:
    """缺编学校 counted schools.csv rows (school × stage): a nine-year school short in both sections was two."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    both = data.schools["school_id"] == "N1"
    assert both.sum() == 2
    schools = data.schools.assign(gap_after=np.where(both, 2.0, -1.0), gap_before=np.where(both, 2.0, -1.0))
    request = establishment_request(dataclasses.replace(data, schools=schools))
    assert request.totals["schools_short_after"] == request.totals["schools_short_before"] == 1
    assert request.townships.set_index("township").at["合计", "schools_short_after"] == 1
    assert "缺编 1 人以上的学校持平（1 所）" in "".join(request.text)


def test_surplus_the_rules_kept_is_named_beside_new_posts(plan_dir: Path) -> None:
    """A county short in total whose plan leaves a whole surplus teacher somewhere (held by the rules):
    the request says how many fewer posts using that surplus would need at most (some may not be movable),
    instead of only 需新增编制."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    text = _explained(data)
    assert "现行规则下无法通过调动解决" in text and "任何调动都无法解决" not in text
    posts = establishment_request(data).posts
    schools = data.schools.copy()
    # A school-stage other than the first post's, two over its norm after the plan (say, all exempt).
    first = (posts.iloc[0]["school_id"], posts.iloc[0]["stage"])
    other = schools[(schools["stage"] == first[1]) & (schools["school_id"] != first[0])]
    spare = other.index[0]
    schools.loc[spare, ["teachers_after", "establishment_after"]] = int(schools.loc[spare, "required"] + 0.5) + 2
    schools.loc[spare, "gap_after"] = schools.loc[spare, "required"] - schools.loc[spare, "teachers_after"]
    text = _explained(dataclasses.replace(data, schools=schools))
    assert f"调配后仍有超出标准的教师（{'小学' if first[1] == 'primary' else '初中'} 2 人）" in text
    assert "至多可少增 2 个" in text and "本人不在可调之列" in text
    # Over on the books only (2 of its teachers on leave, the plan's arrivals covering them): none to move
    schools.loc[spare, "teachers_after"] -= 2
    text = _explained(dataclasses.replace(data, schools=schools))
    assert "调配后仍有超出标准的教师" not in text


def test_a_post_names_a_subject_only_where_half_a_teacher_of_it_is_missing(plan_dir: Path) -> None:
    """A post labelled 信息科技 for 0.34 FTE asked for an IT teacher the school does not lack; such a
    post is 不限学科 (the subject tier rounds demand to whole teachers)."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    subjects = data.subjects.assign(gap_after=np.minimum(data.subjects["gap_after"], 0.45))
    posts = establishment_request(dataclasses.replace(data, subjects=subjects)).posts
    assert len(posts) and set(posts["subject"]) == {"any"}
    named = establishment_request(data).posts
    gaps = data.subjects.set_index(["school_id", "stage", "subject"])["gap_after"]
    for post in named[named["subject"] != "any"].itertuples(index=False):
        assert gaps[(post.school_id, post.stage, post.subject)] >= 0.5


def test_the_best_school_of_a_request_row_is_where_its_post_goes(plan_dir: Path) -> None:
    """最优安置学校 named where one post would go on the plan alone, which the placement (schools shared
    among subjects) often did not use: one school in that column, the post at another (an HR tester).
    It is now the school of the subject's first post; a structural gap's row, past the asked posts,
    counts no headcount."""
    request = establishment_request(read_plan_folder(plan_dir))
    first = request.posts.drop_duplicates(["stage", "subject"]).set_index(["stage", "subject"])
    asked = request.requests[request.requests["posts"] > 0]
    assert len(asked)
    for row in asked.itertuples(index=False):
        post = first.loc[(row.stage, row.subject)]
        assert row.best_school == post["name"] and row.best_school in row.schools
        assert (row.value_headcount, row.value_subject) == pytest.approx(
            (post["value_headcount"], post["value_subject"]), abs=0.005)  # the table shows two decimals
    structural = request.requests[request.requests["posts"] == 0]
    assert (structural["value_headcount"] == 0).all()


def test_posts_go_first_where_they_remove_the_most_weighted_shortage(plan_dir: Path) -> None:
    request = establishment_request(read_plan_folder(plan_dir))
    values = list(request.posts["value_headcount"])
    assert values == sorted(values, reverse=True)
    by_school = dict(zip(request.posts["school_id"], request.posts["value_headcount"], strict=False))
    assert by_school.get("R9") == pytest.approx(2.0)  # rural
    if "P1" in by_school:
        assert by_school["P1"] == pytest.approx(3.0) and request.posts.iloc[0]["school_id"] == "P1"  # teaching point


def test_page_is_self_contained_and_in_chinese(plan_dir: Path) -> None:
    page = (plan_dir / "report.html").read_text(encoding="utf-8")
    assert re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?:""", page) is None
    assert 'lang="zh-CN"' in page and "编制申请" in page and "调配名单" in page
    assert page.count("Plotly.newPlot") >= 3  # bars, map, heatmap
    assert "@page { size: A4" in page


def test_each_section_number_heads_one_section_of_the_page(plan_dir: Path) -> None:
    """The establishment request's own 一、…六、 sat inside the page's section 五, so the page read "六、"
    twice: inside it they are （一）…（六）."""
    page = (plan_dir / "report.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "\n", page)
    for number in "一二三四五六":
        assert len(re.findall(rf"^{number}、", text, flags=re.M)) == 1, number
    assert "（六）测算方法" in page


def test_page_renders_in_headless_chromium(plan_dir: Path, tmp_path: Path) -> None:
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed")
    from PIL import Image

    result = open_page((plan_dir / "report.html").resolve().as_uri())
    assert result.errors == []
    shot = tmp_path / "report.png"
    shot.write_bytes(result.screenshot)
    image = Image.open(shot).convert("RGB")
    assert image.width == 800 and image.height > 2000
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, "a blank or near-blank page"
    top = image.crop((0, 0, image.width, 600)).getcolors(maxcolors=1 << 20)
    assert top is not None and len(top) > 20


def test_the_browser_harness_sees_console_errors(tmp_path: Path) -> None:
    """The check above would pass vacuously if errors went unseen."""
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI")
        pytest.skip("chromium not installed")
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>console.error('boom'); missing();</script></body></html>")
    errors = open_page(page.resolve().as_uri(), settle_seconds=0.2).errors
    assert any("boom" in e for e in errors) and any("missing" in e for e in errors)


def _all_text(folder: Path) -> str:
    texts = [(folder / name).read_text(encoding="utf-8-sig") for name in
             ("plan.csv", "schools.csv", "summary.json", "report.html", "establishment.md")]
    workbook = load_workbook(folder / "plan.xlsx")
    for sheet in workbook.worksheets:
        texts += [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    return "\n".join(texts)


def test_names_appear_without_anonymize(plan_dir: Path, county) -> None:
    moves = pd.read_csv(plan_dir / "plan.csv")
    names = county.teachers.set_index("teacher_id")["name"]
    assert list(moves["name"]) == list(moves["teacher_id"].map(names))
    assert names[moves["teacher_id"].iloc[0]] in _all_text(plan_dir)


def test_anonymize_replaces_names_with_ids_everywhere(anonymous_dir: Path, county) -> None:
    moves = pd.read_csv(anonymous_dir / "plan.csv")
    assert list(moves["name"]) == list(moves["teacher_id"])
    text = _all_text(anonymous_dir)
    leaked = [name for name in county.teachers["name"] if name and name in text]
    assert leaked == []
    assert json.loads((anonymous_dir / "summary.json").read_text(encoding="utf-8"))["parameters"]["anonymized"]


def test_report_command_regenerates_the_reports(plan_dir: Path, tmp_path: Path, county) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(plan_dir, folder)
    for name in REPORTS:
        (folder / name).unlink()
    result = CliRunner().invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in folder.iterdir()} >= set(REPORTS)
    assert load_workbook(folder / "plan.xlsx").sheetnames == list(SHEETS)
    assert (folder / "establishment.md").read_text(encoding="utf-8") == (plan_dir / "establishment.md").read_text(
        encoding="utf-8")
    anonymous = CliRunner().invoke(app, ["report", str(folder), "--anonymize"])
    assert anonymous.exit_code == 0, anonymous.output
    text = _all_text(folder)
    assert [name for name in county.teachers["name"] if name in text] == []


def test_report_without_subjects_reloads_the_dataset(plan_dir: Path, tmp_path: Path, county) -> None:
    """An older plan folder (no subjects.csv, no coordinates) still reports, given the dataset."""
    import shutil

    from teacheralloc.io.write import write_county_csv

    folder = tmp_path / "old"
    shutil.copytree(plan_dir, folder)
    (folder / "subjects.csv").unlink()
    schools = pd.read_csv(folder / "schools.csv").drop(columns=["weak", "lat", "lon", "posts_held"])
    schools.to_csv(folder / "schools.csv", index=False, encoding="utf-8-sig")
    data = tmp_path / "data"
    write_county_csv(county, data)
    result = CliRunner().invoke(app, ["report", str(folder), "--data", str(data)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(folder / "plan.xlsx")["学科缺口"]
    assert sheet.max_row > 1


def _failing_workbook(data, path, request):
    """Stands in for plan_reports._write_workbook (module level, so a worker process can unpickle it)."""
    raise OSError(f"disk full: {path.name}")


@pytest.mark.parametrize("worker", [True, False], ids=["forked worker", "sequential"])
def test_workbook_errors_surface_from_write_reports(plan_dir: Path, tmp_path: Path, monkeypatch, worker) -> None:
    """plan.xlsx may be written by a forked worker: its error is raised by write_reports all the same."""
    import shutil

    from teacheralloc.report import plan_reports

    folder = tmp_path / "plan"
    shutil.copytree(plan_dir, folder)
    monkeypatch.setattr(plan_reports, "_write_workbook", _failing_workbook)
    if not worker:
        monkeypatch.setattr(plan_reports, "_can_fork", lambda: False)
    elif sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1:
        assert plan_reports._can_fork(), "on Linux with two CPUs and no other thread, a worker writes the workbook"
    with pytest.raises(OSError, match=r"disk full: plan\.xlsx"):
        plan_reports.write_reports(read_plan_folder(folder), folder)


def test_forked_and_sequential_reports_are_the_same(plan_dir: Path, tmp_path: Path, monkeypatch) -> None:
    import shutil

    from teacheralloc.report import plan_reports

    folders = []
    for worker in (True, False):
        folder = tmp_path / str(worker)
        shutil.copytree(plan_dir, folder)
        if not worker:
            monkeypatch.setattr(plan_reports, "_can_fork", lambda: False)
        plan_reports.write_reports(read_plan_folder(folder), folder)
        folders.append(folder)
    forked, sequential = (load_workbook(f / "plan.xlsx") for f in folders)
    assert forked.sheetnames == sequential.sheetnames
    for name in forked.sheetnames:
        assert [[c.value for c in row] for row in forked[name].iter_rows()] == [
            [c.value for c in row] for row in sequential[name].iter_rows()]
    assert (folders[0] / "establishment.md").read_bytes() == (folders[1] / "establishment.md").read_bytes()


def test_a_plan_written_before_newer_settings_still_reports_and_checks(plan_dir: Path, tmp_path: Path) -> None:
    """policy_used.yaml of an older plan lacks settings added since (plan.lower_tier_nodes,
    plan.exact_distance_arcs): it is read over the defaults, not refused."""
    import shutil

    import yaml

    folder = tmp_path / "older"
    shutil.copytree(plan_dir, folder)
    used = folder / "policy_used.yaml"
    data = yaml.safe_load(used.read_text(encoding="utf-8"))
    for key in ("lower_tier_nodes", "exact_distance_arcs"):
        del data["plan"][key]
    used.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output


def test_norms_and_plan_count_the_shortage_alike(plan_dir: Path, county) -> None:
    """The norms report's 缺编人数（分校合计） is the plan's shortage before, stage by stage: both sum every
    school's shortfall, fractions included. They once differed (the norms report summed only schools
    short by a whole teacher: 80.48 against 99.51 in the sample county's primary stage)."""
    from teacheralloc.io.read import load_county
    from teacheralloc.norms import compute_norms
    from teacheralloc.report.norms import establishment_table

    def shortage(norms) -> dict[str, float]:
        return establishment_table(norms).set_index("学段")["缺编人数（分校合计）"].to_dict()

    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    here = shortage(compute_norms(county, Policy.default()))
    assert here == {label: pytest.approx(summary["indicators"]["before"][stage]["shortage"], abs=0.01)
                    for stage, label in (("primary", "小学"), ("junior", "初中"))}
    sample = compute_norms(load_county(Path(__file__).resolve().parents[2] / "scenarios" / "sample-county"),
                           Policy.default())
    schools = sample.schools.assign(stage=sample.schools["stage"].astype(str))
    primary = schools[schools["stage"] == "primary"]["gap_before"]
    assert primary[(primary > 0) & (primary < 1)].any()  # schools short by a fraction, which both count
    assert shortage(sample)["小学"] == pytest.approx(primary.clip(lower=0).sum(), abs=0.01)


def test_a_county_at_its_norm_is_level_and_no_structural_gap_goes_unsaid(plan_dir: Path, monkeypatch) -> None:
    """Teachers equal to the norm read 总量与标准持平 (it said 总量超出标准 0.0 人, and 已超出标准 in 四);
    section 五 names the largest structural gaps (six) and says how many there are in all when more
    (a seventh went unsaid). Here the limit is lowered below the plan's count."""
    import dataclasses

    from teacheralloc.report import establishment

    data = read_plan_folder(plan_dir)
    level = data.schools.assign(required=data.schools["teachers_before"].astype(float))
    text = _explained(dataclasses.replace(data, schools=level))
    assert "总量与标准持平" in text and "超出标准 0.0" not in text and "已超出标准" not in text
    structural = int((establishment_request(data).requests["posts"] == 0).sum())
    assert structural >= 1, "the plan has no structural gap: the test needs one"
    assert "等共" not in _explained(data)
    monkeypatch.setattr(establishment, "STRUCTURAL_LISTED", structural - 1)
    assert f"等共 {structural} 项（全部见编制申请表）" in _explained(data)


def test_new_hires_are_on_the_map_and_in_its_legend(plan_dir: Path) -> None:
    """A hire comes from no school, so no arrow was drawn and the map's legend left them out (30 hires in a
    scenario plan, counted everywhere else): a star marks each receiving school, the legend counts them."""
    import dataclasses

    from teacheralloc.report.html import school_map

    data = read_plan_folder(plan_dir)
    target = data.moves["to_school"].iloc[0]
    hire = data.moves.iloc[[0]].assign(teacher_id="NEW-0001", from_school="", move_type="new_hire")
    hired = dataclasses.replace(data, moves=pd.concat([data.moves, hire, hire.assign(teacher_id="NEW-0002")],
                                                      ignore_index=True))
    names = [trace.name for trace in school_map(hired).data]
    assert "新教师分配（2 人，星号为到达学校）" in names
    star = next(t for t in school_map(hired).data if str(t.name).startswith("新教师分配"))
    assert len(star.x) == 1 and star.text[0].endswith("新教师分配 2 人") and target in set(hired.schools["school_id"])
    assert not any(str(name).startswith("新教师分配") for name in (t.name for t in school_map(data).data))


def test_a_full_school_and_one_the_plan_filled_are_one_cause_in_the_request() -> None:
    """Section 四 read 已达核定编制…；本方案调入后已达核定编制… (the same sentence twice)."""
    from teacheralloc.report.establishment import _merged_causes

    full = "已达核定编制，不能再调入（只可安排支教）；如需增人须先核增编制"
    assert _merged_causes({full, "本方案调入后" + full}) == [
        "已达核定编制（含本方案调入后达到的），不能再调入（只可安排支教）；如需增人须先核增编制"]
    assert _merged_causes({"本方案调入后" + full}) == ["本方案调入后" + full]
    # 本校 names no school once causes are joined over schools (a tester): that part is left to the table
    own = "本方案从本校调出 10 人（支教 10），缺编由 0.0 增至 3.0 人（为安排支教）；"
    assert _merged_causes({own + "全县小学已无富余可调教师", "全县小学已无富余可调教师"}) == ["全县小学已无富余可调教师"]


def test_an_indicator_the_plan_took_below_its_standard_is_said_in_every_report(plan_dir: Path, tmp_path: Path
                                                                                ) -> None:
    """A plan that took the county's junior PE/arts teachers per 100 students from 1.01 to 0.75 (below 0.9)
    said so only on the console and in summary.json; report.html still showed a plain 是→否 and the
    request 求得最优调配方案. The note now heads the page, sits in 总览 and in the request's §三."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(plan_dir, folder)
    note = "调配后全县指标由达标变为未达标：初中每百名学生体育、艺术专任教师数由 1.01 降至 0.75，低于标准 0.9。"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    shift = "分校合计缺编由 163.7 人增至 165.2 人：总量缺编一层按学校权重计整人缺编。"  # why a figure grew
    summary["notes"] = [*summary.get("notes", []), "求解方式：汇集（学校→调配池→学校）", note, shift]
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert f"<p class='warning'>{note}</p>" in page and "求解方式" not in page.split("</header>")[0]
    overview = pd.read_excel(folder / "plan.xlsx", sheet_name="总览")
    assert note in set(overview.loc[overview["指标"] == "提示", "调配后"])
    request = (folder / "establishment.md").read_text(encoding="utf-8")
    assert f"需要说明：{note}" in request and f"需要说明：{shift}" in request
    assert f"<p class='warning'>{shift}</p>" in page
    assert "求解方式" not in request  # solver notes stay in summary.json


def test_a_post_short_under_the_schools_own_establishment_needs_no_new_post(plan_dir: Path) -> None:
    """A school the plan left 10 under its own 核定编制 (114 approved, 104 on the books) was asked new posts
    (性质 需增编制) while §四 said its gap could be filled within the vacancies. Such a post is marked as
    the school's own vacancy, in the table, post by post and in the text."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    request = establishment_request(data)
    outside = request.posts[~request.posts["within_posts"]]
    first = outside["school_id"].iloc[0]  # a school with posts short and no 核定编制 above its teachers
    mine = data.schools["school_id"] == first
    held = data.schools["establishment_after"].where(mine).astype(float) + 20  # its own vacancies, none else
    request = establishment_request(dataclasses.replace(data, schools=data.schools.assign(posts_held=held)))
    within = request.posts["school_id"] == first
    assert within.any() and request.posts["within_posts"].tolist() == within.tolist()
    row = request.requests.set_index(["stage", "subject"]).loc[
        (request.posts.loc[within, "stage"].iloc[0], request.posts.loc[within, "subject"].iloc[0])]
    assert row["within_posts"] >= 1 and row["kind"] != "需增编制"
    assert f"其中 {int(within.sum())} 个所在学校调配后在编低于本校核定编制（本校有空编）" in "".join(request.text)
    assert request.totals["posts_within"] == within.sum()


def test_every_post_asked_for_has_a_cause(plan_dir: Path) -> None:
    """A school staffed this year by 支教 teachers (at its standard on duty, one short on the books) is
    asked a post, but causes.csv lists gaps on duty only: the request's cause column was blank."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    schools = data.schools.copy()
    row = schools.index[0]
    target = int(schools.loc[row, "required"] + 0.5)
    schools.loc[row, ["teachers_after", "establishment_after"]] = [target, target - 1]
    schools.loc[row, "posts_held"] = target - 1
    causes = data.causes[data.causes["school_id"] != schools.loc[row, "school_id"]]
    posts = establishment_request(dataclasses.replace(data, schools=schools, causes=causes)).posts
    assert (posts["cause"].str.len() > 0).all()
    mine = posts[posts["school_id"] == schools.loc[row, "school_id"]]
    assert len(mine) and mine["cause"].str.startswith("本年由支教教师顶岗").all()
    assert mine["cause"].str.contains("不能调入，须核增编制").all()


def test_a_school_over_its_approved_posts_is_told_how_far_to_raise_them(plan_dir: Path) -> None:
    """A school approved 90 posts, 95 teachers on the books, 98 by the standard was asked 3 posts: the
    approver must raise its 核定编制 by 8, which the request did not say."""
    import dataclasses

    data = read_plan_folder(plan_dir)
    first = establishment_request(data).posts["school_id"].iloc[0]
    schools = data.schools.copy()
    mine = schools["school_id"] == first
    schools["posts_held"] = np.where(mine, schools["establishment_after"] - 2, np.nan)
    request = establishment_request(dataclasses.replace(data, schools=schools))
    target = np.floor(schools.loc[mine, "required"] + 0.5).sum()
    held = schools.loc[mine, "posts_held"].sum()
    assert f"须核增 {target - held:g} 个" in "".join(request.text)


def test_a_post_cause_reads_a_missing_approved_figure_from_an_older_plan_folder() -> None:
    """`report --data` on a plan folder written before posts_held was: the merged column is nullable
    Float64 and a school without 核定编制 holds pd.NA, which `held == held` could not test (an internal
    error, no report)."""
    from teacheralloc.report.establishment import _books_only_cause

    row = pd.Series({"teachers_after": 10, "establishment_after": 9, "posts_held": pd.NA})
    cause = _books_only_cause(row, 10.0, 9.0)
    assert cause.startswith("本年由支教教师顶岗") and "核增" not in cause


def test_a_move_within_a_nine_year_school_reads_as_one_on_the_page(tmp_path: Path) -> None:
    """report.html's list leaves out the stage columns: a move within a school names the section it goes
    to (not “下寨九年制学校 → 下寨九年制学校”)."""
    from tests.model.counties import own_primary_section

    county, policy = own_primary_section(), Policy.default()
    write_plan(plan_county(county, policy), tmp_path, policy, county=county)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    name = county.schools.set_index("school_id").at["N1", "name"]
    assert f"{name}（本校小学部）" in page
    assert "其中校内转任小学部 1" in page  # the moves card: a redeployment that leaves no school
    assert "调剂中 1 人为两学段学校（九年一贯制等）初中部富余教师转任本校小学部" in (tmp_path / "establishment.md").read_text(
        encoding="utf-8")
