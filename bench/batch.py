"""Province batch: many generated counties of mixed sizes planned on one machine with a process pool.

Each worker generates its county (deterministic: size and seed) and plans it with `plan_county`; the wall
time of the whole batch and counties per minute are what a province office would wait for.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np


def _solve(job: tuple[int, int, float]) -> dict[str, Any]:
    from teacheralloc.model.solve import SolveParams, plan_county
    from teacheralloc.policy import Policy
    from teacheralloc.sample import generate_county

    teachers, seed, time_limit = job
    started = time.perf_counter()
    county = generate_county(teachers, seed=seed)
    try:
        plan = plan_county(county, Policy.default(), params=SolveParams(time_limit_s=time_limit))
        tiers = {t.name: t for t in plan.tiers}
        status, gap = plan.status, tiers["headcount"].gap
    except Exception as exc:  # a failed county is reported, not fatal to the batch
        status, gap = f"error: {type(exc).__name__}", None
    return {"teachers": teachers, "seed": seed, "seconds": round(time.perf_counter() - started, 2),
            "status": status, "headcount_gap": gap}


def province_batch(counties: int = 50, smallest: int = 500, largest: int = 5000, time_limit: float = 300.0,
                   workers: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Plan `counties` generated counties with sizes drawn uniformly from [smallest, largest] teachers."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(smallest, largest + 1, size=counties)
    jobs = [(int(n), 1000 + i, time_limit) for i, n in enumerate(sizes)]
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_solve, sorted(jobs, reverse=True)))  # largest first: better packing
    wall = time.perf_counter() - started
    return {"counties": counties, "workers": workers, "teachers": int(sizes.sum()), "smallest": smallest,
            "largest": largest, "wall_s": round(wall, 1), "counties_per_minute": round(counties / wall * 60, 2),
            "solver_seconds": round(sum(r["seconds"] for r in results), 1),
            "statuses": {s: sum(1 for r in results if r["status"] == s) for s in {r["status"] for r in results}},
            "headcount_optimal": sum(1 for r in results
                                     if r["headcount_gap"] is not None and r["headcount_gap"] <= 1e-6),
            "results": results}
