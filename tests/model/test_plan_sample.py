"""Invariants of the plan for the built-in sample county (scenarios/sample-county, 2,000 teachers),
solved once for the module with a generous time limit (~20 s)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.model.counties import AS_OF
from tests.model.counties import checked_plan as plan_county

from teacheralloc.domain import County
from teacheralloc.io.read import load_county
from teacheralloc.model.solve import SolveParams
from teacheralloc.plan import Plan
from teacheralloc.policy import Policy

SAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "sample-county"
POLICY = Policy.default()


@pytest.fixture(scope="module")
def county() -> County:
    return load_county(SAMPLE, as_of=AS_OF)


@pytest.fixture(scope="module")
def plan(county: County) -> Plan:
    return plan_county(county, POLICY, params=SolveParams(time_limit_s=600))


@pytest.fixture(scope="module")
def movers(plan: Plan, county: County) -> pd.DataFrame:
    """The moves joined with the movers' records and both schools' areas and weak flags."""
    schools = county.schools.set_index("school_id")
    frame = plan.moves.merge(
        county.teachers, on="teacher_id", how="left", suffixes=("", "_teacher"), validate="one_to_one"
    )
    for side in ("from", "to"):
        frame[f"{side}_area"] = frame[f"{side}_school"].map(schools["area"].astype(str))
        frame[f"{side}_weak"] = frame[f"{side}_school"].map(schools["weak"]).astype(bool)
    return frame


def test_status_and_exact_tiers(plan: Plan) -> None:
    assert plan.status in {"optimal", "feasible"}
    statuses = {t.name: t.status for t in plan.tiers}
    assert [t.name for t in plan.tiers] == list(POLICY.plan.tiers)
    for name in ("quota", "headcount", "subject", "balance"):
        assert statuses[name] == "optimal", (name, plan.tiers)
    for t in plan.tiers:
        if t.name in ("quota", "headcount", "subject", "balance"):
            assert t.value <= t.before + 1e-6, t  # the plan never makes a tier worse than doing nothing
            assert t.value == pytest.approx(t.bound, rel=1e-6, abs=1e-6), t


def test_disruption_within_the_accepted_gap(plan: Plan) -> None:
    """Issue 4: on the sample county the disruption tier ends within `plan.lower_tier_gap` (0.5 %) of its
    proven bound."""
    _assert_lower_tiers_within_gap(plan, ("disruption",))


@pytest.mark.xfail(strict=True, reason=(
    "Issue 4's 0.5 % is unmet as of 2026-09-01: −134 against the LP-rounded bound −136 (1.5 %; before the "
    "rounding MIP −135 against −137, whose optimum is −136: plan.fixing_free_variables: 40000 proved it in "
    "33 s). Which of several equally good disruption plans HiGHS returns sets the room this tier has."))
def test_wishes_within_the_accepted_gap(plan: Plan) -> None:
    """Issue 4: the wishes tier within `plan.lower_tier_gap` (0.5 %) of its proven bound."""
    _assert_lower_tiers_within_gap(plan, ("wishes",))


def _assert_lower_tiers_within_gap(plan: Plan, names: tuple[str, ...] = ("disruption", "wishes")) -> None:
    for t in plan.tiers:
        if t.name in names:
            assert t.bound <= t.value + 1e-6, t
            assert t.value - t.bound <= POLICY.plan.lower_tier_gap * max(1.0, abs(t.bound)) + 1e-6, t


@pytest.fixture(scope="module")
def later_plan() -> Plan:
    """The same county as of 2027-09-01 (`plan` without `--as-of` from 2026-09-02 on)."""
    import datetime

    return plan_county(load_county(SAMPLE, as_of=datetime.date(2027, 9, 1)), POLICY)


def test_disruption_within_the_accepted_gap_as_of_2027(later_plan: Plan) -> None:
    """The room above the disruption LP leaves more variables free than `plan.fixing_free_variables`; the
    nearer target's MIP proves the plan within the gap."""
    _assert_lower_tiers_within_gap(later_plan, ("disruption",))


def test_wishes_within_the_accepted_gap_as_of_2027(later_plan: Plan) -> None:
    """Issue 4 at the default date (the issue's `plan scenarios/sample-county`): the wishes tier within 0.5 %
    of its bound. Since pooled tiers first try a MIP over the LP's fractional arcs it is −130 = bound; which
    of several equally good disruption plans HiGHS returns sets the room this tier has (−127 against −129
    before, whose optimum is −128)."""
    _assert_lower_tiers_within_gap(later_plan, ("wishes",))


def test_quotas_met(plan: Plan, county: County) -> None:
    quota = plan.quota
    assert quota["required_rotations"] > 0
    assert quota["rotations"] >= quota["required_rotations"]
    assert (
        quota["backbone_rotations"]
        >= POLICY.rotation.min_backbone_share_of_rotators * quota["rotations"] - 1e-9
    )
    assert quota["rotation_quota_met"] and quota["backbone_quota_met"] and quota["shortfall"] == []
    assert quota["rotations_all"] == plan.moves_by_type()["rotation"]
    schools = county.schools
    sending = set(schools.loc[(schools["area"].astype(str) != "rural") & ~schools["weak"].astype(bool), "school_id"])
    rotations = plan.moves[plan.moves["move_type"] == "rotation"]
    assert quota["rotations"] == rotations["from_school"].isin(sending).sum()  # only the base's schools count


def test_every_move_has_a_reason_naming_the_destination(plan: Plan, county: County) -> None:
    names = county.schools.set_index("school_id")["name"]
    assert len(plan.moves) > 0
    for move in plan.moves.itertuples(index=False):
        assert isinstance(move.reason, str) and move.reason.strip(), move
        assert names[move.to_school] in move.reason, (move.teacher_id, move.reason)
        # A move that is not the teacher's own wish names what it does for the destination: 11 support
        # postings said only 到X任教数学 where X's subject shortage fell (its teachers take the subjects over).
        assert move.voluntary or not move.reason.startswith("到"), (move.teacher_id, move.reason)


def test_no_teacher_moves_twice(plan: Plan, movers: pd.DataFrame) -> None:
    assert plan.moves["teacher_id"].is_unique
    assert movers["school_id"].notna().all()  # every mover is a teacher of the county


def test_county_shortage_not_worse(plan: Plan) -> None:
    schools = plan.schools
    before = schools["gap_before"].clip(lower=0).sum()
    after = schools["gap_after"].clip(lower=0).sum()
    assert after <= before + 1e-9
    assert schools["teachers_before"].sum() == schools["teachers_after"].sum()  # moves only, nobody lost


def test_summary_indicators_count_the_teachers_on_each_side(plan: Plan) -> None:
    """summary.json's county indicators: `teachers` and `shortage` before the plan are the schools
    table's before columns, after it its after columns (per stage)."""
    schools = plan.schools.assign(stage=plan.schools["stage"].astype(str))
    for stage, part in schools.groupby("stage"):
        before, after = plan.indicators["before"][stage], plan.indicators["after"][stage]
        assert before["teachers"] == part["teachers_before"].sum()
        assert after["teachers"] == part["teachers_after"].sum()
        assert after["shortage"] == pytest.approx(part["gap_after"].clip(lower=0).sum(), abs=0.01)
        assert after["shortage"] < before["shortage"]


def test_moves_follow_the_hard_rules(plan: Plan, movers: pd.DataFrame, county: County) -> None:
    """From the mover's own school to another, or a redeployment to its other section (校内跨学段);
    rotations only by eligible teachers toward a lower level; exempt teachers only as volunteers; a
    volunteer with wishes only to a wished school; no school loses more than 20 % of its teachers."""
    assert (movers["from_school"] == movers["school_id"]).all()
    assert (movers["from_stage"] == movers["stage"].astype(str)).all()
    home = movers[movers["from_school"] == movers["to_school"]]
    assert ((home["move_type"] == "redeploy") & (home["from_stage"] == "junior") & (home["to_stage"] == "primary")
            & (home["km"] == 0)).all()
    rotation = POLICY.rotation
    level = lambda area, weak: rotation.level(area, weak)  # noqa: E731
    rotations = movers[movers["move_type"] == "rotation"]
    # on or before the date six calendar years back (2020-09-01 for 2026-09-01)
    latest = pd.Timestamp(AS_OF) - pd.DateOffset(years=int(rotation.eligible_years_at_school))
    assert (rotations["school_since"] <= latest).all()
    assert all(
        level(a, w) < level(b, v)
        for a, w, b, v in zip(
            rotations["to_area"],
            rotations["to_weak"],
            rotations["from_area"],
            rotations["from_weak"],
            strict=True,
        )
    )
    exempt = movers["service_until"].notna() & (movers["service_until"] > pd.Timestamp(AS_OF))
    exempt |= movers["status"].astype(str) != "active"
    assert movers.loc[exempt, "volunteer"].all()
    wished = movers[movers["volunteer"] & (movers["wishes"].map(len) > 0)]
    assert len(wished) > 0 and wished["voluntary"].all()
    assert all(to in wishes for to, wishes in zip(wished["to_school"], wished["wishes"], strict=True))
    posts = county.teachers.groupby("school_id").size()
    leaving = plan.moves.groupby("from_school").size()
    cap = (posts * rotation.max_share_leaving_school + 1e-9).astype(int).clip(lower=1)
    assert (leaving <= cap.reindex(leaving.index)).all()
