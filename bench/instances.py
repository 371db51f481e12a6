"""Benchmark instances: the sample county, generated counties, and planted counties (a perfect assignment
exists; K rotation-eligible, movable teachers are then moved to wrong schools; K is recorded).

An instance is pickled once ({"name", "county", "overrides", "teachers", "k"}) and loaded by every case.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from teacheralloc.domain import County
from teacheralloc.io.read import load_county
from teacheralloc.norms import compute_norms
from teacheralloc.policy import Policy, load_policy
from teacheralloc.sample import generate_county

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-09-01"
#: Planted instances test restoring, so the tiers that could ask for other moves are switched off: the
#: rotation quota (it would rotate 10 % of the eligible) and the balance tier (per-100 indicator targets).
PLANTED_OVERRIDES: dict[str, Any] = {"rotation": {"min_share_of_eligible": 0.0},
                                     "plan": {"balance_weight": {"backbone": 0.0, "pe_arts": 0.0}}}


def policy_for(instance: dict[str, Any]) -> Policy:
    return load_policy(overrides=instance.get("overrides") or None)


def sample_instance() -> dict[str, Any]:
    from datetime import date

    county = load_county(ROOT / "scenarios" / "sample-county", as_of=date.fromisoformat(AS_OF))
    return {"name": "sample", "county": county, "overrides": {}, "k": None}


def generated_instance(teachers: int, seed: int = 0, staffing: float | None = None) -> dict[str, Any]:
    name = f"gen-{teachers}" + (f"@{staffing:g}" if staffing else "")
    return {"name": name, "county": generate_county(teachers, seed=seed, staffing=staffing), "overrides": {},
            "k": None}


def _perfect_roster(county: County, policy: Policy, rng: np.random.Generator) -> pd.DataFrame:
    """Teachers re-placed so that every school and stage has exactly max(its rounded required posts, the
    teachers its subjects need) active teachers, with main subjects covering every subject's demand
    rounded to the nearest and teachers with spare time qualified for the subjects whose demand rounds
    down: zero headcount shortage and zero subject shortage in both measures."""
    norms = compute_norms(county, policy)
    demand = norms.subjects[norms.subjects["demand"] > 1e-9]
    pool = county.teachers.copy()
    pool["status"] = "active"
    pool["volunteer"] = False
    pool["wishes"] = [() for _ in range(len(pool))]
    pool["stage"] = pool["stage"].astype(str)
    by_stage = {st: list(part.index[rng.permutation(len(part))]) for st, part in pool.groupby("stage")}
    used = {st: 0 for st in by_stage}
    rows = []
    target = policy.plan.headcount_target(norms.schools["required"])
    for (school, stage), tgt in zip(norms.schools[["school_id", "stage"]].itertuples(
            index=False, name=None), target, strict=True):
        if stage not in by_stage:
            continue
        need = demand[(demand["school_id"] == school) & (demand["stage"] == stage)]
        mains: list[str] = []
        down: list[str] = []
        spare = 0.0
        for subject, value in zip(need["subject"], need["demand"], strict=True):
            whole = math.floor(value + 0.5)
            mains += [subject] * whole
            if whole >= value:
                spare += whole - value
            else:
                down.append(subject)
        uncovered = sum(v - math.floor(v + 0.5) for v in need["demand"] if math.floor(v + 0.5) < v)
        extra = max(0, math.ceil(uncovered - spare - 1e-9))
        largest = need.sort_values("demand", ascending=False)["subject"].iloc[0] if len(need) else "chinese"
        mains += [largest] * extra
        while len(mains) < tgt:
            mains.append(largest)
        for subject in mains:
            source = by_stage[stage][used[stage] % len(by_stage[stage])]
            used[stage] += 1
            row = pool.loc[source].copy()
            row["school_id"], row["subject"] = school, subject
            row["other_subjects"] = tuple(s for s in down if s != subject)
            rows.append(row)
    roster = pd.DataFrame(rows).reset_index(drop=True)
    roster["teacher_id"] = [f"P{i:06d}" for i in range(len(roster))]
    return roster


def planted_instance(teachers: int, k: int, seed: int = 0) -> dict[str, Any]:
    """A county where a perfect assignment exists, then K eligible teachers moved to wrong schools.

    Each moved teacher leaves a different school for a different school of the same stage (no special
    schools), so moving each one back is a legal plan of K moves (a redeployment from the surplus
    the arrival created; the home school is one post below its 核定编制, set to its posts when perfect)."""
    rng = np.random.default_rng(seed)
    base = generate_county(teachers, seed=seed)
    policy = load_policy(overrides=PLANTED_OVERRIDES)
    roster = _perfect_roster(base, policy, rng)
    posts = roster.groupby("school_id").size()
    schools = base.schools.copy()
    schools["establishment"] = schools["school_id"].map(posts).fillna(0).astype(int)
    perfect = base.replace(teachers=roster, schools=schools)
    from common import build_facts  # facts of the perfect county: eligibility as the checker sees it

    facts = build_facts(perfect, policy)
    t = facts.teachers
    open_schools = set(facts.schools.index[facts.schools["type"] != "special"])
    candidates = t[t["rotation_eligible"] & t["school_id"].isin(open_schools)]
    candidates = candidates.iloc[rng.permutation(len(candidates))]
    used: set[str] = set()
    moved = []
    stage_schools = {st: sorted(s for s in open_schools if st in facts.schools.at[s, "stages"])
                     for st in ("primary", "junior")}
    for tid, school, stage in zip(candidates["teacher_id"], candidates["school_id"], candidates["stage"],
                                  strict=True):
        if len(moved) >= k or school in used:
            continue
        options = [s for s in stage_schools[stage] if s not in used and s != school]
        if not options:
            continue
        wrong = options[int(rng.integers(len(options)))]
        used.update({school, wrong})
        moved.append((tid, wrong))
    roster = roster.set_index("teacher_id", drop=False)
    for tid, wrong in moved:
        roster.at[tid, "school_id"] = wrong
    county = perfect.replace(teachers=roster.reset_index(drop=True))
    county = County(schools=county.schools, classes=county.classes, teachers=county.teachers,
                    distances=county.distances, as_of=county.as_of,
                    source=f"planted(teachers={teachers}, k={len(moved)}, seed={seed})")
    start = compute_norms(perfect, policy)
    return {"name": f"planted-{teachers}-k{len(moved)}", "county": county, "overrides": PLANTED_OVERRIDES,
            "k": len(moved), "perfect": {"teachers": len(roster),
                                         "headcount_short": float(np.maximum(0, policy.plan.headcount_target(
                                             start.schools["required"]) - start.schools["teachers_before"]).sum()),
                                         "subject_short_fte": float(start.subjects["gap"].clip(lower=0).sum())}}


def save(instance: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{instance['name']}.pkl"
    with path.open("wb") as handle:
        pickle.dump(instance, handle)
    return path


def load(path: Path) -> dict[str, Any]:
    with Path(path).open("rb") as handle:
        return pickle.load(handle)
