"""Hard rules: one function per rule, each adding named constraints to the model (硬性规则).

Each docstring states the rule as a sentence with its Chinese term and where its number comes from.
Rules that depend only on who may go where (stage, wishes, pins, direction, establishment closed,
distance limit) are already in the candidate arcs (`candidates.build_arcs`); the rules here bind
counts across arcs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from teacheralloc.model.builder import INF, AllocationModel
from teacheralloc.model.candidates import capped_sections, leaving_cap


def at_most_one_move(m: AllocationModel) -> None:
    """A teacher moves at most once (每人至多调动一次); a teacher pinned to move (must_move or
    to_school) moves. Σ flow leaving a group ≤ its number of teachers (= 1 for such a pin)."""
    groups = m.candidates.groups
    must = set(m.candidates.teachers.loc[m.candidates.teachers["pin_must_move"], "teacher_id"])
    pinned = (groups["singleton"].to_numpy(bool) & groups["first_teacher"].isin(must).to_numpy())
    index = pd.Index(groups["group"])
    where, arcs = m.arcs_by("group", m.arc_masks["leaving"], index)
    present = np.zeros(len(groups), dtype=bool)
    present[where] = True
    present |= pinned
    rows = np.full(len(groups), -1, dtype=np.int64)
    chosen = np.flatnonzero(present)
    size = groups["size"].to_numpy(float)[chosen]
    lower = np.where(pinned[chosen], 1.0, -INF)
    upper = np.where(pinned[chosen], 1.0, size)
    rows[chosen] = m.rows_for("at_most_one_move", lower, upper, len(chosen))
    m.model.add_terms(rows[where], arcs)
    m.pinned_rows = rows[np.flatnonzero(pinned)]
    m.pinned_teachers = groups["first_teacher"].to_numpy(dtype=object)[np.flatnonzero(pinned)]


def pool_balance(m: AllocationModel) -> None:
    """Hub mode: every teacher who leaves into an arrival pool arrives somewhere (流量守恒)."""
    arcs = m.candidates.arcs
    index = pd.Index(m.candidates.pools["pool"])
    rows = m.rows_for("pool_balance", 0.0, 0.0, len(index))
    kind = arcs["kind"].to_numpy()
    into = arcs["pool"].where(kind != "cascade", arcs["pool_to"])
    where, ids = m.arcs_by(into, np.isin(kind, ["leave", "cascade"]), index)
    m.model.add_terms(rows[where], ids, 1.0)
    where, ids = m.arcs_by("pool", np.isin(kind, ["arrive", "cascade"]), index)
    m.model.add_terms(rows[where], ids, -1.0)


def no_return_to_own_school(m: AllocationModel) -> None:
    """Hub mode: a pooled move never takes a teacher to another section of their own school (不调回本校):
    a nine-year school may send a junior teacher into a cross-stage pool that also feeds its own primary
    section, and the pool's counts would then hold a move no school-to-school plan has. Routing pairs a
    pool's origins with its destinations; the only forbidden pairs are a school with itself, so a
    routing exists iff, for every school s, out_s + in_s ≤ the pool's total (Hall's condition). One row
    per pool and school that sends from one unit and receives at another, with the pool's total as a
    variable. (Rotation cascades need none: a teacher rotates only to a lower level. A loop back to the
    same unit needs none either: dropping it changes no tier, and routing drops it.)"""
    arcs = m.candidates.arcs
    kind = arcs["kind"].to_numpy()
    if not (kind == "leave").any():
        return
    cascade = kind == "cascade"
    chained = set(arcs.loc[cascade, "pool"].astype(int)) | set(arcs.loc[cascade, "pool_to"].astype(int))
    leave = pd.DataFrame({"pool": arcs["pool"].to_numpy(int), "school": arcs["school_id"].astype(str).to_numpy(),
                          "unit": arcs["origin"].astype(str).to_numpy(), "var": m.flow})[kind == "leave"]
    arrive = pd.DataFrame({"pool": arcs["pool"].to_numpy(int), "school": arcs["dest_school"].astype(str).to_numpy(),
                           "unit": arcs["dest"].astype(str).to_numpy(), "var": m.flow})[kind == "arrive"]
    leave = leave[~leave["pool"].isin(chained)]
    arrive = arrive[~arrive["pool"].isin(chained)]
    ends = pd.concat([leave.assign(side="out"), arrive.assign(side="in")], ignore_index=True)
    both = ends.groupby(["pool", "school"]).agg(sides=("side", "nunique"), units=("unit", "nunique"))
    pairs = both[(both["sides"] == 2) & (both["units"] > 1)].index
    if not len(pairs):
        return
    pools = pd.Index(sorted(set(pairs.get_level_values("pool"))))
    total = m.model.add_variables(len(pools))
    # total[p] = Σ leaving into p
    defined = m.rows_for("no_return_to_own_school", 0.0, 0.0, len(pools))
    m.model.add_terms(defined, total, 1.0)
    into = leave[leave["pool"].isin(pools)]
    m.model.add_terms(defined[pools.get_indexer(into["pool"])], into["var"].to_numpy(), -1.0)
    # out_s + in_s − total[p] ≤ 0 for each (pool, school) that sends from one unit and receives at another
    rows = m.rows_for("no_return_to_own_school", -INF, 0.0, len(pairs))
    m.model.add_terms(rows, total[pools.get_indexer(pairs.get_level_values("pool"))], -1.0)
    members = ends.set_index(["pool", "school"])
    where = pairs.get_indexer(members.index)
    found = where >= 0
    m.model.add_terms(rows[where[found]], members["var"].to_numpy()[found], 1.0)


def _unit_balance(m: AllocationModel, rows: np.ndarray, index: pd.Index, flag: np.ndarray) -> None:
    """+ arrivals at the unit − departures from it, for the arcs where `flag`."""
    where, ids = m.arcs_by("dest", m.arc_masks["arriving"] & flag, index)
    m.model.add_terms(rows[where], ids, 1.0)
    where, ids = m.arcs_by("origin", m.arc_masks["leaving"] & flag, index)
    m.model.add_terms(rows[where], ids, -1.0)


def headcount_shortage(m: AllocationModel) -> None:
    """Headcount shortage after the plan (总量缺编): short[u] ≥ target − (before − out + in), ≥ 0, with the
    target the required posts in whole teachers (`plan.headcount_rounding`, default to the nearest)."""
    units = m.candidates.units
    short = m.model.add_variables(len(units))
    rows = m.rows_for("headcount_shortage", (units["target"] - units["before"]).to_numpy(float), INF, len(units))
    m.model.add_terms(rows, short)
    _unit_balance(m, rows, pd.Index(units["unit"]), m.arc_masks["duty"])
    m.shortage["headcount"] = pd.Series(short, index=units["unit"].to_numpy())


def _cover_options(m: AllocationModel) -> pd.DataFrame:
    """(group, unit, subject) for every subject a staying teacher of a group on duty may be assigned to:
    main subject first, then qualified others, then (small primary schools) the generalist subjects."""
    policy = m.policy
    units = m.candidates.units.set_index("unit")
    groups = m.candidates.groups[m.candidates.groups["on_duty"].astype(bool)]
    generalist = tuple(str(s) for s in policy.curriculum.small_school_generalist_subjects)
    threshold = policy.staffing.small_school.threshold_students
    small = (units["school_students"] < threshold) & (units["stage"] == "primary")
    lists = [
        (subject, *others, *(generalist if small_unit else ()))
        for subject, others, small_unit in zip(groups["subject"], groups["others"],
                                               groups["origin"].map(small).fillna(False), strict=True)
    ]
    options = pd.DataFrame({"group": groups["group"].to_numpy(), "unit": groups["origin"].to_numpy(),
                            "subject": lists, "size": groups["size"].to_numpy()}).explode("subject")
    options = options.dropna(subset=["subject"]).drop_duplicates(["group", "subject"])
    demand = pd.MultiIndex.from_frame(m.candidates.subjects[["unit", "subject"]])
    keep = pd.MultiIndex.from_frame(options[["unit", "subject"]]).isin(demand)
    return options[keep].reset_index(drop=True)


def subject_cover(m: AllocationModel) -> None:
    """Who teaches what at each school (任教安排): each teacher on duty who stays is assigned to their main
    subject or one they are qualified for (in small schools, a primary teacher may also take the
    generalist subjects, `curriculum.small_school_generalist_subjects`): Σ assigned ≤ those who stay."""
    options = _cover_options(m)
    options["var"] = m.model.add_variables(len(options), 0.0, options["size"].to_numpy(float), integer=True)
    index = pd.Index(options["group"].drop_duplicates())
    sizes = options.drop_duplicates("group")["size"].to_numpy(float)
    rows = m.rows_for("subject_cover", -INF, sizes, len(index))
    m.model.add_terms(rows[index.get_indexer(options["group"])], options["var"].to_numpy())
    where, ids = m.arcs_by("group", m.arc_masks["leaving"], index)
    m.model.add_terms(rows[where], ids)
    m.cover = options


def subject_shortage(m: AllocationModel) -> None:
    """Subject shortage after the plan (学科结构性缺编), in whole teachers: short[u, s] ≥ target −
    (staying teachers assigned to s + teachers arriving to teach s), ≥ 0, where the target is the
    subject's demand rounded to whole teachers (⌊FTE + ½⌋)."""
    subjects = m.candidates.subjects
    short = m.model.add_variables(len(subjects))
    rows = m.rows_for("subject_shortage", subjects["target"].to_numpy(float), INF, len(subjects))
    m.model.add_terms(rows, short)
    index = pd.Index(subjects["unit"] + "\x1f" + subjects["subject"])
    cover = m.cover
    where = index.get_indexer(cover["unit"] + "\x1f" + cover["subject"])
    m.model.add_terms(rows[where[where >= 0]], cover["var"].to_numpy()[where >= 0])
    arcs = m.candidates.arcs
    taught = arcs["dest"].astype(str) + "\x1f" + arcs["taught"].astype(str)
    where, ids = m.arcs_by(taught, m.arc_masks["arriving"] & m.arc_masks["duty"] & m.arc_masks["subject_slot"], index)
    m.model.add_terms(rows[where], ids)
    m.shortage["subject"] = pd.Series(short, index=pd.MultiIndex.from_frame(subjects[["unit", "subject"]]))


def indicator_deficit(m: AllocationModel) -> None:
    """Quality-balance deficits (优质均衡): teachers short of the per-100-student thresholds for
    backbone (≥ 1) and PE/arts (≥ 0.9) teachers, at every evaluated school and stage."""
    for kind in ("backbone", "pe_arts"):
        units = m.candidates.units[m.candidates.units[f"{kind}_target"] > 0]
        deficit = m.model.add_variables(len(units))
        lower = (units[f"{kind}_target"] - units[f"{kind}_before"]).to_numpy(float)
        rows = m.rows_for("indicator_deficit", lower, INF, len(units))
        m.model.add_terms(rows, deficit)
        _unit_balance(m, rows, pd.Index(units["unit"]), m.arc_masks[kind])
        m.shortage[kind] = pd.Series(deficit, index=units["unit"].to_numpy())


def _rows_where(m: AllocationModel, rule: str, where: np.ndarray, lower: np.ndarray, upper: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `rule` for the keys (positions of `lower`) that `where` names at least once (a row with no
    term constrains nothing); -1 for the others. Returns the rows by key and which keys have one."""
    present = np.zeros(len(lower), dtype=bool)
    present[where] = True
    chosen = np.flatnonzero(present)
    rows = np.full(len(lower), -1, dtype=np.int64)
    rows[chosen] = m.rows_for(rule, np.asarray(lower, dtype=float)[chosen], np.asarray(upper, dtype=float)[chosen],
                              len(chosen))
    return rows, present


def _school_rows(m: AllocationModel, rule: str, schools: pd.DataFrame, lower: np.ndarray, upper: np.ndarray,
                 out_flag: np.ndarray, in_flag: np.ndarray | None) -> None:
    """Rows per school: − departures (where `out_flag`) + arrivals (where `in_flag`), for the schools
    with at least one departure (or arrival, when `in_flag` is given) counted."""
    index = pd.Index(schools["school_id"])
    out_where, out_ids = m.arcs_by("school_id", m.arc_masks["leaving"] & out_flag, index)
    in_where, in_ids = (m.arcs_by("dest_school", m.arc_masks["arriving"] & in_flag, index) if in_flag is not None
                        else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)))
    present = np.zeros(len(index), dtype=bool)
    present[in_where if in_flag is not None else out_where] = True
    rows = np.full(len(index), -1, dtype=np.int64)
    chosen = np.flatnonzero(present)
    rows[chosen] = m.rows_for(rule, lower[chosen], upper[chosen], len(chosen))
    keep = present[out_where]
    m.model.add_terms(rows[out_where[keep]], out_ids[keep], -1.0)
    keep = present[in_where]
    m.model.add_terms(rows[in_where[keep]], in_ids[keep], 1.0)


def establishment_cap(m: AllocationModel) -> None:
    """A transfer never takes a school above its approved establishment (核定编制): posts − transfers
    out + transfers in ≤ establishment. A school at or above it receives no transfer at all (its
    arcs were never created); a support posting keeps the post at home and does not count."""
    schools = m.candidates.units.drop_duplicates("school_id")
    schools = schools[schools["establishment"].notna() & (schools["school_posts"] < schools["establishment"])]
    upper = (schools["establishment"] - schools["school_posts"]).to_numpy(float)
    transfer = m.arc_masks["transfer"]
    _school_rows(m, "establishment_cap", schools, np.full(len(schools), -INF), upper, transfer, transfer)


def arrival_cap(m: AllocationModel) -> None:
    """A school with no 核定编制 given takes its norm for one (`plan.arrivals_within_shortage`): in each
    of its sections, transfers in on duty that the plan chooses (rotations, redeployments; not a
    volunteer's wished move, a pinned one or a new hire's) − departures on duty ≤ max(0, ⌈target⌉ − on
    duty). A section at or above its norm may exchange, never gain. Without it a quota that binds piled
    rotations into such a school (a generated 3,000-teacher county: a junior school needing 9.7 teachers
    went 11 → 77, 68 of the county's 128 rotations). A support posting keeps its post at home and is not
    counted, as under a 核定编制."""
    if not m.policy.plan.arrivals_within_shortage:
        return
    units = m.candidates.units
    units = units[~units["holding"].to_numpy(bool) & units["establishment"].isna().to_numpy()]
    index = pd.Index(units["unit"])
    room = np.maximum(0.0, np.ceil(units["target"].to_numpy(float) - 1e-9) - units["before"].to_numpy(float))
    holding = set(m.candidates.units.loc[m.candidates.units["holding"].to_numpy(bool), "school_id"])
    hired = m.candidates.arcs["school_id"].astype(str).isin(holding).to_numpy() if holding else \
        np.zeros(len(m.candidates.arcs), dtype=bool)
    # A teacher the user pinned to move (must_move, to_school) moves all the same: the norm only stands in
    # for a 核定编制 (with it, a must_move pin into a county at its norm brought an exchange move along).
    pinned = _pinned_arcs(m)
    duty = m.arc_masks["duty"]
    # A volunteer's wished move is theirs, not the plan's: not counted (as before any cap).
    chosen_by_plan = ~m.candidates.arcs["voluntary"].to_numpy(bool) & ~hired & ~pinned
    in_where, in_ids = m.arcs_by("dest", m.arc_masks["arriving"] & duty & m.arc_masks["transfer"] & chosen_by_plan,
                                 index)
    rows, present = _rows_where(m, "arrival_cap", in_where, np.full(len(index), -INF), room)
    m.model.add_terms(rows[in_where], in_ids, 1.0)
    out_where, out_ids = m.arcs_by("origin", m.arc_masks["leaving"] & duty, index)
    keep = present[out_where]
    m.model.add_terms(rows[out_where[keep]], out_ids[keep], -1.0)


def _pinned_arcs(m: AllocationModel) -> np.ndarray:
    """The arcs of teachers pinned to move (must_move, to_school; each such teacher is a group alone)."""
    groups = m.candidates.groups
    teachers = m.candidates.teachers.set_index("teacher_id")
    pinned = set(groups.loc[groups["singleton"].to_numpy(bool) & groups["first_teacher"].map(
        teachers["pin_must_move"]).fillna(False).to_numpy(bool), "group"])
    return m.candidates.arcs["group"].isin(pinned).to_numpy() if pinned else np.zeros(len(m.candidates.arcs), bool)


def support_cap(m: AllocationModel) -> None:
    """Support postings (支教) into a section: at most what it lacks of its norm before the plan (⌈target⌉ −
    on duty, not below 0) plus `support.max_above_norm`. A posting holds no post there, so no 核定编制
    bounds it; without this, the subject tier (each subject's demand rounded to whole teachers) sent a
    village school needing 5.8 teachers from 4 to 11. Pinned postings are not counted."""
    extra = m.policy.support.max_above_norm
    if extra is None:
        return
    units = m.candidates.units
    units = units[~units["holding"].to_numpy(bool)]
    index = pd.Index(units["unit"])
    room = np.maximum(0.0, np.ceil(units["target"].to_numpy(float) - 1e-9) - units["before"].to_numpy(float)) + extra
    support = (m.candidates.arcs["move_type"].to_numpy() == "support") & ~_pinned_arcs(m)
    where, ids = m.arcs_by("dest", m.arc_masks["arriving"] & m.arc_masks["duty"] & support, index)
    rows, _ = _rows_where(m, "support_cap", where, np.full(len(index), -INF), room)
    m.model.add_terms(rows[where], ids, 1.0)


def max_leaving(m: AllocationModel) -> None:
    """No school loses more than `rotation.max_share_leaving_school` of its teachers in one year
    (every move counts): moves out ≤ max(1, ⌊share × teachers⌋); with `rotation.leaving_cap_by_stage`,
    each stage of a school with several too (a nine-year school's junior section of 69 lost 25 teachers
    under the school's cap of 26). A move within the school (校内跨学段, surplus only) loses the school no
    one and counts for neither: counted, a junior section's cap of 3 went to other schools while its own
    primary section stayed 8 short beside 12 surplus junior teachers."""
    share = m.policy.rotation.max_share_leaving_school
    schools = m.candidates.units.drop_duplicates("school_id")
    cap = leaving_cap(schools["school_posts"], share)
    # written as −out ≥ −cap
    outside = ~m.arc_masks["within"]
    _school_rows(m, "max_leaving", schools, -cap, np.full(len(schools), INF), outside, None)
    sections = capped_sections(m.candidates.units, m.policy)
    where, ids = m.arcs_by("origin", m.arc_masks["leaving"] & outside, pd.Index(sections["unit"]))
    rows, _ = _rows_where(m, "max_leaving", where, -sections["cap"].to_numpy(float), np.full(len(sections), INF))
    m.model.add_terms(rows[where], ids, -1.0)


def redeploy_from_surplus(m: AllocationModel) -> None:
    """Redeployment (调剂) moves surplus teachers: a school and stage gives by redeployment at most its
    surplus over the norm (⌊on duty − target⌋) plus the transfers on duty it receives, so an exchange
    is allowed but redeployment never leaves a school short of its norm on balance. A teacher on leave
    who volunteered to come (脱产进修, 产假 …) fills no post this year and gives no credit: with it, a
    rural school received a volunteer in full-time study and sent its one active art teacher away
    (on duty 6 → 5 for 6 posts). A volunteer moving to a wished school is not a redeployment and does
    not count here (the headcount tier still weighs the gap it leaves)."""
    units = m.candidates.units
    index = pd.Index(units["unit"])
    out_where, out_ids = m.arcs_by("origin", m.arc_masks["leaving"] & m.arc_masks["redeploy"], index)
    # in − out ≥ −surplus
    rows, present = _rows_where(m, "redeploy_from_surplus", out_where, -units["surplus"].to_numpy(float),
                                np.full(len(index), INF))
    m.model.add_terms(rows[out_where], out_ids, -1.0)
    credit = m.arc_masks["arriving"] & m.arc_masks["transfer"] & m.arc_masks["duty"]
    in_where, in_ids = m.arcs_by("dest", credit, index)
    keep = present[in_where]
    m.model.add_terms(rows[in_where[keep]], in_ids[keep], 1.0)


def cross_stage_from_surplus(m: AllocationModel) -> None:
    """A junior teacher goes to primary only as a surplus redeployment (初中富余教师转任小学): a school's
    junior section sends across stages at most its own surplus (⌊on duty − target⌋), with no credit for
    the transfers it receives. With that credit (as `redeploy_from_surplus` gives an exchange) a county
    short at both stages moved junior teachers of short urban schools into rural primary schools, each
    replaced by another junior transfer: 6,000 teachers @0.85, the junior shortage 399 → 505 after the
    plan, 105 of the 130 cross-stage moves from sections short before it. A volunteer counts too (a wish
    to teach primary does not make a junior teacher surplus): exempt, 145 junior volunteers of short
    sections went to wished primary schools in a 2,500-teacher county @0.8, junior shortage 287 → 431."""
    units = m.candidates.units
    index = pd.Index(units["unit"])
    across = m.arc_masks["leaving"] & m.candidates.arcs["cross_stage"].to_numpy(bool)
    where, ids = m.arcs_by("origin", across, index)
    if not len(ids):
        return
    chosen = np.unique(where)
    rows = np.full(len(index), -1, dtype=np.int64)
    rows[chosen] = m.rows_for("cross_stage_from_surplus", -INF, units["surplus"].to_numpy(float)[chosen], len(chosen))
    m.model.add_terms(rows[where], ids, 1.0)


def rotation_quota(m: AllocationModel) -> None:
    """Rotation quotas (交流轮岗比例), met as far as possible: rotations + slack ≥ ⌈10 % × eligible⌉,
    and backbone rotations + slack ≥ 20 % × rotations. The slacks are the first tier's objective.
    Rotations count from the schools of the quota's base only (`Candidates.quota_schools`)."""
    share = m.policy.rotation.min_backbone_share_of_rotators
    quota_slack, backbone_slack = m.model.add_variables(2)
    m.slack = {"quota": int(quota_slack), "backbone_quota": int(backbone_slack)}
    counted = m.arc_masks["leaving"] & m.arc_masks["rotation"]
    schools = m.candidates.quota_schools
    if schools is not None:  # quota_base sending: only rotations out of the base's schools count
        counted &= m.candidates.arcs["school_id"].astype(object).isin(schools).to_numpy(dtype=bool)
    rotation = m.flow[counted]
    backbone = m.flow[counted & m.arc_masks["backbone_flag"]]
    quota, balance = m.rows_for("rotation_quota", [float(m.candidates.quota_target), 0.0], INF, 2)
    m.model.add_terms(np.full(len(rotation) + 1, quota), np.append(rotation, quota_slack))
    m.model.add_terms(np.full(len(backbone), balance), backbone, 1.0)
    m.model.add_terms(np.full(len(rotation), balance), rotation, -share)
    m.model.add_terms([balance], [backbone_slack], 1.0)


# Hard rules, in the order they are added.
RULES: list[Callable[[AllocationModel], None]] = [
    at_most_one_move,
    pool_balance,
    no_return_to_own_school,
    headcount_shortage,
    subject_cover,
    subject_shortage,
    indicator_deficit,
    establishment_cap,
    arrival_cap,
    support_cap,
    max_leaving,
    redeploy_from_surplus,
    cross_stage_from_surplus,
    rotation_quota,
]
