"""School-to-school paths priced from the pooled model (model/paths.py).

Above `plan.exact_distance_arcs` the school-to-school model is not built; its paths are priced from
the pooled model's duals and join the LP only when they price negative. The lower tiers must then
reach the same proven bound as the school-to-school model built whole, with a plan the checker
accepts, and the pricing's decomposition a[i] + b[j] + κ·km must be each path's reduced cost.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from tests.model.counties import checked_plan as plan_county
from tests.model.counties import tier_result as tier

from teacheralloc.io.pins import empty_pins
from teacheralloc.model.builder import build_model
from teacheralloc.model.candidates import build_candidates
from teacheralloc.model.paths import PathSpace
from teacheralloc.model.routes import ROUTE_COLUMNS
from teacheralloc.model.solve import SolveParams
from teacheralloc.norms import compute_norms
from teacheralloc.plan import Plan
from teacheralloc.policy import Policy
from teacheralloc.sample import generate_county

#: Disruption compared across models: the wishes tier keeps it as solved (plan.lower_tier_slack 0).
POLICY = Policy.default().model_copy(update={"plan": Policy.default().plan.model_copy(update={"lower_tier_slack": 0.0})})


def _with(**plan: object) -> Policy:
    return POLICY.model_copy(update={"plan": POLICY.plan.model_copy(update=plan)})


PRICED = _with(exact_distance_arcs=0)  # every county above the (zero) budget: priced paths
POOLED = _with(exact_distance_arcs=0, priced_paths=0)


@cache
def plans(seed: int) -> dict[str, Plan]:
    county = generate_county(num_teachers=300, seed=seed)
    return {
        "priced": plan_county(county, PRICED),
        "pooled": plan_county(county, POOLED),
        "pairs": plan_county(county, POLICY, params=SolveParams(mode="pairs")),
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_priced_paths_reach_the_school_to_school_bound(seed: int) -> None:
    priced, pooled, pairs = plans(seed)["priced"], plans(seed)["pooled"], plans(seed)["pairs"]
    assert "逐对" in priced.notes[0] and "逐对" not in pooled.notes[0]
    size = priced.model_size
    assert size["exact_arcs"] < size["priced_paths"]  # only some of the paths were ever held
    for name in ("quota", "headcount", "subject", "balance"):  # the pooled tiers are untouched
        assert tier(priced, name).value == pytest.approx(tier(pooled, name).value, rel=1e-6, abs=1e-6)
    exact, loose, reference = tier(priced, "disruption"), tier(pooled, "disruption"), tier(pairs, "disruption")
    # The school-to-school LP's bound (pricing may stop within 1e-4 of it, with a Lagrangian bound).
    assert reference.bound * (1 - 2e-4) - 1e-6 <= exact.bound <= reference.bound + 1e-6
    assert exact.bound >= loose.bound - 1e-6
    assert exact.value >= reference.bound - 1e-6  # no plan beats the school-to-school bound
    assert exact.value <= loose.value + 1e-6  # and none is longer than the pooled plan routed


def test_path_reduced_costs_are_the_decomposition() -> None:
    """Hold every path of a small county; under random duals, each leave arc's least reduced cost from
    the blockwise pricing equals the least over its paths' columns (c − Aᵀy) in the model."""
    county = generate_county(num_teachers=300, seed=3)
    policy = POLICY
    norms = compute_norms(county, policy)
    hub = build_model(build_candidates(county, norms, policy, empty_pins()), policy)
    space = PathSpace(hub, pd.DataFrame(columns=ROUTE_COLUMNS))
    leaves, arrives = [], []
    for leave, reach in zip(space.blocks.leave, space.blocks.reach, strict=True):
        i, j = np.meshgrid(leave, reach, indexing="ij")
        keep = space.school[i] != space.dest_school[j]
        leaves.append(i[keep])
        arrives.append(j[keep])
    space.add(np.concatenate(leaves), np.concatenate(arrives))
    own = sum(int((space.school[lv][:, None] == space.dest_school[rc][None, :]).sum())
              for lv, rc in zip(space.blocks.leave, space.blocks.reach, strict=True))
    paths = np.flatnonzero(space._order_keys >= 0)  # held paths (direct arcs have negative keys)
    assert len(paths) == space.paths - own  # every path but those back to the teacher's own school
    ids = space.built.flow[paths]
    model = space.built.model
    rows, columns, coefs = model.matrix()
    rng = np.random.default_rng(0)
    duals = rng.normal(size=model.num_rows)
    weight = 0.7  # the disruption tier's weight (objective, or a hold's dual)
    cost = np.zeros(model.num_variables)
    np.add.at(cost, space.built.tiers["disruption"].columns, weight * space.built.tiers["disruption"].coefs)
    reduced = cost - np.bincount(columns, weights=coefs * duals[rows], minlength=model.num_variables)
    expected = pd.Series(reduced[ids]).groupby(space._order_keys[paths] // space.arc_count).min()
    space.price(duals, {"disruption": weight, "wishes": 0.0})
    got = pd.Series(space.least[expected.index.to_numpy()], index=expected.index)
    assert np.allclose(got.to_numpy(), expected.to_numpy(), atol=1e-9)



def test_priced_paths_give_the_same_plan_twice() -> None:
    """Pricing, dropping and the MIPs are deterministic: the same input and settings, the same plan."""
    first = plans(2)["priced"]
    second = plan_county(generate_county(num_teachers=300, seed=2), PRICED)
    assert len(first.moves) > 0
    assert first.moves.equals(second.moves)
    assert [(t.name, t.value, t.bound) for t in first.tiers] == [(t.name, t.value, t.bound) for t in second.tiers]


def test_too_little_time_for_pricing_keeps_the_lower_tiers_pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the time limit is short for the county's paths (`solve.PRICED_SECONDS_PER_MILLION`), the
    lower tiers are solved pooled (a plan cut short while pricing can be worse than the pooled one),
    still checked and with an honest gap."""
    import teacheralloc.model.solve as solve

    monkeypatch.setattr(solve, "PRICED_SECONDS_PER_MILLION", 1e9)
    county = generate_county(num_teachers=300, seed=1)
    short = plan_county(county, PRICED)
    pooled = plans(1)["pooled"]
    assert "逐对" not in short.notes[0] and "priced_paths" not in short.model_size
    for name in ("quota", "headcount", "subject", "balance", "disruption", "wishes"):
        assert tier(short, name).value >= tier(short, name).bound - 1e-6
    assert tier(short, "disruption").bound == pytest.approx(tier(pooled, "disruption").bound, rel=1e-6)


def test_whether_to_price_reads_the_time_limit_and_the_size_only() -> None:
    """Priced paths or pooled is decided from `--time-limit` and the county's paths, never from a time
    measured while solving (CPU time sat at the threshold and a plan changed from run to run): the default
    120 s prices every county within plan.priced_paths (5 million); 10,000 teachers (3.6 million paths) at
    `--time-limit 35`, where a plan cut short while pricing was worse than the pooled one, stay pooled."""
    from teacheralloc.model.solve import SolveParams, _time_for_paths

    assert _time_for_paths(SolveParams(time_limit_s=120), 5_000_000)
    assert not _time_for_paths(SolveParams(time_limit_s=35), 3_600_000)
    assert _time_for_paths(SolveParams(time_limit_s=20), 300_000)  # small counties: a million's worth at least
