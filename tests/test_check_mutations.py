"""Mutation tests of the plan checker (`teacheralloc check`), beyond tests/test_check.py.

One real plan is made per module (a 500-teacher generated county, seed 1: `teacheralloc sample
--teachers 500 --seed 1`; it has every situation the tests look for). Each test copies the plan folder, breaks exactly one hard rule by editing
plan.csv (and, where the move changes them, schools.csv and summary.json, so that only the rule under
test is broken) and asserts that the checker reports that rule. Teachers and schools are picked from
the data by the test itself (independently of the checker), and a test fails if none fits.

Mutations the checker currently misses or reports wrongly are kept as `xfail(strict=True)`: when the
checker is fixed they XPASS, fail, and the marker should go.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from teacheralloc.check import CheckReport, check_plan
from teacheralloc.domain import County, SchoolType
from teacheralloc.policy import Policy

# --------------------------------------------------------------------------------------------------
# The plan, made once per module
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    county: County
    policy: Policy
    data: Path  # the county as a CSV folder (for the command line)
    folder: Path  # the plan folder


def _make(tmp: Path, county: County, policy: Policy) -> Path:
    from teacheralloc.io.write import write_plan
    from teacheralloc.model.solve import plan_county

    folder = tmp / "plan"
    folder.mkdir()
    write_plan(plan_county(county, policy), folder, policy, county=county)
    return folder


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    from teacheralloc.io.write import write_county_csv
    from teacheralloc.sample import generate_county

    tmp = tmp_path_factory.mktemp("mutations")
    county, policy = generate_county(500, seed=1), Policy.default()
    data = tmp / "county"
    data.mkdir()
    write_county_csv(county, data)
    return Base(county, policy, data, _make(tmp, county, policy))


@pytest.fixture
def folder(base: Base, tmp_path: Path) -> Path:
    """A fresh copy of the plan folder to corrupt."""
    return Path(shutil.copytree(base.folder, tmp_path / "plan"))


# --------------------------------------------------------------------------------------------------
# Reading and editing the plan folder
# --------------------------------------------------------------------------------------------------


def read_plan(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "plan.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_schools(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def write(folder: Path, plan: pd.DataFrame | None = None, schools: pd.DataFrame | None = None,
          summary: dict | None = None) -> None:
    if plan is not None:
        plan.to_csv(folder / "plan.csv", index=False, encoding="utf-8-sig")
    if schools is not None:
        schools.to_csv(folder / "schools.csv", index=False, encoding="utf-8-sig")
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")


def run(base: Base, folder: Path, county: County | None = None, pins: pd.DataFrame | None = None) -> CheckReport:
    return check_plan(county or base.county, base.policy, folder, pins=pins)


def rules(report: CheckReport) -> set[str]:
    """The rules broken, leaving out “derived” (tier values and county indicators from all the moves,
    which any edit of plan.csv changes; these tests restate only the per-school figures)."""
    return {v.rule for v in report.violations} - {"derived"}


def shift(schools: pd.DataFrame, school: str, stage: str, delta: int) -> None:
    """Move schools.csv's after-figures of one school and stage by `delta` teachers on duty."""
    at = (schools["school_id"] == school) & (schools["stage"] == stage)
    assert at.sum() == 1, (school, stage)
    after = float(schools.loc[at, "teachers_after"].iloc[0]) + delta
    schools.loc[at, "teachers_after"] = str(int(after))
    schools.loc[at, "gap_after"] = str(round(float(schools.loc[at, "required"].iloc[0]) - after, 4))


def restate_headcount(base: Base, folder: Path, schools: pd.DataFrame) -> None:
    """summary.json's headcount tier as `schools` leaves it (docs/plan.md: Σ weight × whole teachers short
    of the required posts rounded to the nearest; teaching point 3, rural 2, town 1.5, urban 1, weak +0.5)."""
    rule = base.policy.plan
    info = base.county.schools.set_index("school_id")
    total = 0.0
    for row in schools.itertuples(index=False):
        school = info.loc[row.school_id]
        kind = "teaching_point" if str(school["type"]) == "teaching_point" else str(school["area"])
        weight = rule.headcount_weight[kind] + (rule.weak_school_extra if school["weak"] else 0.0)
        total += weight * max(0.0, math.floor(float(row.required) + 0.5) - float(row.teachers_after))
    summary = read_summary(folder)
    next(t for t in summary["tiers"] if t["tier"] == "headcount")["value"] = total
    write(folder, summary=summary)


def save(base: Base, folder: Path, plan: pd.DataFrame, schools: pd.DataFrame, summary: dict | None = None) -> None:
    write(folder, plan=plan, schools=schools, summary=summary)
    restate_headcount(base, folder, schools)


# --------------------------------------------------------------------------------------------------
# Facts about the county, re-derived here (not from the checker)
# --------------------------------------------------------------------------------------------------


def facts(base: Base) -> pd.DataFrame:
    t = base.county.teachers.copy()
    as_of = pd.Timestamp(base.county.as_of)
    for column in ("stage", "subject", "status", "title", "backbone"):
        t[column] = t[column].astype(str)
    t["volunteer"] = t["volunteer"].astype(bool)
    t["years"] = (as_of - t["school_since"]).dt.days / 365.25
    retire = [base.policy.retirement.retirement_date(str(g), b.date()) for g, b in
              zip(t["gender"], t["birth_date"], strict=True)]
    t["near_retirement"] = [(pd.Timestamp(d) - as_of).days / 365.25 < 5 for d in retire]
    t["service"] = t["service_until"].notna() & (t["service_until"] > as_of)
    t["plain"] = (t["status"] == "active") & ~t["volunteer"] & ~t["service"] & ~t["near_retirement"]
    t["on_duty"] = t["status"] == "active"  # staffing.count_on_leave is false by default
    t["is_backbone"] = t["backbone"] != "none"
    return t.set_index("teacher_id", drop=False)


def school_info(base: Base, plan: pd.DataFrame) -> pd.DataFrame:
    """Per school: level, stages, posts, establishment, and its room under the establishment after the
    plan's transfers (establishment − posts + transfers out − transfers in; NaN when none is known)."""
    s = base.county.schools.copy()
    s["area"] = s["area"].astype(str)
    s["weak"] = s["weak"].astype(bool)
    s["level"] = [base.policy.rotation.level(a, w) for a, w in zip(s["area"], s["weak"], strict=True)]
    s["stages"] = [tuple(x.value for x in SchoolType(str(t)).stages) for t in s["type"]]
    s["posts"] = s["school_id"].map(base.county.teachers.groupby("school_id").size()).fillna(0).astype(int)
    transfers = plan[plan["move_type"].isin(["rotation", "redeploy"])]
    out = s["school_id"].map(transfers["from_school"].value_counts()).fillna(0)
    into = s["school_id"].map(transfers["to_school"].value_counts()).fillna(0)
    est = s["establishment"].astype("Float64").astype(float)
    s["est"] = est
    s["room"] = est - s["posts"] + out - into
    s["leaving"] = s["school_id"].map(plan["from_school"].value_counts()).fillna(0).astype(int)
    s["cap"] = [max(1, math.floor(base.policy.rotation.max_share_leaving_school * p + 1e-9)) for p in s["posts"]]
    return s.set_index("school_id", drop=False)


def involuntary(plan: pd.DataFrame, kind: str) -> pd.DataFrame:
    return plan[(plan["move_type"] == kind) & (plan["wish_rank"] == "0")]


def replace_teacher(plan: pd.DataFrame, schools: pd.DataFrame, t: pd.DataFrame, index: int, new: str,
                    **changes: str) -> None:
    """plan.csv row `index` names `new` instead (from their own school), figures moved with the teachers."""
    row = plan.loc[index]
    if t.at[row["teacher_id"], "on_duty"]:
        shift(schools, row["from_school"], row["from_stage"], +1)
        shift(schools, row["to_school"], row["to_stage"], -1)
    teacher = t.loc[new]
    plan.loc[index, ["teacher_id", "from_school", "from_stage"]] = [new, teacher["school_id"], teacher["stage"]]
    for key, value in changes.items():
        plan.loc[index, key] = value
    if teacher["school_id"] != row["from_school"]:
        plan.loc[index, "km"] = ""
    if teacher["on_duty"]:
        shift(schools, teacher["school_id"], teacher["stage"], -1)
        shift(schools, row["to_school"], row["to_stage"], +1)


def redirect(plan: pd.DataFrame, schools: pd.DataFrame, index: int, to_school: str, to_stage: str | None = None) -> None:
    row = plan.loc[index]
    shift(schools, row["to_school"], row["to_stage"], -1)
    plan.loc[index, ["to_school", "km"]] = [to_school, ""]
    if to_stage:
        plan.loc[index, "to_stage"] = to_stage
    shift(schools, to_school, plan.loc[index, "to_stage"], +1)


def drop_row(plan: pd.DataFrame, schools: pd.DataFrame, summary: dict, index: int) -> pd.DataFrame:
    """The plan without row `index`: figures and move counts follow (quota figures deliberately do not)."""
    row = plan.loc[index]
    shift(schools, row["from_school"], row["from_stage"], +1)
    shift(schools, row["to_school"], row["to_stage"], -1)
    summary["moves"][row["move_type"]] -= 1
    summary["moves"]["total"] -= 1
    return plan.drop(index=index).reset_index(drop=True)


def unlimited(county: County, school: str) -> County:
    """The county with a 核定编制 for `school` so large that any transfer may go there."""
    schools = county.schools.copy()
    schools["establishment"] = schools["establishment"].astype("Int64")
    # No 核定编制 at all now means its norm stands for one (plan.arrivals_within_shortage): a very large one
    schools.loc[schools["school_id"] == school, "establishment"] = 10**6
    return county.replace(schools=schools)


def with_teacher(county: County, tid: str, **changes: object) -> County:
    teachers = county.teachers.copy()
    at = teachers["teacher_id"] == tid
    for key, value in changes.items():
        teachers.loc[at, key] = pd.Series([value] * int(at.sum()), index=teachers.index[at])
    return county.replace(teachers=teachers)


# --------------------------------------------------------------------------------------------------
# The command line: exit 0 on the plan, exit 1 naming the rule on a broken one
# --------------------------------------------------------------------------------------------------


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "teacheralloc", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_cli_passes_the_untampered_plan(base: Base) -> None:
    result = cli("check", base.data, base.folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("复核通过")


def test_cli_names_the_broken_rule(base: Base, folder: Path, tmp_path: Path) -> None:
    """A staying teacher pinned must_move in the dataset's pins.csv (Chinese header)."""
    t, plan = facts(base), read_plan(folder)
    staying = t[t["plain"] & ~t["teacher_id"].isin(set(plan["teacher_id"]))]["teacher_id"].iloc[0]
    data = Path(shutil.copytree(base.data, tmp_path / "county"))
    (data / "pins.csv").write_text(f"教师编号,必须调出\n{staying},是\n", encoding="utf-8")
    result = cli("check", data, folder)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "规则 7 指定（pins）" in result.stdout and staying in result.stdout
    assert "Traceback" not in result.stderr


def test_cli_policy_forbidding_junior_to_primary(base: Base, tmp_path: Path) -> None:
    plan = read_plan(base.folder)
    crossing = int((plan["from_stage"] != plan["to_stage"]).sum())
    assert crossing, "the plan has no junior → primary redeployment"
    policy = tmp_path / "policy.yaml"
    policy.write_text("plan:\n  junior_to_primary: false\n", encoding="utf-8")
    result = cli("check", base.data, base.folder, "--policy", policy)
    assert result.returncode == 1
    assert f"规则 5 任教学段（stage）：{crossing} 处" in result.stdout


# --------------------------------------------------------------------------------------------------
# 1 well-formed
# --------------------------------------------------------------------------------------------------


def test_teacher_moved_twice_elsewhere_and_by_another_type(base: Base, folder: Path) -> None:
    plan, schools, summary = read_plan(folder), read_schools(folder), read_summary(folder)
    row = involuntary(plan, "support").iloc[0].copy()
    other = next(s for s in plan["to_school"] if s not in (row["to_school"], row["from_school"]))
    second = row.copy()
    second[["to_school", "move_type", "km"]] = [other, "redeploy", ""]
    plan = pd.concat([plan, second.to_frame().T], ignore_index=True)
    summary["moves"]["redeploy"] += 1
    summary["moves"]["total"] += 1
    write(folder, plan=plan, schools=schools, summary=summary)
    report = run(base, folder)
    assert rules(report) == {"well_formed"}
    assert report.violations[0].teacher_id == row["teacher_id"] and "不止一次" in report.violations[0].message


@pytest.mark.parametrize("change", ["unknown_to_school", "bad_move_type", "blank_reason", "reason_punctuation"])
def test_malformed_rows(base: Base, folder: Path, change: str) -> None:
    plan, schools, summary = read_plan(folder), read_schools(folder), read_summary(folder)
    row = plan.loc[0]
    if change in ("unknown_to_school", "bad_move_type"):  # the row cannot be counted: its move leaves the figures
        shift(schools, row["from_school"], row["from_stage"], +1)
        shift(schools, row["to_school"], row["to_stage"], -1)
    if change == "unknown_to_school":
        plan.loc[0, "to_school"] = "Z999"
    elif change == "bad_move_type":
        summary["moves"][row["move_type"]] -= 1  # total still counts the row
        plan.loc[0, "move_type"] = "transfer"
    elif change == "blank_reason":
        plan.loc[0, "reason"] = "   "
    else:
        plan.loc[0, "reason"] = "……。"
    save(base, folder, plan, schools, summary)
    report = run(base, folder)
    assert rules(report) == {"well_formed"}
    assert report.violations[0].row == 2


# --------------------------------------------------------------------------------------------------
# 2 who may move
# --------------------------------------------------------------------------------------------------


def test_teacher_on_leave_moves(base: Base, folder: Path, tmp_path: Path) -> None:
    """A moved teacher replaced by a colleague on the same post who is on leave / seconded."""
    plan, t = read_plan(folder), facts(base)
    moving = set(plan["teacher_id"])
    tried = []
    for status in ("maternity", "sick", "seconded", "study"):
        candidates = pd.concat([involuntary(plan, kind) for kind in ("redeploy", "rotation", "support")])
        for index, row in candidates.iterrows():
            mover = t.loc[row["teacher_id"]]
            same = t[(t["school_id"] == mover["school_id"]) & (t["stage"] == mover["stage"])
                     & (t["subject"] == mover["subject"]) & (t["status"] == status) & ~t["volunteer"]
                     & ~t["teacher_id"].isin(moving)]
            if len(same):
                copy = Path(shutil.copytree(folder, tmp_path / status))
                p, s = read_plan(copy), read_schools(copy)
                replace_teacher(p, s, t, index, same["teacher_id"].iloc[0])
                save(base, copy, p, s)
                report = run(base, copy)
                assert "movable" in rules(report), (status, [v.line() for v in report.violations])
                assert any("在岗状态" in v.message for v in report.violations if v.rule == "movable")
                tried.append(status)
                break
    assert tried, "no redeployed teacher with a colleague on leave on the same post"


def test_exempt_volunteer_may_move(base: Base, folder: Path) -> None:
    """Control: a volunteer under a service obligation still moves (to a wished school, not by rotation)."""
    plan = read_plan(folder)
    rows = plan[(plan["wish_rank"] != "0") & (plan["move_type"] != "rotation")]
    assert len(rows), "no volunteer moving to a wished school other than by rotation"
    tid = rows["teacher_id"].iloc[0]
    county = with_teacher(base.county, tid, service_until=pd.Timestamp(base.county.as_of + timedelta(days=400)))
    report = run(base, folder, county=county)
    # The quota base may lose the teacher (no longer rotation-eligible); nothing else may be reported.
    assert rules(report) <= {"quota"}, [v.line() for v in report.violations]
    assert all("eligible_base" in v.message or "required_rotations" in v.message
               for v in report.violations if v.rule != "derived")


# --------------------------------------------------------------------------------------------------
# 3 rotation
# --------------------------------------------------------------------------------------------------


def test_rotation_after_six_full_years_is_allowed(base: Base, folder: Path) -> None:
    plan, schools, t = read_plan(folder), read_schools(folder), facts(base)
    six = pd.Timestamp(base.county.as_of.replace(year=base.county.as_of.year - 6))
    moving = set(plan["teacher_id"])
    for index, row in involuntary(plan, "rotation").iterrows():
        mover = t.loc[row["teacher_id"]]
        same = t[(t["school_id"] == mover["school_id"]) & (t["stage"] == mover["stage"]) & t["plain"]
                 & (t["school_since"] == six) & (t["is_backbone"] == mover["is_backbone"])
                 & ~t["teacher_id"].isin(moving)]
        if len(same):
            new = same.iloc[0]
            replace_teacher(plan, schools, t, index, new["teacher_id"], subject=new["subject"])
            save(base, folder, plan, schools)
            assert "rotation" not in rules(run(base, folder))
            return
    pytest.fail("no rotated teacher with a colleague at the school for exactly six years")


# --------------------------------------------------------------------------------------------------
# 4 support
# --------------------------------------------------------------------------------------------------


def test_support_from_rural_school(base: Base, folder: Path) -> None:
    """A support posting of a teacher (title 一级, the need for rural service aside) from a rural school."""
    plan, schools, t = read_plan(folder), read_schools(folder), facts(base)
    info = school_info(base, plan)
    index, row = next(iter(involuntary(plan, "support").iterrows()))
    rural = info[(info["area"] == "rural") & (info["leaving"] == 0) & (info["school_id"] != row["to_school"])]
    pick = t[t["school_id"].isin(rural["school_id"]) & t["plain"] & (t["title"] == "first")
             & (t["stage"] == row["to_stage"]) & ~t["teacher_id"].isin(set(plan["teacher_id"]))]
    assert len(pick), "no teacher with title 一级 at a rural school that sends no one"
    new = pick.iloc[0]
    replace_teacher(plan, schools, t, index, new["teacher_id"], subject=new["subject"])
    save(base, folder, plan, schools)
    report = run(base, folder)
    assert rules(report) == {"support"}
    assert any("派出" in v.message and v.school_id == new["school_id"] for v in report.violations)


def test_support_into_full_school_is_allowed(base: Base, folder: Path) -> None:
    """Control: a support posting may go to a rural or weak school at its 核定编制 (the post stays home)."""
    plan, schools = read_plan(folder), read_schools(folder)
    info = school_info(base, plan)
    index, row = next(iter(involuntary(plan, "support").iterrows()))
    full = info[((info["area"] == "rural") | info["weak"]) & (info["posts"] >= info["est"])
                & (info["school_id"] != row["to_school"]) & info["stages"].map(lambda s: row["to_stage"] in s)]
    assert len(full), "no rural or weak school at its establishment"
    redirect(plan, schools, index, full["school_id"].iloc[0])
    save(base, folder, plan, schools)
    report = run(base, folder)
    assert not rules(report), [v.line() for v in report.violations]


# --------------------------------------------------------------------------------------------------
# 5 stage, 7 wishes
# --------------------------------------------------------------------------------------------------


def test_primary_teacher_redeployed_to_junior(base: Base, folder: Path) -> None:
    plan, schools = read_plan(folder), read_schools(folder)
    info = school_info(base, plan)
    rows = involuntary(plan, "redeploy")
    rows = rows[rows["from_stage"] == "primary"]
    assert len(rows), "no primary teacher redeployed"
    index, row = next(iter(rows.iterrows()))
    junior = info[info["stages"].map(lambda s: "junior" in s) & (info["school_id"] != row["from_school"])]
    target = junior["school_id"].iloc[0]
    redirect(plan, schools, index, target, "junior")
    save(base, folder, plan, schools)
    report = run(base, folder, county=unlimited(base.county, target))
    assert rules(report) == {"stage"}
    assert "由小学改任初中" in report.violations[0].message


def test_volunteer_redirected_outside_wishes(base: Base, folder: Path) -> None:
    """plan.csv sends a volunteer to a school not on the wish list (wish_rank and voluntary made to match)."""
    plan, schools, t = read_plan(folder), read_schools(folder), facts(base)
    info = school_info(base, plan)
    for index, row in plan[plan["wish_rank"] != "0"].iterrows():
        teacher = t.loc[row["teacher_id"]]
        origin = info.loc[row["from_school"]]
        # a school with room under its 核定编制 (one with none takes its norm for one: maybe full)
        fits = info[~info["school_id"].isin([*teacher["wishes"], row["from_school"]])
                    & info["stages"].map(lambda s, st=row["to_stage"]: st in s)
                    & ((info["room"] >= 1) | (row["move_type"] == "support"))]
        if row["move_type"] == "rotation":
            fits = fits[fits["level"] < origin["level"]]
        elif row["move_type"] == "support":
            fits = fits[(fits["area"] == "rural") | fits["weak"]]
        if len(fits):
            redirect(plan, schools, index, fits["school_id"].iloc[0])
            plan.loc[index, ["wish_rank", "voluntary"]] = ["0", "False"]
            save(base, folder, plan, schools)
            report = run(base, folder)
            assert rules(report) == {"wishes"}
            assert "志愿以外" in report.violations[0].message
            return
    pytest.fail("no volunteer with a school outside the wish list to be sent to")


# --------------------------------------------------------------------------------------------------
# 8 establishment, 9 leaving
# --------------------------------------------------------------------------------------------------


def test_redeploy_into_school_at_establishment(base: Base, folder: Path) -> None:
    plan, schools = read_plan(folder), read_schools(folder)
    info = school_info(base, plan)
    index, row = next(iter(involuntary(plan, "redeploy").iterrows()))
    full = info[(info["posts"] >= info["est"]) & (info["school_id"] != row["from_school"])
                & info["stages"].map(lambda s: row["to_stage"] in s)]
    assert len(full), "no school at its establishment teaching the stage"
    target = full["school_id"].iloc[0]
    redirect(plan, schools, index, target)
    save(base, folder, plan, schools)
    report = run(base, folder)
    assert rules(report) == {"establishment"}
    assert report.violations[0].school_id == target and "已达核定编制" in report.violations[0].message


def test_rotation_takes_school_over_establishment(base: Base, folder: Path) -> None:
    """A school below its 核定编制 that the plan fills exactly receives one rotation more."""
    plan, schools = read_plan(folder), read_schools(folder)
    info = school_info(base, plan)
    for index, row in involuntary(plan, "rotation").iterrows():
        level = info.at[row["from_school"], "level"]
        filled = info[(info["posts"] < info["est"]) & (info["room"] == 0) & (info["level"] < level)
                      & (info["school_id"] != row["to_school"])
                      & info["stages"].map(lambda s, st=row["to_stage"]: st in s)]
        if len(filled):
            target = filled["school_id"].iloc[0]
            redirect(plan, schools, index, target)
            save(base, folder, plan, schools)
            report = run(base, folder)
            assert rules(report) == {"establishment"}
            assert report.violations[0].school_id == target and "超出核定编制" in report.violations[0].message
            return
    pytest.fail("no school below its establishment that the plan fills exactly")


def test_teacher_from_school_at_its_leaving_cap(base: Base, folder: Path) -> None:
    """A rotated teacher replaced by an eligible colleague of a school that already sends its maximum. The
    check's share (`rotation.max_share_leaving_school`) is set so that this school's cap is what it sends
    while every other school stays within its own, and the first teacher's school, which keeps them, has
    no 核定编制 known (it may have filled it with transfers in): only the rule about leaving trips."""
    plan, schools, t = read_plan(folder), read_schools(folder), facts(base)
    info = school_info(base, plan)
    moving = set(plan["teacher_id"])
    for index, row in involuntary(plan, "rotation").iterrows():
        dest = info.loc[row["to_school"]]
        mover = t.loc[row["teacher_id"]]
        leaving = info["leaving"] - (info["school_id"] == row["from_school"]).astype(int)  # after the swap
        ratio = leaving / info["posts"].clip(lower=1)
        pick = t[(t["school_id"] != row["from_school"]) & (t["school_id"] != row["to_school"]) & t["plain"]
                 & (t["years"] >= 6) & (t["stage"] == row["to_stage"]) & (t["is_backbone"] == mover["is_backbone"])
                 & ~t["teacher_id"].isin(moving)]
        pick = pick[pick["school_id"].map(info["level"]) > dest["level"]]
        for school_id in pick["school_id"].unique():
            sends, posts = int(leaving[school_id]), int(info.at[school_id, "posts"])
            share = max(sends / posts, float(ratio.drop(school_id).max()))  # every other school within
            if sends < 1 or math.floor(share * posts + 1e-9) != sends:  # this one exactly at its cap
                continue
            new = pick[pick["school_id"] == school_id].iloc[0]
            replace_teacher(plan, schools, t, index, new["teacher_id"], subject=new["subject"])
            save(base, folder, plan, schools)
            rotation = base.policy.rotation.model_copy(update={"max_share_leaving_school": share})
            report = check_plan(unlimited(base.county, row["from_school"]),
                                base.policy.model_copy(update={"rotation": rotation}), folder)
            assert rules(report) == {"max_leaving"}
            assert [v.school_id for v in report.violations if v.rule == "max_leaving"] == [school_id]
            return
    pytest.fail("no eligible teacher at a school that can be put at its leaving cap")


# --------------------------------------------------------------------------------------------------
# 11 quota
# --------------------------------------------------------------------------------------------------


def _drop_rotations(base: Base, plan: pd.DataFrame, schools: pd.DataFrame, summary: dict
                    ) -> tuple[pd.DataFrame, County]:
    """Drop rotations until the quota is one short (the first rotations whose destination gives no
    involuntary redeployment, so no other rule moves), and the county to check against: no 核定编制 known
    at their origins, which keep the teachers who stay (they may have filled it with transfers in)."""
    quota = summary["quota"]
    excess = quota["rotations"] - quota["required_rotations"] + 1
    givers = set(zip(involuntary(plan, "redeploy")["from_school"], involuntary(plan, "redeploy")["from_stage"],
                     strict=True))
    rows = involuntary(plan, "rotation")
    rows = rows[[(s, st) not in givers for s, st in zip(rows["to_school"], rows["to_stage"], strict=True)]]
    assert len(rows) >= excess
    county = base.county
    for index in sorted(rows.index[:excess], reverse=True):
        county = unlimited(county, plan.loc[index, "from_school"])
        plan = drop_row(plan, schools, summary, index)
    return plan, county


@pytest.mark.parametrize("summary_says", ["met", "nothing", "met_flag_only"])
def test_rotation_quota_not_met(base: Base, folder: Path, summary_says: str) -> None:
    plan, schools, summary = read_plan(folder), read_schools(folder), read_summary(folder)
    if summary_says == "met_flag_only":  # the plan meets the quota; summary.json says it does not
        summary["quota"]["rotation_quota_met"] = False
        write(folder, summary=summary)
        report = run(base, folder)
        assert rules(report) == {"quota"} and "rotation_quota_met" in report.violations[0].message
        return
    plan, county = _drop_rotations(base, plan, schools, summary)
    if summary_says == "nothing":
        del summary["quota"]
    save(base, folder, plan, schools, summary)
    report = run(base, folder, county=county)
    assert rules(report) == {"quota"}
    assert any("未说明原因" in v.message for v in report.violations)
    if summary_says == "met":
        assert any("quota.rotations" in v.message for v in report.violations)


def test_backbone_rotator_replaced_by_non_backbone(base: Base, folder: Path) -> None:
    plan, schools, summary, t = read_plan(folder), read_schools(folder), read_summary(folder), facts(base)
    quota = summary["quota"]
    assert quota["backbone_rotations"] == quota["backbone_required"], "the backbone quota is not tight"
    moving = set(plan["teacher_id"])
    for index, row in involuntary(plan, "rotation").iterrows():
        mover = t.loc[row["teacher_id"]]
        if not mover["is_backbone"]:
            continue
        same = t[(t["school_id"] == mover["school_id"]) & (t["stage"] == mover["stage"])
                 & (t["subject"] == row["subject"]) & t["plain"] & (t["years"] >= 6) & ~t["is_backbone"]
                 & ~t["teacher_id"].isin(moving)]
        if len(same):
            replace_teacher(plan, schools, t, index, same["teacher_id"].iloc[0])
            save(base, folder, plan, schools)
            report = run(base, folder)
            assert rules(report) == {"quota"}
            assert any("骨干" in v.message and "未说明原因" in v.message for v in report.violations)
            return
    pytest.fail("no backbone rotator with a non-backbone eligible colleague on the same post")


# --------------------------------------------------------------------------------------------------
# 13 figures
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["students", "classes", "gap_before"])
def test_school_figure_wrong(base: Base, folder: Path, column: str) -> None:
    schools = read_schools(folder)
    schools.loc[2, column] = str(float(schools.loc[2, column]) + 1)
    write(folder, schools=schools)
    report = run(base, folder)
    assert rules(report) == {"figures"}
    assert report.violations[0].school_id == schools.loc[2, "school_id"] and column in report.violations[0].message


@pytest.mark.parametrize("change", ["total", "types_swapped"])
def test_summary_move_counts_wrong(base: Base, folder: Path, change: str) -> None:
    summary = read_summary(folder)
    if change == "total":
        summary["moves"]["total"] += 1
    else:
        summary["moves"]["rotation"] += 1
        summary["moves"]["support"] -= 1
    write(folder, summary=summary)
    assert rules(run(base, folder)) == {"figures"}


def _tier(summary: dict, name: str, delta: float) -> None:
    tier = next(t for t in summary["tiers"] if t["tier"] == name)
    tier["value"] += delta
    summary["objective"][name] += delta


@pytest.mark.parametrize("figure", ["indicators_after_teachers", "indicators_after_shortage", "quota_tier",
                                    "disruption_tier", "wishes_tier", "schools_establishment_after",
                                    "schools_per100_backbone_after", "plan_backbone_column"])
def test_derived_figures(base: Base, folder: Path, figure: str) -> None:
    """Figures summed over every move, tampered with on their own: each is recomputed and named."""
    summary, schools, plan = read_summary(folder), read_schools(folder), read_plan(folder)
    after = summary["indicators"]["after"]["primary"]
    if figure == "indicators_after_teachers":
        after["teachers"] += 5
        after["teachers_before"] += 5
    elif figure == "indicators_after_shortage":
        after["shortage"] += 3
        after["shortage_before"] += 3
    elif figure == "quota_tier":
        _tier(summary, "quota", 5.0)
    elif figure == "disruption_tier":
        _tier(summary, "disruption", -20.0)
    elif figure == "wishes_tier":
        _tier(summary, "wishes", -10.0)
    elif figure == "schools_establishment_after":
        schools.loc[2, "establishment_after"] = str(float(schools.loc[2, "establishment_after"]) + 3)
    elif figure == "schools_per100_backbone_after":
        schools.loc[2, "per100_backbone_after"] = str(float(schools.loc[2, "per100_backbone_after"]) + 3)
    else:
        plan["backbone"] = plan["backbone"].map({"True": "False", "False": "True"})
    write(folder, plan=plan, schools=schools, summary=summary)
    report = run(base, folder)
    assert {v.rule for v in report.violations} == {"derived"}


# --------------------------------------------------------------------------------------------------
# Special-education schools (docs/plan.md: neither leave nor receive unless special_schools_take_part)
# --------------------------------------------------------------------------------------------------


def test_transfer_into_special_school(base: Base, tmp_path: Path) -> None:
    """The county with a teaching point turned into a special school, planned again; then plan.csv sends an
    involuntary redeployment there (special_schools_take_part is false)."""
    schools = base.county.schools.copy()
    schools["type"] = schools["type"].astype(str)
    schools["establishment"] = schools["establishment"].astype("Int64")
    special = schools.loc[schools["type"] == "teaching_point", "school_id"].iloc[0]
    schools.loc[schools["school_id"] == special, ["type", "establishment"]] = ["special", pd.NA]
    county = base.county.replace(schools=schools)
    variant = Base(county, base.policy, base.data, _make(tmp_path, county, base.policy))
    plan, table = read_plan(variant.folder), read_schools(variant.folder)
    if special in set(plan["to_school"]) or not check_plan(county, base.policy, variant.folder).ok:
        pytest.fail("the optimizer's plan for the county with a special school is not a clean start")
    rows = involuntary(plan, "redeploy")
    rows = rows[rows["to_stage"] == "primary"]
    if not len(rows):
        pytest.fail("no involuntary redeployment to primary")
    redirect(plan, table, rows.index[0], special)
    save(variant, variant.folder, plan, table)
    report = check_plan(county, base.policy, variant.folder)
    assert any(v.school_id == special and v.rule != "figures" for v in report.violations), [
        v.line() for v in report.violations]


# --------------------------------------------------------------------------------------------------
# Controls: what a user's spreadsheet may do to a valid plan
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["contract_columns_only", "chinese_values", "gbk"])
def test_valid_plan_variants_pass(base: Base, folder: Path, variant: str) -> None:
    plan = read_plan(folder)
    if variant == "contract_columns_only":
        write(folder, plan=plan[["teacher_id", "from_school", "to_school", "move_type", "subject", "reason"]])
    elif variant == "chinese_values":
        stages = {"primary": "小学", "junior": "初中"}
        plan["from_stage"] = plan["from_stage"].map(stages)
        plan["to_stage"] = plan["to_stage"].map(stages)
        plan["voluntary"] = plan["voluntary"].map({"True": "是", "False": "否"})
        write(folder, plan=plan)
    else:
        text = (folder / "plan.csv").read_text(encoding="utf-8-sig")
        (folder / "plan.csv").write_bytes(text.encode("gb18030"))
    report = run(base, folder)
    assert report.ok, [v.line() for v in report.violations]


@pytest.mark.parametrize("tamper", ["bound_above_value", "optimal_above_bound", "best_bound"])
def test_tier_bounds_and_statuses(base: Base, folder: Path, tamper: str) -> None:
    """A bound of 999 against a value of 4.2, or `optimal` above its bound, passed: the checker cannot
    re-prove a bound, but a bound above the value or an optimal tier off its bound is no plan's."""
    summary = read_summary(folder)
    tier = next(t for t in summary["tiers"] if t["tier"] == "disruption")
    if tamper == "bound_above_value":
        tier["bound"] = tier["value"] + 999
        summary["best_bound"]["disruption"] = tier["bound"]
    elif tamper == "optimal_above_bound":
        tier["bound"] = tier["value"] - 3
        summary["best_bound"]["disruption"] = tier["bound"]
        tier["status"] = "optimal"
    else:
        summary["best_bound"]["disruption"] = tier["bound"] - 5
    write(folder, summary=summary)
    report = run(base, folder)
    assert rules(report) == {"figures"}
    assert any("界" in v.message for v in report.violations)
