"""Pooling and pruning must not change the optimum, and the same input must give the same plan.

Each county is solved three ways and the four exactly-solved tiers (quota, headcount, subject,
balance) are compared, equal within 1e-6 (relative to the value, as the solver's own tolerance):

- `pairs`   : SolveParams(mode="pairs", prune=False) — one variable per (group, destination): the
              reference model;
- `default` : SolveParams() — the default (hub pooling; `plan.prune_destinations` is false);
- `pruned`  : SolveParams(mode="hub", prune=True) — pooling and destination pruning.

Where they differ, the test is kept and marked xfail(strict=True) with the measured values.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest
from tests.model import counties as C
from tests.model.counties import checked_plan as plan_county

from teacheralloc.domain import County
from teacheralloc.model.solve import SolveParams
from teacheralloc.plan import Plan
from teacheralloc.policy import Policy
from teacheralloc.sample import generate_county

POLICY = Policy.default()
EXACT = ("quota", "headcount", "subject", "balance")
CONFIGS = {
    "pairs": SolveParams(mode="pairs", prune=False),
    "default": SolveParams(),
    "pruned": SolveParams(mode="hub", prune=True),
}
HAND: dict[str, Callable[[], County]] = {
    "surplus_redeploy": lambda: C.surplus_and_shortage(eligible=False),
    "surplus_rotation": lambda: C.surplus_and_shortage(eligible=True),
    "quota_only": C.quota_only,
    "quota_backbone": lambda: C.quota_only(backbone="U07"),
    "english_gap": C.english_gap,
    "cross_stage": C.cross_stage,
    "far_shortage": lambda: C.far_shortage(400),
    "subject_vs_headcount": C.subject_versus_headcount,
    "volunteer_wishes": lambda: C.two_rural_short(("R2", "R1")),
    "exchange_for_subject": C.exchange_for_subject,
    "own_primary_section": C.own_primary_section,
}
SEEDS = (0, 1, 3)  # seed 2 behaves like seed 3 (pruned balance 14.0 vs 13.0); left out for time


@cache
def county(key: str) -> County:
    if key.startswith("seed"):
        return generate_county(300, seed=int(key.removeprefix("seed")))
    return HAND[key]()


@cache
def plan(key: str, config: str) -> Plan:
    return plan_county(county(key), POLICY, params=CONFIGS[config])


def exact_tiers(key: str, config: str) -> dict[str, float]:
    return {t.name: t.value for t in plan(key, config).tiers if t.name in EXACT}


def assert_same_optimum(key: str, config: str) -> None:
    reference, other = exact_tiers(key, "pairs"), exact_tiers(key, config)
    assert set(reference) == set(EXACT)
    for name in EXACT:
        assert other[name] == pytest.approx(reference[name], rel=1e-6, abs=1e-6), (
            f"{key}: tier {name} is {other[name]} with {config} but {reference[name]} in the pairs model"
        )


def _pruning_loss(measured: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(
        strict=True,
        raises=AssertionError,
        reason=(
            "optimizer bug: destination pruning (plan.prune_destinations: true) loses the optimum — it "
            "keeps an arrival only where the destination was short before the plan, so a move that opens "
            "a new need (a rotation or exchange out of a unit) cannot be answered, and rotations to "
            "schools without need are dropped. Measured (quota, headcount, subject, balance), pruned vs "
            f"pairs: {measured}"
        ),
    )


HAND_KEYS = list(HAND)
SEED_KEYS = [f"seed{s}" for s in SEEDS]
PRUNING_LOSSES = {
    "quota_only": "(26.0, 0.0, 17.0, 10.0) vs (0.4, 0.0, 17.0, 10.0): no rotation at all",
    "quota_backbone": "(13.0, 1.0, 17.0, 9.0) vs (0.0, 0.0, 17.0, 9.0): 1 rotation of 2",
    "exchange_for_subject": "(0, 0, 24.0, 12.0) vs (0, 0, 23.0, 12.0): U2's maths teacher may not replace Y",
    "seed1": "generate_county(300, seed=1): (0, 0, 14.0, 16.0) vs (0, 0, 13.0, 15.0)",
    "seed3": "generate_county(300, seed=3): (0, 0, 6.0, 14.0) vs (0, 0, 6.0, 12.0)",
}


def _params(keys: list[str], losses: dict[str, str]) -> list[object]:
    return [pytest.param(k, marks=_pruning_loss(losses[k])) if k in losses else k for k in keys]


@pytest.mark.parametrize("key", HAND_KEYS + SEED_KEYS)
def test_pooling_keeps_the_optimum(key: str) -> None:
    """The default model (hub pooling, unpruned) reaches the pairs model's optimum on every tier."""
    assert_same_optimum(key, "default")


@pytest.mark.parametrize("key", _params(HAND_KEYS + SEED_KEYS, PRUNING_LOSSES))
def test_pruning_keeps_the_optimum(key: str) -> None:
    """Pooling with destination pruning reaches the pairs model's optimum on every tier."""
    assert_same_optimum(key, "pruned")


def test_default_is_the_unpruned_hub() -> None:
    """What `default` above means: hub mode and no pruning, from the policy."""
    assert SolveParams().mode is None and SolveParams().prune is None
    assert POLICY.plan.prune_destinations is False and POLICY.plan.max_km is None
    assert plan("english_gap", "default").notes[0].startswith("求解方式：汇集")


def test_pruning_keeps_pinned_moves_feasible() -> None:
    table = C.pins(("U03", "must_move"), ("U03", "not_to_school", "R1"))
    result = plan_county(C.english_gap(chinese_at_u1=11), POLICY, pins=table, params=SolveParams(prune=True))
    assert ("U03", "U1", "R3", "redeploy", "chinese") in C.moves(result)


# --------------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["quota_only", "english_gap", "seed1"])
def test_same_input_same_plan(key: str) -> None:
    """Solved twice with the same settings: identical moves (names, reasons, order), schools, tiers."""
    first = plan(key, "default")
    second = plan_county(county(key), POLICY, params=CONFIGS["default"])
    assert len(first.moves) > 0
    assert first.moves.equals(second.moves)
    assert first.schools.equals(second.schools)
    assert [(t.name, t.value, t.status) for t in first.tiers] == [
        (t.name, t.value, t.status) for t in second.tiers
    ]
    assert first.quota == second.quota


@pytest.mark.parametrize("key", ["seed0", "seed1"])
def test_a_tier_is_reported_optimal_only_at_its_bound(key: str) -> None:
    """Every tier marked optimal has its value at its proven bound. Pooled (mode hub), the disruption
    tier is solved on distances priced at a lower bound and its value is the routed plan's, above
    that bound: it is a feasible tier, and the plan is then not optimal as a whole."""
    result = plan_county(county(key), POLICY, params=SolveParams(mode="hub"))
    for t in result.tiers:
        if t.status == "optimal":
            assert t.value <= t.bound + 1e-5 * max(1.0, abs(t.bound)) + 1e-6, t
    disruption = next(t for t in result.tiers if t.name == "disruption")
    assert disruption.value > disruption.bound + 1e-3 and disruption.status == "feasible"
    assert result.status == "feasible"
