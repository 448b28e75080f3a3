# Two commands: `make demo` (set up + run the nightly flow on sample_data/) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SAMPLE := sample_data/mo_charges_sample.csv

# Prefect's embedded server keeps its state in the project, not in the home folder.
export PREFECT_HOME ?= $(CURDIR)/.prefect
# Salt for the de-identified analytics/ dataset: the demo (--demo) uses the public demo salt, for
# the synthetic sample only; every other run takes the operator's secret EXPUNGE_SALT, else the
# installation's own salt file (~/.config/expunge/salt, made on first use; README, Operations).

.PHONY: install demo test lint sample measure bench clean server serve run-now

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/expunge run $(SAMPLE) --out out --run-id demo --overwrite --demo

# Nightly operations (README, Operations): a local Prefect server with its UI, and the
# scheduled deployment that decides whatever arrives in INBOX.
PREFECT_PORT ?= 4200
INBOX ?= inbox
OUT   ?= out
CRON  ?= 0 2 * * *
SCHEDULE_TZ ?= America/Chicago

server: $(STAMP)
	DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

serve: $(STAMP)
	@mkdir -p $(INBOX)
	PREFECT_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api $(BIN)/expunge serve --inbox $(INBOX) --out $(OUT) \
		--cron "$(CRON)" --timezone "$(SCHEDULE_TZ)"

# Run the scheduled deployment now (`make serve` must be running), with the venv's prefect;
# PARAMS="--param accept_shrink=true" passes parameters to this one run.
run-now: $(STAMP)
	PREFECT_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api $(BIN)/prefect deployment run 'expunge-inbox/nightly' $(PARAMS)

# Two workers (pytest-xdist): each test file stays on one worker, with its fixtures.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src flows tests tools
	$(BIN)/lint-imports

sample: $(STAMP)
	$(BIN)/expunge sample --rows 4000 --seed 2026 --messiness 0.35 --malformed 12 \
		--out $(SAMPLE) --truth sample_data/mo_charges_sample.truth.csv

clean:
	rm -rf out .prefect .pytest_cache .ruff_cache

measure: $(STAMP)
	$(BIN)/python tools/measure_normalizer.py

# Speed and memory against the copy floor at 1 M and 10 M charges, on hand-keyed exports
# (`expunge sample --hand-keyed`, cached in .bench/); results in docs/measurements/bench.md.
# About 35 minutes on two cores with the exports already generated in .bench/
bench: $(STAMP)
	$(BIN)/python tools/bench.py
