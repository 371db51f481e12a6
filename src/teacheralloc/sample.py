"""A deterministic, realistic sample county (示例县域数据) for demos, tests and benchmarks.

`generate_county()` builds a county shaped like Xiangyuan county (襄垣县, Changzhi, Shanxi) as its 2017
self-evaluation describes it: 8 towns and 3 townships over 1178 km², 41 primary schools (one of them a
special-education centre), 14 junior-stage schools (two of them nine-year schools), 73 teaching points,
about 16,227 primary and 7,016 junior students, and about 2,000 compulsory-stage teachers.

The data tell the story the optimizer has to work with:

- the county town (城关镇) has large schools (up to ~2,000 students, classes over 50, a few of 56+),
  township seats have medium central schools and junior schools (many boarders), villages have small
  primaries (under 100 students) and teaching points (grades 1–3 or 1–4, a handful of pupils per grade);
- overall the county has more teachers than the norms require (about 1.2×), but the surplus sits in
  the county town (Chinese and maths above all) while village schools and teaching points are short,
  and short of PE, music, art, English, IT and science teachers in particular: their teachers are
  older generalists and young 特岗 teachers on 3-year service obligations;
- backbone teachers (~8 %) sit mostly in the county town and township seats; many teachers have been
  6+ years at their school; a few are on leave; ~4 % volunteer to move and name 1–3 wished schools.

`num_teachers` scales the county: schools, teaching points, townships, students and the map (the
county's side grows with the square root of the scale, so density stays the same). `staffing` scales
enrolment so that active teachers ÷ required establishment (`teacheralloc.norms.required_total`) equals
the given ratio. Everything is drawn from one `numpy.random.default_rng(seed)`: the same arguments give
the same county.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from teacheralloc.domain import County
from teacheralloc.io.validate import validate_frames

__all__ = ["REFERENCE", "generate_county"]

#: The real county the default sample is calibrated to (襄垣县 2014–2015 school year).
REFERENCE = {
    "townships": 11,
    "area_km2": 1178,
    "primary_schools": 40,
    "special_schools": 1,
    "junior_schools": 12,
    "nine_year_schools": 2,
    "teaching_points": 73,
    "primary_students": 16227,
    "junior_students": 7016,
    "teachers": 2000,
}

CENTRE_LAT, CENTRE_LON = 36.53, 113.05
SIDE_KM = 34.0
KM_PER_DEG_LAT = 111.0
KM_PER_DEG_LON = 111.32 * math.cos(math.radians(CENTRE_LAT))

# Categories of school, each with its contract type and area; ids are numbered by type.
URBAN_PRIMARY, CENTRAL_PRIMARY, VILLAGE_PRIMARY = "urban_primary", "central_primary", "village_primary"
TEACHING_POINT, SPECIAL, URBAN_JUNIOR, TOWN_JUNIOR, NINE_YEAR = (
    "teaching_point", "special", "urban_junior", "town_junior", "nine_year")
CATEGORIES = (URBAN_PRIMARY, CENTRAL_PRIMARY, VILLAGE_PRIMARY, TEACHING_POINT, SPECIAL, URBAN_JUNIOR,
              TOWN_JUNIOR, NINE_YEAR)
CATEGORY_TYPE = {URBAN_PRIMARY: "primary", CENTRAL_PRIMARY: "primary", VILLAGE_PRIMARY: "primary",
                 TEACHING_POINT: "teaching_point", SPECIAL: "special", URBAN_JUNIOR: "junior",
                 TOWN_JUNIOR: "junior", NINE_YEAR: "nine_year"}
CATEGORY_AREA = {URBAN_PRIMARY: "urban", CENTRAL_PRIMARY: "town", VILLAGE_PRIMARY: "rural",
                 TEACHING_POINT: "rural", SPECIAL: "urban", URBAN_JUNIOR: "urban", TOWN_JUNIOR: "town",
                 NINE_YEAR: "rural"}
TYPE_PREFIX = {"primary": "X", "junior": "C", "nine_year": "J", "teaching_point": "D", "special": "T"}
TYPE_ORDER = ("primary", "special", "junior", "nine_year", "teaching_point")

# Staffing norms (as the default policy): used to share teachers and establishment among schools.
# The staffing ratio itself is measured with `teacheralloc.norms.required_total`.
STUDENTS_PER_STAFF = {"primary": 19.0, "junior": 13.5}
SPECIAL_STUDENTS_PER_STAFF = 4.0
SMALL_SCHOOL_STUDENTS = 100
STAFF_PER_CLASS = {"primary": 1.7, "junior": 2.5}
MIN_PER_TEACHING_POINT = 2.0

# Teachers per required post before normalisation: the county town is over-staffed, villages short.
STAFFING_FACTOR = {URBAN_PRIMARY: 1.38, CENTRAL_PRIMARY: 1.22, VILLAGE_PRIMARY: 0.88, TEACHING_POINT: 0.66,
                   SPECIAL: 1.0, URBAN_JUNIOR: 1.3, TOWN_JUNIOR: 1.05, NINE_YEAR: 0.95}

# Main-subject shares of a school's teachers, by category and stage.
PRIMARY_SUBJECTS = ("chinese", "math", "english", "science", "morality", "pe", "music", "art", "it",
                    "labor", "practice", "psychology")
JUNIOR_SUBJECTS = ("chinese", "math", "english", "physics", "chemistry", "biology", "history", "geography",
                   "morality", "pe", "music", "art", "it", "labor", "practice", "psychology")
SUBJECT_SHARES: dict[tuple[str, str], tuple[float, ...]] = {
    # chinese math english science morality pe music art it labor practice psychology
    (URBAN_PRIMARY, "primary"): (0.37, 0.27, 0.08, 0.04, 0.025, 0.075, 0.05, 0.05, 0.02, 0.005, 0.005, 0.01),
    (CENTRAL_PRIMARY, "primary"): (0.36, 0.27, 0.08, 0.045, 0.03, 0.065, 0.04, 0.04, 0.02, 0.01, 0.01, 0.0),
    (VILLAGE_PRIMARY, "primary"): (0.45, 0.35, 0.05, 0.03, 0.02, 0.04, 0.02, 0.02, 0.005, 0.01, 0.005, 0.0),
    (NINE_YEAR, "primary"): (0.44, 0.34, 0.06, 0.03, 0.02, 0.05, 0.02, 0.02, 0.005, 0.005, 0.005, 0.0),
    (TEACHING_POINT, "primary"): (0.53, 0.41, 0.02, 0.005, 0.005, 0.015, 0.005, 0.005, 0.0, 0.0, 0.005, 0.0),
    (SPECIAL, "primary"): (0.28, 0.22, 0.0, 0.0, 0.05, 0.1, 0.1, 0.1, 0.0, 0.05, 0.0, 0.1),
    # chinese math english physics chemistry biology history geography morality pe music art it labor
    # practice psychology
    (URBAN_JUNIOR, "junior"): (0.14, 0.145, 0.13, 0.07, 0.05, 0.055, 0.065, 0.055, 0.075, 0.08, 0.035, 0.035,
                               0.035, 0.005, 0.005, 0.015),
    (TOWN_JUNIOR, "junior"): (0.155, 0.155, 0.13, 0.07, 0.05, 0.06, 0.07, 0.06, 0.08, 0.07, 0.025, 0.025,
                              0.025, 0.01, 0.01, 0.0),
    (NINE_YEAR, "junior"): (0.16, 0.16, 0.13, 0.075, 0.05, 0.06, 0.075, 0.06, 0.085, 0.065, 0.02, 0.02,
                            0.02, 0.01, 0.01, 0.0),
    (SPECIAL, "junior"): (0.25, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.15, 0.1, 0.1, 0.0, 0.1, 0.0, 0.0),
}
# What a junior teacher of one subject can also teach (兼教).
JUNIOR_RELATED = {
    "chinese": ("history", "morality"), "math": ("physics", "it"), "english": ("morality",),
    "physics": ("chemistry", "math"), "chemistry": ("biology", "physics"),
    "biology": ("geography", "chemistry"),
    "history": ("morality", "geography"), "geography": ("history", "biology"),
    "morality": ("history", "psychology"), "pe": ("labor",), "music": ("art",), "art": ("music", "labor"),
    "it": ("math", "physics"), "labor": ("practice",), "practice": ("labor",), "psychology": ("morality",),
}
GENERALIST_EXTRA = ("morality", "science", "pe", "music", "art", "labor", "practice")

# Names: the county's real townships first, then generated ones.
SEAT_TOWNS = ("王桥镇", "侯堡镇", "夏店镇", "虒亭镇", "西营镇", "王村镇", "下良镇",
              "善福乡", "北底乡", "上马乡")
URBAN_TOWNSHIPS = ("城关镇", "东城街道", "西城街道", "南城街道", "北城街道")
TOWNSHIP_FIRST = "王侯夏西下善北上东南古安龙凤石河柳杨金白青黄新永太平阳仁义和韩故郭洪"
TOWNSHIP_SECOND = "桥堡店亭营村良福底马庄阳泉头关岭川坪河城沟峪寨"
VILLAGE_FIRST = "东西南北前后上下大小石柳杨李张王赵刘马牛高黄白青红新老中河沟泉山岭坡桃杏枣槐松榆龙凤安平永太"
VILLAGE_MIDDLE = "家王李张马杨"
VILLAGE_SECOND = "庄村沟峪坡岭河营堡头寨洼底窑湾泉口坪川院店垴掌滩关岩阳"
SURNAMES = "王李张刘赵郭杨武韩段牛史申常宋陈田郝秦任贾侯冯连马魏崔程苗邢李王张刘"  # common ones twice
GIVEN_FEMALE = "丽娟敏静霞燕艳芳婷慧玲红梅萍瑞佳琳欣悦晶雪丹洁鑫宇淑芬华英秀兰娜倩璐"
GIVEN_MALE = "伟强军磊勇杰斌鹏涛刚明辉波超峰亮宇浩俊鑫文建华志国平东海林斌晋"
DIGITS = "零一二三四五六七八九"


def generate_county(
    num_teachers: int = 2000,
    seed: int = 0,
    staffing: float | None = None,
    as_of: date = date(2026, 9, 1),
) -> County:
    """A realistic sample county with `num_teachers` teachers.

    Exactly `num_teachers` teacher rows, except in toy counties (under ~60 teachers), where every
    school still gets its minimum staff. With the same `num_teachers`, `seed` and `as_of`, `staffing`
    changes only enrolment and what follows from it (classes, boarders, establishment): the schools and
    the teachers stay the same.

    Parameters
    ----------
    num_teachers
        Teachers on the establishment. 2000 is calibrated to the real county; other values scale the
        number of schools, teaching points, townships and students proportionally.
    seed
        Seed of the one random generator used: the same arguments always give the same county.
    staffing
        If given, enrolment is scaled (students per grade, and classes with them) so that active
        teachers ÷ the county's required establishment equals this ratio (e.g. 0.97: short overall).
        If None, enrolment follows the real county (active teachers ≈ 1.2 × required).
    as_of
        The reference date (start of the school year planned); ages and years are relative to it.
    """
    if num_teachers < 1:
        raise ValueError("num_teachers must be at least 1")
    if staffing is not None and not 0.05 <= staffing <= 20:
        raise ValueError("staffing must be a ratio of active teachers to required posts, e.g. 0.97 or 1.2")
    rng = np.random.default_rng(seed)
    scale = num_teachers / REFERENCE["teachers"]
    geo = _townships(rng, scale)
    schools = _schools(rng, scale, geo)
    _designate(rng, schools)
    grades = _grades(rng, scale, schools)
    units = _units(schools, grades, multiplier=1.0)
    heads = _headcounts(rng, units, schools, num_teachers)
    teachers = _teachers(rng, units, heads, schools, as_of)
    _volunteers(rng, teachers, schools)
    multiplier = 1.0 if staffing is None else _calibrate(schools, grades, teachers, staffing, as_of)
    classes = _enrol(grades, multiplier)
    _finish_schools(rng, schools, _units(schools, grades, multiplier))
    frames = {
        "schools": _schools_frame(schools),
        "classes": classes,
        "teachers": _teachers_frame(teachers, schools),
    }
    label = f"sample(num_teachers={num_teachers}, seed={seed}, staffing={staffing})"
    return validate_frames(frames, as_of=as_of, source=label)


# --------------------------------------------------------------------------------------------------
# Geography: townships and their seats
# --------------------------------------------------------------------------------------------------


@dataclass
class _Geo:
    names: list[str]
    stems: list[str]
    urban: np.ndarray  # bool per township
    x: np.ndarray  # seat position, km east of the centre
    y: np.ndarray  # km north
    spacing: float  # typical distance between rural seats, km
    side: float  # the county's side, km


def _stem(township: str) -> str:
    for suffix in ("街道", "镇", "乡"):
        if township.endswith(suffix):
            return township[: -len(suffix)]
    return township


def _name_pool(rng: np.random.Generator, firsts: str, seconds: str, exclude: set[str]) -> list[str]:
    """Two-character names from first × second characters, in a seeded random order."""
    pool = [a + b for a in dict.fromkeys(firsts) for b in dict.fromkeys(seconds) if a != b]
    pool = [name for name in pool if name not in exclude]
    return [pool[i] for i in rng.permutation(len(pool))]


def _village_names(rng: np.random.Generator, exclude: set[str]) -> list[str]:
    """Distinct village names: two characters (东庄, 石沟, ...) first, then three (上王庄, ...)."""
    short = _name_pool(rng, VILLAGE_FIRST, VILLAGE_SECOND, exclude)
    long = [a + m + b for a in dict.fromkeys(VILLAGE_FIRST) for m in VILLAGE_MIDDLE for b in VILLAGE_SECOND
            if len({a, m, b}) == 3]
    return short + [long[i] for i in rng.permutation(len(long))]


def _townships(rng: np.random.Generator, scale: float) -> _Geo:
    total = max(2, round(REFERENCE["townships"] * scale))
    n_urban = min(total - 1, max(1, round(scale)))
    n_rural = total - n_urban
    urban = list(URBAN_TOWNSHIPS[:n_urban])
    used = {_stem(t) for t in (*URBAN_TOWNSHIPS, *SEAT_TOWNS)}
    stems = _name_pool(rng, TOWNSHIP_FIRST, TOWNSHIP_SECOND, used)
    while len(urban) < n_urban:
        urban.append(stems.pop() + "街道")
    rural = list(SEAT_TOWNS[:n_rural])
    suffixes = np.where(rng.random(max(n_rural - len(rural), 0)) < 0.7, "镇", "乡")
    for suffix in suffixes:
        rural.append((stems.pop() if stems else f"新{len(rural)}") + str(suffix))
    side = SIDE_KM * math.sqrt(max(scale, 0.05))
    # Urban townships: a sunflower spiral around the centre (the county town first, at the centre).
    angle0 = rng.random() * 2 * math.pi
    idx = np.arange(n_urban)
    radius = 2.2 * np.sqrt(idx)
    ux, uy = radius * np.cos(angle0 + idx * 2.39996), radius * np.sin(angle0 + idx * 2.39996)
    core = 2.2 * math.sqrt(n_urban) + 1.5
    # Rural township seats: dart throwing in the square outside the town core.
    spacing = 0.8 * side / math.sqrt(n_rural + 1)
    rx, ry = np.zeros(n_rural), np.zeros(n_rural)
    placed, min_gap, tries = 0, spacing, 0
    while placed < n_rural:
        for px, py in (rng.random((256, 2)) - 0.5) * side * 0.94:
            tries += 1
            if tries > 200 + 30 * n_rural:
                min_gap, tries = min_gap * 0.9, 0
            if math.hypot(px, py) < core + 0.3 * spacing:
                continue
            if placed and np.min((rx[:placed] - px) ** 2 + (ry[:placed] - py) ** 2) < min_gap**2:
                continue
            rx[placed], ry[placed] = px, py
            placed += 1
            if placed == n_rural:
                break
    names = urban + rural
    return _Geo(
        names=names,
        stems=[_stem(t) for t in names],
        urban=np.array([True] * n_urban + [False] * n_rural),
        x=np.concatenate([ux, rx]),
        y=np.concatenate([uy, ry]),
        spacing=spacing,
        side=side,
    )


# --------------------------------------------------------------------------------------------------
# Schools
# --------------------------------------------------------------------------------------------------


@dataclass
class _Schools:
    """One entry per school, in id order: parallel arrays and lists."""

    category: list[str] = field(default_factory=list)
    township: list[int] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    first: list[bool] = field(default_factory=list)  # 第一小学 / 第一中学 of its urban township: the largest
    ids: list[str] = field(default_factory=list)
    weak: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    group: list[str | None] = field(default_factory=list)
    boarding: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    establishment: list[int | None] = field(default_factory=list)
    township_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.category)


def _numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 40 → 四十, 123 → 123 (Chinese numerals for school numbers)."""
    if n < 10:
        return DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")
    return str(n)


def _counts(scale: float, n_rural: int) -> dict[str, int]:
    nine = min(n_rural, round(REFERENCE["nine_year_schools"] * scale))
    return {
        URBAN_PRIMARY: max(1, round(8 * scale)),
        CENTRAL_PRIMARY: n_rural,
        VILLAGE_PRIMARY: round(22 * scale),
        TEACHING_POINT: round(REFERENCE["teaching_points"] * scale),
        SPECIAL: max(1, round(scale)) if scale >= 0.5 else 0,
        URBAN_JUNIOR: max(1, round(4 * scale)),
        TOWN_JUNIOR: n_rural - nine,
        NINE_YEAR: nine,
    }


def _schools(rng: np.random.Generator, scale: float, geo: _Geo) -> _Schools:
    urban_ids = np.flatnonzero(geo.urban)
    rural_ids = np.flatnonzero(~geo.urban)
    counts = _counts(scale, len(rural_ids))
    s = _Schools(township_names=geo.names)
    villages = iter(_village_names(rng, set(geo.stems)))
    village_count = 0

    def village() -> str:
        nonlocal village_count
        village_count += 1
        return next(villages, None) or f"新{village_count}"

    def add(category: str, township: int, name: str, x: float, y: float, first: bool = False) -> None:
        half = geo.side / 2
        s.category.append(category)
        s.township.append(int(township))
        s.name.append(name)
        s.x.append(float(np.clip(x, -half, half)))
        s.y.append(float(np.clip(y, -half, half)))
        s.first.append(first)

    def near(t: int, low: float, high: float) -> tuple[float, float]:
        angle, dist = rng.random() * 2 * math.pi, low + (high - low) * math.sqrt(rng.random())
        return geo.x[t] + dist * math.cos(angle), geo.y[t] + dist * math.sin(angle)

    # County-town schools, shared round-robin among the urban townships.
    numbers: dict[tuple[int, str], int] = {}
    for category, word in ((URBAN_PRIMARY, "小学"), (URBAN_JUNIOR, "中学")):
        for k in range(counts[category]):
            t = int(urban_ids[k % len(urban_ids)])
            numbers[(t, category)] = numbers.get((t, category), 0) + 1
            n = numbers[(t, category)]
            add(category, t, f"{geo.stems[t]}第{_numeral(n)}{word}", *near(t, 0.2, 1.8), first=n == 1)
    for k in range(counts[SPECIAL]):
        t = int(urban_ids[k % len(urban_ids)])
        name = "特殊教育学校" if counts[SPECIAL] == 1 else f"{geo.stems[t]}特殊教育学校"
        add(SPECIAL, t, name, *near(t, 0.5, 2.0))
    # Township seats: a central primary each, and a junior school (or, in some, a nine-year school).
    nine_townships = set(rng.choice(rural_ids, size=counts[NINE_YEAR], replace=False).tolist())
    for t in rural_ids:
        add(CENTRAL_PRIMARY, t, f"{geo.names[t]}中心小学", *near(t, 0.0, 0.6))
    for t in rural_ids:
        if t in nine_townships:
            add(NINE_YEAR, t, f"{village()}九年制学校", *near(t, 0.25 * geo.spacing, 0.45 * geo.spacing))
        else:
            add(TOWN_JUNIOR, t, f"{geo.names[t]}中学", *near(t, 0.0, 0.8))
    # Villages: primaries and teaching points, mostly in rural townships, a few on the county-town fringe.
    weights = np.where(geo.urban, 0.3, 1.0) * np.where([n.endswith("乡") for n in geo.names], 1.2, 1.0)
    weights = weights / weights.sum()
    for category, word, reach in ((VILLAGE_PRIMARY, "小学", 0.5), (TEACHING_POINT, "村教学点", 0.6)):
        per_township = rng.multinomial(counts[category], weights)
        for t, n in enumerate(per_township):
            for _ in range(n):
                if geo.urban[t]:
                    x, y = near(t, 3.0, 6.5)
                else:
                    x, y = near(t, 0.1 * geo.spacing, reach * geo.spacing)
                name = village()
                add(category, t, name + (word[1:] if name.endswith("村") and word[0] == "村" else word), x, y)
    _assign_ids(s)
    return s


def _assign_ids(s: _Schools) -> None:
    """Ids by type (X001 primary, T001 special, C001 junior, J001 nine-year, D001 teaching point), and
    the arrays reordered so that schools are listed in that order."""
    types = [CATEGORY_TYPE[c] for c in s.category]
    order = sorted(range(len(s)), key=lambda i: (TYPE_ORDER.index(types[i]), i))
    for name in ("category", "township", "name", "x", "y", "first"):
        values = getattr(s, name)
        setattr(s, name, [values[i] for i in order])
    width = {t: max(3, len(str(types.count(t)))) for t in TYPE_ORDER}
    seen: dict[str, int] = {}
    for category in s.category:
        kind = CATEGORY_TYPE[category]
        seen[kind] = seen.get(kind, 0) + 1
        s.ids.append(f"{TYPE_PREFIX[kind]}{seen[kind]:0{width[kind]}d}")


# --------------------------------------------------------------------------------------------------
# Enrolment: students per grade (at multiplier 1) and the class sizes that turn them into classes
# --------------------------------------------------------------------------------------------------


@dataclass
class _Grades:
    school: np.ndarray  # school index per row
    grade: np.ndarray
    base: np.ndarray  # students at multiplier 1 (float)
    cap: np.ndarray  # largest class the school lets a grade have before it opens another class
    ids: list[str]


def _grades(rng: np.random.Generator, scale: float, s: _Schools) -> _Grades:
    rows_school: list[int] = []
    rows_grade: list[int] = []
    rows_students: list[float] = []
    rows_cap: list[float] = []
    scaled: dict[str, list[int]] = {"primary": [], "junior": []}  # rows rescaled to hit the totals
    weights: dict[str, list[float]] = {"primary": [], "junior": []}

    def cohort(grades: range) -> np.ndarray:
        """Relative size of each grade: lower primary grades are smaller (falling births), ±6 % noise."""
        trend = np.array([0.9 + 0.035 * (g - 1) if g <= 6 else 1.0 for g in grades])
        return trend * rng.lognormal(0, 0.06, len(grades))

    def add(i: int, grades: range, students: np.ndarray, cap: float, stage_weight: float = 0.0,
            stage: str | None = None, jitter: float = 0.0) -> None:
        for g, n in zip(grades, students, strict=True):
            rows_school.append(i)
            rows_grade.append(g)
            rows_students.append(float(n))
            rows_cap.append(min(cap + (rng.normal(0, jitter) if jitter else 0.0), 65.0))
            if stage is not None:
                scaled[stage].append(len(rows_school) - 1)
                weights[stage].append(stage_weight * float(n))

    for i, category in enumerate(s.category):
        if category in (URBAN_PRIMARY, URBAN_JUNIOR):
            # County-town schools: large, and the most popular ones crowded (大班额: 56 and more).
            primary = category == URBAN_PRIMARY
            weight = (3.2 if primary else 1.6) if s.first[i] else 1.0
            weight *= rng.lognormal(0, 0.25)
            crowded = rng.random() < (0.6 if s.first[i] else 0.25)
            cap = rng.uniform(58.0, 63.0) if crowded else rng.uniform(46.0, 55.0)
            grades = range(1, 7) if primary else range(7, 10)
            share = cohort(grades)
            add(i, grades, share / share.sum(), cap, weight, "primary" if primary else "junior", jitter=1.5)
        elif category == CENTRAL_PRIMARY:
            weight = 0.55 * rng.lognormal(0, 0.3)
            share = cohort(range(1, 7))
            add(i, range(1, 7), share / share.sum(), rng.uniform(40.0, 50.0), weight, "primary", jitter=1.5)
        elif category == TOWN_JUNIOR:
            weight = 0.35 * rng.lognormal(0, 0.3)
            share = cohort(range(7, 10))
            add(i, range(7, 10), share / share.sum(), rng.uniform(45.0, 54.0), weight, "junior", jitter=1.5)
        elif category == VILLAGE_PRIMARY:
            total = rng.uniform(30, 99) if rng.random() < 0.6 else rng.uniform(100, 240)
            share = cohort(range(1, 7))
            add(i, range(1, 7), np.maximum(1.0, total * share / share.sum()), 45.0)
        elif category == TEACHING_POINT:
            top = int(rng.choice([2, 3, 4, 5, 6], p=[0.1, 0.45, 0.3, 0.05, 0.1]))
            grades = [g for g in range(1, top + 1) if g == 1 or rng.random() > 0.08]
            pupils = np.clip(np.round(rng.lognormal(math.log(7.0), 0.55, len(grades))), 3, 30)
            for g, n in zip(grades, pupils, strict=True):
                add(i, range(g, g + 1), np.array([n]), 35.0)
        elif category == NINE_YEAR:
            primary_total, junior_total = rng.uniform(220, 420), rng.uniform(140, 260)
            share = cohort(range(1, 7))
            add(i, range(1, 7), primary_total * share / share.sum(), 45.0)
            share = cohort(range(7, 10))
            add(i, range(7, 10), junior_total * share / share.sum(), 50.0)
        elif category == SPECIAL:
            add(i, range(1, 10), np.round(rng.uniform(4, 12, 9)), 12.0)
    students = np.asarray(rows_students)
    grade = np.asarray(rows_grade)
    # Share what the fixed-size schools leave of the real county's totals among the scaled schools.
    for stage, target_per_scale in (("primary", REFERENCE["primary_students"]),
                                    ("junior", REFERENCE["junior_students"])):
        rows = np.asarray(scaled[stage], dtype=int)
        in_stage = grade <= 6 if stage == "primary" else grade >= 7
        fixed = students[in_stage].sum() - students[rows].sum()
        remaining = max(target_per_scale * scale - fixed, 20.0 * len(rows))
        w = np.asarray(weights[stage])
        students[rows] = remaining * w / w.sum()
    return _Grades(school=np.asarray(rows_school), grade=grade, base=students, cap=np.asarray(rows_cap),
                   ids=s.ids)


def _enrol_arrays(g: _Grades, multiplier: float) -> tuple[np.ndarray, np.ndarray]:
    """Students and classes per grade: a new class opens when a grade outgrows the school's class size."""
    students = np.maximum(1, np.round(g.base * multiplier)).astype(np.int64)
    classes = np.maximum(1, np.ceil(students / g.cap)).astype(np.int64)
    return students, classes


def _enrol(g: _Grades, multiplier: float) -> pd.DataFrame:
    students, classes = _enrol_arrays(g, multiplier)
    return pd.DataFrame({
        "school_id": [g.ids[i] for i in g.school],
        "grade": g.grade.astype(np.int64),
        "classes": classes,
        "students": students,
    })


# --------------------------------------------------------------------------------------------------
# Units (school × stage): students, classes and the posts the norms give them
# --------------------------------------------------------------------------------------------------


@dataclass
class _Units:
    school: np.ndarray
    stage: np.ndarray  # "primary" / "junior"
    students: np.ndarray
    classes: np.ndarray
    required: np.ndarray


def _units(s: _Schools, g: _Grades, multiplier: float) -> _Units:
    students, classes = _enrol_arrays(g, multiplier)
    junior = (g.grade >= 7).astype(int)
    key = g.school * 2 + junior
    keys = np.unique(key)
    pos = np.searchsorted(keys, key)
    n_students = np.bincount(pos, weights=students, minlength=len(keys))
    n_classes = np.bincount(pos, weights=classes, minlength=len(keys))
    school = keys // 2
    stage = np.where(keys % 2 == 1, "junior", "primary")
    school_total = np.bincount(school, weights=n_students, minlength=len(s))[school]
    category = np.asarray(s.category)[school]
    per_staff = np.where(stage == "junior", STUDENTS_PER_STAFF["junior"], STUDENTS_PER_STAFF["primary"])
    per_staff = np.where(category == SPECIAL, SPECIAL_STUDENTS_PER_STAFF, per_staff)
    ratio = n_students / per_staff
    k = np.where(stage == "junior", STAFF_PER_CLASS["junior"], STAFF_PER_CLASS["primary"])
    small = (school_total < SMALL_SCHOOL_STUDENTS) & (category != SPECIAL)
    required = np.where(small, (ratio + n_classes * k) / 2, ratio)
    required = np.where(category == TEACHING_POINT, np.maximum(required, MIN_PER_TEACHING_POINT), required)
    return _Units(school=school, stage=stage, students=n_students.astype(int), classes=n_classes.astype(int),
                  required=required)


def _headcounts(rng: np.random.Generator, u: _Units, s: _Schools, total: int) -> np.ndarray:
    """Teachers per unit: the required posts times the category's staffing factor (with noise; weak
    schools lower), shared out so that they add up to `total` exactly."""
    category = np.asarray(s.category)[u.school]
    factor = np.array([STAFFING_FACTOR[c] for c in category])
    small = np.isin(category, [VILLAGE_PRIMARY, TEACHING_POINT, NINE_YEAR])
    factor = factor * rng.lognormal(0, np.where(small, 0.22, 0.1)) * np.where(s.weak[u.school], 0.85, 1.0)
    target = u.required * factor
    target = target * total / target.sum()
    floor = np.where(category == TEACHING_POINT, 1, np.where(u.students >= SMALL_SCHOOL_STUDENTS, 3, 2))
    heads = np.maximum(np.floor(target).astype(int), floor)
    remainder = target - np.floor(target) + rng.random(len(target)) * 1e-6
    diff = total - int(heads.sum())
    if diff > 0:
        for i in np.argsort(-remainder, kind="stable")[:diff]:
            heads[i] += 1
        while heads.sum() < total:  # more than one per unit needed (tiny counties)
            heads[np.argmax(target - heads)] += 1
    while diff < 0:  # the floors took more than the total: take from the best-staffed units
        spare = heads - floor
        if spare.max() <= 0:
            break
        i = int(np.argmax(np.where(spare > 0, heads - target, -np.inf)))
        heads[i] -= 1
        diff += 1
    return heads


# --------------------------------------------------------------------------------------------------
# Teachers
# --------------------------------------------------------------------------------------------------


@dataclass
class _Teachers:
    school: np.ndarray
    stage: np.ndarray
    subject: np.ndarray
    others: list[tuple[str, ...]]
    female: np.ndarray
    birth: np.ndarray  # datetime64[D]
    since: np.ndarray  # datetime64[D]
    title: np.ndarray
    education: np.ndarray
    backbone: np.ndarray
    status: np.ndarray
    rural_years: np.ndarray
    service_until: np.ndarray  # datetime64[D], NaT when none
    names: list[str]
    volunteer: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    wishes: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def active(self) -> np.ndarray:
        return self.status == "active"


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One index per row of a probability matrix (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn with probability ∝ weights (Efraimidis–Spirakis), in draw order."""
    keys = np.log(rng.random(len(weights))) / np.maximum(weights, 1e-12)
    k = min(k, int((weights > 0).sum()))
    if k <= 0:
        return np.zeros(0, dtype=int)
    top = np.argpartition(-keys, k - 1)[:k] if k < len(keys) else np.arange(len(keys))
    return top[np.argsort(-keys[top], kind="stable")]


def _subjects(rng: np.random.Generator, category: str, stage: str, n: int) -> list[str]:
    """The main subjects of a unit's n teachers: shares with noise, rounded by largest remainder."""
    names = PRIMARY_SUBJECTS if stage == "primary" else JUNIOR_SUBJECTS
    shares = np.asarray(SUBJECT_SHARES[(category, stage)], dtype=float)
    shares = shares * rng.lognormal(0, 0.3, len(shares))
    expected = n * shares / shares.sum()
    counts = np.floor(expected).astype(int)
    left = n - counts.sum()
    if left:
        frac = expected - counts
        counts[_weighted_sample(rng, frac + 1e-9, left)] += 1
    return [subject for subject, c in zip(names, counts, strict=True) for _ in range(c)]


def _teachers(rng: np.random.Generator, u: _Units, heads: np.ndarray, s: _Schools, as_of: date) -> _Teachers:
    categories = np.asarray(s.category)
    school_l: list[int] = []
    stage_l: list[str] = []
    subject_l: list[str] = []
    for i in range(len(heads)):
        subjects = _subjects(rng, categories[u.school[i]], str(u.stage[i]), int(heads[i]))
        school_l.extend([int(u.school[i])] * len(subjects))
        stage_l.extend([str(u.stage[i])] * len(subjects))
        subject_l.extend(subjects)
    school = np.asarray(school_l)
    stage = np.asarray(stage_l)
    subject = np.asarray(subject_l)
    n = len(school)
    category = categories[school]
    area = np.array([CATEGORY_AREA[c] for c in category])
    small = np.isin(category, [VILLAGE_PRIMARY, TEACHING_POINT, NINE_YEAR])
    junior = stage == "junior"

    # Gender: ~70 % women in primary (more in town), fewer in junior and PE.
    p_female = np.select([area == "urban", area == "town"], [0.84, 0.72], 0.56)
    p_female = np.where(junior, p_female - 0.16, p_female)
    p_female = np.where(subject == "pe", p_female * 0.4, p_female)
    female = rng.random(n) < p_female

    # Age: older village teachers and young 特岗 teachers in the villages; below retirement age.
    mix = _pick(rng, np.where(small[:, None], [[0.42, 0.28, 0.30]], [[0.12, 0.78, 0.10]]))
    centre = np.array([52.0, 40.0, 26.0])[mix]
    spread = np.array([4.0, 8.0, 2.5])[mix]
    age = centre + spread * rng.standard_normal(n)
    cap = np.where(female, 54.9, 59.9)
    age = np.where(age > cap, cap - (age - cap) * 0.7, age)
    age = np.where(age < 22.0, 22.0 + (22.0 - age) * 0.6, age)
    age = np.clip(age, 22.0, cap)

    # Education by age (older: 中专/大专; young: 本科/硕士), a step up in junior schools, down in villages.
    band = np.digitize(age, [30, 40, 50])  # 0: <30, 1: 30s, 2: 40s, 3: 50+
    edu_probs = np.array([
        # secondary associate bachelor master
        [0.00, 0.10, 0.80, 0.10],
        [0.01, 0.22, 0.72, 0.05],
        [0.10, 0.45, 0.44, 0.01],
        [0.35, 0.45, 0.20, 0.00],
    ])[band]
    edu_probs = edu_probs * np.where(junior[:, None], [[0.2, 0.5, 1.6, 1.5]], [[1.0, 1.0, 1.0, 1.0]])
    edu_probs = edu_probs * np.where(small[:, None], [[1.5, 1.3, 0.8, 0.4]], [[1.0, 1.0, 1.0, 1.0]])
    education = np.array(["secondary", "associate", "bachelor", "master"])[_pick(rng, edu_probs)]

    # Career: start age by education; years at the current school (many 6+, some recent).
    start = np.select([education == "secondary", education == "associate", education == "master"],
                      [19.0, 21.0, 25.0], 22.5) + rng.random(n) * 1.5
    career = np.maximum(age - start, 0.0)
    kind = _pick(rng, np.tile([0.22, 0.2, 0.58], (n, 1)))
    stay = np.select([kind == 0, kind == 1], [rng.integers(0, 3, n), rng.integers(3, 6, n)],
                     6 + np.floor(rng.exponential(8.0, n)))
    whole_career = small & (rng.random(n) < 0.35)  # village teachers who never moved
    stay = np.where(whole_career, career, stay)
    years = np.floor(np.minimum(stay, career)).astype(int)
    year0 = as_of.year if (as_of.month, as_of.day) > (9, 1) else as_of.year - 1  # last school year begun
    since_year = year0 - years
    spring = (rng.random(n) < 0.12) & (years >= 1)  # joined for the spring term
    since = np.array([f"{y}-03-01" if sp else f"{y}-09-01" for y, sp in zip(since_year, spring, strict=True)],
                     dtype="datetime64[D]")
    as_of64 = np.datetime64(as_of, "D")
    birth = as_of64 - np.round(age * 365.25).astype("timedelta64[D]")
    # Joining must come after the 16th birthday: never an issue with start ages ≥ 19, but keep it exact.
    earliest = (birth.astype("datetime64[M]") + np.timedelta64(12 * 17, "M")).astype("datetime64[D]")
    since = np.maximum(since, earliest)

    # Titles follow age (and a little the school: more senior titles in the county town).
    title_probs = np.array([
        # none third second first senior
        [0.45, 0.2, 0.35, 0.0, 0.0],
        [0.05, 0.05, 0.5, 0.38, 0.02],
        [0.01, 0.02, 0.2, 0.57, 0.2],
        [0.01, 0.02, 0.07, 0.5, 0.4],
    ])[band]
    title_probs = title_probs * np.where(small[:, None], [[1.3, 1.3, 1.2, 1.0, 0.5]],
                                         [[1.0, 1.0, 1.0, 1.0, 1.1]])
    title = np.array(["none", "third", "second", "first", "senior", "full_senior"])[_pick(rng, title_probs)]
    eligible = np.flatnonzero((title == "senior") & (age >= 48) & ~small)
    n_full = min(len(eligible), max(1, round(0.0015 * n)))
    title[rng.choice(eligible, size=n_full, replace=False)] = "full_senior"

    # Backbone (~8 %): county level mostly, in the county town and township seats.
    weight = np.select([area == "urban", area == "town"], [2.4, 1.5], 0.3)
    weight = weight * np.select([title == "full_senior", title == "senior", title == "first"],
                                [6.0, 2.5, 1.6], 0.4)
    weight = weight * np.where((age >= 30) & (age <= 55), 1.0, 0.3)
    chosen = _weighted_sample(rng, weight, round(0.08 * n))
    backbone = np.full(n, "none", dtype=object)
    level = _pick(rng, np.tile([0.76, 0.2, 0.04], (len(chosen), 1)))
    backbone[chosen] = np.array(["county", "city", "province"])[level]
    backbone = backbone.astype(str)

    # Status: a few on leave, a couple seconded or on full-time study.
    p_maternity = np.where(female & (age >= 24) & (age <= 38), 0.035, 0.0)
    p_sick = np.where(age >= 45, 0.01, 0.004)
    p_seconded = np.where(area == "rural", 0.002, 0.005)
    p_study = np.full(n, 0.002)
    status_probs = np.column_stack([1 - p_maternity - p_sick - p_seconded - p_study, p_maternity, p_sick,
                                    p_seconded, p_study])
    status = np.array(["active", "maternity", "sick", "seconded", "study"])[_pick(rng, status_probs)]

    # Service obligations: new hires and 特岗 teachers of the last three years (mostly rural): 3 years.
    p_service = np.select([area == "rural", area == "town"], [0.85, 0.5], 0.25)
    bound = (years <= 2) & (career <= 3.5) & (rng.random(n) < p_service)
    until = np.array([f"{y + 3}-08-31" for y in since_year], dtype="datetime64[D]")
    service_until = np.where(bound & (until > as_of64), until, np.datetime64("NaT"))

    # Years already served at rural or weak schools: this school if rural or weak, and earlier posts.
    weak_school = s.weak[school]
    here = np.where((area == "rural") | weak_school, np.minimum(stay, career), 0.0)
    before = np.maximum(career - np.minimum(stay, career), 0.0)
    p_before = np.select([area == "urban", area == "town"], [0.4, 0.6], 0.5)
    served = (rng.random(n) < p_before) * before * rng.uniform(0.2, 1.0, n)
    rural_years = np.minimum(np.round((here + served) * 2) / 2, 50.0)

    # Other subjects: village generalists teach several; town and county-town teachers occasionally one.
    others = _other_subjects(rng, subject, stage, area, small)
    names = _names(rng, female)
    return _Teachers(school=school, stage=stage, subject=subject, others=others, female=female, birth=birth,
                     since=since, title=title, education=education, backbone=backbone, status=status,
                     rural_years=rural_years, service_until=service_until, names=names)


def _other_subjects(rng: np.random.Generator, subject: np.ndarray, stage: np.ndarray, area: np.ndarray,
                    small: np.ndarray) -> list[tuple[str, ...]]:
    n = len(subject)
    u = rng.random((n, 4))
    counts = rng.integers(1, 4, n)
    picks = rng.integers(0, 1 << 30, (n, 3))
    out: list[tuple[str, ...]] = []
    for i in range(n):
        main = str(subject[i])
        if stage[i] == "junior":
            related = JUNIOR_RELATED[main]
            out.append((related[picks[i, 0] % len(related)],) if u[i, 0] < 0.2 else ())
            continue
        if small[i]:
            items: list[str] = []
            if main in ("chinese", "math"):
                if u[i, 0] < 0.6:
                    items.append("math" if main == "chinese" else "chinese")
            else:
                items.append("chinese" if u[i, 0] < 0.5 else "math")
            for k in range(counts[i]):
                extra = GENERALIST_EXTRA[picks[i, k] % len(GENERALIST_EXTRA)]
                if extra != main and extra not in items:
                    items.append(extra)
            out.append(tuple(items) if u[i, 1] < 0.85 else ())
        elif (area[i] == "town" and u[i, 2] < 0.3) or (area[i] == "urban" and u[i, 2] < 0.1):
            extra = GENERALIST_EXTRA[picks[i, 0] % len(GENERALIST_EXTRA)]
            out.append((extra,) if extra != main else ())
        else:
            out.append(())
    return out


def _names(rng: np.random.Generator, female: np.ndarray) -> list[str]:
    n = len(female)
    surname = rng.integers(0, len(SURNAMES), n)
    g1, g2 = rng.integers(0, 1 << 30, n), rng.integers(0, 1 << 30, n)
    two = rng.random(n) < 0.6
    out = []
    for i in range(n):
        pool = GIVEN_FEMALE if female[i] else GIVEN_MALE
        given = pool[g1[i] % len(pool)] + (pool[g2[i] % len(pool)] if two[i] else "")
        out.append(SURNAMES[surname[i]] + given)
    return out


def _volunteers(rng: np.random.Generator, t: _Teachers, s: _Schools) -> None:
    """~4 % of active teachers ask to move (young village teachers most): 1–3 wished schools, ordered,
    usually near their school and in the county town or a township seat; never their own school."""
    n = len(t.school)
    category = np.asarray(s.category)
    area = np.array([CATEGORY_AREA[c] for c in category])
    t_area = area[t.school]
    born = t.birth.astype(np.int64)
    young = born > np.percentile(born, 40)
    weight = np.select([t_area == "rural", t_area == "town"], [2.5, 1.2], 0.6) * np.where(young, 1.5, 0.7)
    weight = np.where(t.status == "active", weight, 0.0)
    chosen = np.sort(_weighted_sample(rng, weight, round(0.04 * n)))
    t.volunteer = np.zeros(n, bool)
    t.volunteer[chosen] = True
    t.wishes = [()] * n
    x, y = np.asarray(s.x), np.asarray(s.y)
    types = np.array([CATEGORY_TYPE[c] for c in category])
    teaches = {"primary": np.isin(types, ["primary", "nine_year"]),
               "junior": np.isin(types, ["junior", "nine_year"])}
    attract = {
        "rural": np.select([area == "urban", area == "town"], [3.0, 2.5], 0.5),
        "town": np.select([area == "urban", area == "town"], [3.0, 1.0], 0.3),
        "urban": np.select([area == "urban", area == "town"], [3.0, 1.0], 0.2),
    }
    sizes = rng.choice([1, 2, 3], size=len(chosen), p=[0.3, 0.35, 0.35])
    for i, k in zip(chosen, sizes, strict=True):
        home = int(t.school[i])
        dist = np.hypot(x - x[home], y - y[home])
        w = np.where(teaches[str(t.stage[i])], attract[t_area[i]] * np.exp(-dist / 8.0), 0.0)
        w[home] = 0.0
        t.wishes[i] = tuple(s.ids[j] for j in _weighted_sample(rng, w, int(k)))
    t.volunteer = np.array([bool(v) and len(w) > 0 for v, w in zip(t.volunteer, t.wishes, strict=True)])


# --------------------------------------------------------------------------------------------------
# Staffing calibration
# --------------------------------------------------------------------------------------------------


def _calibrate(s: _Schools, g: _Grades, t: _Teachers, staffing: float, as_of: date) -> float:
    """The enrolment multiplier at which active teachers ÷ required_total = `staffing`."""
    from teacheralloc.norms import required_total

    active = int(t.active.sum())
    target = active / staffing
    school_frame = _schools_frame(s, draft=True)
    teacher_keys = pd.DataFrame({"school_id": [s.ids[i] for i in t.school], "stage": t.stage})

    def required(multiplier: float) -> float:
        light = County(schools=school_frame, classes=_enrol(g, multiplier), teachers=teacher_keys,
                       distances=None, as_of=as_of, source="sample-calibration")
        return required_total(light)

    # Required posts grow about linearly with enrolment (the class rule of small schools less so):
    # secant steps, kept inside a bracket, until within 0.2 %.
    lo, hi = 0.02, 50.0
    m0, r0 = 1.0, required(1.0)
    m1 = min(max(target / max(r0, 1e-9), lo), hi)
    r1 = required(m1)
    best = min((abs(r0 - target), m0), (abs(r1 - target), m1))
    for _ in range(40):
        if abs(r1 - target) <= 0.002 * target:
            return m1
        if r1 < target:
            lo = max(lo, m1)
        else:
            hi = min(hi, m1)
        slope = (r1 - r0) / (m1 - m0) if m1 != m0 else 0.0
        guess = m1 + (target - r1) / slope if slope > 0 else (lo + hi) / 2
        if not lo < guess < hi:
            guess = (lo + hi) / 2
        m0, r0 = m1, r1
        m1, r1 = guess, required(guess)
        best = min(best, (abs(r1 - target), m1))
    return best[1]


# --------------------------------------------------------------------------------------------------
# School attributes: weak schools and groups; boarding and establishment (from the final enrolment)
# --------------------------------------------------------------------------------------------------


def _designate(rng: np.random.Generator, s: _Schools) -> None:
    """Weak schools (薄弱学校) and education groups (教育集团)."""
    n = len(s)
    category = np.asarray(s.category)
    # Education groups (教育集团): a county-town school (always the largest ones) leads the nearest township
    # and village schools.
    s.group = [None] * n
    x, y = np.asarray(s.x), np.asarray(s.y)
    members_of = {URBAN_PRIMARY: (CENTRAL_PRIMARY, VILLAGE_PRIMARY), URBAN_JUNIOR: (TOWN_JUNIOR, NINE_YEAR)}
    lead_draw = rng.random(n)
    size_draw = rng.integers(2, 5, n)
    for i in range(n):
        if category[i] not in members_of or (lead_draw[i] >= 0.4 and not s.first[i]):
            continue
        name = f"{s.name[i]}教育集团"
        s.group[i] = name
        free = np.isin(category, members_of[category[i]]) & np.array([grp is None for grp in s.group])
        dist = np.where(free, np.hypot(x - x[i], y - y[i]), np.inf)
        for j in np.argsort(dist, kind="stable")[: size_draw[i]]:
            if np.isfinite(dist[j]):
                s.group[j] = name

    # Weak schools (薄弱学校): many village schools, some nine-year and township junior schools.
    p_weak = np.select([category == VILLAGE_PRIMARY, category == TEACHING_POINT, category == NINE_YEAR,
                        category == TOWN_JUNIOR], [0.35, 0.25, 0.5, 0.1], 0.0)
    s.weak = rng.random(n) < p_weak


def _finish_schools(rng: np.random.Generator, s: _Schools, u: _Units) -> None:
    """Boarding students and approved establishment, from the final enrolment."""
    n = len(s)
    category = np.asarray(s.category)
    students = np.bincount(u.school, weights=u.students, minlength=n)
    junior_students = np.bincount(u.school, weights=np.where(u.stage == "junior", u.students, 0), minlength=n)
    required = np.bincount(u.school, weights=u.required, minlength=n)

    # Boarding: township junior and nine-year schools board many pupils, county-town juniors some.
    rate = np.select(
        [category == TOWN_JUNIOR, category == NINE_YEAR, category == URBAN_JUNIOR,
         category == CENTRAL_PRIMARY],
        [rng.uniform(0.35, 0.75, n), rng.uniform(0.25, 0.6, n),
         np.where(rng.random(n) < 0.4, rng.uniform(0.05, 0.25, n), 0.0),
         np.where(rng.random(n) < 0.2, rng.uniform(0.05, 0.15, n), 0.0)],
        0.0,
    )
    base = np.where(category == NINE_YEAR, junior_students + 0.3 * (students - junior_students), students)
    s.boarding = np.round(rate * base).astype(int)

    # Establishment approved by the establishment office: near the norm, above it in the county town,
    # unknown for a few schools (teaching points most often).
    over = np.select([np.isin(category, [URBAN_PRIMARY, URBAN_JUNIOR]), category == CENTRAL_PRIMARY],
                     [rng.uniform(1.0, 1.25, n), rng.uniform(0.95, 1.15, n)], rng.uniform(0.9, 1.08, n))
    missing = rng.random(n) < np.where(category == TEACHING_POINT, 0.1, 0.03)
    s.establishment = [None if missing[i] else max(1, round(required[i] * over[i])) for i in range(n)]


# --------------------------------------------------------------------------------------------------
# Frames in contract columns
# --------------------------------------------------------------------------------------------------


def _schools_frame(s: _Schools, draft: bool = False) -> pd.DataFrame:
    n = len(s)
    lat = CENTRE_LAT + np.asarray(s.y) / KM_PER_DEG_LAT
    lon = CENTRE_LON + np.asarray(s.x) / KM_PER_DEG_LON
    return pd.DataFrame({
        "school_id": s.ids,
        "name": s.name,
        "township": [s.township_names[t] for t in s.township],
        "type": [CATEGORY_TYPE[c] for c in s.category],
        "area": [CATEGORY_AREA[c] for c in s.category],
        "lat": np.round(lat, 5),
        "lon": np.round(lon, 5),
        "boarding_students": np.zeros(n, int) if draft else s.boarding,
        "establishment": pd.Series([None] * n if draft else s.establishment, dtype=object),
        "group": pd.Series([None] * n if draft else s.group, dtype=object),
        "weak": np.zeros(n, bool) if draft else s.weak,
    })


def _teachers_frame(t: _Teachers, s: _Schools) -> pd.DataFrame:
    n = len(t.school)
    width = max(5, len(str(n)))
    until = t.service_until.astype(object)
    return pd.DataFrame({
        "teacher_id": [f"JS{i + 1:0{width}d}" for i in range(n)],
        "name": t.names,
        "gender": np.where(t.female, "F", "M"),
        "birth_date": t.birth.astype(object),
        "school_id": [s.ids[i] for i in t.school],
        "school_since": t.since.astype(object),
        "stage": t.stage,
        "subject": t.subject,
        "other_subjects": pd.Series(t.others, dtype=object),
        "title": t.title,
        "backbone": t.backbone,
        "education": t.education,
        "status": t.status,
        "rural_years": t.rural_years,
        "service_until": pd.Series(until, dtype=object),
        "volunteer": t.volunteer,
        "wishes": pd.Series(t.wishes, dtype=object),
    })
