"""Facts re-derived from the county and the policy alone (复核依据): who may move, rotate or be posted,
each school's level and caps, the distances; nothing from the model."""

from __future__ import annotations

import math

import pandas as pd
from dateutil.relativedelta import relativedelta

from teacheralloc.domain import County, SchoolType, Status
from teacheralloc.policy import Policy


def _calendar_years(start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Completed calendar years and months from start to end (six years from 2020-09-01 on 2026-09-01)."""
    if pd.isna(start) or pd.isna(end):
        return math.nan
    span = relativedelta(pd.Timestamp(end).date(), pd.Timestamp(start).date())
    return span.years + span.months / 12


def teacher_facts(county: County, policy: Policy, pins: pd.DataFrame) -> pd.DataFrame:
    """Per teacher: years at school, exemption (the first reason found), eligibility and flags."""
    rotation = policy.rotation
    t = county.teachers.copy()
    as_of = pd.Timestamp(county.as_of)
    t["stage"] = t["stage"].astype(str)
    t["subject"] = t["subject"].astype(str)
    t["status"] = t["status"].astype(str)
    t["title"] = t["title"].astype(str)
    t["volunteer"] = t["volunteer"].astype(bool)
    t["years_at_school"] = [_calendar_years(since, as_of) for since in t["school_since"]]
    t["retirement_date"] = [
        policy.retirement.retirement_date(str(g), pd.Timestamp(b).date())
        for g, b in zip(t["gender"], t["birth_date"], strict=True)
    ]
    t["years_to_retirement"] = [_calendar_years(as_of, pd.Timestamp(d)) for d in t["retirement_date"]]
    exempt_statuses = {s.value for s in rotation.exempt_statuses}
    service = t["service_until"].notna() & (t["service_until"] > as_of)
    types = county.schools.set_index("school_id")["type"].astype(str)
    special = t["school_id"].map(types).eq("special") & (not policy.plan.special_schools_take_part)
    reasons = []
    for status, bound, until, retire, left, in_special in zip(
        t["status"], service, t["service_until"], t["retirement_date"], t["years_to_retirement"], special,
        strict=True,
    ):
        if status in exempt_statuses:
            reasons.append(f"在岗状态为“{Status(status).label}”")
        elif rotation.exempt_service_obligation and bound:
            reasons.append(f"服务期未满（至 {pd.Timestamp(until).date().isoformat()}）")
        elif left < rotation.exempt_years_to_retirement:
            reasons.append(
                f"距法定退休不足 {rotation.exempt_years_to_retirement:g} 年（{retire.isoformat()} 退休）"
            )
        elif in_special:
            reasons.append("特殊教育学校教师（plan.special_schools_take_part 为 false）")
        else:
            reasons.append("")
    t["exempt"] = reasons
    stay = set(pins.loc[pins["kind"] == "must_stay", "teacher_id"]) if len(pins) else set()
    t["pinned_stay"] = t["teacher_id"].isin(stay)
    t["on_duty"] = True if policy.staffing.count_on_leave else t["status"] == Status.active.value
    t["backbone_flag"] = t["backbone"].astype(str).isin([b.value for b in policy.indicators.backbone_levels])
    t["rotation_eligible"] = (
        (t["exempt"] == "")
        & ~t["pinned_stay"]
        & (t["status"] == Status.active.value)
        & (t["years_at_school"] >= rotation.eligible_years_at_school)
    )
    return t.set_index("teacher_id", drop=False)


def school_facts(county: County, policy: Policy) -> pd.DataFrame:
    s = county.schools.copy()
    s["type"] = s["type"].astype(str)
    s["area"] = s["area"].astype(str)
    s["weak"] = s["weak"].astype(bool)
    s["level"] = [policy.rotation.level(a, w) for a, w in zip(s["area"], s["weak"], strict=True)]
    s["stages"] = [tuple(st.value for st in SchoolType(t).stages) for t in s["type"]]
    s["posts"] = s["school_id"].map(county.teachers.groupby("school_id").size()).fillna(0).astype(int)
    return s.set_index("school_id", drop=False)


def new_hires(county: County, policy: Policy, pins: pd.DataFrame, holding: frozenset[str]) -> pd.DataFrame | None:
    """A scenario's new hires: the teachers at its holding schools, with the facts `teacher_facts`
    gives every teacher; None for a county's own data (no holding schools)."""
    if not holding:
        return None
    waiting = county.teachers[county.teachers["school_id"].isin(holding)]
    return teacher_facts(county.replace(teachers=waiting), policy, pins)


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


class Distances:
    """Road distance: the distances table (either direction, the given one first), else straight-line
    distance from lat/lon × `plan.road_factor`, else unknown (None)."""

    def __init__(self, county: County, schools: pd.DataFrame, policy: Policy) -> None:
        self.table: dict[tuple[str, str], float] = {}
        if county.distances is not None and not county.distances.empty:
            given = list(
                zip(
                    county.distances["from_id"],
                    county.distances["to_id"],
                    county.distances["km"],
                    strict=True,
                )
            )
            for a, b, km in given:
                self.table[(b, a)] = float(km)
            for a, b, km in given:
                self.table[(a, b)] = float(km)
        self.coords = {
            sid: (lat, lon)
            for sid, lat, lon in zip(schools["school_id"], schools["lat"], schools["lon"], strict=True)
        }
        self.factor = policy.plan.road_factor

    def km(self, a: str, b: str) -> float | None:
        if a == b:  # a move within a school (校内跨学段): no road, whatever distances.csv or lat/lon say
            return 0.0
        if (a, b) in self.table:
            return self.table[(a, b)]
        (lat1, lon1), (lat2, lon2) = self.coords[a], self.coords[b]
        if any(v is None or pd.isna(v) for v in (lat1, lon1, lat2, lon2)):
            return None
        return _haversine(float(lat1), float(lon1), float(lat2), float(lon2)) * self.factor
