"""Benchmark: `teacheralloc plan` end to end (load, norms, solve, write) — issue 4's performance targets.

Run: .venv/bin/python bench/bench_plan.py [--sizes 2000 20000] [--time-limit 120]
Each case is generated with `teacheralloc sample` (not timed), then planned in a fresh process
whose wall time and peak memory (ru_maxrss of the child) are measured; the tier values, bounds
and gaps are read from its summary.json. Targets: sample county ≤ 5 s, optimal on the headcount
and subject tiers, within 0.5 % on the others; 20,000 teachers (also --staffing 0.97) ≤ 60 s
within 1 %; peak memory ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "teacheralloc"]


def run(args: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([*CLI, *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="*", default=["sample", "20000", "20000@0.97"])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--policy", type=Path, default=None,
                        help="policy overrides for every case (e.g. plan.priced_paths for larger counties)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.sizes:
            if case == "sample":
                data = ROOT / "scenarios" / "sample-county"
            else:
                teachers, _, staffing = case.partition("@")
                data = Path(tmp) / f"county-{case}"
                extra = ["--staffing", staffing] if staffing else []
                subprocess.run([*CLI, "sample", str(data), "--teachers", teachers, *extra], check=True,
                               capture_output=True)
            out = Path(tmp) / f"plan-{case}"
            extra = ["--policy", str(args.policy)] if args.policy else []
            wall, peak_mb, done = run(["plan", str(data), "--out", str(out), "--quiet", "--as-of", "2026-09-01",
                                       "--time-limit", str(args.time_limit), *extra])
            if done.returncode != 0:
                print(f"{case}: failed\n{done.stderr[-2000:]}")
                continue
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            tiers = {t["tier"]: t for t in summary["tiers"]}
            rows.append((case, wall, peak_mb, summary, tiers))
    print("| case | model | wall s | peak MB | status | moves | headcount (value/bound) | subject | balance | "
          "disruption gap | wishes gap |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    def num(value: float | None, form: str) -> str:
        return "—" if value is None else format(value, form)

    for case, wall, peak_mb, summary, tiers in rows:
        cells = [case, f"{summary['model_size']['groups']} groups", f"{wall:.1f}", f"{peak_mb:.0f}", summary["status"],
                 str(summary["moves"]["total"])]
        for name, form in (("headcount", ".2f"), ("subject", ".0f"), ("balance", ".0f")):
            cells.append(f"{num(tiers[name]['value'], form)}/{num(tiers[name]['bound'], form)}")
        cells += [num(tiers["disruption"]["gap"], ".2%"), num(tiers["wishes"]["gap"], ".2%")]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
