PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install test lint typecheck demo bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[research,dev]"
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP) lint
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src research tests benchmarks
	$(VENV)/bin/mypy src research

DEMO_DIR ?= demo_run

# The demo's bundles come from the research pipeline at small trial counts (the desk runs 120
# random + 300 TPE trials over CPCV with 6 groups); the hold-out starts where the replay does.
DEMO_TRAIN = --random-trials 2 --tpe-trials 2 --cpcv-groups 4 --max-trees 20 --min-trades 30 --workers 2

demo: $(STAMP)
	@test -d $(DEMO_DIR)/data || $(VENV)/bin/multialpha-research sample-data --out $(DEMO_DIR)/data
	$(VENV)/bin/multialpha-research train-all --config config.multi_alpha.yml --data $(DEMO_DIR)/data \
		--out $(DEMO_DIR)/models --holdout-start 2024-07-01 $(DEMO_TRAIN)
	$(VENV)/bin/multialpha-research optimize-portfolio --config config.multi_alpha.yml --data $(DEMO_DIR)/data \
		--models $(DEMO_DIR)/models --out $(DEMO_DIR)/portfolio --start 2024-07-01 --split 2024-10-01 \
		--daily-stop-loss 1500 3000 6000
	$(VENV)/bin/multialpha-research export-portfolio-config --search $(DEMO_DIR)/portfolio/portfolio_search.json \
		--config-dir $(DEMO_DIR)/config
	$(VENV)/bin/multialpha demo --config config.multi_alpha.yml --workdir $(DEMO_DIR) --from 2024-07-01

# vectorbt is a baseline of the benchmarks only: installed on the first `make bench`, not for tests.
$(BENCH_STAMP): $(STAMP)
	$(PIP) install --quiet -e ".[research,dev,bench]"
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
