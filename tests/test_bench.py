"""Smoke test of the benchmark runner (bench/run.py): a tiny quick run writes its table with every method.
No timing is asserted: benchmarks measure, tests only check that the runner works end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_quick_runner_writes_every_method(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import run
    finally:
        sys.path.remove(str(BENCH))
    run.main(["--quick", "--out", str(tmp_path), "--sizes", "150", "--planted", "150:2", "--naive-time-limit", "3",
              "--batch", "2", "--batch-min", "80", "--batch-max", "120", "--batch-workers", "1"])
    table = (tmp_path / "latest.md").read_text(encoding="utf-8")
    report = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    for method in ("teacheralloc", "manual", "points", "naive_cpsat", "LP bound"):
        assert method in table
    assert [i["name"].split("-")[0] for i in report["instances"]] == ["gen", "planted"]
    for instance in report["instances"]:
        for method in ("teacheralloc", "manual", "points", "naive_cpsat", "bound"):
            assert "error" not in instance["results"][method], instance["results"][method]
        assert sum(instance["results"]["teacheralloc"]["violations"].values()) == 0
    assert report["instances"][1]["k"] == 2
    assert report["batch"]["counties"] == 2
