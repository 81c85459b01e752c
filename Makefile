# Parley: `make run` for the demo, `make test` for the suite. Needs only python3.11, make and git.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000
MAIL_PORT ?= 2525

export DEBUG ?= 1

.PHONY: run test test-browser test-services lint format bench bench-console clean

$(STAMP): pyproject.toml
	@echo "==> Creating the virtualenv in $(VENV) and installing Parley (first run takes a minute)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,bench]"
	@touch $(STAMP)

run: $(STAMP)
	@echo "==> Applying database migrations"
	@$(BIN)/python manage.py migrate --no-input -v0
	@echo "==> Loading demo data"
	@$(BIN)/python manage.py seed_demo
	@echo "==> Starting Parley"
	@PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/python manage.py serve --demo-banner --roles web,worker,mail --port $(PORT) --mail-port $(MAIL_PORT)

test: $(STAMP)
	@$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

test-browser: $(STAMP)
	@$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

format: $(STAMP)
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

bench: $(STAMP)
	@$(BIN)/python bench/chat_latency.py

# Console reads on 100,000 conversations (PostgreSQL, then 10,000 on SQLite); needs PostgreSQL on loopback.
bench-console: $(STAMP)
	@$(BIN)/python bench/console.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
