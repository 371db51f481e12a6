"""One benchmark case — one method on one instance — run in a fresh process (so its peak memory is its own).

Usage: python bench/case.py INSTANCE.pkl METHOD OUT.json [--time-limit S] [--workers N] [--max-pairs N]
METHOD: teacheralloc | manual | points | naive_cpsat | bound. Writes OUT.json with the method's seconds,
peak memory (ru_maxrss when the method returns: loading the instance included, evaluation excluded) and
the shared evaluator's figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import manual, naive_cpsat, points
from bound import lp_bound
from common import build_facts, evaluate
from instances import load, policy_for


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(instance_path: Path, method: str, out: Path, time_limit: float, workers: int, max_pairs: int) -> dict:
    instance = load(instance_path)
    county, policy = instance["county"], policy_for(instance)
    result: dict = {"instance": instance["name"], "method": method, "teachers": len(county.teachers),
                    "schools": len(county.schools), "k": instance.get("k")}
    started = time.perf_counter()
    facts = build_facts(county, policy)
    info: dict = {}
    if method == "teacheralloc":
        from teacheralloc.model.solve import SolveParams, plan_county

        started = time.perf_counter()  # the optimizer computes its own facts
        plan = plan_county(county, policy, params=SolveParams(time_limit_s=time_limit))
        moves = plan.moves
        info = {"status": plan.status, "tiers": [t.as_dict() for t in plan.tiers], "model_size": plan.model_size}
    elif method == "manual":
        moves = manual(facts)
    elif method == "points":
        moves = points(facts)
    elif method == "naive_cpsat":
        pairs = len(county.teachers) * len(county.schools)
        if pairs > max_pairs:
            result.update(skipped=f"skipped (memory): {pairs:,} pairs > {max_pairs:,}")
            out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
            return result
        moves, info = naive_cpsat(facts, time_limit_s=time_limit, workers=workers)
    elif method == "bound":
        info = lp_bound(facts, time_limit_s=time_limit)
        result.update(seconds=round(time.perf_counter() - started, 3), peak_mb=round(peak_mb(), 1), bound=info)
        out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        return result
    else:
        raise SystemExit(f"unknown method {method}")
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["peak_mb"] = round(peak_mb(), 1)
    result["solver"] = info
    result.update(evaluate(facts, moves, out.with_suffix("")))
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("instance", type=Path)
    parser.add_argument("method")
    parser.add_argument("out", type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-pairs", type=int, default=2_000_000)
    args = parser.parse_args()
    try:
        run(args.instance, args.method, args.out, args.time_limit, args.workers, args.max_pairs)
    except Exception:
        args.out.write_text(json.dumps({"method": args.method, "error": traceback.format_exc()[-3000:]}),
                            encoding="utf-8")
        raise


if __name__ == "__main__":
    main()
