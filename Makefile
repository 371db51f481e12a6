# Quick start: `make demo` (set up + run on the sample county), `make test` (set up + run the tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SAMPLE := scenarios/sample-county

.PHONY: demo test install install-test bench-norms bench-plan lint clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "teacheralloc needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	# Byte-compile our sources once: with PYTHONDONTWRITEBYTECODE set (as on CI machines) every run
	# would otherwise compile them again (~0.1–0.2 s of each command's start).
	$(BIN)/python -m compileall -q src >/dev/null
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/teacheralloc validate $(SAMPLE)
	$(BIN)/teacheralloc norms $(SAMPLE) --out out/demo-norms --force
	$(BIN)/teacheralloc plan $(SAMPLE) --out out/demo-plan --force
	@echo "Outputs: out/demo-norms/ (norms.xlsx, schools.csv, subjects.csv) and out/demo-plan/ (plan.csv, plan.xlsx, report.html, establishment.md, schools.csv, subjects.csv, causes.csv, applicants.csv, summary.json, policy_used.yaml, pins_used.csv)"

test: install-test
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/python -m pip install -q ruff
	$(BIN)/ruff check src tests bench

bench-norms: install
	$(BIN)/python bench/bench_norms.py

bench-plan: install
	$(BIN)/python bench/bench_plan.py

clean:
	rm -rf $(VENV) out .pytest_cache

# Benchmarks and baselines (docs/benchmarks.md): full (hours on 2 cores) and a quick version (~1–2 minutes).
.PHONY: bench bench-quick
bench: install
	$(BIN)/python bench/run.py

bench-quick: install
	$(BIN)/python bench/run.py --quick
