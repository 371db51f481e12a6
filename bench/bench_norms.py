"""Benchmark: norms for a synthetic province of 100,000 teachers (issue 3: under 5 s on this machine).

Run: .venv/bin/python bench/bench_norms.py [--teachers 100000]
The county is generated in memory (not timed); `compute_norms` is timed, best of 3.
"""

from __future__ import annotations

import argparse
import platform
import time

from teacheralloc.norms import compute_norms
from teacheralloc.policy import Policy
from teacheralloc.sample import generate_county


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    county = generate_county(args.teachers, seed=0)
    generated = time.perf_counter() - start
    policy = Policy.default()
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        norms = compute_norms(county, policy)
        times.append(time.perf_counter() - start)
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"county: {len(county.schools):,} schools, {len(county.teachers):,} teachers, "
          f"{int(county.classes['students'].sum()):,} students (generated in {generated:.1f} s)")
    print(f"norms: {len(norms.schools):,} school-stage rows, {len(norms.subjects):,} subject rows")
    print(f"compute_norms: best {min(times):.2f} s, mean {sum(times) / len(times):.2f} s over {args.repeat} runs "
          f"(target < 5 s)")


if __name__ == "__main__":
    main()
