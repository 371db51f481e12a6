"""The arc table is built in slices with its labels as categories (memory: a 5,000-teacher
school-to-school model has a million arcs). Slicing must not change a single arc, and the plan's own
tables must still hold plain strings (a scenario relabels moves as new hires)."""

from __future__ import annotations

import pandas as pd
import pytest

import teacheralloc.model.candidates as candidates
from teacheralloc.io.pins import empty_pins
from teacheralloc.model.candidates import LABEL_COLUMNS, build_candidates
from teacheralloc.norms import compute_norms
from teacheralloc.policy import Policy
from teacheralloc.sample import generate_county

POLICY = Policy.default()


@pytest.mark.parametrize("mode", ["pairs", "hub"])
def test_slices_build_the_same_arcs(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    county = generate_county(num_teachers=400, seed=4)
    norms = compute_norms(county, POLICY)
    whole = build_candidates(county, norms, POLICY, empty_pins(), mode=mode).arcs
    monkeypatch.setattr(candidates, "DIRECT_SLICE_ROWS", 500)  # many small slices
    sliced = build_candidates(county, norms, POLICY, empty_pins(), mode=mode).arcs
    assert len(whole) > 1000
    pd.testing.assert_frame_equal(whole, sliced)
    for column in LABEL_COLUMNS:
        assert isinstance(sliced[column].dtype, pd.CategoricalDtype)
        # the categories are the labels present, in sorted order (the arcs are sorted by them)
        present = sorted(set(sliced[column].dropna().astype(str)))
        assert list(sliced[column].cat.categories) == present


def test_the_plan_tables_hold_plain_strings() -> None:
    from tests.model.counties import checked_plan

    plan = checked_plan(generate_county(num_teachers=300, seed=2), POLICY)
    assert len(plan.moves)
    for column in ("teacher_id", "from_school", "to_school", "move_type", "subject", "from_stage", "to_stage"):
        assert not isinstance(plan.moves[column].dtype, pd.CategoricalDtype), column
    plan.moves.loc[plan.moves.index[:1], "move_type"] = "new_hire"  # what a scenario does to a hire


def test_lookup_is_series_map_with_a_default() -> None:
    """`_lookup` replaces `Series.map` over millions of (option, unit) rows: the same values, the
    default where a key is missing (NaN keys included), and an empty table gives the default."""
    keys = pd.Series(["U1|primary", "U2|junior", "U9|primary", None], dtype="str")
    closed = pd.Series([True, False], index=["U1|primary", "U2|junior"])
    assert candidates._lookup(keys, closed, False).tolist() == [True, False, False, False]
    index = {"S1": 0, "S2": 1}
    assert candidates._lookup(pd.Series(["S2", "S1", "S2"], dtype="str"), index, -1).tolist() == [1, 0, 1]
    pinned = pd.Series(dtype=object)  # no to_school pins
    assert pd.isna(candidates._lookup(keys, pinned, None)).all()
