"""The independent plan checker (`teacheralloc.check`).

The optimizer runs once per session on a small generated county; the checker must pass its plan. Then
each test corrupts a copy of the plan folder (or, where the rule is about the data or the policy, the
county or the policy the plan is checked against) as little as possible and asserts that the checker
reports exactly the rule broken. Corruptions that move a teacher elsewhere also move the figures of
schools.csv with them, so that only the rule under test is broken.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from teacheralloc.check import RULES, CheckReport, check_plan
from teacheralloc.domain import County, SchoolType
from teacheralloc.errors import InputError
from teacheralloc.policy import Policy, load_policy

# --------------------------------------------------------------------------------------------------
# The real plan, made once
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    county: County
    policy: Policy
    folder: Path


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    from teacheralloc.io.write import write_plan
    from teacheralloc.model.solve import plan_county
    from teacheralloc.sample import generate_county

    county = generate_county(500, seed=0)
    policy = Policy.default()
    plan = plan_county(county, policy)
    folder = tmp_path_factory.mktemp("plan")
    write_plan(plan, folder, policy)
    return Base(county, policy, folder)


@pytest.fixture
def folder(base: Base, tmp_path: Path) -> Path:
    """A fresh copy of the plan folder to corrupt."""
    return Path(shutil.copytree(base.folder, tmp_path / "plan"))


def read_plan(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "plan.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_schools(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def write(
    folder: Path,
    plan: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
    summary: dict | None = None,
) -> None:
    if plan is not None:
        plan.to_csv(folder / "plan.csv", index=False, encoding="utf-8-sig")
    if schools is not None:
        schools.to_csv(folder / "schools.csv", index=False, encoding="utf-8-sig")
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")


def run(
    base: Base,
    folder: Path,
    county: County | None = None,
    policy: Policy | None = None,
    pins: pd.DataFrame | None = None,
) -> CheckReport:
    return check_plan(county or base.county, policy or base.policy, folder, pins=pins)


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
    """summary.json's headcount tier as `schools` (after-figures moved by `shift`) leaves it: Σ weight ×
    whole teachers short of the required posts rounded to the nearest (teaching point 3, rural 2, town
    1.5, urban 1, weak +0.5), so that a test changing who moves trips only the rule it is about."""
    plan = base.policy.plan
    info = base.county.schools.set_index("school_id")
    total = 0.0
    for row in schools.itertuples(index=False):
        school = info.loc[row.school_id]
        weight = plan.headcount_weight["teaching_point" if str(school["type"]) == "teaching_point" else
                                       str(school["area"])] + (plan.weak_school_extra if school["weak"] else 0.0)
        total += weight * max(0.0, math.floor(float(row.required) + 0.5) - float(row.teachers_after))
    summary = read_summary(folder)
    next(t for t in summary["tiers"] if t["tier"] == "headcount")["value"] = total
    write(folder, summary=summary)


def redirect(plan: pd.DataFrame, schools: pd.DataFrame, index: int, **changes: str) -> None:
    """Change a plan row's teacher / school / stage and move the after-figures with the teacher."""
    row = plan.loc[index]
    shift(schools, row["from_school"], row["from_stage"], +1)
    shift(schools, row["to_school"], row["to_stage"], -1)
    for key, value in changes.items():
        plan.loc[index, key] = value
    plan.loc[index, "km"] = ""  # distance of the new pair: not stated
    row = plan.loc[index]
    shift(schools, row["from_school"], row["from_stage"], -1)
    shift(schools, row["to_school"], row["to_stage"], +1)


def with_pins(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"teacher_id": t, "kind": k, "school_id": s, "row": i + 2} for i, (t, k, s) in enumerate(rows)]
    )


def with_teachers(county: County, tid: str, **changes: object) -> County:
    teachers = county.teachers.copy()
    at = teachers["teacher_id"] == tid
    for key, value in changes.items():
        teachers.loc[at, key] = pd.Series([value] * int(at.sum()), index=teachers.index[at])
    return county.replace(teachers=teachers)


def facts(base: Base) -> pd.DataFrame:
    """Per teacher, what the tests need to pick a teacher (independent of the checker)."""
    t = base.county.teachers.copy()
    as_of = pd.Timestamp(base.county.as_of)
    t["years"] = (as_of - t["school_since"]).dt.days / 365.25
    retire = [
        base.policy.retirement.retirement_date(str(g), b.date())
        for g, b in zip(t["gender"], t["birth_date"], strict=True)
    ]
    t["near_retirement"] = [(pd.Timestamp(d) - as_of).days / 365.25 < 5 for d in retire]
    t["plain"] = (
        (t["status"].astype(str) == "active")
        & ~t["volunteer"].astype(bool)
        & ~(t["service_until"].notna() & (t["service_until"] > as_of))
        & ~t["near_retirement"]
    )
    t["stage"] = t["stage"].astype(str)
    t["subject"] = t["subject"].astype(str)
    return t.set_index("teacher_id", drop=False)


def school_info(base: Base) -> pd.DataFrame:
    s = base.county.schools.copy()
    s["area"] = s["area"].astype(str)
    s["level"] = [base.policy.rotation.level(a, w) for a, w in zip(s["area"], s["weak"], strict=True)]
    s["stages"] = [tuple(x.value for x in SchoolType(str(t)).stages) for t in s["type"]]
    s["posts"] = s["school_id"].map(base.county.teachers.groupby("school_id").size()).fillna(0).astype(int)
    return s.set_index("school_id", drop=False)


def unlimited(county: County, school: str) -> County:
    """The county with a 核定编制 for `school` so large that any transfer may go there."""
    schools = county.schools.copy()
    schools["establishment"] = schools["establishment"].astype("Int64")
    # No 核定编制 at all now means its norm stands for one (plan.arrivals_within_shortage): a very large one
    schools.loc[schools["school_id"] == school, "establishment"] = 10**6
    return county.replace(schools=schools)


# --------------------------------------------------------------------------------------------------
# The real plan passes
# --------------------------------------------------------------------------------------------------


def test_optimizer_plan_passes(base: Base) -> None:
    report = check_plan(base.county, base.policy, base.folder)
    assert report.ok, "\n".join(v.line() for v in report.violations)
    summary = read_summary(base.folder)
    assert report.figures["moves"] == summary["moves"]
    quota = {k: v for k, v in summary["quota"].items() if k != "shortfall"}
    assert report.figures["quota"] == quota
    assert report.summary_lines()[0].startswith("复核通过")
    plan = read_plan(base.folder)
    assert len(plan) > 0 and set(plan["move_type"]) >= {"rotation", "support", "redeploy"}


def test_support_postings_over_the_policys_cap_are_violations(base: Base) -> None:
    """With support.max_above_norm k, a section may receive (pinned postings aside) what it lacks of its
    norm + k teachers on 支教; the default plan (no cap) checked against k = 0 breaks it where it piled,
    and against a k above every posting count nowhere."""
    def capped(extra: int) -> Policy:
        return base.policy.model_copy(update={"support": base.policy.support.model_copy(
            update={"max_above_norm": extra})})

    moves = read_plan(base.folder)
    posted = moves[moves["move_type"] == "support"].groupby("to_school").size()
    found = [v for v in check_plan(base.county, capped(0), base.folder).violations
             if "support.max_above_norm" in v.message]
    assert found and {v.school_id for v in found} <= set(posted.index)
    assert all(v.rule == "establishment" for v in found)
    generous = check_plan(base.county, capped(int(posted.max())), base.folder)
    assert not [v for v in generous.violations if "support.max_above_norm" in v.message]


def test_report_lines_name_the_rule(base: Base, folder: Path) -> None:
    plan = read_plan(folder)
    plan.loc[0, "reason"] = "ok"
    write(folder, plan=plan)
    report = run(base, folder)
    assert not report.ok
    lines = report.summary_lines()
    assert lines[0].startswith("复核未通过")
    assert any("规则 1 方案格式" in line and plan.loc[0, "teacher_id"] in line for line in lines)
    violation = report.violations[0]
    assert violation.teacher_id == plan.loc[0, "teacher_id"] and violation.row == 2
    assert set(RULES) >= rules(report)


# --------------------------------------------------------------------------------------------------
# 1 well-formed
# --------------------------------------------------------------------------------------------------


def test_duplicate_teacher(base: Base, folder: Path) -> None:
    plan, summary = read_plan(folder), read_summary(folder)
    plan = pd.concat([plan, plan.iloc[[0]]], ignore_index=True)
    summary["moves"][plan.loc[0, "move_type"]] += 1  # the summary counts what plan.csv says
    summary["moves"]["total"] += 1
    write(folder, plan=plan, summary=summary)
    report = run(base, folder)
    assert rules(report) == {"well_formed"}
    assert report.violations[0].teacher_id == plan.loc[0, "teacher_id"]


@pytest.mark.parametrize(
    "change", ["reason_english", "reason_empty", "from_school", "unknown_teacher", "same_school"]
)
def test_malformed_rows(base: Base, folder: Path, change: str) -> None:
    plan, schools = read_plan(folder), read_schools(folder)
    other = next(
        s for s in base.county.schools["school_id"] if s not in set(plan.loc[0, ["from_school", "to_school"]])
    )
    if change == "reason_english":
        plan.loc[0, "reason"] = "fills a gap"
    elif change == "reason_empty":
        plan.loc[0, "reason"] = ""
    elif change == "from_school":
        plan.loc[0, "from_school"] = other
    elif change == "unknown_teacher":  # the row cannot be counted: its move leaves the figures
        shift(schools, plan.loc[0, "from_school"], plan.loc[0, "from_stage"], +1)
        shift(schools, plan.loc[0, "to_school"], plan.loc[0, "to_stage"], -1)
        plan.loc[0, "teacher_id"] = "JS99999"
    summary = None
    if change == "same_school":
        shift(schools, plan.loc[0, "to_school"], plan.loc[0, "to_stage"], -1)
        shift(schools, plan.loc[0, "from_school"], plan.loc[0, "from_stage"], +1)
        plan.loc[0, "to_school"] = plan.loc[0, "from_school"]
        summary = read_summary(folder)  # the count of moves within a school, as plan.csv now states it
        summary["moves"]["within_school"] = summary["moves"].get("within_school", 0) + 1
    write(folder, plan=plan, schools=schools, summary=summary)
    restate_headcount(base, folder, schools)
    assert rules(run(base, folder)) == {"well_formed"}


@pytest.mark.parametrize(
    ("teacher_id", "from_school", "expected"),
    [
        ("NEW-0001", "", set()),
        ("JS-NEW", "", {"well_formed"}),
        ("NEW-0001", "C001", {"well_formed"}),
    ],
)
def test_new_hire_rows(
    base: Base, folder: Path, teacher_id: str, from_school: str, expected: set[str]
) -> None:
    plan, schools, summary = read_plan(folder), read_schools(folder), read_summary(folder)
    school, stage = schools.loc[0, "school_id"], schools.loc[0, "stage"]
    row = {c: "" for c in plan.columns} | {
        "teacher_id": teacher_id,
        "from_school": from_school,
        "to_school": school,
        "move_type": "new_hire",
        "subject": "chinese",
        "to_stage": stage,
        "reason": "该校缺编，新招聘教师一名。",
        "voluntary": "False",
        "wish_rank": "0",
    }
    plan = pd.concat([plan, pd.DataFrame([row])], ignore_index=True)
    shift(schools, school, stage, +1)
    summary["moves"]["new_hire"] += 1
    summary["moves"]["total"] += 1
    write(folder, plan=plan, schools=schools, summary=summary)
    assert rules(run(base, folder, county=unlimited(base.county, school))) == expected
    if not expected:  # a new hire takes a post: not into a school whose establishment is full
        schools_table = base.county.schools.copy()
        posts = int((base.county.teachers["school_id"] == school).sum())
        schools_table.loc[schools_table["school_id"] == school, "establishment"] = posts
        assert rules(run(base, folder, county=base.county.replace(schools=schools_table))) == {
            "establishment"
        }


# --------------------------------------------------------------------------------------------------
# 2 who may move
# --------------------------------------------------------------------------------------------------


def test_exempt_teacher_moves(base: Base, folder: Path) -> None:
    """A mover under a service obligation (and not rotation-eligible, so the quota base is unchanged)."""
    plan, t = read_plan(folder), facts(base)
    pick = plan[(plan["move_type"] == "redeploy") & (plan["wish_rank"] == "0")]
    pick = pick[pick["teacher_id"].map(lambda i: t.at[i, "plain"] and t.at[i, "years"] < 6)]
    assert len(pick), "no plain redeployed teacher in the plan"
    tid = pick["teacher_id"].iloc[0]
    county = with_teachers(
        base.county, tid, service_until=pd.Timestamp(base.county.as_of + timedelta(days=400))
    )
    report = run(base, folder, county=county)
    assert rules(report) == {"movable"}
    assert report.violations[0].teacher_id == tid and "服务期" in report.violations[0].message


def test_exempt_teacher_replaces_a_mover(base: Base, folder: Path) -> None:
    """plan.csv names, instead of a redeployed teacher, a colleague on the same post near retirement."""
    plan, t = read_plan(folder), facts(base)
    moving = set(plan["teacher_id"])
    for index, row in plan[(plan["move_type"] == "redeploy") & (plan["wish_rank"] == "0")].iterrows():
        mover = t.loc[row["teacher_id"]]
        same = t[
            (t["school_id"] == mover["school_id"])
            & (t["stage"] == mover["stage"])
            & (t["subject"] == mover["subject"])
            & t["near_retirement"]
            & ~t["volunteer"]
            & (t["status"] == mover["status"])
            & ~t["teacher_id"].isin(moving)
        ]
        if len(same):
            plan.loc[index, "teacher_id"] = same["teacher_id"].iloc[0]
            write(folder, plan=plan)
            assert rules(run(base, folder)) == {"movable"}
            return
    pytest.fail("no redeployed teacher with a colleague near retirement on the same post")


def test_must_stay_pin(base: Base, folder: Path) -> None:
    """A moved teacher pinned to stay. One short of the rotation years, so that the pin leaves the
    quota's base (rotation-eligible teachers not pinned) as it was: only the pin is broken."""
    plan, t = read_plan(folder), facts(base)
    years = plan["teacher_id"].map(t["years"])
    tid = plan.loc[years < base.policy.rotation.eligible_years_at_school, "teacher_id"].iloc[0]
    report = run(base, folder, pins=with_pins((tid, "must_stay", None)))
    assert rules(report) == {"movable"}


# --------------------------------------------------------------------------------------------------
# 3 rotation
# --------------------------------------------------------------------------------------------------


def test_rotation_of_ineligible_teacher(base: Base, folder: Path) -> None:
    """A rotated teacher replaced by a colleague on the same post with too few years at the school."""
    plan, t = read_plan(folder), facts(base)
    moving = set(plan["teacher_id"])
    for index, row in plan[(plan["move_type"] == "rotation") & (plan["wish_rank"] == "0")].iterrows():
        mover = t.loc[row["teacher_id"]]
        same = t[
            (t["school_id"] == mover["school_id"])
            & (t["stage"] == mover["stage"])
            & (t["subject"] == row["subject"])
            & (t["backbone"] == mover["backbone"])
            & t["plain"]
            # a year short at least: 5.9986 fractional years is 6 full calendar years, eligible
            & (t["years"] < base.policy.rotation.eligible_years_at_school - 1)
            & ~t["teacher_id"].isin(moving)
        ]
        if len(same):
            plan.loc[index, "teacher_id"] = same["teacher_id"].iloc[0]
            write(folder, plan=plan)
            report = run(base, folder)
            assert rules(report) == {"rotation"}
            assert "不满" in report.violations[0].message
            return
    pytest.fail("no rotated teacher with a recently arrived colleague on the same post")


def test_rotation_against_direction(base: Base, folder: Path) -> None:
    plan, schools, info = read_plan(folder), read_schools(folder), school_info(base)
    for index, row in plan[(plan["move_type"] == "rotation") & (plan["wish_rank"] == "0")].iterrows():
        level = info.at[row["from_school"], "level"]
        upward = info[
            (info["level"] >= level)
            & (info["school_id"] != row["from_school"])
            & info["stages"].map(lambda s, st=row["to_stage"]: st in s)
        ]
        if len(upward):
            target = upward["school_id"].iloc[0]
            redirect(plan, schools, index, to_school=target)
            write(folder, plan=plan, schools=schools)
            restate_headcount(base, folder, schools)  # the school it no longer goes to may stay short
            report = run(base, folder, county=unlimited(base.county, target))
            assert rules(report) == {"rotation"}
            assert "交流方向" in report.violations[0].message
            return
    pytest.fail("no school at or above a rotated teacher's level")


# --------------------------------------------------------------------------------------------------
# 4 support
# --------------------------------------------------------------------------------------------------


def test_support_to_town_or_urban_school(base: Base, folder: Path) -> None:
    plan, schools, info = read_plan(folder), read_schools(folder), school_info(base)
    rows = plan[(plan["move_type"] == "support") & (plan["wish_rank"] == "0")]
    assert len(rows)
    index, row = next(iter(rows.iterrows()))
    urban = info[
        (info["area"] != "rural")
        & ~info["weak"]
        & (info["school_id"] != row["from_school"])
        & info["stages"].map(lambda s: row["to_stage"] in s)
    ]
    assert len(urban)
    redirect(plan, schools, index, to_school=urban["school_id"].iloc[0])
    write(folder, plan=plan, schools=schools)
    report = run(base, folder)
    assert rules(report) == {"support"}
    assert report.violations[0].school_id == urban["school_id"].iloc[0]


def test_support_without_need(base: Base, folder: Path) -> None:
    """A support posting of a teacher who already holds a senior title and did not volunteer."""
    plan, t = read_plan(folder), facts(base)
    rows = plan[(plan["move_type"] == "support") & plan["teacher_id"].map(lambda i: not t.at[i, "volunteer"])]
    assert len(rows)
    county = with_teachers(base.county, rows["teacher_id"].iloc[0], title="senior")
    assert rules(run(base, folder, county=county)) == {"support"}


# --------------------------------------------------------------------------------------------------
# 5 stage, 6 subject
# --------------------------------------------------------------------------------------------------


def test_cross_stage_not_allowed(base: Base, folder: Path) -> None:
    plan = read_plan(folder)
    assert (plan["from_stage"] != plan["to_stage"]).any(), "the plan has no junior → primary redeployment"
    policy = load_policy(overrides={"plan": {"junior_to_primary": False}})
    report = run(base, folder, policy=policy)
    assert rules(report) == {"stage"}
    assert len(report.violations) == int((plan["from_stage"] != plan["to_stage"]).sum())


@pytest.mark.parametrize(("move_type", "allowed"), [("redeploy", True), ("new_hire", False)])
def test_a_hire_keeps_the_stage_it_was_recruited_for(move_type: str, allowed: bool) -> None:
    """Junior → primary is allowed to a surplus junior teacher redeployed, never to a junior hire."""
    from teacheralloc.check.moves import check_stage_subject
    from teacheralloc.check.rows import Move

    move = Move(row=2, teacher_id="NEW-0001" if move_type == "new_hire" else "T1", move_type=move_type,
                 from_school="" if move_type == "new_hire" else "J1", to_school="P1", subject="science",
                 from_stage="junior", to_stage="primary", km=None, voluntary=False, wish_rank=0)
    found: list[tuple[str, str]] = []
    check_stage_subject(move, pd.Series({"subject": "physics", "other_subjects": ()}), load_policy(),
                         lambda rule, message: found.append((rule, message)))
    assert found == ([] if allowed else [("stage", "教师 NEW-0001 由初中改任小学（新教师分配）：新教师按招聘的学段分配")])


def test_stage_the_school_does_not_teach(base: Base, folder: Path) -> None:
    plan, info = read_plan(folder), school_info(base)
    rows = plan[
        (plan["to_stage"] == "primary")
        & plan["to_school"].map(lambda s: info.at[s, "stages"] == ("primary",))
    ]
    index = rows.index[0]
    plan.loc[index, "to_stage"] = "junior"
    write(folder, plan=plan)
    report = run(base, folder)
    # The school has no junior row in schools.csv either, so the figures differ too; and where the school
    # has no 核定编制, the arrival overfills that section's norm of 0 (plan.arrivals_within_shortage).
    assert "stage" in rules(report) and rules(report) <= {"stage", "figures", "establishment"}


@pytest.mark.parametrize("cross", [False, True])
def test_wrong_subject(base: Base, folder: Path, cross: bool) -> None:
    plan, t = read_plan(folder), facts(base)
    rows = plan[(plan["from_stage"] != plan["to_stage"]) == cross]
    assert len(rows)
    index, row = next(iter(rows.iterrows()))
    teacher = t.loc[row["teacher_id"]]
    qualified = {teacher["subject"], *teacher["other_subjects"], row["subject"]}
    plan.loc[index, "subject"] = next(s for s in ("music", "physics", "art", "it") if s not in qualified)
    write(folder, plan=plan)
    report = run(base, folder)
    assert rules(report) == {"subject"}
    assert report.violations[0].teacher_id == row["teacher_id"]


def test_unknown_subject_code(base: Base, folder: Path) -> None:
    plan = read_plan(folder)
    plan.loc[0, "subject"] = "calligraphy"
    write(folder, plan=plan)
    assert rules(run(base, folder)) == {"subject"}


# --------------------------------------------------------------------------------------------------
# 7 wishes and pins
# --------------------------------------------------------------------------------------------------


def _voluntary_row(plan: pd.DataFrame) -> int:
    rows = plan[(plan["wish_rank"] != "0") & (plan["move_type"] != "redeploy")]
    assert len(rows), "the plan has no volunteer moving to a wished school"
    return int(rows.index[0])


def test_wish_rank_wrong(base: Base, folder: Path) -> None:
    plan = read_plan(folder)
    index = _voluntary_row(plan)
    plan.loc[index, "wish_rank"] = str(int(plan.loc[index, "wish_rank"]) % 3 + 1)
    write(folder, plan=plan)
    assert rules(run(base, folder)) == {"wishes"}


def test_volunteer_sent_outside_wishes(base: Base, folder: Path) -> None:
    """The volunteer's wish list no longer holds the school the plan sends them to."""
    plan = read_plan(folder)
    index = _voluntary_row(plan)
    tid, to_school = plan.loc[index, "teacher_id"], plan.loc[index, "to_school"]
    teacher = facts(base).loc[tid]
    others = tuple(s for s in base.county.schools["school_id"] if s not in (to_school, teacher["school_id"]))[
        :2
    ]
    county = with_teachers(base.county, tid, wishes=others)
    report = run(base, folder, county=county)
    assert rules(report) == {"wishes"}
    assert any("志愿以外" in v.message for v in report.violations)


def test_pins(base: Base, folder: Path) -> None:
    plan, t = read_plan(folder), facts(base)
    mover, dest = plan.loc[0, "teacher_id"], plan.loc[0, "to_school"]
    other = next(s for s in base.county.schools["school_id"] if s not in (dest, plan.loc[0, "from_school"]))
    staying = t[t["plain"] & ~t["teacher_id"].isin(set(plan["teacher_id"]))]["teacher_id"].iloc[0]
    assert rules(run(base, folder, pins=with_pins((mover, "not_to_school", dest)))) == {"pins"}
    assert rules(run(base, folder, pins=with_pins((mover, "to_school", other)))) == {"pins"}
    assert rules(run(base, folder, pins=with_pins((staying, "must_move", None)))) == {"pins"}
    assert run(base, folder, pins=with_pins((mover, "to_school", dest), (mover, "must_move", None))).ok


# --------------------------------------------------------------------------------------------------
# 8 establishment, 9 leaving, 10 redeployment from surplus
# --------------------------------------------------------------------------------------------------


def test_transfer_into_full_school(base: Base, folder: Path) -> None:
    plan, info = read_plan(folder), school_info(base)
    school = plan.loc[plan["move_type"].isin(["rotation", "redeploy"]), "to_school"].iloc[0]
    schools = base.county.schools.copy()
    schools.loc[schools["school_id"] == school, "establishment"] = int(info.at[school, "posts"])
    report = run(base, folder, county=base.county.replace(schools=schools))
    assert rules(report) == {"establishment"}
    assert report.violations[0].school_id == school


def test_too_many_leave_one_school(base: Base, folder: Path) -> None:
    plan = read_plan(folder)
    assert plan["from_school"].value_counts().max() >= 2
    policy = load_policy(overrides={"rotation": {"max_share_leaving_school": 0.01}})
    report = run(base, folder, policy=policy)
    assert rules(report) == {"max_leaving"}


def test_redeployment_without_surplus(base: Base, folder: Path) -> None:
    """A redeployed teacher replaced by a colleague (same stage and subject) from a school with no surplus."""
    plan, schools, t, info = read_plan(folder), read_schools(folder), facts(base), school_info(base)
    moving = set(plan["teacher_id"])
    units = schools.assign(
        before=schools["teachers_before"].astype(float), required=schools["required"].astype(float)
    )
    surplus = {
        (r.school_id, r.stage): math.floor(max(0.0, r.before - math.floor(r.required + 0.5)))
        for r in units.itertuples()
    }
    arriving = set(
        zip(
            plan.loc[plan["move_type"].isin(["rotation", "redeploy"]), "to_school"],
            plan.loc[plan["move_type"].isin(["rotation", "redeploy"]), "to_stage"],
            strict=True,
        )
    )
    leaving = plan["from_school"].value_counts()
    for index, row in plan[(plan["move_type"] == "redeploy") & (plan["wish_rank"] == "0")].iterrows():
        mover = t.loc[row["teacher_id"]]
        same = t[
            (t["stage"] == row["from_stage"])
            & (t["subject"] == mover["subject"])
            & t["plain"]
            & ~t["teacher_id"].isin(moving)
            & (t["school_id"] != row["to_school"])
            & (t["school_id"] != row["from_school"])
        ]
        same = same[
            [
                surplus.get((s, row["from_stage"]), 0) == 0
                and (s, row["from_stage"]) not in arriving
                and leaving.get(s, 0) + 1 <= max(1, math.floor(0.2 * info.at[s, "posts"]))
                for s in same["school_id"]
            ]
        ]
        if len(same):
            new = same.iloc[0]
            redirect(plan, schools, index, teacher_id=new["teacher_id"], from_school=new["school_id"])
            write(folder, plan=plan, schools=schools)
            restate_headcount(base, folder, schools)
            # The first teacher's school keeps them now: no establishment known there, so that only the
            # rule about surplus trips (it may have filled its 核定编制 with the transfers it receives).
            report = run(base, folder, county=unlimited(base.county, row["from_school"]))
            assert rules(report) == {"redeploy_surplus"}
            assert report.violations[0].school_id == new["school_id"]
            return
    pytest.fail("no teacher at a school without surplus can replace a redeployed one")


# --------------------------------------------------------------------------------------------------
# 11 quota, 12 distance
# --------------------------------------------------------------------------------------------------


def test_quota_not_met(base: Base, folder: Path) -> None:
    policy = load_policy(overrides={"rotation": {"min_share_of_eligible": 0.5}})
    report = run(base, folder, policy=policy)
    assert rules(report) == {"quota"}
    assert any("未说明原因" in v.message for v in report.violations)


def test_quota_shortfall_explained_is_a_warning(base: Base, folder: Path) -> None:
    policy = load_policy(overrides={"rotation": {"min_share_of_eligible": 0.5}})
    recomputed = run(base, folder, policy=policy).figures["quota"]
    summary = read_summary(folder)
    summary["quota"].update(recomputed)
    summary["quota"]["shortfall"] = ["符合条件且可派出的教师受交流方向和单校调出比例上限限制"]
    write(folder, summary=summary)
    report = run(base, folder, policy=policy)
    assert not rules(report)  # the quota tier's value changes with the policy: a derived figure
    assert any(w.rule == "quota" for w in report.warnings)


def test_quota_figures_in_summary(base: Base, folder: Path) -> None:
    summary = read_summary(folder)
    summary["quota"]["eligible_base"] += 7
    write(folder, summary=summary)
    report = run(base, folder)
    assert rules(report) == {"quota"}
    assert "eligible_base" in report.violations[0].message


def test_distance_limit(base: Base, folder: Path) -> None:
    policy = load_policy(overrides={"plan": {"max_km": 1.0}})
    report = run(base, folder, policy=policy)
    assert rules(report) == {"max_km"}
    plan = read_plan(folder)
    far = plan[(plan["km"].astype(float) > 1.05) & (plan["wish_rank"] == "0")]
    assert {v.teacher_id for v in report.violations} == set(far["teacher_id"])


# --------------------------------------------------------------------------------------------------
# 13 figures
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["teachers_after", "gap_after", "teachers_before", "required"])
def test_school_figure_wrong(base: Base, folder: Path, column: str) -> None:
    schools = read_schools(folder)
    schools.loc[3, column] = str(float(schools.loc[3, column]) + 1)
    write(folder, schools=schools)
    report = run(base, folder)
    assert rules(report) == {"figures"}
    assert report.violations[0].school_id == schools.loc[3, "school_id"]


def test_headcount_tier_in_summary(base: Base, folder: Path) -> None:
    """summary.json claims half a weighted post less shortage than the plan leaves (what a pooled move
    back to the teacher's own school once made the optimizer report)."""
    summary = read_summary(folder)
    tier = next(t for t in summary["tiers"] if t["tier"] == "headcount")
    tier["value"] -= 0.5
    write(folder, summary=summary)
    report = run(base, folder)
    assert rules(report) == {"figures"}
    assert "总量缺编" in report.violations[0].message


def test_balance_tier_in_summary(base: Base, folder: Path) -> None:
    """summary.json's balance tier (and objective.balance) set to 9999 passed the checker (a tester): it is
    recomputed from the county the plan leaves, PE/arts teachers by their own main subject."""
    summary = read_summary(folder)
    tier = next(t for t in summary["tiers"] if t["tier"] == "balance")
    true_value = tier["value"]
    tier["value"] = summary["objective"]["balance"] = 9999
    write(folder, summary=summary)
    found = [v for v in run(base, folder).violations if "优质均衡指标差额" in v.message or "objective.balance" in v.message]
    assert len(found) == 2 and all(f"重新计算为 {true_value:g}" in v.message for v in found)


def test_school_row_missing(base: Base, folder: Path) -> None:
    write(folder, schools=read_schools(folder).drop(index=0))
    assert rules(run(base, folder)) == {"figures"}


def test_summary_move_count_wrong(base: Base, folder: Path) -> None:
    summary = read_summary(folder)
    summary["moves"]["support"] += 1
    write(folder, summary=summary)
    report = run(base, folder)
    assert rules(report) == {"figures"}
    assert "moves.support" in report.violations[0].message


def test_distance_figure_wrong(base: Base, folder: Path) -> None:
    plan = read_plan(folder)
    plan.loc[0, "km"] = str(float(plan.loc[0, "km"]) + 5)
    write(folder, plan=plan)
    assert rules(run(base, folder)) == {"figures"}


# --------------------------------------------------------------------------------------------------
# A missing or malformed plan folder
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "file"),
    [
        ("no_folder", "missing"),
        ("no_plan", "plan.csv"),
        ("no_reason_column", "plan.csv"),
        ("empty_schools", "schools.csv"),
        ("bad_json", "summary.json"),
        ("no_moves", "summary.json"),
        ("bad_encoding", "plan.csv"),
    ],
)
def test_malformed_folder_is_an_input_error(base: Base, folder: Path, damage: str, file: str) -> None:
    target = folder
    if damage == "no_folder":
        target = folder.parent / "missing"
    elif damage == "no_plan":
        (folder / "plan.csv").unlink()
    elif damage == "no_reason_column":
        write(folder, plan=read_plan(folder).drop(columns=["reason"]))
    elif damage == "empty_schools":
        (folder / "schools.csv").write_text("", encoding="utf-8")
    elif damage == "bad_json":
        (folder / "summary.json").write_text("{status: 1", encoding="utf-8")
    elif damage == "no_moves":
        write(folder, summary={"status": "optimal"})
    elif damage == "bad_encoding":
        (folder / "plan.csv").write_bytes(b"\xff\xfe\x00\xd8\x81")
    with pytest.raises(InputError) as caught:
        check_plan(base.county, base.policy, target)
    assert any(file in p.file for p in caught.value.problems)
    assert caught.value.report()


def test_chinese_headers_accepted(base: Base, folder: Path) -> None:
    plan = read_plan(folder).rename(
        columns={"teacher_id": "教师编号", "move_type": "调配类型", "reason": "理由"}
    )
    plan["调配类型"] = plan["调配类型"].map({"rotation": "交流轮岗", "support": "支教", "redeploy": "调剂"})
    write(folder, plan=plan)
    assert run(base, folder).ok


def test_a_plan_saved_again_by_excel_is_read_as_the_data_is(base: Base, folder: Path) -> None:
    """A plan.csv saved with semicolons, with the row of commas Excel leaves of a cleared row, was refused
    (6 missing columns, no header named) or read with that row as a move (教师编号为空)."""
    plan = read_plan(folder)
    rows = [";".join(plan.columns)] + [";".join(f'"{v}"' if ";" in v else v for v in r) for r in plan.to_numpy()]
    rows.insert(3, ";" * (len(plan.columns) - 1))
    (folder / "plan.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = run(base, folder)
    assert report.ok, report.violations[:3]
    (folder / "plan.csv").write_text("\n".join(rows).replace("teacher_id", "工号") + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        run(base, folder)
    [problem] = caught.value.problems
    assert problem.column == "teacher_id" and "“工号”" in problem.expected


def test_checker_is_independent_of_the_optimizer() -> None:
    """The check (the package teacheralloc.check) re-derives every rule: none of its modules imports
    anything from teacheralloc.model."""
    import ast

    import teacheralloc.check

    modules = sorted(Path(teacheralloc.check.__file__).parent.glob("*.py"))
    assert len(modules) > 5
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m and m.startswith("teacheralloc.model")}, module.name


# --------------------------------------------------------------------------------------------------
# Rule 10 on hand-made counties: what a plan may not count as surplus
# --------------------------------------------------------------------------------------------------


def _with_move(county: County, tmp_path: Path, move: str) -> CheckReport:
    """Plan `county`, add one move to plan.csv (`move`: its cells from teacher_id to wish_rank, comma
    separated; the figures left as planned), and check it."""
    from teacheralloc.io.write import write_plan
    from teacheralloc.model.solve import plan_county

    policy = Policy.default()
    folder = tmp_path / "plan"
    folder.mkdir()
    write_plan(plan_county(county, policy), folder, policy)
    plan = read_plan(folder)
    cells = dict(zip(["teacher_id", "from_school", "to_school", "move_type", "subject", "reason", "from_stage",
                      "to_stage", "km", "voluntary", "wish_rank"], move.split(","), strict=True))
    plan = pd.concat([plan, pd.DataFrame([{c: cells.get(c, "") for c in plan.columns}])], ignore_index=True)
    plan.to_csv(folder / "plan.csv", index=False, encoding="utf-8-sig")
    return check_plan(county, policy, folder)


def test_a_volunteer_goes_junior_to_primary_only_from_a_surplus(tmp_path: Path) -> None:
    """PHY volunteers for the primary school, but the junior school has exactly its posts: the move is
    a cross-stage redeployment with no surplus behind it, a wish notwithstanding."""
    from tests.model.counties import cross_stage

    county = cross_stage(3, phy={"volunteer": True, "wishes": ("P1",)})
    report = _with_move(county, tmp_path, "PHY,J1,P1,redeploy,science,本人申请交流。,junior,primary,3.0,True,1")
    across = [v for v in report.violations if v.rule == "redeploy_surplus"]
    assert len(across) == 1 and "跨学段" in across[0].message, report.summary_lines(20)


def test_an_arrival_on_leave_gives_no_exchange_credit(tmp_path: Path) -> None:
    """V (脱产进修) volunteers into 城关第一小学, which has exactly its posts; a redeployment out of it
    in exchange (对调) is not allowed: V fills no post this year."""
    from tests.model.counties import on_leave_volunteer

    report = _with_move(on_leave_volunteer(), tmp_path, "U00,U1,R1,redeploy,chinese,对调。,primary,primary,20.0,False,0")
    surplus = [v for v in report.violations if v.rule == "redeploy_surplus"]
    assert len(surplus) == 1 and "调入在岗教师 0 人" in surplus[0].message, report.summary_lines(20)


def test_a_new_hire_credits_an_exchange_as_the_optimizer_does(tmp_path: Path) -> None:
    """A redeployment out of a school at its norm is allowed when a new hire takes the post it leaves
    (调剂限于富余: surplus + arrivals on duty, a new hire being one). P1 is at its norm (17 for 17.0);
    hiring two PE teachers lets the plan send a P1 Chinese teacher to P2 (short of Chinese) and put a
    hire in P1 (short of PE): `check` accepts it, as the model's rule does."""
    import subprocess
    import sys
    from datetime import date

    from teacheralloc.domain import ClassGroup, School, Teacher
    from teacheralloc.io.write import write_county_csv

    p1 = ["chinese"] * 6 + ["math"] * 4 + ["pe", "english", "music", "art", "science", "morality", "english"]
    p2 = ["chinese", "chinese", "math", "math", "english"]
    county = County.from_records(
        schools=[School(school_id="P1", name="城关小学", township="城关镇", type="primary", area="urban"),
                 School(school_id="P2", name="山乡小学", township="山乡", type="primary", area="rural")],
        classes=[ClassGroup(school_id="P1", grade=g, classes=1, students=54 if g < 6 else 53) for g in range(1, 7)]
        + [ClassGroup(school_id="P2", grade=g, classes=1, students=19) for g in range(1, 7)],
        teachers=[Teacher(teacher_id=f"{school}-{i + 1:02d}", gender="F", birth_date=date(1990, 1, 1),
                          school_id=school, school_since=date(2024, 9, 1), stage="primary", subject=subject)
                  for school, subjects in (("P1", p1), ("P2", p2)) for i, subject in enumerate(subjects)],
        as_of=date(2026, 9, 1),
    )
    write_county_csv(county, tmp_path / "county")
    scenario = tmp_path / "hire.yaml"
    scenario.write_text("name: 招聘2名体育\nbase: county\nas_of: 2026-09-01\nchanges:\n"
                        "  - hire: {count: 2, stage: primary, subject: pe}\n", encoding="utf-8")

    def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "teacheralloc", *args], capture_output=True, text=True,
                              timeout=300)

    planned = run_cli("plan", str(scenario), "--out", str(tmp_path / "plan"), "--quiet")
    assert planned.returncode == 0, planned.stderr
    plan = pd.read_csv(tmp_path / "plan" / "plan.csv", dtype=str, keep_default_na=False)
    hired_into = set(plan.loc[plan["move_type"] == "new_hire", "to_school"])
    exchanged = plan[(plan["move_type"] == "redeploy") & plan["from_school"].isin(hired_into)]
    assert len(exchanged), f"the plan makes no exchange against a hire:\n{plan.iloc[:, :5]}"
    checked = run_cli("check", str(scenario), str(tmp_path / "plan"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_optimal_tier_is_judged_with_the_policys_tolerance() -> None:
    """The bounds check took any gap above 1e-5 for a false `optimal`; the plan marks a tier optimal within
    ten times plan.tier_tolerance, so a county that set it to 0.002 failed its own unedited plans."""
    from teacheralloc.check.figures import check_tier_bounds
    from teacheralloc.policy import load_policy

    summary = {"tiers": [{"tier": "disruption", "value": 100.5, "bound": 100.0, "status": "optimal"}],
               "best_bound": {"disruption": 100.0}}
    loose, out = load_policy(overrides={"plan": {"tier_tolerance": 0.002}}), []
    check_tier_bounds(summary, loose, out)
    assert out == []
    check_tier_bounds(summary, load_policy(), out)
    assert len(out) == 1 and "标为最优" in out[0].message


def test_a_row_longer_than_the_header_is_named_not_a_crash(base: Base, folder: Path) -> None:
    """A cell typed past plan.csv's last column made that row pandas's index and crashed `check` (exit 70,
    a tester): the row is named as an input error; empty cells past the header are what Excel leaves."""
    path = folder / "plan.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join([lines[0], lines[1] + ",,", *lines[2:]]) + "\n", encoding="utf-8")
    assert run(base, folder).ok
    path.write_text("\n".join([lines[0], lines[1], lines[2] + ",备注", *lines[3:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        run(base, folder)
    assert [(p.file.endswith("plan.csv"), p.row) for p in caught.value.problems] == [(True, 3)]
