"""Who may move where (候选): eligibility per teacher, interchangeable groups, and candidate arcs.

Every rule here is a named predicate, stated in the docstring of `teacher_flags` and `build_arcs`
and in docs/plan.md (the grouping in docs/solver.md). Teachers who are interchangeable for every
rule and every objective term (same school, stage, subject and qualifications, same eligibility
flags) form one group: the model decides how many of a group move where, and `assign` names them
afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from teacheralloc.domain import County, SchoolType, Stage, Status, full_years
from teacheralloc.norms import Norms
from teacheralloc.policy import Policy

EXEMPT_LABELS = {
    "maternity": "产假",
    "sick": "病休",
    "seconded": "借调",
    "study": "脱产进修",
    "service": "服务期未满",
    "retirement": "临近退休",
    "pinned": "指定留任",
    "special": "特殊教育学校教师",
}


@dataclass(frozen=True)
class Candidates:
    """The decision space of one county under one policy.

    teachers : per teacher: flags (movable, rotation_eligible, ...) and the group it belongs to.
    units    : per school and stage (`unit` = "school_id|stage"): the norms figures the model uses.
    subjects : per unit and subject: demand and main-subject supply (FTE) before the plan.
    groups   : per group of interchangeable teachers (movable or not): origin unit, subject,
               qualifications, flags and size. Fixed groups still teach and cover subjects.
    pools    : (hub mode) the arrival classes: what a moved teacher is at the destination.
    arcs     : the flow variables, one per row: `direct` (group → unit), `leave` (group → pool) or
               `arrive` (pool → unit), with the subject taught, move type, distance and costs.
    mode     : "hub" (groups → pools → units; compact, exact for counts) or "pairs" (group → unit).
    """

    teachers: pd.DataFrame
    units: pd.DataFrame
    subjects: pd.DataFrame
    groups: pd.DataFrame
    pools: pd.DataFrame
    arcs: pd.DataFrame
    quota_base: int
    quota_target: int
    quota_schools: frozenset[str] | None  # whose rotations count toward the quota (None: every school)
    distance: np.ndarray
    school_index: dict[str, int]
    mode: str
    subject_map: dict[str, str]


# --------------------------------------------------------------------------------------------------
# Teachers
# --------------------------------------------------------------------------------------------------


def retirement_dates(teachers: pd.DataFrame, policy: Policy) -> pd.Series:
    """Statutory retirement date per teacher (with the gradual reform from 2025)."""
    dates = [
        policy.retirement.retirement_date(gender, birth.date())
        for gender, birth in zip(teachers["gender"].astype(str), teachers["birth_date"], strict=True)
    ]
    return pd.Series(pd.to_datetime(dates), index=teachers.index)


def teacher_flags(county: County, policy: Policy, pins: pd.DataFrame) -> pd.DataFrame:
    """Per teacher, the rules that decide whether and how they may move.

    - exempt (不交流): on maternity or sick leave, seconded, in full-time study, under a service
      obligation not yet served, within `rotation.exempt_years_to_retirement` years of retirement,
      or pinned to stay. The first reason found is kept for the report.
    - movable: not exempt, or exempt for any reason but a pin and volunteered (申请交流).
    - rotation_eligible (符合交流条件): movable, active, not exempt, and at least
      `rotation.eligible_years_at_school` years at the current school.
    - support_need: at a non-weak school in `support.from_areas`, title 一级 and less than
      `support.senior_title_rural_years` of rural service: needs a rural posting for 高级职称.
    - support_candidate: support_need, or a volunteer without a wish list at such a school.
    """
    teachers = county.teachers.copy()
    as_of = pd.Timestamp(county.as_of)
    schools = county.schools.set_index("school_id")
    rotation = policy.rotation
    teachers["years_at_school"] = full_years(teachers["school_since"], as_of)
    teachers["retirement_date"] = retirement_dates(teachers, policy)
    teachers["years_to_retirement"] = full_years(as_of, teachers["retirement_date"])
    status = teachers["status"].astype(str)
    exempt = pd.Series("", index=teachers.index, dtype=object)
    exempt_statuses = {s.value for s in rotation.exempt_statuses}
    exempt = exempt.where(~status.isin(exempt_statuses), status)
    service = teachers["service_until"].notna() & (teachers["service_until"] > as_of)
    if rotation.exempt_service_obligation:
        exempt = exempt.where(~((exempt == "") & service), "service")
    near = teachers["years_to_retirement"] < rotation.exempt_years_to_retirement
    exempt = exempt.where(~((exempt == "") & near), "retirement")
    stay_pins = set(pins.loc[pins["kind"] == "must_stay", "teacher_id"])
    pinned_stay = teachers["teacher_id"].isin(stay_pins)
    school_type = teachers["school_id"].map(schools["type"].astype(str))
    if not policy.plan.special_schools_take_part:  # special-education teachers are specialists
        exempt = exempt.where(~((exempt == "") & (school_type == SchoolType.special.value)), "special")
    exempt = exempt.where(~pinned_stay, "pinned")
    teachers["exempt"] = exempt
    volunteer = teachers["volunteer"].astype(bool)
    # A special-education teacher (apart by default) moves only to a wished school: one who volunteered
    # without a wish list was posted out on 支教, leaving the special school short.
    # By the school, not the exemption named: one on leave or under a service obligation there is both.
    apart = (school_type == SchoolType.special.value) & (not policy.plan.special_schools_take_part)
    wishes_given = teachers["wishes"].map(len) > 0
    teachers["movable"] = ((exempt == "") | (volunteer & (~apart | wishes_given))) & ~pinned_stay
    teachers["rotation_eligible"] = (
        teachers["movable"]
        & (exempt == "")
        & (status == Status.active.value)
        & (teachers["years_at_school"] >= rotation.eligible_years_at_school)
    )
    teachers["backbone_flag"] = teachers["backbone"].isin([b.value for b in policy.indicators.backbone_levels])
    teachers["pe_arts_flag"] = teachers["subject"].isin([s.value for s in policy.indicators.pe_arts_subjects])
    teachers["on_duty"] = True if policy.staffing.count_on_leave else status == Status.active.value
    teachers["counted"] = status.isin([s.value for s in policy.indicators.count_statuses])
    area = teachers["school_id"].map(schools["area"].astype(str))
    weak = teachers["school_id"].map(schools["weak"]).astype(bool)
    from_area = area.isin(policy.support.from_areas) & ~weak
    teachers["support_need"] = (
        from_area
        & teachers["movable"]
        & (exempt == "")
        & (teachers["title"].astype(str) == "first")
        & (teachers["rural_years"] < policy.support.senior_title_rural_years)
    )
    no_wishes = teachers["wishes"].map(len) == 0
    teachers["support_candidate"] = teachers["support_need"] | (from_area & teachers["movable"] & volunteer & no_wishes)
    teachers["pin_must_move"] = teachers["teacher_id"].isin(
        set(pins.loc[pins["kind"].isin(["must_move", "to_school"]), "teacher_id"])) & teachers["movable"]
    pinned = set(pins.loc[pins["kind"].isin(["must_move", "to_school", "not_to_school"]), "teacher_id"])
    teachers["singleton"] = teachers["movable"] & ((volunteer & ~no_wishes) | teachers["teacher_id"].isin(pinned))
    return teachers


# --------------------------------------------------------------------------------------------------
# Units (school × stage) and subjects
# --------------------------------------------------------------------------------------------------


def unit_id(school_id: pd.Series | str, stage: pd.Series | str) -> pd.Series | str:
    if isinstance(school_id, str):
        return f"{school_id}|{stage}"
    return school_id.astype(str) + "|" + pd.Series(stage, index=school_id.index).astype(str)


def build_units(county: County, norms: Norms, teachers: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Per school and stage: the figures each rule and objective term needs."""
    plan, ind = policy.plan, policy.indicators
    units = norms.schools.copy()
    units["unit"] = unit_id(units["school_id"], units["stage"])
    units["level"] = [policy.rotation.level(a, w) for a, w in zip(units["area"], units["weak"], strict=True)]
    is_tp = units["type"] == SchoolType.teaching_point.value
    units["weight"] = np.where(is_tp, plan.headcount_weight.get("teaching_point", 1.0),
                               units["area"].map(lambda a: plan.headcount_weight.get(a, 1.0)))
    units["weight"] = units["weight"] + np.where(units["weak"], plan.weak_school_extra, 0.0)
    duty = teachers[teachers["on_duty"]]
    units["before"] = units["unit"].map(unit_id(duty["school_id"], duty["stage"]).value_counts()).fillna(0).astype(int)
    units["target"] = plan.headcount_target(units["required"])
    units["headcount_gap"] = units["target"] - units["before"]
    units["surplus"] = np.floor(np.maximum(0.0, units["before"] - units["target"]) + 1e-9).astype(int)
    counted = teachers[teachers["counted"]]
    counted_unit = unit_id(counted["school_id"], counted["stage"])
    units["backbone_before"] = units["unit"].map(counted_unit[counted["backbone_flag"]].value_counts()).fillna(0)
    units["pe_arts_before"] = units["unit"].map(counted_unit[counted["pe_arts_flag"]].value_counts()).fillna(0)
    per100 = ind.per_100_students
    students = units["students"].astype(float)
    # Teachers needed to meet each per-100 threshold: ⌈students / 100 × threshold⌉ (whole teachers).
    units["backbone_target"] = np.where(
        units["in_evaluation"], np.ceil(students / 100 * units["stage"].map(lambda s: per100.backbone[s]) - 1e-9), 0.0)
    units["pe_arts_target"] = np.where(
        units["in_evaluation"], np.ceil(students / 100 * units["stage"].map(lambda s: per100.pe_arts[s]) - 1e-9), 0.0)
    units["establishment"] = units["establishment"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    posts = teachers.groupby("school_id").size()
    units["school_posts"] = units["school_id"].map(posts).fillna(0).astype(int)
    units["unit_posts"] = units["unit"].map(unit_id(teachers["school_id"], teachers["stage"]).value_counts()
                                            ).fillna(0).astype(int)
    units["holding"] = units["school_id"].isin(county.holding_schools)
    return units


def build_subjects(units: pd.DataFrame, norms: Norms, teachers: pd.DataFrame) -> pd.DataFrame:
    """Per unit and subject: demand (FTE), the whole-teacher target ⌊demand + ½⌋, and main-subject
    teachers on duty (主教学科口径)."""
    demand = norms.subjects[["school_id", "stage", "subject", "demand"]].copy()
    demand["unit"] = unit_id(demand["school_id"], demand["stage"])
    duty = teachers[teachers["on_duty"]]
    main = duty.groupby([unit_id(duty["school_id"], duty["stage"]), duty["subject"].astype(str)]).size()
    where = pd.MultiIndex.from_arrays([demand["unit"], demand["subject"].astype(str)])
    demand["main"] = main.reindex(where).fillna(0).astype(int).to_numpy()
    # Whole teachers: a subject post exists where the demand rounds to at least one teacher. Integer
    # targets keep the assignment model (nearly) integral; fractions are covered by teachers on the spot.
    demand["target"] = np.floor(demand["demand"] + 0.5).astype(int)
    demand["gap"] = demand["target"] - demand["main"]
    columns = ["unit", "subject", "demand", "target", "main", "gap"]
    return demand[demand["target"] > 0][columns].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Groups and arcs
# --------------------------------------------------------------------------------------------------

GROUP_KEY = ["origin", "stage", "subject", "others", "movable", "rotation_eligible", "backbone_flag", "pe_arts_flag",
             "support_candidate", "support_need", "on_duty", "counted", "volunteer"]
#: Where a moved teacher comes from (`zone`: the township, for distances) and what they are at the
#: destination: the key of an arrival pool (hub mode). Every arc's `slot` is `subject`: the teacher
#: arrives to teach `taught`.
POOL_KEY = ["zone", "to_stage", "slot", "taught", "pe_arts_flag", "backbone_flag", "on_duty", "counted", "move_type",
            "level", "cross_stage"]
TRANSFER = ("rotation", "redeploy")
#: `plan.distance_zones: auto` uses about this many (zone × unit) pairs: as many zones of neighbouring
#: townships as ZONE_BUDGET ÷ units, at most one per township (the sample county: its 11 townships;
#: 5,000 teachers: 5 zones; 20,000: one county-wide zone). Measured: docs/benchmarks.md.
ZONE_BUDGET = 1500
ARC_COLUMNS = ["kind", "group", "pool", "pool_to", "origin", "school_id", "dest", "dest_school", "slot", "taught",
               "move_type", "backbone_flag", "pe_arts_flag", "on_duty", "counted", "support_need", "cross_stage", "km",
               "wish_rank"]


def build_groups(teachers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group interchangeable teachers; movable volunteers with wishes and pinned teachers are alone."""
    frame = teachers.copy()
    frame["origin"] = unit_id(frame["school_id"], frame["stage"].astype(str))
    frame["stage"] = frame["stage"].astype(str)
    frame["subject"] = frame["subject"].astype(str)
    frame["others"] = frame["other_subjects"].map(lambda o: tuple(sorted(set(o))))
    key = frame[GROUP_KEY[0]].astype(str)
    for column in GROUP_KEY[1:]:
        key = key + "|" + frame[column].astype(str)
    frame["key"] = key
    alone = frame["singleton"]
    frame.loc[alone, "key"] = "T:" + frame.loc[alone, "teacher_id"]
    ordered = frame.sort_values(["key", "teacher_id"])
    groups = ordered.groupby("key", sort=True).agg(
        **{col: (col, "first") for col in [*GROUP_KEY, "school_id", "singleton"]},
        size=("teacher_id", "size"),
        first_teacher=("teacher_id", "first"),
    ).reset_index()
    groups["group"] = np.arange(len(groups))
    teachers = teachers.copy()
    teachers["group"] = frame["key"].map(dict(zip(groups["key"], groups["group"], strict=True))).to_numpy()
    return groups, teachers


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def unknown_distances(county: County, policy: Policy) -> np.ndarray:
    """Which school pairs (by `distance_lookup`'s index) no distance is known for: no distances.csv row
    (either direction) and a school without lat/lon. A school to itself is known (0 km)."""
    return np.isnan(_given_distances(county, policy)[1]) & ~np.eye(len(county.schools), dtype=bool)


def any_distance_known(county: County, policy: Policy) -> bool:
    """Whether any two schools' distance is known (else unknown ones are 0 km: disruption counts moves)."""
    unknown = unknown_distances(county, policy)
    return bool((~unknown & ~np.eye(len(unknown), dtype=bool)).any())


def _given_distances(county: County, policy: Policy) -> tuple[dict[str, int], np.ndarray]:
    """School index and the distances known (NaN where none is): distances.csv, else lat/lon."""
    ids = county.schools["school_id"].tolist()
    index = {sid: i for i, sid in enumerate(ids)}
    lat = county.schools["lat"].to_numpy(dtype=float)
    lon = county.schools["lon"].to_numpy(dtype=float)
    matrix = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * policy.plan.road_factor
    if county.distances is not None and not county.distances.empty:
        given = county.distances
        src = given["from_id"].map(index).to_numpy()
        dst = given["to_id"].map(index).to_numpy()
        km = given["km"].to_numpy(dtype=float)
        matrix[dst, src] = km  # the reverse direction, where only one is given
        matrix[src, dst] = km  # the given direction wins
    np.fill_diagonal(matrix, 0.0)  # a school to itself (a distances row saying otherwise is not used)
    return index, matrix


def distance_lookup(county: County, policy: Policy) -> tuple[dict[str, int], np.ndarray]:
    """School index and distance matrix (km): distances.csv where given (either direction), else the
    straight-line distance from lat/lon × `plan.road_factor`, else (unknown) the median of the known
    distances between schools of the same township, or of different townships, as the pair is; 0 when
    none is known (then disruption counts moves only). `plan.max_km` never cuts an estimate
    (`unknown_distances`), as `check` does not. Unknown at 0 km drew the plan to them: in a county with
    half its coordinates missing, 49 % of the moves ran between the 23 % of pairs with no known distance."""
    index, matrix = _given_distances(county, policy)
    unknown = np.isnan(matrix)
    if unknown.any():
        township = county.schools["township"].astype(str).to_numpy()
        same = township[:, None] == township[None, :]
        known = ~unknown & ~np.eye(len(index), dtype=bool)
        # With no pair of a kind known: across townships at least the farthest known pair (the median of
        # pairs within a township would pull the plan across townships), within one the median of all.
        fallback = {True: float(np.median(matrix[known])) if known.any() else 0.0,
                    False: float(matrix[known].max()) if known.any() else 0.0}
        for within, part in ((True, same), (False, ~same)):
            pool = known & part
            matrix[unknown & part] = float(np.median(matrix[pool])) if pool.any() else fallback[within]
    holding = [index[s] for s in county.holding_schools if s in index]
    matrix[holding, :] = 0.0  # a new hire comes from nowhere: no kilometres
    matrix[:, holding] = 0.0
    return index, matrix


def distance_known(county: County, origins: pd.Series, destinations: pd.Series) -> np.ndarray:
    """Whether `distance_lookup` knows each (origin, destination) distance: the same school (a nine-year
    school's junior teacher to its primary section: 0 km), given in distances.csv (either direction), or
    both schools have lat/lon. Where not, it is an estimate (plan.csv leaves km blank)."""
    located = county.schools.set_index("school_id")[["lat", "lon"]].notna().all(axis=1)
    known = (origins.map(located).fillna(False).to_numpy(bool)
             & destinations.map(located).fillna(False).to_numpy(bool))
    known |= origins.to_numpy(dtype=object) == destinations.to_numpy(dtype=object)
    if county.distances is not None and not county.distances.empty:
        given = county.distances
        pairs = set(zip(given["from_id"], given["to_id"], strict=True))
        pairs |= {(b, a) for a, b in pairs}
        known |= np.array([(a, b) in pairs for a, b in zip(origins, destinations, strict=True)], dtype=bool)
    return known


def distance_zones(units: pd.DataFrame, policy: Policy, distance: np.ndarray, school_index: dict[str, int],
                   budget: int = ZONE_BUDGET) -> pd.Series:
    """The zone (调配池分区) of each school: where a pooled teacher comes from, for distances.

    `plan.distance_zones`: `township` one zone per township, `none` one county-wide zone, `auto`
    ⌊`budget` ÷ units⌉ zones (at least 1, at most the townships) of neighbouring townships: the
    townships are grouped by k-medoids on their mean school-to-school distance, seeded farthest-first
    from the township with most schools, so the grouping is deterministic."""
    schools = units.drop_duplicates("school_id").set_index("school_id")["township"].astype(str)
    mode = policy.plan.distance_zones
    townships = sorted(schools.unique())
    if mode == "none" or not townships:
        return pd.Series("", index=schools.index)
    if mode == "township":
        return schools
    served = int((units["school_students"] > 0).sum()) if "school_students" in units else len(units)
    count = int(min(len(townships), max(1, round(budget / max(served, 1)))))  # schools with pupils only
    if count == len(townships):
        return schools
    if count == 1:
        return pd.Series("", index=schools.index)
    position = {t: i for i, t in enumerate(townships)}
    member = np.zeros((len(townships), len(distance)))
    for school_id, township in schools.items():
        member[position[township], school_index[school_id]] = 1.0
    sizes = member.sum(axis=1)
    between = (member @ distance @ member.T) / np.outer(sizes, sizes)  # mean school-to-school km
    np.fill_diagonal(between, 0.0)  # a township is in its own zone: a medoid never loses itself
    medoids = [int(np.argmax(sizes))]
    while len(medoids) < count:
        medoids.append(int(np.argmax(between[:, medoids].min(axis=1))))
    for _ in range(20):
        assign = np.argmin(between[:, medoids], axis=1)
        updated = []
        for k in range(count):
            cluster = np.flatnonzero(assign == k)
            if len(cluster) == 0:  # two medoids at the same place: keep this one (its zone stays empty)
                updated.append(medoids[k])
                continue
            updated.append(int(cluster[np.argmin(between[np.ix_(cluster, cluster)].sum(axis=1))]))
        if updated == medoids:
            break
        medoids = updated
    assign = np.argmin(between[:, medoids], axis=1)
    label = {t: townships[medoids[assign[i]]] for i, t in enumerate(townships)}
    return schools.map(label)


def leaving_cap(posts: pd.Series | np.ndarray, share: float) -> np.ndarray:
    """How many teachers a school may send away in one year (every move counts): max(1, ⌊share × posts⌋),
    `rotation.max_share_leaving_school` of the teachers it holds."""
    return np.maximum(1, np.floor(share * np.asarray(posts, dtype=float) + 1e-9))


def capped_sections(units: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """The sections (units) with a leaving cap of their own: every stage of a school with several,
    when `rotation.leaving_cap_by_stage` (a school's one stage is capped by the school's row already),
    with `cap` = `leaving_cap` of the teachers the section holds."""
    if not policy.rotation.leaving_cap_by_stage:
        return units.iloc[:0].assign(cap=pd.Series(dtype=float))
    held = units[units["unit_posts"] > 0]
    sections = held[held.groupby("school_id")["unit"].transform("size") > 1]
    return sections.assign(cap=leaving_cap(sections["unit_posts"], policy.rotation.max_share_leaving_school))


def _unit_facts(units: pd.DataFrame, policy: Policy) -> dict[str, object]:
    """What the destination rules read per unit: closed to transfers (at its 核定编制), rural or weak
    (support postings), special education (takes part only by policy)."""
    table = units.set_index("unit")
    return {
        "closed": (table["school_posts"] >= table["establishment"].fillna(np.inf)),
        "rural_or_weak": (table["area"] == "rural") | table["weak"].astype(bool),
        **({} if policy.plan.special_schools_take_part else {"special": table["type"] == SchoolType.special.value}),
    }


def leave_options(groups: pd.DataFrame, units: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Every way a movable group may leave: (group, slot, subject taught, stage taught, type, level).

    - within the stage, a teacher teaches their main subject or one they are qualified for;
    - a junior teacher may be redeployed (调剂) to primary when `plan.junior_to_primary`, teaching
      the mapped subject (`plan.junior_to_primary_subjects`), from a junior section with a surplus
      (`rules.cross_stage_from_surplus`; a volunteer too: a wish does not make a teacher surplus),
      never a new hire (recruited for a post of its stage: at a holding school, `County.holding_schools`);
    - rotation (交流轮岗) only for rotation-eligible teachers, and `level` is their school's place in
      the rotation direction (they may only go lower); support (支教) only for support candidates.
    Each way is a `subject` slot: the teacher arrives to teach that subject.
    """
    movable = groups[groups["movable"]]
    levels = units.set_index("unit")["level"]
    # Without a surplus a section sends nobody across stages, volunteers included: no such arcs at all
    # (the rule's rows on them made the 20,000-teacher county's LPs 30 % slower for the same tiers).
    surplus = units.set_index("unit")["surplus"] if "surplus" in units else None
    holding = set(units.loc[units["holding"], "unit"]) if "holding" in units else set()
    mapped = {str(k): str(v) for k, v in policy.plan.junior_to_primary_subjects.items()}
    rows = []
    for group in movable.itertuples(index=False):
        level = float(levels[group.origin])
        types = [("redeploy", 0.0)]
        if group.rotation_eligible:
            types.append(("rotation", level))
        if group.support_candidate:
            types.append(("support", 0.0))
        for move_type, move_level in types:
            for taught in dict.fromkeys((group.subject, *group.others)):
                rows.append((group.group, "subject", taught, group.stage, move_type, move_level, False))
        spare = (surplus is None or surplus.get(group.origin, 0) >= 1) and group.origin not in holding
        if group.stage == Stage.junior.value and policy.plan.junior_to_primary and spare:
            taught = mapped.get(group.subject, group.subject)
            rows.append((group.group, "subject", taught, Stage.primary.value, "redeploy", 0.0, True))
    return pd.DataFrame(rows, columns=["group", "slot", "taught", "to_stage", "move_type", "level", "cross_stage"])


def _lookup(keys: pd.Series, table: pd.Series | dict, default: object) -> np.ndarray:
    """`keys.map(table)` as an array (`default` where a key is missing), by one hash lookup of all the
    keys: `Series.map` on pandas' string dtype casts each result back one by one (150,000 keys: 0.045 s
    against 0.007 s), and a school-to-school model maps millions."""
    table = table if isinstance(table, pd.Series) else pd.Series(table, dtype=object if not table else None)
    at = table.index.get_indexer(keys)
    values = table.to_numpy()
    if not len(values):
        return np.full(len(at), default, dtype=object)
    found = values[np.maximum(at, 0)]
    return found if (at >= 0).all() else np.where(at >= 0, found, default)


def _allowed(dest: pd.DataFrame, facts: dict[str, object]) -> pd.Series:
    """Destination rules for (option, unit) rows: establishment (not for a move within the school),
    direction, support areas.

    `level_floor` (hub cascades) makes a rotation pool serve only the units between its level and
    the next lower pool's level; lower units are served through that pool.
    """
    closed = _lookup(dest["dest"], facts["closed"], False).astype(bool)
    if "school_id" in dest:  # a move within the school (校内跨学段) leaves its posts as they are
        closed &= (dest["school_id"].to_numpy(dtype=object) != dest["dest_school"].to_numpy(dtype=object))
    transfer = dest["move_type"].isin(TRANSFER).to_numpy()
    ok = (~(transfer & closed)).copy()
    rotation = (dest["move_type"] == "rotation").to_numpy()
    dest_level = dest["dest_level"].to_numpy()
    ok &= ~rotation | (dest_level < dest["level"].to_numpy())
    if "level_floor" in dest:
        ok &= ~rotation | (dest_level >= dest["level_floor"].to_numpy())
    if "special" in facts:
        ok &= ~_lookup(dest["dest"], facts["special"], False).astype(bool)
    support = (dest["move_type"] == "support").to_numpy()
    ok &= ~support | _lookup(dest["dest"], facts["rural_or_weak"], False).astype(bool)
    return pd.Series(ok, index=dest.index)


def _with_units(options: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Cross options with every unit of the stage they teach in."""
    targets = units[["unit", "school_id", "stage", "level"]].rename(
        columns={"unit": "dest", "school_id": "dest_school", "stage": "to_stage", "level": "dest_level"})
    return options.merge(targets, on="to_stage", how="inner")


def build_arcs(
    groups: pd.DataFrame,
    units: pd.DataFrame,
    subjects: pd.DataFrame,
    teachers: pd.DataFrame,
    policy: Policy,
    pins: pd.DataFrame,
    distance: np.ndarray,
    school_index: dict[str, int],
    mode: str = "hub",
    unknown: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flow variables (arcs) and, in hub mode, the arrival pools. `unknown`: the school pairs of
    unknown distance (estimated in `distance`), which `plan.max_km` does not cut.

    Destination rules (hard): a school at or above its 核定编制 receives no transfer (a support posting
    keeps the post at home and may still go); rotation only toward a lower level (urban → town →
    rural, weak schools half a level lower); support only to rural or weak schools; never to the
    teacher's own school; volunteers with a wish list only to schools on it (individual
    rationality); pins: to_school only there, not_to_school never there; `plan.max_km` (off by
    default) bounds every move but a volunteer's own wish. Destinations are not pruned to where a need
    existed before the plan: a move can open a need elsewhere (a rotation's replacement, an exchange),
    and `tests/model` shows that pooling keeps every tier's optimum of the school-to-school model.
    """
    facts = _unit_facts(units, policy)
    options = leave_options(groups, units, policy)
    info = groups.set_index("group")
    for col in ("origin", "school_id", "backbone_flag", "pe_arts_flag", "on_duty", "counted", "support_need",
                "singleton", "first_teacher"):
        options[col] = options["group"].map(info[col])
    zone_of = distance_zones(units, policy, distance, school_index)
    options["zone"] = options["school_id"].map(zone_of).fillna("")
    singleton = options["singleton"].astype(bool)
    if mode == "hub":
        # A group's move to its own school's other section (校内跨学段) is no pool's: pools never return
        # to the origin school (`rules.no_return_to_own_school`), so it is a direct arc of its own.
        direct = pd.concat([options[singleton & (options["slot"] == "subject")],
                            options[~singleton & options["cross_stage"].astype(bool)
                                    & policy.plan.within_school_cross_stage].assign(own_only=True)],
                           ignore_index=True)
        pooled = options[~singleton]
    else:
        direct = options[options["slot"] == "subject"]
        pooled = options.iloc[0:0]
    direct_arcs = _direct_arcs(direct, units, teachers, pins, facts, distance, school_index, policy, unknown)
    hub, pools = _hub_arcs(pooled, units, facts, distance, school_index, policy)
    frames = [frame for frame in (direct_arcs, hub) if len(frame)]
    arcs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ARC_COLUMNS)
    return _cost_arcs(arcs, units, policy), pools


def _direct_arcs(
    options: pd.DataFrame, units: pd.DataFrame, teachers: pd.DataFrame, pins: pd.DataFrame, facts: dict[str, object],
    distance: np.ndarray, school_index: dict[str, int], policy: Policy, unknown: np.ndarray | None = None,
) -> pd.DataFrame:
    """Group → unit arcs with exact distances (volunteers, pinned teachers; every group in pairs mode).
    A direct arc's teacher teaches `taught`; it counts for that subject wherever it arrives."""
    if options.empty:
        return pd.DataFrame(columns=ARC_COLUMNS)
    # Plain dicts: this runs once per (option, unit) row, millions at province scale.
    wishes = dict(zip(teachers["teacher_id"], teachers["wishes"], strict=True))
    volunteer = dict(zip(teachers["teacher_id"], teachers["volunteer"].astype(bool), strict=True))
    to_school = pins[pins["kind"] == "to_school"].groupby("teacher_id")["school_id"].first()
    # A volunteer with wishes, or a teacher pinned to a school, can only go there: cross those options
    # with their own schools' units, not with every unit in the county (the filters below still apply).
    owner = options["first_teacher"].where(options["singleton"].astype(bool))
    own_only = (options["own_only"].fillna(False).astype(bool) if "own_only" in options
                else pd.Series(False, index=options.index))
    limited = [
        (home,) if only
        else (to_school[t],) if isinstance(t, str) and t in to_school.index
        else tuple(wishes[t]) if isinstance(t, str) and volunteer[t] and len(wishes[t]) else None
        for t, only, home in zip(owner, own_only, options["school_id"], strict=True)
    ]
    bounded = pd.Series([x is not None for x in limited], index=options.index)
    targets = units[["unit", "school_id", "stage", "level"]].rename(
        columns={"unit": "dest", "school_id": "dest_school", "stage": "to_stage", "level": "dest_level"})
    not_to = pins[pins["kind"] == "not_to_school"][["teacher_id", "school_id"]]
    leaving = frozenset(pins.loc[pins["kind"] == "must_move", "teacher_id"])
    shared = _DirectRules(wishes, volunteer, to_school, not_to, targets, facts, distance, school_index, policy,
                          unknown, leaving)
    # In slices of about 200,000 (option, unit) rows, each kept with its labels as categories: the
    # whole cross product of a 5,000-teacher county held 600 MB of Python strings at once.
    categories = {"origin": options["origin"], "school_id": options["school_id"], "dest": targets["dest"],
                  "dest_school": targets["dest_school"], "slot": pd.Series(["subject"]), "taught": options["taught"],
                  "move_type": options["move_type"], "kind": pd.Series(["direct"])}
    categories = {col: pd.CategoricalDtype(sorted(set(values.dropna()))) for col, values in categories.items()}
    per_option = max(int(targets.groupby("to_stage").size().max()), 1)
    step = max(1, DIRECT_SLICE_ROWS // per_option)
    frames = [_direct_rows(options.iloc[i:i + step], bounded.iloc[i:i + step], limited[i:i + step], shared)
              .astype(categories) for i in range(0, len(options), step)]
    return pd.concat(frames, ignore_index=True)


#: About how many (option, unit) rows `_direct_arcs` crosses at a time.
DIRECT_SLICE_ROWS = 200_000


@dataclass
class _DirectRules:
    """What every slice of `_direct_arcs` reads."""

    wishes: dict[str, tuple[str, ...]]
    volunteer: dict[str, bool]
    to_school: pd.Series
    not_to: pd.DataFrame
    targets: pd.DataFrame
    facts: dict[str, object]
    distance: np.ndarray
    school_index: dict[str, int]
    policy: Policy
    unknown: np.ndarray | None = None  # pairs of unknown distance: `plan.max_km` does not cut them
    leaving: frozenset[str] = frozenset()  # teachers pinned must_move: they leave their school


def _direct_rows(options: pd.DataFrame, bounded: pd.Series, limited: list[tuple[str, ...] | None], rules: _DirectRules
                 ) -> pd.DataFrame:
    """The direct arcs of some options (see `_direct_arcs`)."""
    wishes, volunteer, to_school, not_to = rules.wishes, rules.volunteer, rules.to_school, rules.not_to
    targets, facts, distance, school_index, policy = (rules.targets, rules.facts, rules.distance, rules.school_index,
                                                      rules.policy)
    few = options[bounded].assign(dest_school=[x for x in limited if x is not None]).explode("dest_school")
    rows = pd.concat([few.merge(targets, on=["to_stage", "dest_school"], how="inner"),
                      options[~bounded].merge(targets, on="to_stage", how="inner")], ignore_index=True)
    # Never to the teacher's own school, but for a surplus junior teacher's redeployment to its primary
    # section (校内跨学段调剂: a nine-year school's own; not for a teacher pinned to leave it).
    own = (rows["dest_school"] == rows["school_id"]).to_numpy()
    rows = rows[~own | (rows["cross_stage"].astype(bool).to_numpy() & policy.plan.within_school_cross_stage
                        & ~rows["first_teacher"].isin(rules.leaving).to_numpy())]
    teacher = rows["first_teacher"].where(rows["singleton"].astype(bool))
    # Wish ranks by a merge on (teacher, school): this runs on every (option, unit) row.
    wished = [(t, school, r) for t in teacher.dropna().unique() if volunteer[t]
              for school, r in {school: r + 1 for r, school in enumerate(wishes[t])}.items()]
    rank = pd.Series([r for *_, r in wished], dtype=int,
                     index=pd.MultiIndex.from_tuples([(t, d) for t, d, _ in wished], names=["t", "d"])
                     if wished else pd.MultiIndex.from_arrays([[], []], names=["t", "d"]))
    at = rank.index.get_indexer(pd.MultiIndex.from_arrays([teacher, rows["dest_school"]]))
    rows["wish_rank"] = np.where(at >= 0, rank.to_numpy()[at] if len(rank) else 0, 0)
    # The own school on a wish list does not count (validate: 志愿学校不含本校): no wished move within it.
    rows.loc[(rows["dest_school"] == rows["school_id"]).to_numpy(), "wish_rank"] = 0
    has_wishes = teacher.isin({t for t, _, _ in wished})
    pinned_to = _lookup(teacher, to_school, None)
    keep = ~has_wishes | (rows["wish_rank"] > 0)
    keep &= pd.isna(pinned_to) | (pinned_to == rows["dest_school"].to_numpy(dtype=object))
    if not not_to.empty:
        banned = set(zip(not_to["teacher_id"], not_to["school_id"], strict=True))
        keep &= ~pd.Series([(t, d) in banned for t, d in zip(teacher, rows["dest_school"], strict=True)],
                           index=rows.index)
    rows = rows[keep]
    origin_idx = _lookup(rows["school_id"], school_index, -1).astype(int)
    dest_idx = _lookup(rows["dest_school"], school_index, -1).astype(int)
    if (origin_idx < 0).any() or (dest_idx < 0).any():  # every school is in the matrix: a bug otherwise
        raise KeyError("a school of the arcs has no row in the distance matrix")
    rows = rows.assign(km=distance[origin_idx, dest_idx])
    if policy.plan.max_km is not None:
        guessed = rules.unknown[origin_idx, dest_idx] if rules.unknown is not None else False
        rows = rows[(rows["km"] <= policy.plan.max_km) | (rows["wish_rank"] > 0) | guessed]
    rows = rows[_allowed(rows, facts)].assign(kind="direct", pool=-1, pool_to=-1, slot="subject")
    return rows[ARC_COLUMNS]


def _cascade(pools: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rotation pools that differ only in level form a chain, highest level first: each passes
    teachers down to the next (they may go anywhere lower) and itself serves only the units between
    its level and the next one's. Returns the pools with `level_floor` and the cascade arcs."""
    pools = pools.copy()
    family = [c for c in POOL_KEY if c != "level"]
    rotation = pools[pools["move_type"] == "rotation"].sort_values([*family, "level"], ascending=[
        *[True] * len(family), False], kind="stable")
    same = rotation.groupby(family, sort=False).cumcount().to_numpy() > 0  # not the chain's head
    ids, levels = rotation["pool"].to_numpy(), rotation["level"].to_numpy(float)
    lower = np.flatnonzero(same)
    links = pd.DataFrame({"pool": ids[lower - 1], "pool_to": ids[lower]})
    floor = pd.Series(levels[lower], index=ids[lower - 1])
    pools["level_floor"] = pools["pool"].map(floor).fillna(-np.inf).astype(float)
    return pools, links


def _hub_arcs(
    options: pd.DataFrame, units: pd.DataFrame, facts: dict[str, object], distance: np.ndarray,
    school_index: dict[str, int], policy: Policy,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leave arcs (group → pool), cascade arcs (pool → lower pool), arrive arcs (pool → unit) and the
    pools. An arrival's distance is the least distance from any school that can feed the pool (other
    than the destination itself): a lower bound, made exact by `routes` afterwards."""
    empty_pools = pd.DataFrame(columns=["pool", *POOL_KEY, "level_floor"])
    if options.empty:
        return pd.DataFrame(columns=ARC_COLUMNS), empty_pools
    options = options.copy()
    options["level"] = np.where(options["move_type"] == "rotation", options["level"], 0.0)
    options["taught_key"] = np.where(options["slot"] == "subject", options["taught"], "")
    key = [c if c != "taught" else "taught_key" for c in POOL_KEY]
    pools = options[key].drop_duplicates().sort_values(key).reset_index(drop=True).rename(
        columns={"taught_key": "taught"})
    pools["pool"] = np.arange(len(pools))
    options = options.merge(pools.rename(columns={"taught": "taught_key"}), on=key, how="left")
    pools, links = _cascade(pools)
    leave = options.assign(kind="leave", pool_to=-1, dest=None, dest_school=None, km=0.0, wish_rank=0)
    cascade = links.merge(pools, on="pool", how="left").assign(
        kind="cascade", group=-1, origin=None, school_id=None, dest=None, dest_school=None, km=0.0, wish_rank=0,
        support_need=False)
    arrive = _with_units(pools, units)
    arrive = arrive[_allowed(arrive, facts)]
    # Distances, made exact enough to choose who leaves: each origin school o gets a potential c(o, P) =
    # its distance to the nearest unit it could reach through pool P; the leave arc carries c and the
    # arrival (Q, d) carries min over possible origins of km(o, d) − c(o, P) ≥ 0. Any move o → d then
    # costs at least as much as it really does in total (a valid lower bound), and origins far from
    # every need pay for it when they leave.
    below: dict[int, list[int]] = {int(p): [int(p)] for p in pools["pool"]}
    children = dict(zip(links["pool"].astype(int), links["pool_to"].astype(int), strict=True))
    for pool in below:
        current = pool
        while current in children:
            current = children[current]
            below[pool].append(current)
    above: dict[int, list[int]] = {int(p): [] for p in pools["pool"]}
    for pool, chain in below.items():
        for lower in chain:
            above[lower].append(pool)
    dest_idx = arrive["dest_school"].map(school_index).to_numpy(dtype=int)
    dest_of_pool = {int(p): np.unique(dest_idx[pos]) for p, pos in arrive.groupby("pool").indices.items()}
    entry = {int(p): np.array(sorted({school_index[s] for s in g}), dtype=int)
             for p, g in options.groupby("pool")["school_id"]}
    potential: dict[tuple[int, int], float] = {}
    for pool, origins in entry.items():
        reach = [dest_of_pool[q] for q in below[pool] if q in dest_of_pool]
        targets = np.unique(np.concatenate(reach)) if reach else np.array([], dtype=int)
        for origin in origins:
            others = targets[targets != origin]
            potential[(origin, pool)] = float(distance[origin, others].min()) if len(others) else 0.0
    km = np.full(len(arrive), np.inf)
    nearest = np.full(len(arrive), np.inf)
    for pool, positions in arrive.groupby("pool").indices.items():
        sources = [(o, upper) for upper in above[int(pool)] for o in entry.get(upper, ())]
        if not sources:
            continue
        rows = np.array([o for o, _ in sources], dtype=int)
        shift = np.array([potential[(o, upper)] for o, upper in sources])
        block = distance[np.ix_(rows, dest_idx[positions])].copy()
        block[rows[:, None] == dest_idx[positions][None, :]] = np.inf
        nearest[positions] = block.min(axis=0)
        km[positions] = np.maximum((block - shift[:, None]).min(axis=0), 0.0)
    arrive = arrive.assign(km=km, nearest=nearest)
    arrive = arrive[np.isfinite(arrive["km"])]
    if policy.plan.max_km is not None:
        arrive = arrive[arrive["nearest"] <= policy.plan.max_km]
    leave["km"] = [potential.get((school_index[s], int(p)), 0.0) for s, p in
                   zip(leave["school_id"], leave["pool"], strict=True)]
    arrive = arrive.assign(kind="arrive", group=-1, pool_to=-1, origin=None, school_id=None, wish_rank=0,
                           support_need=False)
    frames = [leave[ARC_COLUMNS], cascade[ARC_COLUMNS], arrive[ARC_COLUMNS]]
    return pd.concat([f for f in frames if len(f)], ignore_index=True), pools


def _cost_arcs(arcs: pd.DataFrame, units: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Disruption (tier 4) and wish (tier 5) coefficients. A pooled move's cost sits on its leave arc
    (move cost) and its arrive arc (distance, cross-stage); a direct arc carries both. A volunteer's
    move to a wished school is not disruption. A support posting of a teacher who needs rural
    service for promotion scores `plan.support_need_score`."""
    plan = policy.plan
    if arcs.empty:
        return pd.DataFrame(columns=["arc", *ARC_COLUMNS, "voluntary", "disruption", "wish_score"])
    arcs = arcs.copy()
    for col in ("backbone_flag", "pe_arts_flag", "on_duty", "counted", "support_need", "cross_stage"):
        arcs[col] = arcs[col].fillna(False).astype(bool)
    arcs["wish_rank"] = arcs["wish_rank"].fillna(0).astype(int)
    arcs["voluntary"] = arcs["wish_rank"] > 0
    kind = arcs["kind"]
    move = np.where(kind.isin(["direct", "leave"]) & ~arcs["voluntary"], plan.move_cost, 0.0)
    km = arcs["km"].astype(float)
    travel = np.where(kind.isin(["direct", "arrive"]) & ~arcs["voluntary"],
                      plan.km_cost * km + plan.cross_stage_cost * arcs["cross_stage"], 0.0)
    travel = travel + np.where(kind == "leave", plan.km_cost * km, 0.0)  # the origin's distance potential
    arcs["disruption"] = move + travel
    scores = np.r_[0.0, np.asarray(plan.wish_score, dtype=float)]  # rank 0: no wish
    wish = scores[np.minimum(arcs["wish_rank"].to_numpy(dtype=int), len(scores) - 1)]  # beyond the list: the last
    supported = kind.isin(["direct", "leave"]) & (arcs["move_type"] == "support") & arcs["support_need"]
    arcs["wish_score"] = wish + np.where(supported, plan.support_need_score, 0.0)
    for col in ("group", "pool", "pool_to"):
        arcs[col] = arcs[col].fillna(-1).astype(int)
    arcs = arcs.sort_values(["kind", "group", "pool", "pool_to", "dest", "slot", "taught", "move_type"],
                            na_position="first").reset_index(drop=True)
    arcs.insert(0, "arc", np.arange(len(arcs)))
    # Labels as categories: a school-to-school model has a million arcs, and eight string columns
    # of Python objects took 500 MB of the 567 MB (5,000 teachers).
    arcs = arcs.astype({col: "category" for col in LABEL_COLUMNS})
    for col in LABEL_COLUMNS:  # the categories present, as if made from the labels themselves
        arcs[col] = arcs[col].cat.remove_unused_categories()
    return arcs


#: The arc columns that hold labels (school, unit, subject, kind codes), stored as categories.
LABEL_COLUMNS = ("kind", "origin", "school_id", "dest", "dest_school", "slot", "taught", "move_type")


def quota_figures(teachers: pd.DataFrame, units: pd.DataFrame, policy: Policy
                  ) -> tuple[int, int, frozenset[str] | None]:
    """Rotation quota: (eligible teachers in the base, rotations required = ⌈share × base⌉, the schools
    whose rotations count toward it).

    With `rotation.quota_base: sending`, the base is the eligible teachers of urban and town schools
    that are not weak (城镇学校、优质学校 in the national text), and only their rotations count: a
    rural school's teacher rotated to a weak rural school is a rotation, but not out of the base the
    quota is a share of. With `all`, every eligible teacher and every rotation (schools None).
    """
    eligible = teachers[teachers["rotation_eligible"]]
    schools: frozenset[str] | None = None
    if policy.rotation.quota_base == "sending":
        table = units.drop_duplicates("school_id").set_index("school_id")
        sending = (table["area"] != "rural") & ~table["weak"].astype(bool)
        schools = frozenset(sending.index[sending.to_numpy(dtype=bool)].astype(str))
        eligible = eligible[eligible["school_id"].isin(schools).to_numpy(dtype=bool)]
    base = len(eligible)
    return base, math.ceil(policy.rotation.min_share_of_eligible * base - 1e-9), schools


def build_candidates(
    county: County, norms: Norms, policy: Policy, pins: pd.DataFrame, mode: str | None = None,
) -> Candidates:
    """The decision space, in a fixed order: teachers → units → subjects → groups → arcs.

    `mode` defaults to "hub", or "pairs" when a distance limit is set (pooling cannot see pairs).
    """
    mode = mode or ("pairs" if policy.plan.max_km is not None else "hub")
    teachers = teacher_flags(county, policy, pins)
    units = build_units(county, norms, teachers, policy)
    subjects = build_subjects(units, norms, teachers)
    groups, teachers = build_groups(teachers)
    school_index, distance = distance_lookup(county, policy)
    unknown = unknown_distances(county, policy) if policy.plan.max_km is not None else None
    arcs, pools = build_arcs(groups, units, subjects, teachers, policy, pins, distance, school_index, mode=mode,
                             unknown=unknown)
    base, target, quota_schools = quota_figures(teachers, units, policy)
    return Candidates(teachers=teachers, units=units, subjects=subjects, groups=groups, pools=pools, arcs=arcs,
                      quota_base=base, quota_target=target, quota_schools=quota_schools, distance=distance,
                      school_index=school_index, mode=mode,
                      subject_map={str(k): str(v) for k, v in policy.plan.junior_to_primary_subjects.items()})
