"""Planted counties: generated counties of 25–66 schools whose optimum is known by construction, so the
optimizer is checked against arithmetic, not against itself (as test_plan_equivalence does).

Each county is built here in code (ported from an independent tester's generators, with road distances
given for every pair so the disruption optimum is exact too). The default mode must reach every planted
optimum and prove it (status `optimal`); the pooled mode (`plan.exact_distance_arcs: 0`,
`plan.priced_paths: 0`) must reach the first four tiers' and never prove a bound above any planted
optimum (its disruption tier may stop short of it: pooled distances are a lower bound).

Standard school sizes (2014 norms, `curriculum` in policy_defaults.yaml):

- primary, 570 pupils in 12 classes: 570 / 19 = 30 posts; 380 pupils in 8 classes: 20 posts;
  300 pupils in 10 classes: 15.8 → 16 (nearest whole teacher); junior, 392 pupils: 29.04 → 29;
- quality balance per school: ⌈pupils / 100⌉ backbone and ⌈0.9 × pupils / 100⌉ PE/arts teachers,
  so 570 pupils → 6 + 6, 380 → 4 + 4, 300 → 3 + 3, 392 → 4 + 4 (none at teaching points < 50 pupils).

Nobody is a backbone teacher unless said, and PE/arts teachers are only in H2's fully staffed lists, so
the balance tier is the backbone (and elsewhere PE/arts) thresholds summed.
A move costs 1 + 0.02 × km (+ 2 across stages); every planted route is shorter than any other road.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import pytest
from tests.model.counties import LONG, RECENT, teacher, tier_result
from tests.model.counties import checked_plan as plan_county
from tests.model.counties import county as county_with_roads

from teacheralloc.domain import ClassGroup, County, School, Teacher
from teacheralloc.plan import Plan
from teacheralloc.policy import Policy, load_policy

POLICY = Policy.default()
POOLED = load_policy(overrides={"plan": {"exact_distance_arcs": 0, "priced_paths": 0}})
MODES = {"default": POLICY, "pooled": POOLED}
FIRST_TIERS = ("quota", "headcount", "subject", "balance")  # always proven optimal, pooled or not

#: A 10-class grade-1 primary school (300 pupils) staffed exactly to its subject targets (16 teachers).
PRIMARY_SUBJECTS = {"chinese": 5, "math": 3, "morality": 1, "science": 1, "pe": 2, "music": 1, "art": 1,
                    "labor": 1, "practice": 1}
#: A 10-class grade-7 junior school (392 pupils) staffed exactly to its subject targets (29 teachers).
JUNIOR_SUBJECTS = {"chinese": 5, "math": 4, "english": 4, "morality": 2, "biology": 3, "history": 2,
                   "geography": 2, "it": 1, "pe": 2, "music": 1, "art": 1, "labor": 1, "practice": 1}


class Builder:
    """Schools, classes and teachers of one planted county; teacher ids `<school>-<nn>`."""

    def __init__(self) -> None:
        self.schools: list[School] = []
        self.classes: list[ClassGroup] = []
        self.teachers: list[Teacher] = []

    def school(self, school_id: str, type: str, area: str, township: str, grades: Iterable[tuple[int, int, int]],
               establishment: int | None = None, weak: bool = False) -> None:
        """One school with its (grade, classes, pupils)."""
        self.schools.append(School(school_id=school_id, name=f"{township}{school_id}学校", township=township,
                                   type=type, area=area, establishment=establishment, weak=weak))
        self.classes += [ClassGroup(school_id=school_id, grade=g, classes=c, students=s) for g, c, s in grades]

    def staff(self, school_id: str, subjects: Iterable[str], stage: str = "primary", **kw) -> None:
        """One teacher per subject listed; `kw` (or a callable of the teacher's index) for the record."""
        start = sum(t.school_id == school_id for t in self.teachers)
        for i, subject in enumerate(subjects, start):
            record = {k: v(i - start) if callable(v) else v for k, v in kw.items()}
            self.teachers.append(teacher(f"{school_id}-{i:02d}", school_id, subject=subject, stage=stage, **record))

    def county(self, km: dict[tuple[str, str], float], default_km: float) -> County:
        return county_with_roads(self.schools, self.classes, self.teachers, km, default_km)


def subjects(counts: dict[str, int], drop: str | None = None) -> list[str]:
    """One entry per teacher of `counts`, less one `drop` teacher."""
    names = [s for s, n in counts.items() for _ in range(n)]
    if drop:
        names.remove(drop)
    return names


def alternate(count: int) -> list[str]:
    """Chinese, maths, Chinese, …: no school below ever runs short of either."""
    return [("chinese", "math")[i % 2] for i in range(count)]


# --------------------------------------------------------------------------------------------------
# The planted counties
# --------------------------------------------------------------------------------------------------


def headcount_county() -> County:
    """H1 (66 schools, 1,378 teachers, all Chinese or maths, none rotation-eligible): surplus capped
    by the 20 % leaving rule, shortage capped by establishments.

    Surplus (urban, 570 pupils = 30 posts unless said): 10 × UA 33 teachers (surplus 3, cap ⌊6.6⌋ = 6:
    3 each), 5 × UB 40 (surplus 10, cap 8: 8 each), 3 × UC 8 for 114 pupils = 6 posts (surplus 2,
    cap max(1, ⌊1.6⌋) = 1: 1 each) → 30 + 40 + 3 = 73 teachers can move. Shortage (weight): 5 teaching
    points TP, 1 teacher for 2 (weight 3); 5 weak rural RW 17 for 20 (2.5); 15 rural RR 17 for 20 (2);
    5 rural RK 17 for 20 but 核定编制 18 (2, room 1); 10 town TT 16 for 20 (1.5); 3 urban UQ 28 for 30
    (1); 5 urban UD exactly 30. The 73 fill by weight TP 5, RW 15, RR 45, RK 5, then 3 of TT's 40:
    headcount 5 × 2 × 2 (RK) + 37 × 1.5 (TT) + 6 × 1 (UQ) = 81.5. Relies on both caps: without the
    leaving cap UB and UC would send 13 more (62); without RK's establishment TT's 3 would go to RK (80).

    Balance: 23 schools of 570 pupils × 12 + UC 3 × (2 + 2) + 35 schools of 380 × 8 = 568 (the
    teaching points, 19 pupils, are not evaluated).

    Roads: UB_i is 8 + 2i km from RW_i, RR_i, TP_i and RK_i (3 + 3 + 1 + 1 = its 8), UA_j 5 + j km from
    RR_{5+j} (its 3), UC_k 3 + k km from TT_k; every other road 60 km. Every surplus teacher must move,
    none nearer than these: disruption 73 + 0.02 × (8 × 60 + 3 × 95 + 12) = 88.54, and only this routing
    reaches it.
    """
    c = Builder()
    rural = ("河口镇", "山岭乡", "石桥乡")

    def simple(school_id: str, type: str, area: str, pupils: int, classes: int, teachers: int,
               township: str = "城关镇", **kw) -> None:
        c.school(school_id, type, area, township, [(1, classes, pupils)], **kw)
        c.staff(school_id, alternate(teachers))

    for i in range(10):
        simple(f"UA{i:02d}", "primary", "urban", 570, 12, 33)
    for i in range(5):
        simple(f"UB{i:02d}", "primary", "urban", 570, 12, 40)
    for i in range(3):
        simple(f"UC{i:02d}", "primary", "urban", 114, 3, 8)
    for i in range(5):
        simple(f"UD{i:02d}", "primary", "urban", 570, 12, 30)
    for i in range(3):
        simple(f"UQ{i:02d}", "primary", "urban", 570, 12, 28)
    for i in range(5):
        simple(f"TP{i:02d}", "teaching_point", "rural", 19, 1, 1, rural[i % 3])
        simple(f"RW{i:02d}", "primary", "rural", 380, 8, 17, rural[i % 3], weak=True)
        simple(f"RK{i:02d}", "primary", "rural", 380, 8, 17, rural[i % 3], establishment=18)
    for i in range(15):
        simple(f"RR{i:02d}", "primary", "rural", 380, 8, 17, rural[i % 3])
    for i in range(10):
        simple(f"TT{i:02d}", "primary", "town", 380, 8, 16, rural[i % 3])
    km: dict[tuple[str, str], float] = {}
    for i in range(5):
        km |= {(f"UB{i:02d}", f"{kind}{i:02d}"): 8 + 2 * i for kind in ("RW", "RR", "TP", "RK")}
    km |= {(f"UA{j:02d}", f"RR{5 + j:02d}"): 5 + j for j in range(10)}
    km |= {(f"UC{k:02d}", f"TT{k:02d}"): 3 + k for k in range(3)}
    return c.county(km, default_km=60)


def quota_county() -> County:
    """Q1 (25 schools, 600 teachers): a rotation quota that cannot be met, and why.

    10 urban U (570 pupils in 10 classes = 30 posts) have 30 teachers each, all there since 2015
    (eligible), U00–U04 one county backbone teacher each; 5 town T 20 for 20 posts (380 pupils), 10
    eligible, 核定编制 20; 5 rural R 20 for 20, recent arrivals, 核定编制 22; 5 rural RK the same but
    核定编制 20. Quota base: the eligible at urban and town schools, 300 + 50 = 350 → ⌈35⌉ rotations.
    Only R may receive (T and RK are at their establishment), each at most 2 + what it sends, and it
    sends at most ⌊20 % × 20⌋ = 4: 5 × 6 = 30 rotations, 5 short. Backbone: 20 % × 30 = 6 required,
    5 exist. Quota tier (350 + 1) × 5 + 1 = 1756. Relies on R's leaving cap and establishments: without
    the cap R could take all 35 (quota 2, backbone only).
    R's 4 × 5 = 20 redeployed teachers go back to the city (only U has room), which lacks 30 − 20 = 10
    (weight 1): headcount 10. 50 moves of 20 km (every road): disruption 50 × 1.4 = 70.
    Balance: 25 schools × (its two thresholds) − U00–U04's backbone = 10 × 12 + 15 × 8 − 5 = 235, and a
    backbone rotation to R moves one unit of deficit from R to U.
    """
    c = Builder()

    def simple(school_id: str, area: str, township: str, pupils: int, teachers: int, eligible: int,
               backbone: int = 0, establishment: int | None = None) -> None:
        c.school(school_id, "primary", area, township, [(1, 10, pupils)], establishment=establishment)
        c.staff(school_id, alternate(teachers), since=lambda i: LONG if i < eligible else RECENT,
                backbone=lambda i: "county" if i < backbone else "none")

    for i in range(10):
        simple(f"U{i:02d}", "urban", "城关镇", 570, 30, 30, backbone=1 if i < 5 else 0)
    for i in range(5):
        simple(f"T{i:02d}", "town", "河口镇", 380, 20, 10, establishment=20)
        simple(f"R{i:02d}", "rural", "山岭乡", 380, 20, 0, establishment=22)
        simple(f"RK{i:02d}", "rural", "石桥乡", 380, 20, 0, establishment=20)
    return c.county({}, default_km=20)


def nine_year_county(schools: int = 12) -> County:
    """H2 (3 × `schools` + 20 schools; 44 and 1,060 teachers at 12): surplus junior teachers of
    nine-year schools may teach primary, in their own school's primary section too (校内跨学段调剂).

    Each rural nine-year school ND_k has 392 junior pupils (29 posts) and 32 junior teachers, three of
    them physics (grade 7 has none; physics → science in primary), and a primary section of 300 pupils
    (16 posts) with 13 teachers (3 Chinese short). Its twin PP_k (rural primary, 300 pupils) has 15
    (one Chinese short), 核定编制 16; d_k = 5 + k km between them, 200 km to anything else. 20 primary
    schools BP (300 pupils, 16 teachers, 核定编制 16) are exactly staffed.
    Per twin pair: 4 posts short (ND_k's primary 3, PP_k 1, both weight 2) and 3 surplus teachers,
    the physics teachers: headcount 2 per pair, whichever 3 posts they fill. Filling a post costs at
    least one cross-stage move (3 + 0.02 km: PP_k has no surplus), so the least disruption is the 3
    moved within their own school (0 km): 9 a pair. (Before moves within a school were allowed: the
    physics teachers went to PP_k, which passed 2 of its own to ND_k, 11 + 0.1 d a pair.) Anything
    longer costs at least 5 a move (200 km). Subject: 4 Chinese short per pair, which no move can
    reduce (the physics teachers teach science, every Chinese teacher is needed where they are);
    balance: ND 3 + 4 backbone, PP 3, BP 3 (PE/arts met everywhere).
    """
    c = Builder()
    townships = ("城关镇", "河口镇", "山岭乡", "石桥乡")
    km: dict[tuple[str, str], float] = {}
    for k in range(schools):
        township = townships[k % 4]
        c.school(f"ND{k:02d}", "nine_year", "rural", township, [(1, 10, 300), (7, 10, 392)])
        c.staff(f"ND{k:02d}", subjects(PRIMARY_SUBJECTS | {"chinese": 2}))
        c.staff(f"ND{k:02d}", subjects(JUNIOR_SUBJECTS) + ["physics"] * 3, stage="junior")
        c.school(f"PP{k:02d}", "primary", "rural", township, [(1, 10, 300)], establishment=16)
        c.staff(f"PP{k:02d}", subjects(PRIMARY_SUBJECTS, drop="chinese"))
        km[(f"ND{k:02d}", f"PP{k:02d}")] = 5 + k
    for i in range(20):
        c.school(f"BP{i:02d}", "primary", ("urban", "town", "rural")[i % 3], townships[i % 4], [(1, 10, 300)],
                 establishment=16)
        c.staff(f"BP{i:02d}", subjects(PRIMARY_SUBJECTS))
    return c.county(km, default_km=200)


def support_county() -> County:
    """SP (25 schools, 555 teachers): support postings (支教) are the only move possible.

    10 urban UU (570 pupils = 30 posts) have 30 teachers each; at UU00–UU04 ten, at UU05–UU09 two hold
    title 一级 with no rural service (they need a support posting for 高级). 15 rural RZ (380 pupils =
    20 posts) have 17 and 核定编制 17, so they receive no transfer, only support postings, which keep the
    post at home but count on duty at the destination: each gains 2 − 1 = 1 of headcount. At most
    6 (20 % of 30) leave UU00–UU04, 2 UU05–UU09: 40 postings for 45 rural posts. Headcount 5 rural × 2
    + 40 urban × 1 = 50; wishes −40 (1 per posting of a teacher who needs one); balance 10 × 12 +
    15 × 8 = 240.
    Roads: UU_i (i < 5) is 12 + 2i km from RZ_{2i} and RZ_{2i+1} (room 3 + 3 for its 6), UU_{5+j}
    7 + j km from RZ_{10+j}; every other road 60 km: disruption 40 + 0.02 × (6 × 80 + 2 × 45) = 51.4.
    """
    c = Builder()
    townships = ("山岭乡", "石桥乡", "河湾乡")
    km: dict[tuple[str, str], float] = {}
    for i in range(10):
        need = 10 if i < 5 else 2
        c.school(f"UU{i:02d}", "primary", "urban", "城关镇", [(1, 12, 570)])
        c.staff(f"UU{i:02d}", alternate(30), title=lambda k, need=need: "first" if k < need else "second")
    for j in range(15):
        c.school(f"RZ{j:02d}", "primary", "rural", townships[j % 3], [(1, 8, 380)], establishment=17)
        c.staff(f"RZ{j:02d}", alternate(17))
    for i in range(5):
        km |= {(f"UU{i:02d}", f"RZ{2 * i + d:02d}"): 12 + 2 * i for d in (0, 1)}
        km[(f"UU{5 + i:02d}", f"RZ{10 + i:02d}")] = 7 + i
    return c.county(km, default_km=60)


@dataclass(frozen=True)
class Planted:
    build: Callable[[], County]
    optimum: dict[str, float]  # tier → its known optimum (tiers not listed are not known by hand)


PLANTED = {
    "H1": Planted(headcount_county, {"headcount": 81.5, "balance": 568, "disruption": 88.54}),
    "Q1": Planted(quota_county, {"quota": 1756, "headcount": 10, "balance": 235, "disruption": 70}),
    "H2": Planted(nine_year_county, {"headcount": 24, "subject": 48, "balance": 180, "disruption": 108}),
    "SP": Planted(support_county, {"headcount": 50, "balance": 240, "disruption": 51.4, "wishes": -40}),
}


@cache
def planted_county(name: str) -> County:
    return PLANTED[name].build()


@cache
def planned(name: str, mode: str) -> Plan:
    return plan_county(planted_county(name), MODES[mode])


def close(value: float, optimum: float) -> bool:
    return value == pytest.approx(optimum, rel=1e-6, abs=1e-6)


def pair_counts(plan: Plan) -> Counter[tuple[str, str, str]]:
    frame = plan.moves
    return Counter(zip(frame["from_school"], frame["to_school"], frame["move_type"], strict=True))


# --------------------------------------------------------------------------------------------------
# Every planted optimum
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PLANTED)
def test_default_mode_reaches_and_proves_every_planted_optimum(name: str) -> None:
    plan = planned(name, "default")
    for tier, optimum in PLANTED[name].optimum.items():
        result = tier_result(plan, tier)
        assert close(result.value, optimum), f"{name} {tier}: {result.value} ≠ planted {optimum}"
        assert result.status == "optimal", f"{name} {tier}: {result.status} (bound {result.bound})"
        assert result.bound <= optimum + 1e-6 * max(1.0, abs(optimum)), result


@pytest.mark.parametrize("name", PLANTED)
def test_pooled_mode_never_proves_a_bound_above_a_planted_optimum(name: str) -> None:
    """Pooled, the first four tiers still reach the optimum; the disruption tier's distances are lower
    bounds, so its plan may be longer, but its bound may never pass the planted plan."""
    plan = planned(name, "pooled")
    for tier, optimum in PLANTED[name].optimum.items():
        result = tier_result(plan, tier)
        assert result.bound <= optimum + 1e-6 * max(1.0, abs(optimum)), f"{name} {tier}: bound {result.bound} > {optimum}"
        assert result.value >= optimum - 1e-6 * max(1.0, abs(optimum)), f"{name} {tier}: {result.value} < {optimum}"
        if tier in FIRST_TIERS:
            assert close(result.value, optimum) and result.status == "optimal", (name, result)


# --------------------------------------------------------------------------------------------------
# What each planted plan must look like
# --------------------------------------------------------------------------------------------------


def test_h1_every_surplus_teacher_takes_the_planted_road() -> None:
    """The disruption optimum has one routing only: each surplus school to its near schools, full."""
    expected: Counter[tuple[str, str, str]] = Counter()
    for i in range(5):
        expected |= {(f"UB{i:02d}", f"{kind}{i:02d}", "redeploy"): n for kind, n in
                     (("RW", 3), ("RR", 3), ("TP", 1), ("RK", 1))}
    expected |= {(f"UA{j:02d}", f"RR{5 + j:02d}", "redeploy"): 3 for j in range(10)}
    expected |= {(f"UC{k:02d}", f"TT{k:02d}", "redeploy"): 1 for k in range(3)}
    assert pair_counts(planned("H1", "default")) == expected


@pytest.mark.parametrize("mode", MODES)
def test_q1_quota_shortfall_is_reported_with_its_figures(mode: str) -> None:
    plan = planned("Q1", mode)
    quota = plan.quota
    assert (quota["eligible_base"], quota["required_rotations"], quota["rotations"]) == (350, 35, 30)
    assert (quota["backbone_rotations"], quota["backbone_required"]) == (5, 6)
    assert not quota["rotation_quota_met"] and not quota["backbone_quota_met"]
    assert len(quota["shortfall"]) == 2
    moved = Counter((f[:1], t[:1], kind) for (f, t, kind), n in pair_counts(plan).items() for _ in range(n))
    assert moved == {("U", "R", "rotation"): 30, ("R", "U", "redeploy"): 20}


@pytest.mark.parametrize("mode", MODES)
def test_h2_surplus_junior_teachers_take_their_own_schools_primary_posts(mode: str) -> None:
    """A nine-year school's surplus junior teachers fill its own primary section (校内跨学段调剂, 0 km):
    36 redeployments within the school, and no one else moves (pooled too: the move within a school is
    a direct arc, pools never return to the origin school)."""
    moves = planned("H2", mode).moves
    assert len(moves) == 36
    assert (moves["from_stage"] == "junior").all() and (moves["to_stage"] == "primary").all()
    assert (moves["from_school"] == moves["to_school"]).all() and (moves["km"] == 0).all()
    assert (moves["move_type"] == "redeploy").all()


@pytest.mark.parametrize("mode", MODES)
def test_sp_only_support_postings_of_teachers_who_need_one(mode: str) -> None:
    plan = planned("SP", mode)
    counts = Counter(zip(plan.moves["from_school"], plan.moves["move_type"], strict=True))
    assert counts == {(f"UU{i:02d}", "support"): 6 if i < 5 else 2 for i in range(10)}
    teachers = planted_county("SP").teachers.set_index("teacher_id")
    assert set(teachers.loc[plan.moves["teacher_id"], "title"].astype(str)) == {"first"}
    assert Counter(plan.moves["to_school"]).most_common(1)[0][1] <= 3  # no rural school over its 20 posts
