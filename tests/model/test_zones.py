"""Distance zones (调配池分区): which schools' teachers share an arrival pool."""

from __future__ import annotations

import numpy as np
import pandas as pd

from teacheralloc.model.candidates import distance_zones
from teacheralloc.policy import Policy, load_policy


def _units(townships: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"school_id": list(townships), "township": list(townships.values()),
                         "unit": [f"{s}|primary" for s in townships]})


def _line_distances(positions: dict[str, float]) -> tuple[np.ndarray, dict[str, int]]:
    ids = list(positions)
    x = np.array([positions[s] for s in ids])
    return np.abs(x[:, None] - x[None, :]), {s: i for i, s in enumerate(ids)}


# Four townships on a line: A and B in the west (0–3 km), C and D in the east (50–53 km).
TOWNSHIPS = {"S1": "A", "S2": "A", "S3": "B", "S4": "C", "S5": "D", "S6": "D"}
POSITIONS = {"S1": 0.0, "S2": 1.0, "S3": 3.0, "S4": 50.0, "S5": 52.0, "S6": 53.0}


def _policy(mode: str) -> Policy:
    return load_policy(overrides={"plan": {"distance_zones": mode}})


def test_auto_groups_neighbouring_townships() -> None:
    distance, index = _line_distances(POSITIONS)
    zones = distance_zones(_units(TOWNSHIPS), _policy("auto"), distance, index, budget=12)  # 12 ÷ 6 units = 2
    assert zones["S1"] == zones["S2"] == zones["S3"]
    assert zones["S4"] == zones["S5"] == zones["S6"]
    assert zones["S1"] != zones["S4"]


def test_auto_keeps_townships_when_the_budget_allows_and_one_zone_when_it_does_not() -> None:
    distance, index = _line_distances(POSITIONS)
    units = _units(TOWNSHIPS)
    per_township = distance_zones(units, _policy("auto"), distance, index, budget=1000)
    assert per_township.to_dict() == TOWNSHIPS
    county_wide = distance_zones(units, _policy("auto"), distance, index, budget=3)
    assert set(county_wide) == {""}


def test_explicit_modes_ignore_the_budget() -> None:
    distance, index = _line_distances(POSITIONS)
    units = _units(TOWNSHIPS)
    assert distance_zones(units, _policy("township"), distance, index, budget=1).to_dict() == TOWNSHIPS
    assert set(distance_zones(units, _policy("none"), distance, index, budget=10_000)) == {""}


def test_townships_at_the_same_place_and_schools_without_pupils() -> None:
    """Degenerate distances (schools without coordinates are 0 km from everything) give zones, not an error;
    units without pupils (a scenario's holding schools) do not count towards the budget."""
    townships = {f"S{i}": f"T{i % 5}" for i in range(10)}
    distance, index = np.zeros((10, 10)), {s: i for i, s in enumerate(townships)}
    units = _units(townships).assign(school_students=[100] * 6 + [0] * 4)
    zones = distance_zones(units, _policy("auto"), distance, index, budget=18)  # 18 ÷ 6 served units = 3 zones
    assert zones.index.tolist() == list(townships)
    assert 1 <= zones.nunique() <= 3
